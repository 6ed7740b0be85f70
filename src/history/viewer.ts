// Who may see the history: whoever Hasura treats as an admin, asked of Hasura itself (src/http/hasura-admin.ts).
//
// Identity (issue 19, part 1) will replace this check, where identity is configured, with "an identified approver":
// createHistoryDoor takes any ViewerCheck.
import type { IncomingMessage } from 'node:http';
import { hasuraCodeOf } from '../core/codes.js';
import type { CredentialCheck } from '../core/engine.js';
import { hasuraCredentialOf } from '../http/credentials.js';

export type ViewerVerdict = { ok: true } | { ok: false; status: 401 | 503; code: string; message: string };
export type ViewerCheck = (req: IncomingMessage) => Promise<ViewerVerdict>;

const NO_CREDENTIALS = {
  ok: false,
  status: 401,
  code: hasuraCodeOf('HISTORY_UNAUTHORIZED'),
  message: 'The change history needs Hasura\'s admin secret: send it in the x-hasura-admin-secret header.',
} as const satisfies ViewerVerdict;

/** The history's door asks the same admin check the engine asks before holding and confirming (one cache). */
export function hasuraAdminViewer(isAdmin: CredentialCheck): ViewerCheck {
  return async (req) => {
    const credential = hasuraCredentialOf((name) => req.headers[name]);
    if (credential === undefined) return NO_CREDENTIALS;
    const answer = await isAdmin(credential.value, credential.header, credential.role);
    if (answer === 'admin') return { ok: true };
    if (answer === 'not-admin') return { ...NO_CREDENTIALS, message: 'Hasura does not accept this credential as an admin, so the history is not shown.' };
    return { ok: false, status: 503, code: hasuraCodeOf('HISTORY_HASURA_UNREACHABLE'), message: 'The guard could not ask Hasura whether this credential is an admin\'s; try again shortly.' };
  };
}
