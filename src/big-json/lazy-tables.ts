// Parsing a JSON document of tens of MB (a replace_metadata, an export_metadata answer) without holding it three
// times over. JSON.parse needs the whole text as a string (1x the bytes) and builds a tree of about twice that, next
// to the bytes themselves, which the proxy must keep to forward them unchanged. Here the document is read from its
// bytes: the lists at the table paths (bytes.ts) are checked element by element and left in the bytes, everything
// else is parsed as usual. A list left in the bytes is an array like any other to the rest of the guard (the
// analysis, the diff, the fingerprint): reading an element parses it afresh, and the reader lets it go.
//
// The plain twin is JSON.parse: test/big-json/lazy-tables.test.ts holds this reader to it on every shape it can think
// of, and the proxy falls back to JSON.parse whenever the bytes are not what this reader expects (it never has to be
// right about invalid JSON: it hands that to JSON.parse).

import { ELEMENT_TEXT, isObject } from '../vocabulary/json.js';
import {
  afterString,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  ELEMENT,
  EXPORT_TABLE_LISTS,
  isSpace,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
  REQUEST_TABLE_LISTS,
  type Step,
} from './bytes.js';

/** From this size on, a replace_metadata or an export_metadata answer is read leaving its tables in its bytes. */
export const TABLES_IN_BYTES_FROM = 1024 * 1024;

type Path = readonly (string | number)[];

/**
 * A Hasura request body or export_metadata answer, as JSON.parse would give it (and throwing as it would), except
 * that a big replace_metadata or export keeps its tables in its bytes. Any other body is parsed whole.
 */
export function parseHasuraJson(bytes: Buffer, what: 'request' | 'export'): unknown {
  if (bytes.length >= TABLES_IN_BYTES_FROM) {
    const found = parseLeavingTables(bytes, what === 'export' ? isExportTableList : isRequestTableList);
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
  const found = parseLeavingTables(bytes, isRequestTableList);
  return isObject(found) && found.type === 'replace_metadata' ? found : undefined;
}

/** Whether a path matches one of `lists`, ELEMENT matching any array index. */
const matchesOneOf =
  (lists: readonly (readonly Step[])[]) =>
  (path: Path): boolean =>
    lists.some((list) => list.length === path.length && list.every((step, i) => (step === ELEMENT ? typeof path[i] === 'number' : path[i] === step)));
const isRequestTableList = matchesOneOf(REQUEST_TABLE_LISTS);
const isExportTableList = matchesOneOf(EXPORT_TABLE_LISTS);

/** The path of the lists left in the bytes: `sources[*].tables` under the given prefix. */
export const tablesUnder = (...prefix: string[]): ((path: Path) => boolean) => matchesOneOf([[...prefix, 'sources', ELEMENT, 'tables']]);

/**
 * The document in `bytes`, with the arrays at `leftInBytes` paths kept in the bytes. Undefined when the bytes are not
 * a JSON document this reader follows (invalid JSON among them, or something other than an array at such a path):
 * the caller then uses JSON.parse, which says why or gives the document whole.
 */
export function parseLeavingTables(bytes: Buffer, leftInBytes: (path: Path) => boolean): unknown {
  const scanned = new Scanner(bytes, leftInBytes).scan();
  if (!scanned) return undefined;
  try {
    const skeleton: unknown = JSON.parse(scanned.skeleton);
    // Every element is checked now, so an invalid one is refused as the whole would be, not found later.
    for (const list of scanned.lists) for (let index = 0; index < list.length; index += 1) JSON.parse(list.textAt(index));
    return putListsBack(skeleton, [], leftInBytes, scanned.lists.map(lazyList));
  } catch {
    return undefined; // invalid JSON, or a skeleton nested too deep to walk: JSON.parse decides
  }
}

/** The plain value again: what JSON.parse would have given. Only the tests need it, to hold this reader to JSON.parse. */
export function materialise(value: unknown): unknown {
  if (Array.isArray(value)) return Array.from({ length: value.length }, (_, index) => materialise(value[index]));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, materialise(item)]));
  return value;
}

