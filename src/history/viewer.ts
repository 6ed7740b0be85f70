// Who may see the history: whoever Hasura treats as an admin. The guard does not know Hasura's admin secret (it binds
// confirmations to whatever credential a request carried), so it asks Hasura: the request's own credential headers on
// a small admin-only metadata call. Every /v1/metadata command needs the admin role (authorizeV1MetadataApi in
// server/src-lib/Hasura/App.hs, hasura/graphql-engine 5a67e3e6); get_catalog_state reads one small row and changes
// nothing (server/src-lib/Hasura/Server/API/Metadata/Instances.hs). A credential Hasura accepted is remembered for a
// minute, under a keyed hash, so a page and its paging do not ask each time.
//
// Identity (issue 19, part 1) will replace this check, where identity is configured, with "an identified approver":
// createHistoryDoor takes any ViewerCheck.
import type { IncomingMessage } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { hasuraCodeOf } from '../core/codes.js';
import type { Clock } from '../vocabulary/clock.js';
import { credentialsHash } from '../core/fingerprint.js';
import { hasuraCredentialsOf, HASURA_CREDENTIAL_HEADERS } from '../http/credentials.js';

export type ViewerVerdict = { ok: true } | { ok: false; status: 401 | 503; code: string; message: string };
export type ViewerCheck = (req: IncomingMessage) => Promise<ViewerVerdict>;

const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 1000;

const NO_CREDENTIALS = {
  ok: false,
  status: 401,
  code: hasuraCodeOf('HISTORY_UNAUTHORIZED'),
  message: 'The change history needs Hasura\'s admin secret: send it in the x-hasura-admin-secret header.',
} as const satisfies ViewerVerdict;

export function hasuraAdminCheck(options: { hasuraUrl: string; clock: Clock; credentialsKey?: KeyObject; timeoutMs?: number }): ViewerCheck {
  const { hasuraUrl, clock } = options;
  const accepted = new Map<string, number>();

  async function askHasura(req: IncomingMessage): Promise<ViewerVerdict> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'hasura-metadata-guard' };
    for (const name of HASURA_CREDENTIAL_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      const response = await fetch(`${hasuraUrl}/v1/metadata`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'get_catalog_state', args: {} }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await response.arrayBuffer();
      if (response.status === 200) return { ok: true };
      return { ...NO_CREDENTIALS, message: 'Hasura does not accept this credential as an admin, so the history is not shown.' };
    } catch {
      return { ok: false, status: 503, code: hasuraCodeOf('HISTORY_HASURA_UNREACHABLE'), message: 'The guard could not ask Hasura whether this credential is an admin\'s; try again shortly.' };
    }
  }

  return async (req) => {
    const credentials = hasuraCredentialsOf((name) => req.headers[name]);
    if (credentials === undefined) return NO_CREDENTIALS;
    const key = credentialsHash(credentials, options.credentialsKey);
    const now = clock();
    if ((accepted.get(key) ?? 0) > now) return { ok: true };
    const verdict = await askHasura(req);
    if (verdict.ok) {
      if (accepted.size >= MAX_REMEMBERED) accepted.clear();
      accepted.set(key, now + REMEMBER_MS);
    }
    return verdict;
  };
}
