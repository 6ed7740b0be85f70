/** A JSON object: not null, not an array. What every door and analyser checks before reading keys. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
