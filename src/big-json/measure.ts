// Counts what building and analysing a body as JSON would cost, in one linear pass over its bytes that allocates
// nothing per byte or per value (only each key's text, while its object is open, to find a key said twice):
// src/http/body-bounds.ts refuses a body past a bound before any tree is built.

import { afterString, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, ELEMENT, OPEN_ARRAY, OPEN_OBJECT, QUOTE, REQUEST_TABLE_LISTS } from './bytes.js';

/** How deep objects and arrays may nest. Real metadata is about 12 deep; bulks nested to the analysis' limit ~70. */
export const MAX_JSON_DEPTH = 1000;

/** What measureJson finds in a JSON text. On text that is not JSON the counts mean little: JSON.parse refuses it next. */
export interface JsonMeasure {
  /** Every value (objects, arrays, strings, numbers, true, false, null); keys are not values. */
  values: number;
  /**
   * Of those, the values that stay in the bytes of a big replace_metadata while it is judged: those inside the tables
   * of the lists lazy-tables.ts leaves there (`args.metadata.sources[*].tables`, `args.sources[*].tables`), but the
   * largest table's. The tables are read one at a time, so what is built at once is at most the largest one; and each
   * table is itself counted (not one of these), as keeping its place costs the reader and the diff about a value.
   */
  tableValues: number;
  /**
   * Elements of every list under an "args" key (the requests of a bulk, of nested bulks too) and of every "tables"
   * list in an "args" (track_tables, untrack_tables: a bulk of track_table in one): each is analysed on its own.
   */
  bulkRequests: number;
  /** The deepest nesting of objects and arrays, counted up to MAX_JSON_DEPTH + 1 (the scan stops there). */
  depth: number;
  /**
   * The first key an object repeats (`{"sql": "DROP …", "sql": "SELECT 1"}`), decoded, and the scan stops there.
   * JSON.parse keeps the last, Hasura's aeson the first: the guard would judge one request and forward another.
   */
  repeatedKey?: string;
}

/** Counts past which the rest of a body cannot change the answer (src/http/body-bounds.ts's bounds). */
export interface MeasureStop {
  maxValues: number;
  maxBulkRequests: number;
}

// The step into each open container's current member, as a small number: an array's element, a key that matters
// (one of the table lists' keys, "args" and "tables" among them), or any other key.
const OTHER_KEY = 0;
const ELEMENT_STEP = 1;
const KNOWN_KEYS: [number, Buffer][] = [...new Set(REQUEST_TABLE_LISTS.flat().filter((step) => step !== ELEMENT))].map((key, index) => [index + 2, Buffer.from(key as string)]);
const codeOf = (key: string) => KNOWN_KEYS.find(([, name]) => name.toString() === key)![0];
const KEY_ARGS = codeOf('args');
const KEY_TABLES = codeOf('tables');
/** The lists lazy-tables.ts leaves in the bytes of a big replace_metadata, as steps from the root. */
const TABLE_LIST_PATHS = REQUEST_TABLE_LISTS.map((path) => path.map((step) => (step === ELEMENT ? ELEMENT_STEP : codeOf(step))));

/**
 * Counts what building and analysing `bytes` as JSON would cost, in one pass over the bytes (bytes.ts says why
 * reading bytes is exact). Keys are compared as raw bytes: an escaped spelling ("t\u0061bles") is not recognised,
 * which only ever counts a value against the stricter bound.
 */
