// The history in PostgreSQL (GUARD_DATABASE_URL) on a real embedded PostgreSQL: two guards sharing one database and one
// TOKEN_SECRET, as replicas do, write to and show one history; the table is created at start in schema hasura_guard;
// GUARD_HISTORY_DAYS forgets old changes by the guard's clock.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { startTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createPostgresHistoryStore } from '../../src/history/postgres.js';
import { DAY_MS } from '../../src/history/history.js';

let db: TestDatabase;
const guards: EnforcingServer[] = [];
beforeAll(async () => {
  db = await startTestDatabase();
});
afterAll(() => db?.destroy());
afterEach(async () => {
  for (const guard of guards.splice(0)) await guard.close();
  await db.query('DROP SCHEMA IF EXISTS hasura_guard CASCADE');
});

async function replicas() {
  // One approval store between them, as a shared GUARD_DATABASE_URL gives replicas (the doubles keep it in memory).
  const wiring = doubleWiring();
  const a = await startEnforcingServer(wiring, { GUARD_DATABASE_URL: db.url });
  const b = await startEnforcingServer(wiring, { GUARD_DATABASE_URL: db.url });
  guards.push(a, b);
  b.clock.advance((a.clock() - b.clock()) / 1000);
  return [a, b] as const;
}

const api = (guard: EnforcingServer, query = '') => rawRequest(guard.url, 'GET', `/guard/api/changes${query}`, { 'x-hasura-admin-secret': ADMIN_SECRET });

describe('the history in PostgreSQL', () => {
  it('held on one replica, confirmed on the other, passed on the first: one change, shown alike by both', async () => {
    const [a, b] = await replicas();
    const held = await postMetadata(a.url, '/v1/metadata', bodies.untrackTable);
    await a.app.changeLog!.settled();
    b.clock.advance(20);
    const confirmed = await rawRequest(b.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token: held.json.guard.confirmation_token }));
    expect(confirmed.status).toBe(200);
    await b.app.changeLog!.settled();
    a.clock.advance(30);
    expect((await postMetadata(a.url, '/v1/metadata', bodies.untrackTable)).status).toBe(200);
    await a.app.changeLog!.settled();

    const fromA = (await api(a)).json;
    const fromB = (await api(b)).json;
    expect(fromB).toEqual(fromA);
    expect(fromA.changes).toHaveLength(1);
    expect(fromA.changes[0]).toMatchObject({ outcome: 'passed', summary: 'untracks table default.public.patients', hasura_status: 200 });
    expect(fromA.changes[0].confirmer).toBe(fromA.changes[0].requester);
    const rows = await db.query('SELECT outcome, held_at, confirmed_at, finished_at FROM hasura_guard.changes');
    expect(rows.rows).toHaveLength(1);
    expect(Number(rows.rows[0].confirmed_at) - Number(rows.rows[0].held_at)).toBe(20_000);
    expect(Number(rows.rows[0].finished_at) - Number(rows.rows[0].held_at)).toBe(30_000);
  });

  it('pages newest first with the cursor; forgets changes older than GUARD_HISTORY_DAYS', async () => {
    const [a] = await replicas();
    for (let i = 0; i < 3; i++) {
      await postMetadata(a.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
      a.clock.advance(DAY_MS / 1000);
    }
    await a.app.changeLog!.settled();
    const first = (await api(a, '?limit=2')).json;
    const second = (await api(a, `?limit=2&before=${first.next}`)).json;
    expect([...first.changes, ...second.changes].map((c: any) => c.held_at)).toEqual(
      [2, 1, 0].map((day) => new Date(a.clock() - (3 - day) * DAY_MS).toISOString()),
    );
    expect(second.next).toBeNull();

    a.clock.advance((88 * DAY_MS) / 1000);
    expect(await a.app.changeLog!.history.prune()).toBe(1);
    expect((await api(a)).json.changes).toHaveLength(2);
  });

  it('creates its table at start, and several stores starting at once take turns', async () => {
    const stores = Array.from({ length: 3 }, () => createPostgresHistoryStore({ url: db.url }));
    await Promise.all(stores.map((s) => s.ready()));
    const table = await db.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'hasura_guard' AND table_name = 'changes'");
    expect(table.rowCount).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });
});
