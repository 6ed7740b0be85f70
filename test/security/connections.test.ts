// Slow and idle clients against the real server on 127.0.0.1: the header and request timeouts hold to the
// figure configured (Node checks them every connectionsCheckingInterval, 30 s by default), and connections past
// MAX_CONNECTIONS are closed at once. Time is measured on real sockets, waiting on their close events.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTIONS_CHECKING_INTERVAL_MS } from '../../src/server.js';
import { startTestServer, type TestServer } from '../helpers.js';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** Scheduling on a shared machine: the server's timer and our close event may each run a little late. */
const SLACK_MS = 500;

let server: TestServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
});

/** A raw connection to the server; resolves once connected. */
function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

/** Milliseconds from now until the server closes the socket, and what it sent before closing. */
function timeToClose(socket: Socket): Promise<{ ms: number; received: string }> {
  const started = performance.now();
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  return new Promise((resolve) => socket.on('close', () => resolve({ ms: performance.now() - started, received })));
}

describe('timeouts hold as configured', () => {
  it(`a client that never finishes its headers is cut after HEADERS_TIMEOUT_MS (${HEADERS_TIMEOUT_MS} ms)`, async () => {
    server = await startTestServer({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    const socket = await open(server.url);
    const closed = timeToClose(socket);
    socket.write('GET /health HTTP/1.1\r\nHost: guard\r\n'); // and never the blank line that ends the headers
    const { ms, received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(ms).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + CONNECTIONS_CHECKING_INTERVAL_MS + SLACK_MS);
    console.info(`slow headers cut after ${Math.round(ms)} ms (HEADERS_TIMEOUT_MS=${HEADERS_TIMEOUT_MS})`);
  });

  it(`a client that never finishes its body is cut after REQUEST_TIMEOUT_MS (${REQUEST_TIMEOUT_MS} ms), logged without an error`, async () => {
    server = await startTestServer({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    const socket = await open(server.url);
    const closed = timeToClose(socket);
    socket.write('POST /actions HTTP/1.1\r\nHost: guard\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"act');
    const { ms, received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(ms).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + CONNECTIONS_CHECKING_INTERVAL_MS + SLACK_MS);
    console.info(`slow body cut after ${Math.round(ms)} ms (REQUEST_TIMEOUT_MS=${REQUEST_TIMEOUT_MS})`);
    expect(server.logs.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });
});

describe('MAX_CONNECTIONS', () => {
  const MAX = 5;

  it(`holds ${MAX} idle connections, closes the next at once, and answers again once one goes`, async () => {
    server = await startTestServer({ MAX_CONNECTIONS: String(MAX) });
    const accepted: Socket[] = [];
    const allAccepted = new Promise<void>((resolve) =>
      server!.running.server.on('connection', (s: Socket) => {
        accepted.push(s);
        if (accepted.length === MAX) resolve();
      }),
    );
    const held = await Promise.all(Array.from({ length: MAX }, () => open(server!.url)));
    await allAccepted;

    const dropped = new Promise<void>((resolve) => server!.running.server.once('drop', () => resolve()));
    const extra = await open(server.url);
    const { received } = await timeToClose(extra);
    await dropped;
    expect(received).toBe('');

    // One held connection goes away; once the server has seen it close, a new client is answered.
    const gone = new Promise((resolve) => accepted[0]!.once('close', resolve));
    held[0]!.destroy();
    await gone;
    const health = await fetch(`${server.url}/health`, { headers: { connection: 'close' } });
    expect(health.status).toBe(200);
  });
});
