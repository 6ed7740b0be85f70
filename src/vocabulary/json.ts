/** A JSON object: not null, not an array. What every door and analyser checks before reading keys. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The tables of a big body stay in its bytes (src/big-json/lazy-tables.ts): such a list is an array like any other,
 * whose elements are parsed each time they are read, and it also answers this key with a function giving an
 * element's JSON text, so that two tables can be compared as text without parsing either. Other arrays do not.
 */
export const ELEMENT_TEXT = Symbol('the JSON text of an element');

/** The JSON text of a list's element when the list keeps it (see ELEMENT_TEXT), else undefined. */
export function elementText(list: readonly unknown[], index: number): string | undefined {
  const textAt = (list as { [ELEMENT_TEXT]?: (index: number) => string })[ELEMENT_TEXT];
  return textAt?.(index);
}
