import { parse } from 'content-type';

/**
 * Whether a Content-Type header names JSON exactly: `application/json`, in any case, with or without parameters
 * such as charset. `application/jsonx` or `application/json-patch+json` is not JSON for us, and neither is a
 * header that does not parse.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  try {
    return parse(header).type === 'application/json';
  } catch {
    return false;
  }
}
