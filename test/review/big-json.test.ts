// An adversarial review of the memory-lean reader of big bodies (src/big-json/): a replace_metadata or an
// export_metadata answer of TABLES_IN_BYTES_FROM or more keeps each source's tables in its bytes, as an array whose
// elements are parsed when read; the diff compares two such tables by their text, and the fingerprint walks them.
// Everything here goes through the real door: the enforcing proxy, the real analysis and the default policy, in
// front of a stand-in Hasura whose export is the metadata in force. Held or refused means Hasura saw nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TABLES_IN_BYTES_FROM } from '../../src/big-json/lazy-tables.js';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

const headers = { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET };
const send = (guard: EnforcingServer, body: string, path = '/v1/metadata') => rawRequest(guard.url, 'POST', path, headers, body);

const permission = { role: 'user', permission: { columns: ['id', 'name'], filter: { owner_id: { _eq: 'X-Hasura-User-Id' } } } };
const table = (i: number) => ({ table: { schema: 'public', name: `t${i}` }, select_permissions: [permission] });
/** Enough tables for the export and the apply each to be past TABLES_IN_BYTES_FROM. */
const TABLES = Array.from({ length: 12_000 }, (_, i) => table(i));
const source = (tables: unknown[]) => ({ name: 'default', kind: 'postgres', tables, configuration: { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' } } } });
const IN_FORCE = { version: 3, sources: [source(TABLES)] };

/** A replace_metadata of the metadata in force, its table 5 written as `table5` (JSON text, verbatim). */
function applyWithTable5(table5: string, resourceVersion = 7): string {
  const texts = TABLES.map((t) => JSON.stringify(t));
  texts[5] = table5;
  const metadata = JSON.stringify(IN_FORCE).replace(JSON.stringify(TABLES), `[${texts.join(',')}]`);
  expect(metadata).toContain(table5);
  const body = `{"type":"replace_metadata","version":2,"resource_version":${resourceVersion},"args":{"metadata":${metadata}}}`;
  expect(body.length).toBeGreaterThan(TABLES_IN_BYTES_FROM);
  return body;
}
const SAME_TABLE_5 = JSON.stringify(table(5));

describe('big on both sides: each table compared by its text, then by its value', () => {
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer({});
    expect(JSON.stringify(IN_FORCE).length).toBeGreaterThan(TABLES_IN_BYTES_FROM);
  });
  afterAll(() => guard.close());
  beforeEach(() => {
    guard.hasura.requests.length = 0;
    guard.hasura.metadata = IN_FORCE;
  });

  it('a table written differently but equal (spaces, key order, escaped letters) is no change: forwarded as sent', async () => {
    const respelled = ` { "select_permissions" : [ {"permission":{"filter":{"owner_id":{"_eq":"X-Hasura-User-Id"}},"columns":["id","n\\u0061me"]},"role":"user"} ],\n "table":{"name":"\\u0074\\u0035","schema":"public"} } `;
    const body = applyWithTable5(respelled);
    const answer = await send(guard, body);
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([body]);
  });

  it('a permission changed in one table, the text the same length, is held naming it', async () => {
    const changed = SAME_TABLE_5.replace('"_eq"', '"_ne"');
    expect(changed).toHaveLength(SAME_TABLE_5.length);
    const answer = await send(guard, applyWithTable5(changed));
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('guard-confirmation-required');
    expect(answer.json.guard.changes).toEqual([expect.objectContaining({ verb: 'modify', object: 'permission', name: 'default.public.t5 select for user' })]);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it.each([['5'], ['null'], [`[${SAME_TABLE_5}]`]])('a table that is %s in the apply is not understood, and Hasura never sees it', async (notATable) => {
    const answer = await send(guard, applyWithTable5(notATable));
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(/metadata not understood: an element of source default: tables is not an object/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('a table that is not an object in the export is not understood either', async () => {
    guard.hasura.metadata = { version: 3, sources: [source([...TABLES.slice(0, 5), 5, ...TABLES.slice(6)])] };
    const answer = await send(guard, applyWithTable5(SAME_TABLE_5));
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(/metadata not understood: an element of source default: tables is not an object/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('a version 2 metadata (tables at the top, read whole) against the big export: the same passes, a table dropped is held', async () => {
    // Hasura stores a version 2 metadata as the default source in force with these tables (metadata-diff.ts cites it).
    const v2 = (tables: unknown[]) => JSON.stringify({ type: 'replace_metadata', version: 2, args: { metadata: { version: 2, tables, functions: [] } } });
    const same = v2(TABLES);
    expect(same.length).toBeGreaterThan(TABLES_IN_BYTES_FROM);
    expect((await send(guard, same)).status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([same]);
    guard.hasura.requests.length = 0;
    const dropped = await send(guard, v2(TABLES.filter((_, i) => i !== 5)));
    expect(dropped.status).toBe(400);
    expect(dropped.json.error).toMatch(/untracks table default\.public\.t5/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('confirmed, the retry of the same apply passes; one with a table changed is held again and does not use the token', async () => {
    const dropsTable5 = applyWithTable5(SAME_TABLE_5).replace(`${SAME_TABLE_5},`, '');
    const held = await send(guard, dropsTable5);
    expect(held.status).toBe(400);
    expect(held.json.error).toMatch(/untracks table default\.public\.t5/);
    const token = held.json.guard.confirmation_token as string;
    const confirmed = await rawRequest(guard.url, 'POST', '/guard/confirm', headers, JSON.stringify({ token }));
    expect(confirmed.json.success).toBe(true);

    // The same apply, with one more change slipped into another table: not what was confirmed.
    const slipped = dropsTable5.replace(JSON.stringify(table(6)), JSON.stringify(table(6)).replace('"_eq"', '"_ne"'));
    expect(slipped).not.toBe(dropsTable5);
    expect((await send(guard, slipped)).status).toBe(400);
    expect(guard.hasura.forwarded()).toEqual([]);

    const retry = dropsTable5.replace('"resource_version":7', '"resource_version":8');
    expect((await send(guard, retry)).status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([retry]);
  });
});

describe('what a big apply may cost: its tables are left in its bytes, one table is built at a time', () => {
  // PROXY_MAX_JSON_VALUES bounds what the guard builds from one body (src/http/body-bounds.ts). The tables a
  // replace_metadata keeps in its bytes are not built together, so their values are not all counted; but one table is
  // built whole when read, and each table kept costs the reader its place (two offsets, and two more in the diff).
  // Neither was counted: one table of 33 million values (100 MB of `{},`), or 50 million tables of `0,`, sent with any
  // made-up admin secret, held the event loop for about a minute and took 1.3 to 3 GB before the export was asked for.
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer({}, { PROXY_MAX_JSON_VALUES: '1000' });
  });
  afterAll(() => guard.close());
  beforeEach(() => {
    guard.hasura.requests.length = 0;
  });

  const apply = (tables: unknown[]) => JSON.stringify({ type: 'replace_metadata', version: 2, args: { metadata: { version: 3, sources: [source(tables)] } } });
  const madeUp = { 'content-type': 'application/json', 'x-hasura-admin-secret': 'made-up' };
  async function expectRefused(body: string) {
    const answer = await rawRequest(guard.url, 'POST', '/v1/metadata', madeUp, body);
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({ path: '$', code: 'guard-refused', error: expect.stringMatching(/the body holds more than 1000 JSON values \(PROXY_MAX_JSON_VALUES\)/) });
    expect(guard.hasura.requests).toEqual([]); // refused before the export was asked for
  }

  it('one table holding more values than the bound is refused before it is built', async () => {
    const roles = Array.from({ length: 250 }, (_, i) => ({ role: `r${i}`, permission: { columns: [], filter: {} } }));
    await expectRefused(apply([{ table: { schema: 'public', name: 'wide' }, select_permissions: roles }]));
  });

  it('more tables than the bound is refused, however few values each holds', async () => {
    await expectRefused(apply(Array.from({ length: 1_000 }, (_, i) => ({ table: `t${i}` }))));
  });

  it('within it, tables holding many more values together than the bound are judged as before', async () => {
    // 300 tables of 9 values each: 2,700 values, the largest table's 9 counted with one per table.
    const tables = TABLES.slice(0, 300);
    guard.hasura.metadata = { version: 3, sources: [source(tables)] };
    const same = apply(tables);
    const answer = await rawRequest(guard.url, 'POST', '/v1/metadata', headers, same);
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([same]);
  });
});