export function measureJson(bytes: Uint8Array, stopPast?: MeasureStop): JsonMeasure {
  // Per open container (index = its depth): whether it is an object, and the step into its current member.
  const isObject = new Uint8Array(MAX_JSON_DEPTH + 2);
  const step = new Uint8Array(MAX_JSON_DEPTH + 2);
  let depth = 0;
  let deepest = 0;
  let values = 0;
  let bulkRequests = 0;
  /** The depth of the table list being read, or 0. */
  let tableListAt = 0;
  let expectKey = false;
  const tables = new TableValues();
  const keys = new KeysSeen(bytes);

  const countValue = () => {
    values += 1;
    if (tableListAt > 0) {
      if (depth === tableListAt) tables.startTable(); // a table itself counts, as keeping its place costs
      else tables.countInside();
    }
    if (depth > 0 && step[depth] === ELEMENT_STEP && isObject[depth - 1] === 1) {
      const listedUnder = step[depth - 1];
      if (listedUnder === KEY_ARGS || (listedUnder === KEY_TABLES && depth > 1 && step[depth - 2] === KEY_ARGS)) bulkRequests += 1;
    }
  };
  // Once a bound is passed, the rest of the body cannot change the answer: a 42 MB refusal costs what its first MB does.
  const pastBounds = () => stopPast !== undefined && (bulkRequests > stopPast.maxBulkRequests || values - tables.keptInBytes() > stopPast.maxValues);

  for (let at = 0; at < bytes.length; at += 1) {
    const byte = bytes[at]!;
    if (byte === QUOTE) {
      const start = at + 1;
      const after = afterString(bytes, start);
      at = after < 0 ? bytes.length : after - 1; // the closing quote (the loop steps past it)
      if (expectKey) {
        step[depth] = keyCode(bytes, start, at);
        expectKey = false;
        if (keys.repeats(depth, start, at)) return { values, tableValues: tables.keptInBytes(), bulkRequests, depth: deepest, repeatedKey: keys.last };
      } else countValue();
      if (pastBounds()) break;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      countValue();
      if (pastBounds()) break;
      if (depth === MAX_JSON_DEPTH) {
        deepest = MAX_JSON_DEPTH + 1; // one level past the bound is all a refusal needs to know
        break;
      }
      if (tableListAt === 0 && byte === OPEN_ARRAY && isTableList(step, depth)) tableListAt = depth + 1;
      depth += 1;
      deepest = Math.max(deepest, depth);
      isObject[depth] = byte === OPEN_OBJECT ? 1 : 0;
      step[depth] = byte === OPEN_OBJECT ? OTHER_KEY : ELEMENT_STEP;
      keys.open(depth);
      expectKey = byte === OPEN_OBJECT;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === tableListAt) tableListAt = 0;
      if (depth > 0) depth -= 1;
      expectKey = false;
    } else if (byte === COMMA) {
      expectKey = isObject[depth] === 1;
    } else if (byte !== COLON && byte > 0x20) {
      // A number, true, false or null: one value, to the next structural byte or space.
      countValue();
      if (pastBounds()) break;
      while (at + 1 < bytes.length && !endsScalar(bytes[at + 1]!)) at += 1;
    }
  }
  return { values, tableValues: tables.keptInBytes(), bulkRequests, depth: deepest };
}

/**
 * The keys of each open object, to find one said twice. Keys are compared decoded, as JSON.parse and Hasura compare
 * them: `"s\u0071l"` is `"sql"`. Each object's keys are dropped when the next object opens at its depth, so what is
 * kept is at most the keys along one path.
 */
class KeysSeen {
  private readonly text: Buffer;
  private readonly seen: (Set<string> | undefined)[] = [];
  last = '';

  constructor(bytes: Uint8Array) {
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  open(depth: number): void {
    this.seen[depth] = undefined;
  }

  /** Whether the key between the quotes at `start` and `end` was already said in the object open at `depth`. */
  repeats(depth: number, start: number, end: number): boolean {
    const raw = this.text.toString('utf8', start, end);
    this.last = raw.includes('\\') ? decodeKey(raw) : raw;
    const keys = (this.seen[depth] ??= new Set());
    if (keys.has(this.last)) return true;
    keys.add(this.last);
    return false;
  }
}

/** An escaped key as JSON.parse reads it; a key that does not parse stays as it is (JSON.parse refuses the body next). */
function decodeKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * The values inside the tables of a replace_metadata's table lists, as the memory-lean reader holds them: each table
 * is built whole when read, one at a time, so all but the largest table's stay in the bytes.
 */
class TableValues {
  private inside = 0;
  private insideThis = 0;
  private insideLargest = 0;

  startTable(): void {
    this.insideLargest = Math.max(this.insideLargest, this.insideThis);
    this.insideThis = 0;
  }

  countInside(): void {
    this.inside += 1;
    this.insideThis += 1;
  }

  keptInBytes(): number {
    return this.inside - Math.max(this.insideLargest, this.insideThis);
  }
}

function endsScalar(byte: number): boolean {
  return byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY || byte === COLON || byte === QUOTE || byte === OPEN_OBJECT || byte === OPEN_ARRAY || byte <= 0x20;
}

function keyCode(bytes: Uint8Array, start: number, end: number): number {
  for (const [code, name] of KNOWN_KEYS) {
    if (end - start === name.length && bytesEqual(bytes, start, name)) return code;
  }
  return OTHER_KEY;
}

function bytesEqual(bytes: Uint8Array, start: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i += 1) if (bytes[start + i] !== name[i]) return false;
  return true;
}

/** Whether an array opened inside the container at `depth` is at one of TABLE_LIST_PATHS (steps 1..depth). */
function isTableList(step: Uint8Array, depth: number): boolean {
  for (const path of TABLE_LIST_PATHS) {
    if (path.length !== depth) continue;
    let same = true;
    for (let i = 0; i < path.length && same; i += 1) same = step[i + 1] === path[i];
    if (same) return true;
  }
  return false;
}
