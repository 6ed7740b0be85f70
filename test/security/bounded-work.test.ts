// Issue 23, part 5: one request, no credentials, guard down. The crash bodies and each bound on the work one request
// may cost (src/http/body-bounds.ts, src/http/decode-body.ts), sent to the enforcing proxy with the real analysis in
// front of a stand-in Hasura that records what reaches it. Each refusal is a 4xx in Hasura's shape naming the bound,
// nothing reaches Hasura, and the guard answers afterwards. How fast and how much memory: bench/crash-bodies.ts.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TABLES_IN_BYTES_FROM } from '../../src/big-json/lazy-tables.js';
import { MAX_JSON_DEPTH } from '../../src/big-json/measure.js';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

/** The crash body of the issue: `{"type":"bulk","args":[{},{},…]}` with this many empty requests. */
const crashBody = (requests: number) => Buffer.from(`{"type":"bulk","args":[${'{},'.repeat(requests - 1)}{}]}`);
const json = { 'content-type': 'application/json' };
const admin = { ...json, 'x-hasura-admin-secret': ADMIN_SECRET };
/** Anyone can add a header: a made-up secret gets the full bounds, and must not get more. */
const madeUp = { ...json, 'x-hasura-admin-secret': 'made-up' };
const gzipped = { 'content-encoding': 'gzip' };

const post = (guard: EnforcingServer, headers: Record<string, string>, body: Buffer | string, path = '/v1/metadata') => rawRequest(guard.url, 'POST', path, headers, body);

async function expectRefused(guard: EnforcingServer, answer: Awaited<ReturnType<typeof post>>, error: RegExp) {
  expect(answer.status).toBe(413);
  expect(answer.json).toEqual({ path: '$', code: 'guard-refused', error: expect.stringMatching(error) });
  expect(guard.hasura.forwarded()).toEqual([]);
  expect((await rawRequest(guard.url, 'GET', '/health')).status).toBe(200);
}

describe('the crash bodies are refused before a tree is built, and the guard stays up', () => {
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer({});
  });
  afterAll(() => guard.close());
  beforeEach(() => {
    guard.hasura.requests.length = 0;
  });

  // 14,000,000 empty requests: 42 MB, 41 kB gzipped (the figures).
  const big = crashBody(14_000_000);
  const bigGzip = gzipSync(big, { level: 9 });
  // 1,700,000: 5 MB, 5 kB gzipped.
  const smallGzip = gzipSync(crashBody(1_700_000), { level: 9 });

  it('they are what the issue describes', () => {
    expect(big.length).toBe(42_000_024);
    expect(bigGzip.length).toBeLessThan(42 * 1024);
    expect(smallGzip.length).toBeLessThan(6 * 1024);
  });

  it('gzipped, without credentials: past the 1 MB a request without credentials is inspected to', async () => {
    for (const body of [bigGzip, smallGzip]) {
      await expectRefused(guard, await post(guard, { ...json, ...gzipped }, body), /decoded body is larger than .* \(1048576 bytes, for a request without credentials\)/);
    }
  });

  it('gzipped, with a made-up admin secret: the compression ratio', async () => {
    for (const body of [bigGzip, smallGzip]) {
      await expectRefused(guard, await post(guard, { ...madeUp, ...gzipped }, body), /decodes to more than 200 times its compressed size.*send it uncompressed/);
    }
  });

  it('42 MB sent as is, with a made-up admin secret: the requests in bulks, named with their variable', async () => {
    await expectRefused(guard, await post(guard, madeUp, big), /^Not sent to Hasura: the body holds more than 100000 requests in bulks and tables to track or untrack \(PROXY_MAX_BULK_REQUESTS\)/);
  });

  it('42 MB sent as is, without credentials: refused on its size', async () => {
    await expectRefused(guard, await post(guard, json, big), /request body is larger than .* \(1048576 bytes, for a request without credentials\)/);
  });

  it('four at once, gzipped and not: all refused, /health answered while they are judged and after', async () => {
    const health = rawRequest(guard.url, 'GET', '/health');
    const answers = await Promise.all([post(guard, { ...madeUp, ...gzipped }, bigGzip), post(guard, madeUp, big), post(guard, { ...json, ...gzipped }, smallGzip), post(guard, madeUp, big)]);
    expect(answers.map((answer) => answer.status)).toEqual([413, 413, 413, 413]);
    expect((await health).status).toBe(200);
    await expectRefused(guard, answers[0]!, /compressed size/);
  });

  it(`nesting deeper than ${MAX_JSON_DEPTH}: refused; that deep: judged`, async () => {
    /** A routine run_sql whose args carry lists nested so that the whole body is `depth` deep. */
    const nested = (depth: number) => `{"type":"run_sql","args":{"sql":"select 1","read_only":true,"x":${'['.repeat(depth - 2)}${']'.repeat(depth - 2)}}}`;
    expect((await post(guard, admin, nested(MAX_JSON_DEPTH), '/v2/query')).status).toBe(200);
    guard.hasura.requests.length = 0;
    await expectRefused(guard, await post(guard, admin, nested(MAX_JSON_DEPTH + 1), '/v2/query'), new RegExp(`nests objects and arrays more than ${MAX_JSON_DEPTH} deep`));
  });

  it('a request without credentials is judged as before within its bounds: a bulk of 1,000 additions passes, 1,001 do not', async () => {
    const bulkOf = (n: number) =>
      JSON.stringify({ type: 'bulk', args: Array.from({ length: n }, (_, i) => ({ type: 'pg_track_table', args: { source: 'default', table: { schema: 'public', name: `t${i}` } } })) });
    expect((await post(guard, json, bulkOf(1000))).status).toBe(200);
    expect(guard.hasura.forwarded()).toHaveLength(1);
    guard.hasura.requests.length = 0;
    await expectRefused(guard, await post(guard, json, bulkOf(1001)), /more than 1000 requests in bulks and tables to track or untrack \(for a request without credentials\)/);
    // With its credentials, the same bulk is judged: additions, forwarded.
    expect((await post(guard, admin, bulkOf(1001))).status).toBe(200);
  });
});

