// Enforcing mode with the guard's database unavailable: GUARD_DATABASE_URL names a port of 127.0.0.1 nothing listens
// on, the real analysis and policy decide, and a stand-in Hasura records what reaches it. What needs the store (a
// change held for confirmation, a confirmation) is refused in Hasura's shape, never forwarded; routine traffic
// passes, since deciding it needs no store.
import { afterEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { StoreUnavailableError } from '../../src/core/store.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { freePort } from '../support/ports.js';

let guard: EnforcingServer | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

async function guardWithClosedDatabase(): Promise<EnforcingServer> {
  const port = await freePort();
  // The app's own store (no store in the wiring), the real analysis and the default policy.
  return startEnforcingServer({}, { GUARD_DATABASE_URL: `postgres://guard:guard-password@127.0.0.1:${port}/guard` });
}

describe("the guard's database is unreachable", () => {
  it("a DROP TABLE through /v2/query is refused in Hasura's shape, status 500 at most, and never forwarded", async () => {
    guard = await guardWithClosedDatabase();
    const refused = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    expect(refused.status).toBe(500);
    expect(Object.keys(refused.json).sort()).toEqual(['code', 'error', 'guard', 'path']);
    expect(refused.json).toMatchObject({ path: '$', code: 'guard-store-unavailable', guard: { confirmation_token: null } });
    expect(refused.json.error).toContain("the guard's database is unavailable");
    expect(refused.json.error).toContain('drops table');
    expect(refused.json.error).not.toContain('guard-password');
    expect(refused.json.error).not.toContain('\n');
    expect(guard.hasura.forwarded()).toEqual([]);
    expect(guard.logs.audits()).toMatchObject([{ action: 'judge', outcome: 'refused', reason: 'STORE_UNAVAILABLE', endpoint: '/v2/query' }]);
  });

  it('routine traffic still passes: a read, an addition, a read-only SQL query', async () => {
    guard = await guardWithClosedDatabase();
    const track = { type: 'pg_track_table', args: { source: 'default', table: { schema: 'public', name: 'visits' } } };
    for (const [path, body] of [['/v1/metadata', bodies.getInconsistentMetadata], ['/v1/metadata', track], ['/v2/query', bodies.readOnlySql]] as const) {
      const answer = await postMetadata(guard.url, path, body);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    }
    expect(guard.hasura.forwarded()).toHaveLength(3);
  });
});

describe('the store fails while a held change is confirmed', () => {
  it('the confirm page refuses with STORE_UNAVAILABLE (503), and the change still does not pass', async () => {
    const wiring = doubleWiring();
    const store = wiring.store;
    guard = await startEnforcingServer({
      ...wiring,
      store: {
        takeApproval: store.takeApproval,
        approve: store.approve,
        useToken: async () => {
          throw new StoreUnavailableError('the database is unreachable (ECONNREFUSED)');
        },
      },
    });
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const token = held.json.guard.confirmation_token as string;
    const confirm = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token }));
    expect(confirm.status).toBe(503);
    expect(confirm.json).toEqual({
      success: false,
      code: 'STORE_UNAVAILABLE',
      message: "Not confirmed: the guard's database is unavailable, so the confirmation cannot be recorded; try again shortly.",
    });
    const retry = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    expect(retry.json.code).toBe('guard-confirmation-required');
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});
