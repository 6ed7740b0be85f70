import type { Requester } from '../core/guard.js';

/**
 * Hasura's session, as a remote schema receives it (x-hasura-* headers) or an action webhook
 * (session_variables): the same lower-case keys in both. Anything but a non-empty string is ignored.
 */
export function requesterFrom(get: (name: string) => unknown): Requester {
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);
  return { userId: text(get('x-hasura-user-id')), role: text(get('x-hasura-role')) };
}
