// The HTTP layer both doors share: action secret, body limit, health, readiness, metrics, error masking.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../src/core/advisory.js';
import { createGraphQLDoor, createGuardYoga } from '../src/doors/graphql.js';
import { createLogger } from '../src/logger.js';
import { createRequestListener, startServer } from '../src/server.js';
import { ACTION_SECRET, hasuraPayload, logCapture, postJson, startTestServer, VALIDATE, type TestServer } from './helpers.js';

const drop = { operation: 'DROP', table_name: 'patients', environment: 'production' };

describe('action secret', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ACTION_SECRET, ACTION_SECRET_HEADER: 'X-Guard-Secret' });
  });
  afterAll(() => server.close());

  const routes = ['/graphql', '/actions', '/validate-metadata-change', '/confirm-metadata-change'];
  it.each(routes)('%s refuses a missing or wrong secret with 401 and a JSON message, deciding nothing', async (path) => {
    const body = path === '/graphql' ? { query: VALIDATE, variables: { input: drop } } : hasuraPayload('validateMetadataChange', drop);
    const attempts: Record<string, string>[] = [{}, { 'x-guard-secret': 'wrong' }, { 'x-guard-secret': `${ACTION_SECRET}x` }, { 'x-guard-secret': ACTION_SECRET.slice(0, -1) }, { action_secret: ACTION_SECRET }];
    for (const headers of attempts) {
      const r = await postJson(`${server.url}${path}`, body, headers);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ message: 'Missing or wrong action secret in the x-guard-secret header.', extensions: { code: 'UNAUTHORIZED' } });
      expect(r.text).not.toContain(ACTION_SECRET);
    }
    expect(server.logs.audits()).toEqual([]);
  });

  it('accepts the secret under any capitalisation of the header name', async () => {
    for (const name of ['X-Guard-Secret', 'x-guard-secret', 'X-GUARD-SECRET']) {
      const r = await postJson(`${server.url}/actions`, hasuraPayload('validateMetadataChange', drop), { [name]: ACTION_SECRET });
      expect(r.status).toBe(200);
    }
  });

  it('keeps introspection behind the secret', async () => {
    const r = await postJson(`${server.url}/graphql`, { query: '{ __schema { types { name } } }' });
    expect(r.status).toBe(401);
    const ok = await postJson(`${server.url}/graphql`, { query: '{ __schema { queryType { name } } }' }, { 'x-guard-secret': ACTION_SECRET });
    expect(ok.json.data.__schema.queryType.name).toBe('Query');
  });

  it('lets the GraphiQL page itself load without it', async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const query = await fetch(`${server.url}/graphql?query=%7B__typename%7D`, { headers: { accept: 'application/json' } });
    expect(query.status).toBe(401);
  });

  it('never writes the secret to the log', () => {
    expect(server.logs.raw.join('\n')).not.toContain(ACTION_SECRET);
  });
});

describe('limits, health and metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each(['/graphql', '/actions'])('%s refuses a body over 64 KiB with 413 before parsing it', async (path) => {
    const big = JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(70 * 1024) });
    const r = await postJson(`${server.url}${path}`, big);
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ message: 'The request body is larger than 65536 bytes.', extensions: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('refuses a chunked body (no Content-Length) as soon as it crosses the limit', async () => {
    const chunks = (async function* () {
      for (let i = 0; i < 100; i++) yield new TextEncoder().encode('x'.repeat(1024));
    })();
    const res = await fetch(`${server.url}/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks as any, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    // and the server is still fine afterwards
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('GET /ready answers 503 until the GraphQL door and the SQL parser are loaded, 200 then, and 503 once shutdown has begun', async () => {
    const fresh = await startTestServer();
    expect((await fetch(`${fresh.url}/ready`)).status).toBe(503);
    // a GraphQL request before the door is loaded waits for it rather than failing
    const early = await postJson(`${fresh.url}/graphql`, { query: '{ __typename }' });
    expect(early.json).toEqual({ data: { __typename: 'Query' } });
    await fresh.app.warmUp();
    expect((await fetch(`${fresh.url}/ready`)).status).toBe(200);
    await fresh.close();
    await server.app.warmUp();
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    server.app.markShuttingDown();
    const r = await fetch(`${server.url}/ready`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'shutting down' });
  });

  it('GET /metrics exposes decisions by outcome and request latency', async () => {
    await postJson(`${server.url}/actions`, hasuraPayload('validateMetadataChange', drop));
    await postJson(`${server.url}/actions`, hasuraPayload('validateMetadataChange', { ...drop, environment: 'staging' }));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/guard_decisions_total\{action="validate",outcome="confirmation_required"\} 1/);
    expect(text).toMatch(/guard_decisions_total\{action="validate",outcome="allowed"\} 1/);
    expect(text).toMatch(/guard_http_request_duration_seconds_count\{route="\/actions",method="POST",status="200"\} 2/);
  });

  it('can be switched off', async () => {
    const quiet = await startTestServer({ METRICS_ENABLED: 'false' });
    expect((await fetch(`${quiet.url}/metrics`)).status).toBe(404);
    await quiet.close();
  });
});

describe('nothing internal leaks', () => {
  // A guard that fails the way a bug would: a plain Error carrying something secret.
  const SECRET_SAUCE = 'Secret sauce that should not leak: postgres://admin:hunter2@db';
  const brokenGuard: Guard = {
    validate: () => {
      throw new Error(SECRET_SAUCE);
    },
    confirm: () => {
      throw new Error(SECRET_SAUCE);
    },
    preview: () => {
      throw new Error(SECRET_SAUCE);
    },
  };

  it('GraphQL masks an unexpected error; the webhook answers 500 with a generic message', async () => {
    const logs = logCapture();
    const logger = createLogger('info', logs.stream);
    const listener = createRequestListener({ guard: brokenGuard, graphql: async () => createGraphQLDoor(await createGuardYoga({ guard: brokenGuard, logger, graphiql: false })), logger, actionSecretHeader: 'action_secret', maxBodyBytes: 65536, notReadyBecause: () => undefined });
    const running = await startServer(listener, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 });
    try {
      const g = await postJson(`${running.url}/graphql`, { query: VALIDATE, variables: { input: drop } });
      expect(g.status).toBe(200);
      expect(g.json.errors[0].message).toBe('Unexpected error.');
      expect(g.text).not.toContain('hunter2');
      expect(g.text).not.toMatch(/at .*\.ts:\d+/);

      const w = await postJson(`${running.url}/actions`, hasuraPayload('validateMetadataChange', drop));
      expect(w.status).toBe(500);
      expect(w.json).toEqual({ message: 'Internal error; the server log has the details.', extensions: { code: 'INTERNAL_ERROR' } });
      expect(w.text).not.toContain('hunter2');
      // the operator still finds the cause in the server log
      expect(logs.raw.join('\n')).toContain('Secret sauce');
    } finally {
      await running.shutdown();
    }
  });
});
