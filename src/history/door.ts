// GET /guard/api/changes (JSON, newest first, paged with a cursor) and GET /guard/changes (the page people open from a
// notification or the console's banner). Both need an admin (viewer.ts). The page is self-contained like the confirm
// page: no CDN, a Content-Security-Policy with a nonce, the admin secret typed in and sent in a header, never stored.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ChangeRecord } from './changes.js';
import { hasuraCodeOf } from '../core/codes.js';
import { decodeCursor, encodeCursor, failureReason, type History } from './history.js';
import type { ViewerCheck } from './viewer.js';

const HISTORY_API_PATH = '/guard/api/changes';
export const HISTORY_PAGE_PATH = '/guard/changes';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;

export interface HistoryDoor {
  handles(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<number>;
}

/** The link to one change in the history, as notifications carry it. */
export function changeLink(base: string, id: string): string {
  return `${base}${HISTORY_PAGE_PATH}?change=${encodeURIComponent(id)}`;
}

export function createHistoryDoor(options: { history: History; canView: ViewerCheck; logger: Logger }): HistoryDoor {
  const { history, canView, logger } = options;

  async function api(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const viewer = await canView(req);
    if (!viewer.ok) return sendJson(res, viewer.status, { code: viewer.code, error: viewer.message });
    const query = readQuery(req.url);
    if ('error' in query) return sendJson(res, 400, query.error);
    try {
      if (query.change !== undefined) {
        const one = await history.get(query.change);
        return sendJson(res, 200, { changes: one ? [view(one)] : [], next: null });
      }
      const page = await history.list(query.limit + 1, query.before);
      const shown = page.slice(0, query.limit);
      const next = page.length > query.limit ? encodeCursor(shown.at(-1)!) : null;
      return sendJson(res, 200, { changes: shown.map(view), next });
    } catch (err) {
      logger.warn({ reason: failureReason(err) }, 'the change history could not be read');
      return sendJson(res, 503, { code: hasuraCodeOf('HISTORY_UNAVAILABLE'), error: 'The change history cannot be read right now; try again shortly.' });
    }
  }

  async function page(req: IncomingMessage, res: ServerResponse): Promise<number> {
    // Without an admin credential the page still loads (status 401): it holds no change, only the form that asks for one.
    const viewer = await canView(req);
    const nonce = randomBytes(16).toString('base64');
    const html = renderPage(nonce);
    const status = viewer.ok ? 200 : 401;
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
    return status;
  }

  return {
    handles: (path) => path === HISTORY_API_PATH || path === HISTORY_PAGE_PATH,
    handle(req, res, path) {
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('allow', 'GET');
        return Promise.resolve(sendJson(res, 405, { code: hasuraCodeOf('HISTORY_METHOD'), error: `${path} takes GET.` }));
      }
      return path === HISTORY_API_PATH ? api(req, res) : page(req, res);
    },
  };
}

type Query = { limit: number; before?: ReturnType<typeof decodeCursor>; change?: string } | { error: { code: string; error: string } };

