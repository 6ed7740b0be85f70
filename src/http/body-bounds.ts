// What one request body may cost the guard, checked before any tree is built. JSON.parse turns 3 bytes of `{},`
// into an object of about 70 bytes, and the analysis adds an effect of a few hundred bytes for each request of a
// bulk: 42 MB of `{"type":"bulk","args":[{},{},…]}` (41 kB gzipped) took the guard past its heap. So the decoded
// bytes are first measured in one linear pass that allocates nothing per byte or per value (measureJson), and a
// body past a bound is refused with the bound named (checkBounds). Pure: bytes and bounds in, a measure or a
// refusal out. docs/security.md ("Bounded work per request") says why each default is where it is.

/** How deep objects and arrays may nest. Real metadata is about 12 deep; bulks nested to the analysis' limit ~70. */
export const MAX_JSON_DEPTH = 1000;

export interface BodyBounds {
  /** Decoded bytes (PROXY_MAX_BODY_BYTES). */
  maxBytes: number;
  /** JSON values outside the tables a replace_metadata keeps in its bytes (PROXY_MAX_JSON_VALUES). */
  maxValues: number;
  /** Requests in bulks, nested ones included (PROXY_MAX_BULK_REQUESTS). */
  maxBulkRequests: number;
  /** Whether these are the lower bounds of a request without credentials, for the message. */
  withoutCredentials?: boolean;
}

/** PROXY_MAX_JSON_VALUES and PROXY_MAX_BULK_REQUESTS by default; src/config.ts says why. */
export const DEFAULT_MAX_JSON_VALUES = 1_000_000;
export const DEFAULT_MAX_BULK_REQUESTS = 100_000;

/**
 * A request with no credentials at all can never be confirmed, and Hasura answers its metadata API only to an admin,
 * so such a body is held to bounds of a hundredth to a tenth of the defaults (or the variables', when lower): cheap to
 * refuse in numbers. Anyone can add a header, so the full bounds are what keep the guard up; these only make the
 * cheapest request to send the cheapest to refuse. A Hasura without an admin secret treats every request as admin
 * whatever its headers (hasura/graphql-engine server/src-lib/Hasura/Server/Auth.hs, `AMNoAuth ->
 * mkUserInfoFallbackAdminRole`), so a bigger body still passes there with any x-hasura-admin-secret.
 */
export const NO_CREDENTIALS_BOUNDS = { maxBytes: 1024 * 1024, maxValues: 100_000, maxBulkRequests: 1_000 };

/** The bounds for a request without credentials: the lower of each pair. */
export function withoutCredentials(bounds: BodyBounds): BodyBounds {
  return {
    maxBytes: Math.min(bounds.maxBytes, NO_CREDENTIALS_BOUNDS.maxBytes),
    maxValues: Math.min(bounds.maxValues, NO_CREDENTIALS_BOUNDS.maxValues),
    maxBulkRequests: Math.min(bounds.maxBulkRequests, NO_CREDENTIALS_BOUNDS.maxBulkRequests),
    withoutCredentials: true,
  };
}

/** The variable that sets a bound, or that the bound is lower for a request without credentials: for messages. */
export function boundSetBy(bounds: BodyBounds, variable: 'PROXY_MAX_BODY_BYTES' | 'PROXY_MAX_JSON_VALUES' | 'PROXY_MAX_BULK_REQUESTS'): string {
  return bounds.withoutCredentials ? 'for a request without credentials' : variable;
}

/** What measureJson finds in a JSON text. On text that is not JSON the counts mean little: JSON.parse refuses it next. */
export interface JsonMeasure {
  /** Every value (objects, arrays, strings, numbers, true, false, null); keys are not values. */
  values: number;
  /**
   * Of those, the values inside the lists json-slices.ts leaves in the bytes of a big replace_metadata
   * (`args.metadata.sources[*].tables`, `args.sources[*].tables`): read one table at a time, never as one tree.
   */
  tableValues: number;
  /**
   * Elements of every list under an "args" key (the requests of a bulk, of nested bulks too) and of every "tables"
   * list in an "args" (track_tables, untrack_tables: a bulk of track_table in one): each is analysed on its own.
   */
  bulkRequests: number;
  /** The deepest nesting of objects and arrays, counted up to MAX_JSON_DEPTH + 1 (the scan stops there). */
  depth: number;
}

