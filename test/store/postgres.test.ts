// The PostgreSQL store against a real PostgreSQL (test/support/postgres.ts): atomic use of a token, approvals
// taken once, expiry on the guard's clock, schema creation by several replicas at once, and a database that
// goes away and comes back.
import { createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, SCHEMA, type PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres.js';
import { StoreUnavailableError, type StoreHealth } from '../../src/core/store.js';
import { manualClock } from '../helpers.js';
import { startTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
const stores: PostgresStore[] = [];

beforeAll(async () => {
  db = await startTestDatabase();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await db?.destroy();
});

function store(options: Partial<PostgresStoreOptions> = {}): PostgresStore {
  const s = createPostgresStore({ url: db.url, ...options });
  stores.push(s);
  return s;
}

const ids = () => crypto.randomUUID();

describe('schema', () => {
  it('is created at start, idempotently, by several stores starting at once', async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    const starting = Array.from({ length: 8 }, () => store());
    await Promise.all(starting.map((s) => s.ready()));
    const tables = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [SCHEMA]);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['approvals', 'used_tokens']);
    // and again, with the schema in place
    await Promise.all(Array.from({ length: 3 }, () => store().ready()));
    for (const s of starting) expect(s.health()).toEqual({ ok: true });
  });
});

describe('used tokens', () => {
  it('gives exactly one of 20 concurrent callers, through two pools, the id', async () => {
    const [a, b] = [store(), store()];
    const jti = ids();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).useToken(jti, 2_000_000_000, 1_000_000_000)));
    expect(answers.filter((x) => x === 'remembered')).toHaveLength(1);
    expect(answers.filter((x) => x === 'already-used')).toHaveLength(19);
  });

  it('is remembered by a store started later (a restarted replica)', async () => {
    const jti = ids();
    const first = store();
    expect(await first.useToken(jti, 2_000_000_000, 1_000_000_000)).toBe('remembered');
    await first.close();
    expect(await store().useToken(jti, 2_000_000_000, 1_000_000_000)).toBe('already-used');
  });

  it('rows live until their expiry second on the guard clock, then a sweep deletes them, a bounded number at a time', async () => {
    const clock = manualClock(1_700_000_000_000);
    const now = 1_700_000_000;
    const s = store({ clock, sweepBatch: 10 });
    const batch = Array.from({ length: 25 }, ids);
    for (const jti of batch) await s.useToken(jti, now + 60, now);
    const count = async () => Number((await db.query(`SELECT count(*) FROM ${SCHEMA}.used_tokens WHERE jti = ANY($1)`, [batch])).rows[0].count);
    expect(await s.sweep(now + 60)).toBe(0); // still valid at its expiry second
    expect(await s.useToken(batch[0]!, now + 60, now + 60)).toBe('already-used');
    expect(await s.sweep(now + 61)).toBe(10);
    expect(await count()).toBe(15);
    expect(await s.sweep(now + 61)).toBe(10);
    expect(await s.sweep(now + 61)).toBe(5);
    expect(await count()).toBe(0);
  });
});

describe('approvals', () => {
  it('a change approved once passes once: 20 concurrent takers through two pools, one true', async () => {
    const [a, b] = [store(), store()];
    const change = ids();
    await a.approve(change, 'creds-1', 2_000_000_000);
    expect(await b.takeApproval(change, 'creds-2', 1_000_000_000)).toBe(false); // other credentials
    expect(await b.takeApproval(ids(), 'creds-1', 1_000_000_000)).toBe(false); // another change
    const takers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).takeApproval(change, 'creds-1', 1_000_000_000)));
    expect(takers.filter(Boolean)).toHaveLength(1);
    expect(await a.takeApproval(change, 'creds-1', 1_000_000_000)).toBe(false);
  });

  it('each approval is one pass; two concurrent takers of two approvals both pass', async () => {
    const s = store();
    const change = ids();
    await s.approve(change, 'c', 2_000_000_000);
    await s.approve(change, 'c', 2_000_000_000);
    expect(await Promise.all([s.takeApproval(change, 'c', 1), s.takeApproval(change, 'c', 1), s.takeApproval(change, 'c', 1)])).toEqual(
      expect.arrayContaining([true, true, false]),
    );
  });

  it('expires on the guard clock, and the sweep deletes it', async () => {
    const s = store();
    const change = ids();
    await s.approve(change, 'c', 1000);
    expect(await s.takeApproval(change, 'c', 1001)).toBe(false);
    await s.approve(change, 'c', 1000);
    expect(await s.takeApproval(change, 'c', 1000)).toBe(true); // valid at its expiry second
    await s.approve(change, 'c', 1000);
    expect(await s.sweep(1001)).toBeGreaterThanOrEqual(2);
    expect((await db.query(`SELECT count(*) FROM ${SCHEMA}.approvals WHERE fingerprint = $1`, [change])).rows[0].count).toBe('0');
  });
});

describe('when the database is unreachable', () => {
  it('rejects with StoreUnavailableError (naming no password), reports why, and recovers by itself when it returns', async () => {
    const changes: StoreHealth[] = [];
    const s = store({ onHealthChange: (h) => changes.push(h) });
    const jti = ids();
    expect(await s.useToken(jti, 2_000_000_000, 1_000_000_000)).toBe('remembered');
    await db.stop();
    try {
      const failures = await Promise.all([
        s.useToken(ids(), 2_000_000_000, 1_000_000_000).catch((e: unknown) => e),
        s.approve('f', 'c', 2_000_000_000).catch((e: unknown) => e),
        s.takeApproval('f', 'c', 1_000_000_000).catch((e: unknown) => e),
      ]);
      for (const err of failures) {
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect((err as Error).message).toMatch(/^the guard's database cannot .* right now: the database (is unreachable|is shutting down)/);
        expect((err as Error).message).not.toContain(db.password);
        expect((err as Error).message).not.toContain('postgres://');
      }
      expect(s.health()).toEqual({ ok: false, reason: expect.stringMatching(/^the database (is unreachable|is shutting down)/) });
    } finally {
      await db.start();
    }
    expect(await s.useToken(jti, 2_000_000_000, 1_000_000_000)).toBe('already-used'); // nothing was forgotten
    expect(await s.useToken(ids(), 2_000_000_000, 1_000_000_000)).toBe('remembered');
    expect(s.health()).toEqual({ ok: true });
    expect(changes[0]).toEqual({ ok: true });
    expect(changes.at(-1)).toEqual({ ok: true });
    expect(changes.some((h) => !h.ok)).toBe(true);
  });

  it('starts without a database, says so, and works once it answers', async () => {
    await db.stop();
    let s: PostgresStore;
    try {
      s = store();
      await expect(s.ready()).rejects.toThrow(StoreUnavailableError);
      expect(s.health().ok).toBe(false);
    } finally {
      await db.start();
    }
    await s.ready();
    expect(await s.useToken(ids(), 2_000_000_000, 1_000_000_000)).toBe('remembered');
  });

  it('fails fast, within its timeout, when the database accepts connections and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const s = store({ url: `postgres://guard:secret-password@127.0.0.1:${port}/guard`, timeoutMs: 300 });
      const started = performance.now();
      const err = await s.useToken(ids(), 2_000_000_000, 1_000_000_000).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toBe("the guard's database cannot record a used token right now: the database is unreachable (timed out)");
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('once closed, refuses to record', async () => {
    const s = store();
    await s.close();
    await expect(s.useToken(ids(), 2_000_000_000, 1_000_000_000)).rejects.toThrow(StoreUnavailableError);
    expect(s.health()).toEqual({ ok: false, reason: 'closed' });
  });
});
