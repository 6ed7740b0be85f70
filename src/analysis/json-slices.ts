// Parsing a JSON document of tens of MB (a replace_metadata, an export_metadata answer) without holding it three
// times over. JSON.parse needs the whole text as a string (1x the bytes) and builds a tree of about twice that,
// next to the bytes themselves, which the proxy must keep to forward them unchanged. Here the document is read
// from its bytes: the arrays at chosen paths (each source's tables) are checked element by element and left in
// the bytes as JsonSlices, whose elements are parsed again only when the analysis looks at them, one at a time;
// everything else is parsed as usual.
//
// The plain twin is JSON.parse: test/analysis/json-slices.test.ts holds materialise(parseLeavingSlices(bytes)) to
// JSON.parse(bytes) on every shape it can think of, and the proxy falls back to JSON.parse whenever the bytes
// are not what this reader expects (it never has to be right about invalid JSON: it hands that to JSON.parse).

import { isObject } from '../vocabulary/json.js';

/** One value left in the document's bytes, already checked to be valid JSON. */
export class JsonSlice {
  constructor(
    private readonly bytes: Buffer,
    private readonly start: number,
    private readonly end: number,
  ) {}

  /** A fresh parse of the value: callers take what they need and let it go. */
  value(): unknown {
    return JSON.parse(this.bytes.toString('utf8', this.start, this.end));
  }

  /** Whether two slices hold the same bytes (then the same value; different bytes may still be equal values). */
  sameBytes(other: JsonSlice): boolean {
    return this.bytes.compare(other.bytes, other.start, other.end, this.start, this.end) === 0;
  }
}

/**
 * A JSON array left in the document's bytes: where each element starts and ends, and nothing else (a 50 MB
 * metadata has hundreds of thousands of tables; an object per table would cost more than the offsets).
 */
export class JsonSlices {
  constructor(
    private readonly bytes: Buffer,
    private readonly starts: readonly number[],
    private readonly ends: readonly number[],
  ) {}

  get length(): number {
    return this.starts.length;
  }

  at(index: number): JsonSlice {
    return new JsonSlice(this.bytes, this.starts[index]!, this.ends[index]!);
  }
}

type Path = readonly (string | number)[];

/** The path of the arrays left as slices: `sources[*].tables` under the given prefix. */
export const tablesUnder =
  (...prefix: string[]) =>
  (path: Path): boolean =>
    path.length === prefix.length + 3 &&
    prefix.every((key, index) => path[index] === key) &&
    path[prefix.length] === 'sources' &&
    typeof path[prefix.length + 1] === 'number' &&
    path[prefix.length + 2] === 'tables';

/**
 * The document in `bytes`, with the arrays at `sliced` paths as JsonSlices. Undefined when the bytes are not a
 * JSON document this reader follows (invalid JSON among them, or something other than an array at a sliced path):
 * the caller then uses JSON.parse, which says why or gives the document whole.
 */
export function parseLeavingSlices(bytes: Buffer, sliced: (path: Path) => boolean): unknown {
  const found = scan(bytes, sliced);
  if (!found) return undefined;
  try {
    const skeleton: unknown = JSON.parse(found.skeleton);
    // Every element is checked now, so an invalid one is refused as the whole would be, not found later.
    for (const list of found.lists) for (let i = 0; i < list.length; i += 1) list.at(i).value();
    return putSlicesBack(skeleton, [], sliced, found.lists);
  } catch {
    return undefined; // invalid JSON, or a skeleton nested too deep to walk: JSON.parse decides
  }
}

/** The plain value again: what JSON.parse would have given. For tests and for callers that need it whole. */
export function materialise(value: unknown): unknown {
  if (value instanceof JsonSlice) return value.value();
  if (value instanceof JsonSlices) return Array.from({ length: value.length }, (_, i) => value.at(i).value());
  if (Array.isArray(value)) return value.map(materialise);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, materialise(item)]));
  return value;
}