export interface BoundRefusal {
  /** For the client: which bound, the measure, and the variable that sets it. */
  message: string;
  /** For the audit log: the bound's short name. */
  bound: 'depth' | 'bulk-requests' | 'values';
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

// The step into each open container's current member: the key, when it is one of these, or an array's element.
const OTHER_KEY = 0;
const ELEMENT = 1;
const KEY_ARGS = 2;
const KEY_METADATA = 3;
const KEY_SOURCES = 4;
const KEY_TABLES = 5;
const KNOWN_KEYS: [number, Buffer][] = [
  [KEY_ARGS, Buffer.from('args')],
  [KEY_METADATA, Buffer.from('metadata')],
  [KEY_SOURCES, Buffer.from('sources')],
  [KEY_TABLES, Buffer.from('tables')],
];
/** The paths of the lists json-slices.ts leaves in the bytes (REQUEST_TABLES there), as steps from the root. */
const TABLE_LIST_PATHS = [
  [KEY_ARGS, KEY_METADATA, KEY_SOURCES, ELEMENT, KEY_TABLES],
  [KEY_ARGS, KEY_SOURCES, ELEMENT, KEY_TABLES],
];

/**
 * Counts what building and analysing `bytes` as JSON would cost, in one pass over the bytes. JSON's structure is
 * ASCII; inside a string a backslash escapes the next byte and nothing is structural, and UTF-8 never puts a byte
 * below 0x80 inside a multi-byte character, so reading bytes is exact. Keys are compared as raw bytes: an escaped
 * spelling ("t\u0061bles") is not recognised, which only ever counts a value against the stricter bound.
 */
export function measureJson(bytes: Uint8Array, stopPast?: BodyBounds): JsonMeasure {
  // Per open container (index = its depth): whether it is an object, and the step into its current member.
  const isObject = new Uint8Array(MAX_JSON_DEPTH + 2);
  const step = new Uint8Array(MAX_JSON_DEPTH + 2);
  let depth = 0;
  let deepest = 0;
  let values = 0;
  let tableValues = 0;
  let bulkRequests = 0;
  /** The depth of the table list being read, or 0. */
  let tableListAt = 0;
  let expectKey = false;

  const countValue = () => {
    values += 1;
    if (tableListAt > 0) tableValues += 1;
    if (depth > 0 && step[depth] === ELEMENT && isObject[depth - 1] === 1) {
      const listedUnder = step[depth - 1];
      if (listedUnder === KEY_ARGS || (listedUnder === KEY_TABLES && depth > 1 && step[depth - 2] === KEY_ARGS)) bulkRequests += 1;
    }
  };
  // Once a bound is passed, the rest of the body cannot change the answer: a 42 MB refusal costs what its first MB does.
  const pastBounds = () => stopPast !== undefined && (bulkRequests > stopPast.maxBulkRequests || values - tableValues > stopPast.maxValues);

  for (let at = 0; at < bytes.length; at += 1) {
    const byte = bytes[at]!;
    if (byte === QUOTE) {
      const start = at + 1;
      at = endOfString(bytes, start);
      if (expectKey) {
        step[depth] = keyCode(bytes, start, at);
        expectKey = false;
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
      step[depth] = byte === OPEN_OBJECT ? OTHER_KEY : ELEMENT;
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
  return { values, tableValues, bulkRequests, depth: deepest };
}

/** The first bound `measure` passes, or undefined. */
export function checkBounds(measure: JsonMeasure, bounds: BodyBounds): BoundRefusal | undefined {
  if (measure.depth > MAX_JSON_DEPTH) {
    return { bound: 'depth', message: `the body nests objects and arrays more than ${MAX_JSON_DEPTH} deep` };
  }
  if (measure.bulkRequests > bounds.maxBulkRequests) {
    return { bound: 'bulk-requests', message: `the body holds more than ${bounds.maxBulkRequests} requests in bulks and tables to track or untrack (${boundSetBy(bounds, 'PROXY_MAX_BULK_REQUESTS')})` };
  }
  if (measure.values - measure.tableValues > bounds.maxValues) {
    return { bound: 'values', message: `the body holds more than ${bounds.maxValues} JSON values (${boundSetBy(bounds, 'PROXY_MAX_JSON_VALUES')})` };
  }
  return undefined;
}

/** Just past the closing quote of the string whose contents start at `from` (the end of the bytes if it never closes). */
function endOfString(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i += 1) {
    if (bytes[i] === BACKSLASH) i += 1;
    else if (bytes[i] === QUOTE) return i;
  }
  return bytes.length;
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
