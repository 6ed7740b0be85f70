// Hasura's own error shape, the only one its console and CLI read: {"path","code","error"}. The console shows
// `error` in its notification and the CLI prints `[code] error (path)`. Keys such as internal, message, info,
// custom or action would change what they show, and codes such as access-denied or conflict trigger behaviour
// (a logout, "metadata is out of date"), so the guard uses none of them; its details travel under "guard",
// a key both ignore. Status stays within 400–500: above 500 the old console rejects with no value.
import type { ServerResponse } from 'node:http';
import { hasuraCodeOf, type Code } from '../core/codes.js';

export interface HasuraErrorBody {
  path: '$';
  code: string;
  error: string;
  guard?: unknown;
}

/** Answers in Hasura's shape, with the code's Hasura form (codes.ts: `guard-…`). */
export function sendHasuraError(res: ServerResponse, status: number, code: Code, error: string, guard?: unknown, extraHeaders: Record<string, string> = {}): number {
  const hasuraCode = hasuraCodeOf(code);
  const body: HasuraErrorBody = guard === undefined ? { path: '$', code: hasuraCode, error } : { path: '$', code: hasuraCode, error, guard };
  const text = JSON.stringify(body);
  res.writeHead(Math.min(status, 500), {
    ...extraHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
  return Math.min(status, 500);
}