// ---- the scan ---------------------------------------------------------------------------------------------------
// JSON's structure is in ASCII bytes ({ } [ ] , : and quotes); inside a string a backslash escapes the next byte
// and nothing is structural. UTF-8 never uses a byte below 0x80 inside a multi-byte character, so reading bytes is
// exact. Each sliced array is replaced in the skeleton text by its index, a number, which putSlicesBack swaps for
// the JsonSlices: every value at a sliced path must be an array (or the scan gives up), so every value found there
// in the skeleton is an index.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

function scan(bytes: Buffer, sliced: (path: Path) => boolean): { skeleton: string; lists: JsonSlices[] } | undefined {
  const lists: JsonSlices[] = [];
  const skeleton = new ByteWriter(Math.max(1024, bytes.length >> 6));
  // The path of the current value: one step per open container, a key in an object, an index in an array (so the
  // last step says which the innermost container is). Updated in place rather than built per value: a copy per value
  // costs the depth at every value, quadratic on a deeply nested body that anyone can send.
  const path: (string | number)[] = [];
  const inObject = () => typeof path[path.length - 1] === 'string';
  let copiedTo = 0;
  let at = 0;

  const skipSpace = () => {
    while (isSpace(bytes[at])) at += 1;
  };
  /** From an opening quote to just after its closing quote; -1 when the string does not end. */
  const endOfString = (from: number): number => {
    for (let i = from + 1; i < bytes.length; i += 1) {
      if (bytes[i] === BACKSLASH) i += 1;
      else if (bytes[i] === QUOTE) return i + 1;
    }
    return -1;
  };
  /** Just after the value starting at `from` (containers by depth, strings whole); -1 when it does not end. */
  const endOfValue = (from: number): number => {
    let depth = 0;
    for (let i = from; i < bytes.length; ) {
      const byte = bytes[i]!;
      if (byte === QUOTE) {
        i = endOfString(i);
        if (i < 0) return -1;
        if (depth === 0) return i;
        continue;
      }
      if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth += 1;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        if (depth === 0) return i; // the end of a number or a literal, and of its container
        depth -= 1;
        if (depth === 0) return i + 1;
      } else if (depth === 0 && (byte === COMMA || isSpace(byte))) return i; // the end of a number or a literal
      i += 1;
    }
    return depth === 0 ? bytes.length : -1;
  };

  // One value at the current path, then what follows it in its container, until the document ends.
  for (;;) {
    skipSpace();
    if (at >= bytes.length) return undefined;
    const byte = bytes[at]!;
    if (path.length > 0 && sliced(path)) {
      if (byte !== OPEN_ARRAY) return undefined;
      const from = at;
      const elements = sliceElements();
      if (!elements) return undefined;
      skeleton.copy(bytes, copiedTo, from);
      skeleton.ascii(String(lists.length));
      lists.push(elements);
      copiedTo = at;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      at += 1;
      skipSpace();
      const empty = bytes[at] === (byte === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);
      if (!empty) {
        path.push(0);
        if (byte === OPEN_OBJECT && !readKey()) return undefined;
        continue;
      }
      at += 1;
    } else {
      const end = endOfValue(at);
      if (end < 0) return undefined;
      at = end;
    }
    // After a value: a comma and the next member, or the end of one or more containers.
    for (;;) {
      skipSpace();
      if (path.length === 0) {
        skeleton.copy(bytes, copiedTo, bytes.length);
        return { skeleton: skeleton.text(), lists };
      }
      const next = bytes[at];
      if (next === COMMA) {
        at += 1;
        if (inObject()) {
          skipSpace();
          if (!readKey()) return undefined;
        } else path[path.length - 1] = (path.at(-1) as number) + 1;
        break;
      }
      if (next !== (inObject() ? CLOSE_OBJECT : CLOSE_ARRAY)) return undefined;
      at += 1;
      path.pop();
    }
  }

  /** The elements of the array at `at`, left in the bytes; `at` ends just after the array. */
  function sliceElements(): JsonSlices | undefined {
    const starts: number[] = [];
    const ends: number[] = [];
    at += 1;
    skipSpace();
    if (bytes[at] === CLOSE_ARRAY) {
      at += 1;
      return new JsonSlices(bytes, starts, ends);
    }
    for (;;) {
      const end = endOfValue(at);
      if (end <= at) return undefined;
      starts.push(at);
      ends.push(end);
      at = end;
      skipSpace();
      if (bytes[at] === CLOSE_ARRAY) {
        at += 1;
        return new JsonSlices(bytes, starts, ends);
      }
      if (bytes[at] !== COMMA) return undefined;
      at += 1;
      skipSpace();
    }
  }

  /** `"key" :` at `at`, as the last step of the path; false when it is not there. */
  function readKey(): boolean {
    if (bytes[at] !== QUOTE) return false;
    const end = endOfString(at);
    if (end < 0) return false;
    const raw = bytes.toString('utf8', at, end);
    try {
      path[path.length - 1] = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    } catch {
      return false;
    }
    at = end;
    skipSpace();
    if (bytes[at] !== COLON) return false;
    at += 1;
    return true;
  }
}

