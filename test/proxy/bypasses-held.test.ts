// Spellings of a destructive request at the HTTP and JSON layer that an adversarial review sent and the proxy already
// held or refused, kept so they keep holding; nothing reaches the stand-in Hasura. (What got through, and was fixed,
// is in bypasses.test.ts.) Real analysis, default policy, production.
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer({});
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
});

const headers = { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET };
const DROP = JSON.stringify({ type: 'bulk', source: 'default', args: [{ type: 'run_sql', args: { source: 'default', sql: 'DROP TABLE public.patients', cascade: false, read_only: false } }] });
const READ = JSON.stringify({ type: 'get_inconsistent_metadata', args: {} });

/** Raw bytes on one connection; resolves with everything the guard wrote back once it closes or goes quiet. */
function rawExchange(bytes: Buffer | string, quietMs = 400): Promise<string> {
  const { hostname, port } = new URL(guard.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      quiet();
    });
    socket.on('end', finish);
    socket.on('error', (err) => (chunks.length ? finish() : reject(err)));
    socket.write(bytes);
    quiet();
  });
}

const head = (lines: string[], body: string) => `${lines.join('\r\n')}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('Content-Encoding and Transfer-Encoding spellings', () => {
  it.each(['gzip, identity', 'identity, gzip', 'gzip;q=1', ' GZIP , gzip'])('Content-Encoding "%s" on a gzip\'d DROP is refused, nothing forwarded', async (encoding) => {
    const res = await rawRequest(guard.url, 'POST', '/v2/query', { ...headers, 'content-encoding': encoding }, gzipSync(DROP));
    expect([400, 415]).toContain(res.status);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('Content-Encoding sent on two header lines (Node joins them "gzip, gzip") is refused, nothing forwarded', async () => {
    const body = gzipSync(DROP);
    const bytes = Buffer.concat([
      Buffer.from(`POST /v2/query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-hasura-admin-secret: ${ADMIN_SECRET}\r\ncontent-encoding: gzip\r\ncontent-encoding: gzip\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`),
      body,
    ]);
    const answer = await rawExchange(bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 (400|415)/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('Content-Encoding gzip on a plain JSON DROP (Hasura never decodes request bodies, so it would read the JSON) is refused', async () => {
    const res = await rawRequest(guard.url, 'POST', '/v2/query', { ...headers, 'content-encoding': 'gzip' }, DROP);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('guard-refused');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('Transfer-Encoding "gzip, chunked" (a transfer coding Node does not undo) is not forwarded', async () => {
    const chunk = gzipSync(DROP);
    const bytes = Buffer.concat([
      Buffer.from(`POST /v2/query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-hasura-admin-secret: ${ADMIN_SECRET}\r\ntransfer-encoding: gzip, chunked\r\nconnection: close\r\n\r\n${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const answer = await rawExchange(bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('Transfer-Encoding chunked together with a Content-Length is refused by the parser, nothing forwarded', async () => {
    const bytes = `POST /v2/query HTTP/1.1\r\nhost: x\r\nx-hasura-admin-secret: ${ADMIN_SECRET}\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n${Buffer.byteLength(DROP).toString(16)}\r\n${DROP}\r\n0\r\n\r\n`;
    const answer = await rawExchange(bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('JSON spellings', () => {
  it('a UTF-8 BOM before a DROP is refused as not JSON, nothing forwarded', async () => {
    const res = await rawRequest(guard.url, 'POST', '/v2/query', headers, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(DROP)]));
    expect(res.status).toBe(400);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('\\u escapes in keys and in the type ("ty\\u0070e": "pg_untrack\\u005ftable") are read as Hasura reads them: held', async () => {
    const raw = '{"ty\\u0070e":"pg_untrack\\u005ftable","\\u0061rgs":{"table":{"schema":"public","name":"pati\\u0065nts"},"source":"default"}}';
    const res = await rawRequest(guard.url, 'POST', '/v1/metadata', headers, raw);
    expect(res.json.code).toBe('guard-confirmation-required');
    expect(res.json.error).toMatch(/untracks table default\.public\.patients/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it.each(['Run_SQL', 'RUN_SQL', 'run_sql ', 'bulk\u0000'])('a type Hasura would not match exactly ("%s") is not understood: held', async (type) => {
    const raw = JSON.stringify({ type, args: { source: 'default', sql: 'DROP TABLE public.patients' } });
    const res = await rawRequest(guard.url, 'POST', '/v2/query', headers, raw);
    expect(res.status).toBe(400);
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('connections', () => {
  it('pipelined on one connection, a DROP then a read: the DROP is held, only the read reaches Hasura', async () => {
    const one = head(['POST /v2/query HTTP/1.1', 'host: x', 'content-type: application/json', `x-hasura-admin-secret: ${ADMIN_SECRET}`], DROP);
    const two = head(['POST /v1/metadata HTTP/1.1', 'host: x', 'content-type: application/json', `x-hasura-admin-secret: ${ADMIN_SECRET}`, 'connection: close'], READ);
    const answer = await rawExchange(one + two, 800);
    expect(answer).toMatch(/guard-confirmation-required/);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([READ]);
  });

  it('a POST upgrade (Connection: Upgrade, Upgrade: websocket) to /v2/query carrying a DROP is refused, nothing forwarded', async () => {
    const bytes = head(
      ['POST /v2/query HTTP/1.1', 'host: x', 'connection: Upgrade', 'upgrade: websocket', 'sec-websocket-version: 13', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==', `x-hasura-admin-secret: ${ADMIN_SECRET}`],
      DROP,
    );
    const answer = await rawExchange(bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 404/);
    expect(guard.hasura.requests).toEqual([]);
  });
});
