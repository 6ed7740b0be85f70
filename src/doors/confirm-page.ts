// /guard/confirm: the page a held request's error links to, and the JSON call it (or curl) makes.
// The page shows what the token would confirm (its claims, read here on the server) and sends the token with the
// admin secret. CSRF: the POST takes JSON only and the secret in a header, neither of which a cross-site form can
// send without a CORS preflight this server never answers; there are no cookies to ride on.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Code } from '../core/codes.js';
import type { Engine } from '../core/engine.js';
import type { Clock } from '../vocabulary/clock.js';
import type { TokenService } from '../core/tokens.js';
import { BodyTooLargeError, readBodyAsync } from '../http/body.js';
import { hasuraCredentialOf } from '../http/credentials.js';
import { personOf } from '../vocabulary/person.js';

const CONFIRM_PATH = '/guard/confirm';
const MAX_CONFIRM_BODY = 8 * 1024;

export interface ConfirmDoorOptions {
  /** Confirms the token (only its confirm is used). */
  engine: Pick<Engine, 'confirm'>;
  tokens: TokenService;
  clock: Clock;
}

export function createConfirmDoor(options: ConfirmDoorOptions) {
  const { engine, tokens, clock } = options;

  function page(req: IncomingMessage, res: ServerResponse): number {
    const token = new URL(req.url ?? '/', 'http://guard').searchParams.get('token') ?? '';
    const nonce = randomBytes(16).toString('base64');
    const html = renderPage(describeToken(token), personOf(req)?.email, nonce);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
      // The token is in this page's address: keep it out of other sites' logs and out of caches.
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(html);
    return 200;
  }

  function describeToken(token: string): PageState {
    if (token === '') return { ok: false, problem: 'This address carries no token. Open the link from the held request\'s error.' };
    const verified = tokens.verify(token);
    if (!verified.ok) return { ok: false, problem: `This token cannot be confirmed: ${verified.message}.` };
    const { claims } = verified;
    if (claims.fp === undefined || claims.crd === undefined) {
      return { ok: false, problem: 'This token belongs to an advisory check (validateMetadataChange); confirm it there.' };
    }
    const secondsLeft = Math.max(0, claims.exp - Math.floor(clock() / 1000));
    return { ok: true, op: claims.op, tbl: claims.tbl, env: claims.env, requester: claims.by, expiresAt: new Date(claims.exp * 1000).toISOString(), secondsLeft };
  }

  async function post(req: IncomingMessage, res: ServerResponse): Promise<number> {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      return refuse(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send {"token": "..."} as Content-Type: application/json.');
    }
    let token: unknown;
    try {
      token = (JSON.parse((await readBodyAsync(req, MAX_CONFIRM_BODY)).toString('utf8')) as { token?: unknown } | null)?.token;
    } catch (err) {
      if (err instanceof BodyTooLargeError) return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_CONFIRM_BODY} bytes.`);
      return refuse(res, 400, 'INVALID_JSON', 'The body is not JSON; send {"token": "..."}.');
    }
    if (typeof token !== 'string') return refuse(res, 400, 'INVALID_PAYLOAD', 'Send {"token": "..."}: the token from the held request\'s error.');
    const credential = hasuraCredentialOf((name) => req.headers[name]);
    const requester = { credentials: credential?.value, credentialHeader: credential?.header, role: credential?.role, person: personOf(req) };
    const result = await engine.confirm(token, requester, 'confirm-page');
    return sendJson(res, statusOf(result.success, result.code), { success: result.success, code: result.code, message: result.message });
  }

  return {
    handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
      const method = req.method ?? 'GET';
      if (method === 'GET' || method === 'HEAD') return Promise.resolve(page(req, res));
      if (method === 'POST') return post(req, res);
      res.setHeader('allow', 'GET, POST');
      return Promise.resolve(refuse(res, 405, 'METHOD_NOT_ALLOWED', `${CONFIRM_PATH} takes GET (the page) or POST (JSON).`));
    },
  };
}

export type ConfirmDoor = ReturnType<typeof createConfirmDoor>;

/** Codes of a confirmation refused for who is confirming, though the credentials were right (src/core/approvers.ts). */
const NOT_THIS_PERSON: ReadonlySet<Code> = new Set<Code>(['CONFIRMER_UNIDENTIFIED', 'NOT_AN_APPROVER', 'REQUESTER_UNIDENTIFIED', 'OWN_CHANGE']);

/**
 * 403 when this person may not confirm (not an approver, their own change); 401 when Hasura does not take the
 * credentials as an admin's; 503 when the guard's store or Hasura cannot be asked, the guard's trouble and not the
 * token's, so the page and scripts know to try again; else 400.
 */
function statusOf(success: boolean, code: Code): number {
  if (success) return 200;
  if (NOT_THIS_PERSON.has(code)) return 403;
  if (code === 'CREDENTIALS_NOT_ADMIN') return 401;
  return code === 'STORE_UNAVAILABLE' || code === 'HASURA_UNREACHABLE' ? 503 : 400;
}

function refuse(res: ServerResponse, status: number, code: Code, message: string): number {
  return sendJson(res, status, { success: false, code, message });
}

function sendJson(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
  return status;
}

type PageState =
  | { ok: true; op: string; tbl: string; env: string; requester?: string; expiresAt: string; secondsLeft: number }
  | { ok: false; problem: string };

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function renderPage(state: PageState, viewer: string | undefined, nonce: string): string {
  // Who the auth proxy says is looking, and for whom the change was held: the approver sees both before confirming.
  // Shown only when known, so a guard without an auth proxy in front shows what it always did.
  const you = viewer ? `<p id="you">You are <strong>${escapeHtml(viewer)}</strong>.</p>\n` : '';
  const requester = state.ok && state.requester ? `\n  <dt>Requested by</dt><dd id="requester">${escapeHtml(state.requester)}</dd>` : '';
  const details = state.ok
    ? `${you}<dl>${requester}
  <dt>Change</dt><dd id="op">${escapeHtml(state.op)}</dd>
  <dt>Objects</dt><dd id="tbl">${escapeHtml(state.tbl)}</dd>
  <dt>Environment</dt><dd id="env">${escapeHtml(state.env)}</dd>
  <dt>Confirm before</dt><dd id="expires">${escapeHtml(state.expiresAt)} (${state.secondsLeft} seconds left)</dd>
</dl>
<form id="confirm">
  <label for="secret">Admin secret the held request was sent with (or its Authorization value, <code>Bearer …</code>)</label>
  <input id="secret" type="password" autocomplete="off" required>
  <button type="submit">Confirm this change</button>
</form>
<p id="result" role="status"></p>`
    : `<p id="problem">${escapeHtml(state.problem)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm a held Hasura change</title>
<style nonce="${nonce}">
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
dt { font-weight: 600; } dd { margin: 0 0 .5rem 0; font-family: ui-monospace, monospace; }
input { width: 100%; padding: .4rem; margin: .3rem 0 .8rem; box-sizing: border-box; }
button { padding: .5rem 1rem; } #result.ok { color: #05620b; } #result.fail { color: #a4000f; }
</style>
</head>
<body>
<h1>Confirm a held change</h1>
<p>The metadata guard held a request to Hasura. Confirming lets the same request, sent again unchanged with the
same credentials, pass once.</p>
${details}
<script nonce="${nonce}">
const form = document.getElementById('confirm');
if (form) form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = document.getElementById('result');
  const token = new URLSearchParams(location.search).get('token');
  result.className = '';
  result.textContent = 'Confirming…';
  try {
    // A JWT is sent as Hasura reads one, asking for the admin role that a confirmation needs.
    const secret = document.getElementById('secret').value;
    const credential = /^bearer\\s/i.test(secret) ? { authorization: secret, 'x-hasura-role': 'admin' } : { 'x-hasura-admin-secret': secret };
    const response = await fetch(${JSON.stringify(CONFIRM_PATH)}, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...credential },
      body: JSON.stringify({ token }),
    });
    const answer = await response.json();
    result.className = answer.success ? 'ok' : 'fail';
    result.textContent = answer.message;
  } catch {
    result.className = 'fail';
    result.textContent = 'The guard did not answer; try again.';
  }
});
</script>
</body>
</html>
`;
}