/** The skeleton's bytes, in one growing buffer rather than hundreds of thousands of small strings. */
class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  copy(from: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    this.length += from.copy(this.buffer, this.length, start, end);
  }

  ascii(text: string): void {
    this.reserve(text.length);
    this.length += this.buffer.write(text, this.length, 'latin1');
  }

  text(): string {
    return this.buffer.toString('utf8', 0, this.length);
  }

  private reserve(more: number): void {
    if (this.length + more <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + more));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** The skeleton with each index at a sliced path swapped for its JsonSlices. */
function putSlicesBack(value: unknown, path: (string | number)[], sliced: (path: Path) => boolean, lists: JsonSlices[]): unknown {
  if (path.length > 0 && sliced(path)) {
    const list = typeof value === 'number' ? lists[value] : undefined;
    if (!list) throw new Error('a sliced array is missing'); // cannot happen: each was replaced by its index
    return list;
  }
  // One path, pushed and popped, not a copy per value (see `path` in scan).
  const at = (step: string | number, item: unknown): unknown => {
    path.push(step);
    const found = putSlicesBack(item, path, sliced, lists);
    path.pop();
    return found;
  };
  if (Array.isArray(value)) {
    value.forEach((item, index) => (value[index] = at(index, item)));
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const item = at(key, value[key]);
      // defineProperty, not assignment: a key called __proto__ is an own property in parsed JSON and must stay one.
      if (item !== value[key]) Object.defineProperty(value, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
  }
  return value;
}

// ---- where the guard uses it ----------------------------------------------------------------------------------

/** From this size on, a replace_metadata or an export_metadata answer is read leaving its tables in its bytes. */
export const SLICE_FROM_BYTES = 1024 * 1024;

const REQUEST_TABLES = [tablesUnder('args', 'metadata'), tablesUnder('args')]; // replace_metadata version 2, then 1
const isRequestTable = (path: Path) => REQUEST_TABLES.some((isTable) => isTable(path));
const EXPORT_TABLES = tablesUnder('metadata');

/**
 * A Hasura request body or export_metadata answer, as JSON.parse would give it (and throwing as it would), except
 * that a big replace_metadata or export keeps its tables as JsonSlice. Any other body is parsed whole: only the
 * metadata diff and the fingerprint know slices.
 */
export function parseHasuraJson(bytes: Buffer, what: 'request' | 'export'): unknown {
  if (bytes.length >= SLICE_FROM_BYTES) {
    const sliced = what === 'export' ? EXPORT_TABLES : isRequestTable;
    const found = parseLeavingSlices(bytes, sliced);
    if (what === 'export' || (isObject(found) && found.type === 'replace_metadata')) return found ?? JSON.parse(bytes.toString('utf8'));
  }
  return JSON.parse(bytes.toString('utf8'));
}

/**
 * A replace_metadata request with its tables left in its bytes, or undefined when the bytes are not one this reader
 * follows. Unlike parseHasuraJson it never falls back to JSON.parse: the proxy reads with it the bodies whose tables
 * hold more values than it would build into one tree (src/http/body-bounds.ts).
 */
export function parseReplacementLeavingTables(bytes: Buffer): unknown {
  const found = parseLeavingSlices(bytes, isRequestTable);
  return isObject(found) && found.type === 'replace_metadata' ? found : undefined;
}
