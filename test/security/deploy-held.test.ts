// Attacks on the doors and the deployment that held when a review tried them (GET mutations, batches, persisted
// queries, CORS, what /metrics shows, the guard's routes against Hasura's), kept so they keep holding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_SECRET, hasuraPayload, postJson, startTestServer, VALIDATE, type TestServer } from '../helpers.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

const drop = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
const session = { 'x-hasura-user-id': '42', 'x-hasura-role': 'developer' };

describe('the GraphQL door', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ACTION_SECRET, NODE_ENV: 'test' });
  });
  afterAll(() => server.close());

  it('a mutation over GET, even with the secret and the CSRF header, is not executed', async () => {
    const q = encodeURIComponent('mutation { validateMetadataChange(input: {operation: "DROP TABLE", table_name: "t", environment: "production"}) { success } }');
    const r = await fetch(`${server.url}/graphql?query=${q}`, { headers: { action_secret: ACTION_SECRET, 'x-graphql-yoga-csrf': '1', accept: 'application/json', ...session } });
    expect(r.status).toBe(405);
    expect(server.logs.audits()).toEqual([]);
  });

  it('a batch (JSON array) is refused, nothing decided', async () => {
    const r = await postJson(`${server.url}/graphql`, [{ query: VALIDATE, variables: { input: drop } }, { query: VALIDATE, variables: { input: drop } }], { action_secret: ACTION_SECRET, ...session });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(server.logs.audits()).toEqual([]);
  });

  it('an automatic persisted query (hash only) does not execute anything', async () => {
    const r = await postJson(`${server.url}/graphql`, { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }, { action_secret: ACTION_SECRET, ...session });
    // yoga answers 200 (the client accepts application/json) with an error: no persisted-query store, nothing run.
    expect(r.status).toBeLessThan(500);
    expect(r.json.data ?? null).toBeNull();
    expect(r.json.errors[0].message).toBe('Must provide query string.');
    expect(server.logs.audits()).toEqual([]);
  });

  it('no CORS: a cross-origin preflight gets no Access-Control-Allow-Origin', async () => {
    const r = await fetch(`${server.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,action_secret' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('/metrics carries no user id, role, table or token after decisions', async () => {
    const v = await postJson(`${server.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', { ...drop, table_name: 'public.secret_table_xyz' }, { 'x-hasura-user-id': 'user-abc-123', 'x-hasura-role': 'role-xyz' }), { action_secret: ACTION_SECRET });
    const token = v.json.confirmation_token as string;
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('guard_decisions_total');
    for (const secret of ['user-abc-123', 'role-xyz', 'secret_table_xyz', token, ACTION_SECRET]) expect(text).not.toContain(secret);
  });

  it('/metrics route labels do not grow with the paths clients make up', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${server.url}/made-up-${i}`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).not.toMatch(/made-up-/);
  });
});

describe('enforcing mode: the guard routes and Hasura routes do not cross', () => {
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer(doubleWiring(), { ACTION_SECRET });
  });
  afterAll(() => guard.close());

  const dropBody = JSON.stringify({ type: 'run_sql', args: { source: 'default', sql: 'DROP TABLE patients' } });
  it.each(['/health', '/ready', '/metrics', '/graphql', '/actions', '/guard/confirm', '/guard/changes'])('a DROP POSTed to the guard route %s never reaches Hasura', async (path) => {
    await rawRequest(guard.url, 'POST', path, { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, dropBody);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it.each(['/metrics/../v2/query', '/health/../v1/metadata', '/guard/../v2/query', '/graphql/..%2fv2/query'])('%s is inspected or refused, never forwarded as a DROP', async (path) => {
    const r = await rawRequest(guard.url, 'POST', path, { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, dropBody);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(guard.hasura.forwarded().filter((f) => f.body.toString().includes('DROP'))).toEqual([]);
  });

  it("Hasura's console routes are Hasura's: /console, /v1/version, /healthz, /v1alpha1/config reach it", async () => {
    for (const path of ['/v1/version', '/healthz', '/v1alpha1/config']) {
      const r = await rawRequest(guard.url, 'GET', path);
      expect(r.json).toEqual({ received: { method: 'GET', path, bytes: 0 } });
    }
  });
});
