// Two replicas of the compiled server sharing one PostgreSQL (GUARD_DATABASE_URL) and one TOKEN_SECRET, used
// through their real doors: a token confirms once across both, across a restart, and not at all (clearly) while
// the database is down; they recover by themselves when it returns.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_SECRET, CONFIRM, hasuraPayload, postJson, TEST_SECRET } from './helpers.js';
import { startTestDatabase, type TestDatabase } from './support/postgres.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';

const root = join(import.meta.dirname, '..');
const change = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
const UNAVAILABLE = 'Not confirmed: the guard cannot record the confirmation right now (its database is unreachable). Try again shortly.';

let db: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;

/** The compiled server (dist/ is built by test/support/build.ts), as production runs it, on a port of its own. */
async function replica(): Promise<ServerProcess> {
  const server = await spawnServer(process.execPath, ['dist/index.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', TOKEN_SECRET: TEST_SECRET, ACTION_SECRET, GUARD_ENVIRONMENT: 'production', GUARD_DATABASE_URL: db.url },
  });
  await server.waitForLine((l) => l.msg === 'ready: the GraphQL door is loaded');
  await server.waitForLine((l) => l.msg === 'ready: the SQL parser is loaded');
  await server.waitForLine((l) => l.store === 'postgres' && /^store available/.test(l.msg));
  return server;
}

async function validate(server: ServerProcess): Promise<string> {
  const r = await postJson(`${server.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', change), { action_secret: ACTION_SECRET });
  expect(r.status).toBe(200);
  return r.json.confirmation_token;
}

async function confirm(server: ServerProcess, token: string): Promise<{ success: boolean; message: string }> {
  const r = await postJson(`${server.url}/confirm-metadata-change`, hasuraPayload('confirmMetadataChange', { confirmation_token: token }), { action_secret: ACTION_SECRET });
  expect(r.status).toBe(200);
  return r.json;
}

async function ready(server: ServerProcess) {
  const r = await fetch(`${server.url}/ready`);
  return { status: r.status, body: await r.json() };
}

beforeAll(async () => {
  db = await startTestDatabase();
  [a, b] = await Promise.all([replica(), replica()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.destroy();
});

describe('two replicas sharing one database', () => {
  it('a token validated and confirmed on A is refused on B', async () => {
    const token = await validate(a);
    expect(await confirm(a, token)).toEqual({ success: true, code: 'CONFIRMED', message: 'Confirmed: DROP TABLE on public.patients in production. Go ahead with the change.' });
    expect(await confirm(b, token)).toEqual({ success: false, code: 'TOKEN_ALREADY_USED', message: 'Not confirmed: the token has already been used. Validate the change again to get a new token.' });
  });

  it('a restart of A forgets nothing', async () => {
    const used = await validate(a);
    const unused = await validate(a);
    expect((await confirm(a, used)).success).toBe(true);
    expect(await a.stop()).toBe(0);
    a = await replica();
    expect((await confirm(a, used)).message).toMatch(/already been used/);
    expect((await confirm(a, unused)).success).toBe(true); // a token issued before the restart still confirms once
  });

  it('20 concurrent confirmations of one token spread across both replicas: exactly one succeeds', async () => {
    const token = await validate(b);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => confirm(i % 2 ? a : b, token)));
    expect(answers.filter((r) => r.success)).toHaveLength(1);
    expect(answers.filter((r) => /already been used/.test(r.message))).toHaveLength(19);
  });

  it('while the database is down: confirmations are refused with a clear message (never a 5xx), /ready says so, validations still answer; it recovers without a restart', async () => {
    const token = await validate(a);
    const later = await validate(b);
    await db.stop();
    try {
      expect(await confirm(a, token)).toEqual({ success: false, code: 'STORE_UNAVAILABLE', message: UNAVAILABLE });
      expect(await confirm(b, token)).toEqual({ success: false, code: 'STORE_UNAVAILABLE', message: UNAVAILABLE });
      const graphql = await postJson(`${b.url}/graphql`, { query: CONFIRM, variables: { input: { confirmation_token: later } } }, { 'x-hasura-user-id': '42', 'x-hasura-role': 'developer', action_secret: ACTION_SECRET });
      expect(graphql.status).toBe(200);
      expect(graphql.json).toEqual({ data: { confirmMetadataChange: { success: false, message: UNAVAILABLE } } });
      for (const server of [a, b]) expect(await ready(server)).toEqual({ status: 503, body: { status: 'store unavailable' } });
      expect(await validate(a)).toEqual(expect.any(String));
      expect(a.lines.filter((l) => l.audit?.reason === 'STORE_UNAVAILABLE')).toHaveLength(1);
      expect(await a.waitForLine((l) => l.level === 40 && /^store unavailable/.test(l.msg))).toMatchObject({ reason: expect.stringMatching(/^the database/) });
    } finally {
      await db.start();
    }
    // The refused attempts used nothing up: the token confirms once, now, on either replica.
    expect((await confirm(b, token)).success).toBe(true);
    expect((await confirm(a, token)).message).toMatch(/already been used/);
    expect((await confirm(a, later)).success).toBe(true);
    for (const server of [a, b]) expect(await ready(server)).toEqual({ status: 200, body: { status: 'ready' } });
    expect(JSON.stringify([...a.lines, ...b.lines])).not.toContain(db.password);
  });
});
