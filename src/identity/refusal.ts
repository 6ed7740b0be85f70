// The 401 for an identity that does not hold up: Hasura's error shape on Hasura's paths (its console shows `error`),
// the guard's own JSON shape ({message, extensions: {code}}, as the webhooks answer) on the guard's routes.
import type { ServerResponse } from 'node:http';
import { sendHasuraError } from '../http/hasura-error.js';
import type { IdentityRefusal } from './identify.js';

export function sendIdentityRefusal(res: ServerResponse, refusal: IdentityRefusal, hasurasPath: boolean): number {
  const message = `Refused by the metadata guard: ${refusal.message}. Nothing was sent on; sign in again through the auth proxy.`;
  // In Hasura's shape the code is guard-identity-refused (codes.ts), the precise one under guard.code.
  if (hasurasPath) return sendHasuraError(res, 401, refusal.code, message, { code: refusal.code });
  const body = JSON.stringify({ message, extensions: { code: refusal.code } });
  res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
  return 401;
}
