// What binds a confirmation to one held request: the fingerprint of its body and a hash of its credentials.
import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { BULK_TYPES } from '../vocabulary/bulk.js';
import { isObject } from '../vocabulary/json.js';

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * The credentials' hash carried in tokens and approvals. Keyed (HMAC-SHA256) when a key is given: a token ends up
 * in CI logs and chat, and a plain sha256 of a weak admin secret could be brute-forced offline from it.
 */
export const credentialsHash = (credentials: string, key?: KeyObject): string =>
  key ? createHmac('sha256', key).update(credentials, 'utf8').digest('hex') : sha256Hex(credentials);

/**
 * sha256 (hex) of the body's canonical JSON: keys sorted at every depth, no whitespace, and without the
 * `resource_version` of the body and of every request inside a bulk. The console sends the metadata's current
 * resource_version, which moves when anything else changes, so without this the retry after a confirmation
 * would not match. Only the envelope's key goes: a column called resource_version in a permission filter stays.
 *
 * The JSON text is hashed in slices as it is produced, so a 50 MB replace_metadata is never held twice as text.
 */
export function fingerprintOf(body: unknown): string {
  const hash = createHash('sha256');
  let pending = '';
  const write = (text: string) => {
    pending += text;
    if (pending.length >= 64 * 1024) {
      hash.update(pending, 'utf8');
      pending = '';
    }
  };
  writeCanonical(withoutResourceVersion(body), write);
  hash.update(pending, 'utf8');
  return hash.digest('hex');
}

function withoutResourceVersion(request: unknown): unknown {
  if (!isObject(request)) return request;
  const { resource_version: _ignored, ...rest } = request;
  if (typeof rest.type === 'string' && BULK_TYPES.has(rest.type) && Array.isArray(rest.args)) {
    rest.args = rest.args.map(withoutResourceVersion);
  }
  return rest;
}

function writeCanonical(value: unknown, write: (text: string) => void): void {
  if (Array.isArray(value)) return writeArray(value.length, (i) => value[i] ?? null, write);
  if (isObject(value)) {
    write('{');
    let first = true;
    for (const key of Object.keys(value).sort()) {
      const item = value[key];
      if (item === undefined) continue;
      if (!first) write(',');
      first = false;
      write(JSON.stringify(key));
      write(':');
      writeCanonical(item, write);
    }
    write('}');
    return;
  }
  // Parsed JSON only holds strings, finite numbers, booleans and null here; JSON.stringify writes each canonically.
  write(JSON.stringify(value));
}

/**
 * `[item(0),item(1),…]`, each item read when its turn comes: the tables a big body keeps in its bytes
 * (src/big-json/lazy-tables.ts) are parsed then, one at a time, and let go after.
 */
function writeArray(length: number, item: (index: number) => unknown, write: (text: string) => void): void {
  write('[');
  for (let i = 0; i < length; i += 1) {
    if (i > 0) write(',');
    writeCanonical(item(i), write);
  }
  write(']');
}
