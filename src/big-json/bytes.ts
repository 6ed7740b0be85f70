// JSON read as bytes, as both readers of a big body do (measure.ts before anything is parsed, lazy-tables.ts to
// parse a big replace_metadata leaving its tables in its bytes). JSON's structure is ASCII ({ } [ ] , : and the
// quote); inside a string a backslash escapes the next byte and nothing is structural. UTF-8 never puts a byte below
// 0x80 inside a multi-byte character, so reading bytes is exact.

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;

export const isSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** Just past the closing quote of the string whose contents start at `from`; -1 when it never closes. */
export function afterString(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i += 1) {
    if (bytes[i] === BACKSLASH) i += 1;
    else if (bytes[i] === QUOTE) return i + 1;
  }
  return -1;
}

/** A step of a path into a document: a key, or ELEMENT for any element of an array. */
export const ELEMENT = Symbol('any element');
export type Step = string | typeof ELEMENT;

/**
 * Where a Hasura body keeps its tables, the part of a big metadata that grows with it: replace_metadata's
 * `args.metadata.sources[*].tables` (metadata version 3) and `args.sources[*].tables` (the older versions' shape as
 * Hasura still accepts it), and export_metadata's answer `metadata.sources[*].tables`.
 */
export const REQUEST_TABLE_LISTS: readonly (readonly Step[])[] = [
  ['args', 'metadata', 'sources', ELEMENT, 'tables'],
  ['args', 'sources', ELEMENT, 'tables'],
];
export const EXPORT_TABLE_LISTS: readonly (readonly Step[])[] = [['metadata', 'sources', ELEMENT, 'tables']];