// ---- a list left in the bytes ---------------------------------------------------------------------------------------

/** Where each element of a list starts and ends in the bytes, and nothing else: numbers, not objects. */
class ElementOffsets {
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  constructor(private readonly bytes: Buffer) {}

  textAt(index: number): string {
    return this.bytes.toString('utf8', this.starts[index], this.ends[index]);
  }

  get length(): number {
    return this.starts.length;
  }
}

/**
 * The list as an array: its length, its elements (each parsed when read, never kept), iteration, JSON.stringify and
 * every Array method work as on the array JSON.parse would have built. It cannot be changed, and it answers
 * ELEMENT_TEXT (src/vocabulary/json.ts) with an element's text.
 */
function lazyList(offsets: ElementOffsets): unknown[] {
  const length = offsets.length;
  const indexOf = (key: string | symbol): number => {
    if (typeof key !== 'string') return -1;
    const index = Number(key);
    return Number.isInteger(index) && index >= 0 && index < length && String(index) === key ? index : -1;
  };
  const elementAt = (index: number): unknown => JSON.parse(offsets.textAt(index));
  const textAt = (index: number) => offsets.textAt(index);
  return new Proxy(new Array<unknown>(length), {
    get: (target, key, receiver) => {
      if (key === ELEMENT_TEXT) return textAt;
      const index = indexOf(key);
      return index >= 0 ? elementAt(index) : Reflect.get(target, key, receiver);
    },
    has: (target, key) => indexOf(key) >= 0 || Reflect.has(target, key),
    getOwnPropertyDescriptor: (target, key) => {
      const index = indexOf(key);
      return index >= 0 ? { value: elementAt(index), writable: false, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys: (target) => [...Array.from({ length }, (_, index) => String(index)), ...Reflect.ownKeys(target)],
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

/** The skeleton with each index at a path left in the bytes swapped for its list. */
function putListsBack(value: unknown, path: (string | number)[], leftInBytes: (path: Path) => boolean, lists: unknown[][]): unknown {
  if (path.length > 0 && leftInBytes(path)) {
    const list = typeof value === 'number' ? lists[value] : undefined;
    if (!list) throw new Error('a list left in the bytes is missing'); // cannot happen: each was replaced by its index
    return list;
  }
  // One path, pushed and popped, not a copy per value (see Scanner.path).
  const at = (step: string | number, item: unknown): unknown => {
    path.push(step);
    const found = putListsBack(item, path, leftInBytes, lists);
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

// ---- the scan -------------------------------------------------------------------------------------------------------

/**
 * One pass over the bytes (bytes.ts says why reading bytes is exact). The skeleton is the document's text with each
 * list left in the bytes replaced by its number among `lists`; putListsBack swaps the numbers for the lists. Every
 * value at such a path must be an array (or the scan gives up), so every value found there in the skeleton is one.
 */
class Scanner {
  private at = 0;
  private copiedTo = 0;
  /**
   * The path of the current value: one step per open container, a key in an object, an index in an array (so the
   * last step says which the innermost container is). Updated in place rather than built per value: a copy per value
   * costs the depth at every value, quadratic on a deeply nested body that anyone can send.
   */
  private readonly path: (string | number)[] = [];
  private readonly lists: ElementOffsets[] = [];
  private readonly skeleton: ByteWriter;

  constructor(
    private readonly bytes: Buffer,
    private readonly leftInBytes: (path: Path) => boolean,
  ) {
    this.skeleton = new ByteWriter(Math.max(1024, bytes.length >> 6));
  }

  /** The skeleton and the lists, or undefined when the bytes are not a document this reader follows. */
  scan(): { skeleton: string; lists: ElementOffsets[] } | undefined {
    for (;;) {
      this.skipSpace();
      const read = this.at < this.bytes.length ? this.readValue() : undefined;
      if (read === undefined) return undefined;
      if (read === 'entered') continue; // the container's first member is next
      const after = this.afterValue();
      if (after === undefined) return undefined;
      if (after === 'end') {
        this.skeleton.copy(this.bytes, this.copiedTo, this.bytes.length);
        return { skeleton: this.skeleton.text(), lists: this.lists };
      }
    }
  }

  /** The value at the current path: a list left in the bytes, a container entered, or any other value passed over. */
  private readValue(): 'entered' | 'read' | undefined {
    const byte = this.bytes[this.at];
    if (this.path.length > 0 && this.leftInBytes(this.path)) return byte === OPEN_ARRAY ? this.leaveList() : undefined;
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) return this.enter(byte);
    const end = this.endOfValue(this.at);
    if (end < 0) return undefined;
    this.at = end;
    return 'read';
  }

  /** Into the object or array at `at`: 'entered' at its first member, or 'read' past it when it is empty. */
  private enter(open: number): 'entered' | 'read' | undefined {
    this.at += 1;
    this.skipSpace();
    if (this.bytes[this.at] === (open === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
      this.at += 1;
      return 'read';
    }
    this.path.push(0);
    if (open === OPEN_OBJECT && !this.readKey()) return undefined;
    return 'entered';
  }

  /** After a value: a comma and the next member ('next'), or the end of containers, up to the document's ('end'). */
  private afterValue(): 'next' | 'end' | undefined {
    for (;;) {
      this.skipSpace();
      if (this.path.length === 0) return 'end';
      const next = this.bytes[this.at];
      if (next === COMMA) {
        this.at += 1;
        if (!this.inObject()) {
          this.path[this.path.length - 1] = (this.path.at(-1) as number) + 1;
          return 'next';
        }
        this.skipSpace();
        return this.readKey() ? 'next' : undefined;
      }
      if (next !== (this.inObject() ? CLOSE_OBJECT : CLOSE_ARRAY)) return undefined;
      this.at += 1;
      this.path.pop();
    }
  }

  /** The array at `at` left in the bytes: its elements' offsets kept, its number written in the skeleton. */
  private leaveList(): 'read' | undefined {
    const from = this.at;
    const offsets = this.elementOffsets();
    if (!offsets) return undefined;
    this.skeleton.copy(this.bytes, this.copiedTo, from);
    this.skeleton.ascii(String(this.lists.length));
    this.lists.push(offsets);
    this.copiedTo = this.at;
    return 'read';
  }

  /** Where each element of the array at `at` starts and ends; `at` ends just after the array. */
  private elementOffsets(): ElementOffsets | undefined {
    const offsets = new ElementOffsets(this.bytes);
    this.at += 1;
    this.skipSpace();
    if (this.bytes[this.at] === CLOSE_ARRAY) {
      this.at += 1;
      return offsets;
    }
    for (;;) {
      const end = this.endOfValue(this.at);
      if (end <= this.at) return undefined;
      offsets.starts.push(this.at);
      offsets.ends.push(end);
      this.at = end;
      this.skipSpace();
      if (this.bytes[this.at] === CLOSE_ARRAY) {
        this.at += 1;
        return offsets;
      }
      if (this.bytes[this.at] !== COMMA) return undefined;
      this.at += 1;
      this.skipSpace();
    }
  }

  /** `"key" :` at `at`, as the last step of the path; false when it is not there. */
  private readKey(): boolean {
    if (this.bytes[this.at] !== QUOTE) return false;
    const end = afterString(this.bytes, this.at + 1);
    if (end < 0) return false;
    const raw = this.bytes.toString('utf8', this.at, end);
    try {
      this.path[this.path.length - 1] = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    } catch {
      return false;
    }
    this.at = end;
    this.skipSpace();
    if (this.bytes[this.at] !== COLON) return false;
    this.at += 1;
    return true;
  }

  /** Just after the value starting at `from` (containers by depth, strings whole); -1 when it does not end. */
  private endOfValue(from: number): number {
    const bytes = this.bytes;
    let depth = 0;
    for (let i = from; i < bytes.length; ) {
      const byte = bytes[i]!;
      if (byte === QUOTE) {
        i = afterString(bytes, i + 1);
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
  }

  private inObject(): boolean {
    return typeof this.path[this.path.length - 1] === 'string';
  }

  private skipSpace(): void {
    while (isSpace(this.bytes[this.at])) this.at += 1;
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