function readQuery(url: string | undefined): Query {
  const params = new URL(url ?? '/', 'http://guard').searchParams;
  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_PAGE_SIZE : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) return { error: { code: hasuraCodeOf('HISTORY_BAD_LIMIT'), error: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}.` } };
  const beforeText = params.get('before');
  const before = beforeText === null ? undefined : decodeCursor(beforeText);
  if (beforeText !== null && !before) return { error: { code: hasuraCodeOf('HISTORY_BAD_CURSOR'), error: 'before must be the `next` value of an earlier answer.' } };
  const change = params.get('change') ?? undefined;
  if (change !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(change)) return { error: { code: hasuraCodeOf('HISTORY_BAD_CHANGE'), error: 'change must be the id of a change in the history.' } };
  return { limit, before, change };
}

/** What the API shows of a record: times as ISO 8601, without the fingerprint and subject it links steps by. */
function view(record: ChangeRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    environment: record.environment,
    outcome: record.outcome,
    requester: record.requester,
    confirmer: record.confirmer,
    summary: record.summary,
    changes: record.changes,
    held_at: iso(record.heldAt),
    confirmed_at: iso(record.confirmedAt),
    finished_at: iso(record.finishedAt),
    hasura_status: record.hasuraStatus,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
  return status;
}

function renderPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Production change history</title>
<style nonce="${nonce}">
${PAGE_STYLE}</style>
</head>
<body>
<h1>Production change history</h1>
<p>Every production change the metadata guard held, confirmed, passed, failed (or saw no answer to) or denied: who asked, who confirmed, what it does.</p>
<form id="unlock">
  <label for="secret">Hasura admin secret</label>
  <input id="secret" type="password" autocomplete="off" required>
  <button type="submit">Show the history</button>
</form>
<p id="problem" role="status"></p>
<div id="changes"></div>
<button id="older" type="button" hidden>Older changes</button>
<script nonce="${nonce}">
${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** The history page's own style and script, served inline under the page's nonce (nothing from another origin). */
const PAGE_STYLE = `body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
form { margin: 1rem 0; } input { padding: .4rem; width: 22rem; max-width: 100%; } button { padding: .4rem .9rem; }
.change { border: 1px solid #ccc; border-radius: 6px; padding: .6rem .9rem; margin: .8rem 0; }
.change.focus { border-color: #1f5fa8; box-shadow: 0 0 0 2px #1f5fa833; }
.outcome { font-weight: 700; text-transform: uppercase; font-size: .8rem; padding: .1rem .4rem; border-radius: 4px; background: #eee; }
.outcome.held, .outcome.unanswered { background: #fff1c2; } .outcome.confirmed { background: #dbe9ff; } .outcome.passed { background: #d7f5dc; }
.outcome.failed, .outcome.denied { background: #ffd9dc; }
.who { color: #555; } ul { margin: .3rem 0; padding-left: 1.2rem; font-family: ui-monospace, monospace; font-size: .9rem; }
#problem { color: #a4000f; }
`;

const PAGE_SCRIPT = `let secret = '';
let next = null;
const focus = new URLSearchParams(location.search).get('change');
const list = document.getElementById('changes');
const problem = document.getElementById('problem');
const older = document.getElementById('older');

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render(change) {
  const box = element('section', 'change' + (change.id === focus ? ' focus' : ''));
  box.id = 'change-' + change.id;
  box.dataset.outcome = change.outcome;
  const head = element('p');
  head.append(element('span', 'outcome ' + change.outcome, change.outcome), ' ', element('strong', 'summary', change.summary));
  const who = element('p', 'who');
  who.append(element('span', 'requester', 'requested by ' + (change.requester || 'unknown')), ' · ' + change.held_at);
  if (change.confirmer) who.append(' · ', element('span', 'confirmer', 'confirmed by ' + change.confirmer));
  if (change.finished_at) who.append(' · finished ' + change.finished_at + (change.hasura_status ? ' (Hasura ' + change.hasura_status + ')' : ''));
  const effects = element('ul');
  for (const effect of change.changes) effects.append(element('li', '', effect));
  box.append(head, who, effects);
  return box;
}

async function load(more) {
  const params = new URLSearchParams();
  if (focus && !more) params.set('change', focus);
  if (more && next) params.set('before', next);
  problem.textContent = '';
  try {
    const response = await fetch('api/changes?' + params, { headers: { 'x-hasura-admin-secret': secret } });
    const answer = await response.json();
    if (!response.ok) {
      problem.textContent = answer.error;
      return;
    }
    if (!more) list.replaceChildren();
    if (answer.changes.length === 0 && !more) list.append(element('p', 'empty', focus ? 'This change is not in the history (it may be older than the history keeps).' : 'No production change yet.'));
    for (const change of answer.changes) list.append(render(change));
    next = answer.next;
    older.hidden = !next;
    document.getElementById('unlock').hidden = true;
  } catch {
    problem.textContent = 'The guard did not answer; try again.';
  }
}

document.getElementById('unlock').addEventListener('submit', (event) => {
  event.preventDefault();
  secret = document.getElementById('secret').value;
  void load(false);
});
older.addEventListener('click', () => void load(true));
`;
