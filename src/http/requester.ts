import type { Requester } from '../core/advisory.js';
import { hasuraCredentialOf } from './credentials.js';

/** Longest identity value accepted. Longer is refused, never cut or replaced: the role is not the user. */
const MAX_IDENTITY_LENGTH = 256;

export type RequesterResult = { ok: true; requester: Requester } | { ok: false; message: string };

/**
 * Hasura's session, as a remote schema receives it (x-hasura-* headers) or an action webhook
 * (session_variables): the same lower-case keys in both. `get` answers every value sent under a name (a header
 * sent twice, a session key in two spellings), so that a repeated identity is refused rather than joined or
 * picked. Values are compared as people read them: trimmed and in Unicode NFC, so "42 " is user 42 and a
 * decomposed "é" is the composed one. Empty means absent; anything but a string is ignored.
 */
export function requesterFrom(get: (name: string) => unknown): RequesterResult {
  const userId = identityValue('x-hasura-user-id', get('x-hasura-user-id'));
  if (typeof userId === 'object') return userId;
  const role = identityValue('x-hasura-role', get('x-hasura-role'));
  if (typeof role === 'object') return role;
  // What a change held by the enforcing proxy is bound to: the credential Hasura authenticates with (the admin
  // secret under either of its names, else Authorization). Only compared (as a keyed hash) when such a change is
  // confirmed; never logged.
  const credential = hasuraCredentialOf(get);
  return { ok: true, requester: credential === undefined ? { userId, role } : { userId, role, credentials: credential.value, credentialHeader: credential.header } };
}

function identityValue(name: string, raw: unknown): string | undefined | { ok: false; message: string } {
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
  if (values.length > 1) return { ok: false, message: `Refused: ${name} was sent more than once.` };
  const value = values[0]?.trim().normalize('NFC');
  if (!value) return undefined;
  if (value.length > MAX_IDENTITY_LENGTH) return { ok: false, message: `Refused: ${name} is longer than ${MAX_IDENTITY_LENGTH} characters.` };
  return value;
}