describe('each bound, set low: refused past it, judged as before within it', () => {
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer({}, { PROXY_MAX_JSON_VALUES: '1000', PROXY_MAX_BULK_REQUESTS: '20' });
  });
  afterAll(() => guard.close());
  beforeEach(() => {
    guard.hasura.requests.length = 0;
    guard.hasura.metadata = IN_FORCE;
  });

  /** Tracking n tables, each `{"table":"t<i>"}` (a string names a table of public). */
  const trackTables = (n: number) => JSON.stringify({ type: 'pg_track_tables', args: { tables: Array.from({ length: n }, (_, i) => ({ table: `t${i}` })) } });
  const bulkOf = (n: number) => JSON.stringify({ type: 'bulk', args: Array.from({ length: n }, () => ({ type: 'get_inconsistent_metadata', args: {} })) });

  // Enough tables to take a replace_metadata past TABLES_IN_BYTES_FROM, and their values far past the bound of 1,000; fewer
  // tables than the bound, each of a few values, as each table counts once, and the values of the largest one.
  const archive = Array.from({ length: 800 }, (_, i) => ({ table: { schema: 'archive', name: `t${i}` }, configuration: { comment: 'x'.repeat(1400) }, select_permissions: [{ role: 'user', permission: { columns: ['id'], filter: {} } }] }));
  const source = (tables: unknown) => ({ name: 'default', kind: 'postgres', tables, configuration: {} });
  const IN_FORCE = { version: 3, sources: [source(archive)] };
  const apply = (metadata: unknown) => JSON.stringify({ type: 'replace_metadata', version: 2, args: { metadata } });

  it('JSON values (PROXY_MAX_JSON_VALUES)', async () => {
    /** A read-only run_sql carrying n more values: n + 6 in all. */
    const carrying = (n: number) => JSON.stringify({ type: 'run_sql', args: { sql: 'select 1', read_only: true, x: Array(n).fill(0) } });
    expect((await post(guard, admin, carrying(994), '/v2/query')).status).toBe(200); // a read: forwarded
    guard.hasura.requests.length = 0;
    await expectRefused(guard, await post(guard, admin, carrying(995), '/v2/query'), /^Not sent to Hasura: the body holds more than 1000 JSON values \(PROXY_MAX_JSON_VALUES\), more than the metadata guard inspects\.$/);
  });

  it('requests in bulks (PROXY_MAX_BULK_REQUESTS), nested bulks and tables to track counted with the rest', async () => {
    expect((await post(guard, admin, bulkOf(20))).status).toBe(200);
    guard.hasura.requests.length = 0;
    await expectRefused(guard, await post(guard, admin, bulkOf(21)), /more than 20 requests in bulks and tables to track or untrack \(PROXY_MAX_BULK_REQUESTS\)/);
    const nestedBulks = JSON.stringify({ type: 'bulk', args: [JSON.parse(bulkOf(10)), JSON.parse(bulkOf(10))] });
    await expectRefused(guard, await post(guard, admin, nestedBulks), /more than 20 requests in bulks/);
    // Each table of a track_tables is analysed as a request of its own.
    expect((await post(guard, admin, trackTables(20))).status).toBe(200);
    guard.hasura.requests.length = 0;
    await expectRefused(guard, await post(guard, admin, trackTables(21)), /more than 20 requests in bulks and tables to track or untrack/);
  });

  it('a big replace_metadata: its tables are read one at a time, so only one table\'s values count; the same values elsewhere do', async () => {
    const same = apply(IN_FORCE);
    expect(same.length).toBeGreaterThan(TABLES_IN_BYTES_FROM);
    const answer = await post(guard, admin, same);
    expect(answer.status).toBe(200); // nothing changes: forwarded
    expect(guard.hasura.forwarded()).toHaveLength(1);
    guard.hasura.requests.length = 0;
    await expectRefused(guard, await post(guard, admin, apply({ ...IN_FORCE, functions: archive })), /more than 1000 JSON values \(PROXY_MAX_JSON_VALUES\)/);
  });

  it('a big replace_metadata whose tables cannot be read one at a time is refused rather than parsed whole', async () => {
    // A second source whose "tables" is no list: the memory-lean reader gives up on the body, and JSON.parse would build it all.
    const broken = apply({ ...IN_FORCE, sources: [source(archive), source(5)] });
    await expectRefused(guard, await post(guard, admin, broken), /more than 1000 JSON values, and is not a replace_metadata whose tables the metadata guard can read one at a time/);
  });
});
