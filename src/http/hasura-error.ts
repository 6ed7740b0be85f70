// Hasura's own error shape, the only one its console and CLI read: {"path","code","error"}. The console shows
// `error` in its notification and the CLI prints `[code] error (path)`. Keys such as internal, message, info,
// custom or action would change what they show, and codes such as access-denied or conflict trigger behaviour
// (a logout, "metadata is out of date"), so the guard uses none of them; its details travel under "guard",
// a key both ignore. Status stays within 400–500: above 500 the old console rejects with no value.
import type { ServerResponse } from 'node:http';

export interface HasuraErrorBody {
  path: '$';
  code: string;
  error: string;
  guard?: unknown;
}

export function sendHasuraError(res: ServerResponse, status: number, code: string, error: string, guard?: unknown, extraHeaders: Record<string, string> = {}): number {
  const body: HasuraErrorBody = guard === undefined ? { path: '$', code, error } : { path: '$', code, error, guard };
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
