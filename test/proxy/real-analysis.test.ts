// Enforcing mode with nothing replaced: the real change analysis (PostgreSQL's parser, the Hasura catalogue, the
// metadata diff), the default policy and the app's store, in front of a stand-in Hasura that records what reaches it.
// The bodies are the console's and the CLI's own (test/fixtures/console/bodies.ts cites where each comes from).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TABLES_IN_BYTES_FROM } from '../../src/big-json/lazy-tables.js';
import * as bodies from '../fixtures/console/bodies.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer({});
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
  guard.hasura.metadata = METADATA;
});

const table = (name: string) => ({
  table: { schema: 'public', name },
  object_relationships: name === 'visits' ? [{ name: 'patient', using: { foreign_key_constraint_on: 'patient_id' } }] : [],
  select_permissions: [{ role: 'user', permission: { columns: ['id'], filter: {} } }],
});
const metadataOf = (tables: string[]) => ({
  version: 3,
  sources: [{ name: 'default', kind: 'postgres', tables: tables.map(table), configuration: { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' } } } }],
});
const METADATA = metadataOf(['patients', 'doctors', 'visits']);

const table_ = { schema: 'public', name: 'patients' };
const bulk = (...args: unknown[]) => ({ type: 'bulk', source: 'default', resource_version: 5, args });

const DESTRUCTIVE: [string, string, unknown, RegExp][] = [
  ['Delete table', '/v2/query', bodies.dropTable(), /drops table default\.public\.patients/],
  ['Delete table, Continue with cascade', '/v2/query', bodies.dropTable(true), /drops table default\.public\.patients \(CASCADE\)/],
  ['Untrack table', '/v1/metadata', bodies.untrackTable, /untracks table default\.public\.patients/],
  ['Delete permission', '/v1/metadata', bodies.dropPermission, /revokes permission/],
  ['Drop relationship', '/v1/metadata', bulk({ type: 'pg_drop_relationship', args: { table: table_, relationship: 'doctor', source: 'default' } }), /drops relationship default\.public\.patients\.doctor/],
  ['Remove remote schema', '/v1/metadata', { type: 'remove_remote_schema', args: { name: 'payments' } }, /drops remote schema payments/],
  ['Drop action', '/v1/metadata', { type: 'drop_action', args: { name: 'checkout' } }, /drops action checkout/],
  ['Drop column, from the raw SQL page', '/v2/query', bodies.migrateApply, /drops column/],
  ['a DROP hidden behind a comment and odd spacing', '/v2/query', bulk({ type: 'run_sql', args: { source: 'default', sql: 'select 1; drop /* harmless */ TABLE\n public . patients', cascade: false, read_only: false } }), /drops table/],
];

describe('every destructive console action is held, and Hasura never sees it', () => {
  it.each(DESTRUCTIVE)('%s', async (_label, path, body, says) => {
    const held = await postMetadata(guard.url, path, body);
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    expect(held.json.error).toMatch(says);
    expect(held.json.guard.confirmation_token).toEqual(expect.any(String));
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it.each([
    ['clear_metadata', { type: 'clear_metadata', args: {} }],
    ['drop the source', { type: 'pg_drop_source', args: { name: 'default', cascade: true } }],
    ['DROP OWNED in SQL', bulk({ type: 'run_sql', args: { source: 'default', sql: 'DROP OWNED BY app', cascade: false, read_only: false } })],
  ])('%s is denied in production, with no token', async (_label, body) => {
    const denied = await postMetadata(guard.url, '/v1/metadata', body);
    expect(denied.status).toBe(400);
    expect(denied.json.code).toBe('guard-denied');
    expect(denied.json.guard.confirmation_token).toBeNull();
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('routine console traffic arrives byte for byte', () => {
  it.each([
    ['the login probe', '/v1/metadata', bodies.getInconsistentMetadata],
    ['export_metadata', '/v1/metadata', bodies.exportMetadata],
    ['a read-only query on the raw SQL page', '/v2/query', bodies.readOnlySql],
    ['tracking a table', '/v1/metadata', bulk({ type: 'pg_track_table', args: { table: table_, source: 'default' } })],
    ['the console saving its UI state', '/v1/metadata', { type: 'set_catalog_state', args: { type: 'console', state: { onboardingShown: true } } }],
  ])('%s', async (_label, path, body) => {
    const raw = JSON.stringify(body);
    const answer = await rawRequest(guard.url, 'POST', path, { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, raw);
    expect(answer.status).toBe(200);
    const [arrived] = guard.hasura.forwarded();
    expect(arrived?.path).toBe(path);
    expect(arrived?.body.toString()).toBe(raw);
  });
});

describe('confirm, then retry', () => {
  it('the same change passes once after its confirmation; other credentials cannot confirm it', async () => {
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    const token = held.json.guard.confirmation_token as string;
    const confirm = (secret: string) =>
      rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': secret }, JSON.stringify({ token }));

    expect((await confirm('someone-elses-secret-0123456789')).json.success).toBe(false);
    expect((await confirm(ADMIN_SECRET)).json.success).toBe(true);
    expect((await postMetadata(guard.url, '/v2/query', bodies.dropTable())).status).toBe(200);
    expect((await postMetadata(guard.url, '/v2/query', bodies.dropTable())).status).toBe(400);
    expect(guard.hasura.forwarded()).toHaveLength(1);
  });
});

describe('confirmMetadataChange confirms a held change too', () => {
  const confirmOverGraphQL = (token: string, headers: Record<string, string>) =>
    rawRequest(
      guard.url,
      'POST',
      '/graphql',
      { 'content-type': 'application/json', ...headers },
      JSON.stringify({ query: 'mutation($t: String!) { confirmMetadataChange(input: {confirmation_token: $t}) { success message } }', variables: { t: token } }),
    );

  it('with the admin secret the held request carried; then the retry passes once', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const token = held.json.guard.confirmation_token as string;

    const anonymous = await confirmOverGraphQL(token, { 'x-hasura-user-id': '42' });
    expect(anonymous.json.data.confirmMetadataChange).toMatchObject({ success: false, message: expect.stringMatching(/admin secret/i) });
    const other = await confirmOverGraphQL(token, { 'x-hasura-admin-secret': 'someone-elses-secret-0123456789' });
    expect(other.json.data.confirmMetadataChange.success).toBe(false);

    const confirmed = await confirmOverGraphQL(token, { 'x-hasura-admin-secret': ADMIN_SECRET });
    expect(confirmed.json.data.confirmMetadataChange.success).toBe(true);
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(200);
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(400);
  });
});

describe('hasura metadata apply (replace_metadata), diffed against the metadata in force', () => {
  it('a metadata that drops a table is held, and the message names the table', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.metadataApply(metadataOf(['patients', 'visits'])));
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    expect(held.json.error).toMatch(/untracks table default\.public\.doctors/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('a metadata that changes nothing is forwarded', async () => {
    const apply = bodies.metadataApply(METADATA);
    const answer = await postMetadata(guard.url, '/v1/metadata', apply);
    expect(answer.status).toBe(200);
    expect(JSON.parse(guard.hasura.forwarded()[0]!.body.toString())).toEqual(apply);
  });

  it('a held apply with many effects lists the first 100 and counts the rest, instead of an answer as big as the request', async () => {
    const many = Array.from({ length: 150 }, (_, i) => `table_${i}`);
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.metadataApply(metadataOf([...['patients', 'doctors', 'visits'], ...many])));
    expect(held.json.code).toBe('guard-confirmation-required'); // new select permissions widen access
    expect(held.json.guard.changes).toHaveLength(100);
    expect(held.json.guard.more_changes).toBeGreaterThanOrEqual(200); // a table and a permission each
    expect(held.body.length).toBeLessThan(30_000);
  });

  it('an empty metadata over a populated one is denied', async () => {
    const denied = await postMetadata(guard.url, '/v1/metadata', bodies.metadataApply({ version: 3, sources: [] }));
    expect(denied.json.code).toBe('guard-denied');
    expect(denied.json.error).toMatch(/clears metadata/);
  });
});

describe('a big project: the apply and the export are read leaving their tables in their bytes', () => {
  // Past TABLES_IN_BYTES_FROM both sides take the memory-lean path (src/big-json/lazy-tables.ts); what the user sees must not change.
  const BIG = metadataOf(['patients', 'doctors', 'visits', ...Array.from({ length: 12_000 }, (_, i) => `archive_${i}`)]);
  const apply = (metadata: ReturnType<typeof metadataOf>, resourceVersion: number) => ({ ...bodies.metadataApply(metadata), resource_version: resourceVersion });
  const withoutDoctors = { ...BIG, sources: [{ ...BIG.sources[0]!, tables: BIG.sources[0]!.tables.filter((t) => t.table.name !== 'doctors') }] };

  beforeEach(() => {
    guard.hasura.metadata = BIG;
    expect(JSON.stringify(BIG).length).toBeGreaterThan(TABLES_IN_BYTES_FROM);
  });

  it('an apply that drops one table among 12,003 is held naming it; confirmed, the retry passes once, byte for byte', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', apply(withoutDoctors, 40));
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    expect(held.json.error).toMatch(/untracks table default\.public\.doctors/);
    expect(held.json.guard.changes).toEqual([
      { verb: 'untrack', object: 'table', name: 'default.public.doctors' },
      { verb: 'revoke', object: 'permission', name: 'default.public.doctors select for user', detail: 'select for role user' },
    ]);
    const token = held.json.guard.confirmation_token as string;
    const confirmed = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token }));
    expect(confirmed.json.success).toBe(true);

    // The console's retry carries the resource_version in force by then: the same change all the same.
    const retry = JSON.stringify(apply(withoutDoctors, 41));
    expect((await rawRequest(guard.url, 'POST', '/v1/metadata', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, retry)).status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([retry]);
    expect((await postMetadata(guard.url, '/v1/metadata', apply(withoutDoctors, 42))).status).toBe(400);
  });

  it('an apply that changes nothing is forwarded', async () => {
    const same = JSON.stringify(apply(BIG, 7));
    const answer = await rawRequest(guard.url, 'POST', '/v1/metadata', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, same);
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([same]);
  });

  it('a big body that is not valid JSON is refused, not forwarded', async () => {
    const broken = JSON.stringify(apply(BIG, 7)).replace('"archive_500"', '"archive_500');
    const answer = await rawRequest(guard.url, 'POST', '/v1/metadata', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, broken);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(/not JSON/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe("Hasura's own words: shapes Hasura accepts pass, what repoints or reaches out is held", () => {
  const send = (path: string, body: unknown) =>
    rawRequest(guard.url, 'POST', path, { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify(body));
  const runSql = (sql: string) => ({ type: 'run_sql', args: { source: 'default', sql, cascade: false, read_only: false } });

  it.each([
    ['a table created and tracked by its bare name, in one bulk (/v1/query)', '/v1/query', { type: 'bulk', args: [runSql('CREATE TABLE users (id serial PRIMARY KEY, name text)'), { type: 'track_table', args: 'users' }] }],
    ['track_function by its bare name', '/v1/query', { type: 'track_function', args: 'search_users' }],
    ['the CLI\'s export_metadata with args "{}"', '/v1/query', { type: 'export_metadata', args: '{}' }],
    ['a seed that builds geometries with PostGIS', '/v2/query', runSql("INSERT INTO places (geom) VALUES (ST_Buffer(ST_GeomFromEWKT('SRID=4326;POINT(1 2)'), 3))")],
    ["Hasura's own check for its event log table", '/v2/query', runSql("SELECT EXISTS (SELECT * FROM information_schema.tables WHERE table_schema = 'hdb_catalog' AND table_name = 'event_log')")],
    ['CREATE EXTENSION postgis', '/v2/query', runSql('CREATE EXTENSION IF NOT EXISTS postgis')],
    ['a comment on a table', '/v2/query', runSql("COMMENT ON TABLE patients IS 'people'")],
  ])('%s passes, byte for byte', async (_label, path, body) => {
    const answer = await send(path, body);
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => [r.path, r.body.toString()])).toEqual([[path, JSON.stringify(body)]]);
  });

  it.each([
    ['CREATE EXTENSION dblink', '/v2/query', runSql('CREATE EXTENSION dblink'), /grants extension default\.dblink \(opens connections to other databases and runs SQL there\)/],
    ['a sequence reset by setval', '/v2/query', runSql("SELECT setval('patients_id_seq', 1)"), /runs function default\.setval/],
    ['an event trigger replaced', '/v1/metadata', { type: 'pg_create_event_trigger', args: { name: 'audit', table: table_, source: 'default', replace: true, insert: { columns: '*' }, webhook: 'http://x' } }, /replaces event trigger audit \(replace: true\)/],
    ['a collection added to the allow list', '/v1/metadata', { type: 'add_collection_to_allowlist', args: { collection: 'allowed' } }, /grants allowlist allowed \(its queries may run\)/],
    [
      'a new source whose URL is written in the metadata',
      '/v1/metadata',
      { type: 'pg_add_source', args: { name: 'reports', configuration: { connection_info: { database_url: 'postgres://app:s3cr3t-pw@reports.internal/reports' } } } },
      /grants credentials reports \(database URL written in the metadata, not from_env/,
    ],
    [
      'a live source repointed by replace_configuration',
      '/v1/metadata',
      { type: 'pg_add_source', args: { name: 'default', configuration: { connection_info: { database_url: 'postgres://app:s3cr3t-pw@dev.internal/app' } }, replace_configuration: true } },
      /replaces source default \(repoints it to database postgres:\/\/app:\*\*\*@dev\.internal\/app/,
    ],
  ])('%s is held, and Hasura never sees it', async (_label, path, body, says) => {
    const held = await send(path, body);
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    expect(held.json.error).toMatch(says);
    expect(held.body.toString()).not.toMatch(/s3cr3t-pw/);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('a metadata apply that repoints the source says from what to what, without the password', async () => {
    const next = { ...METADATA, sources: [{ ...METADATA.sources[0]!, configuration: { connection_info: { database_url: 'postgres://app:s3cr3t-pw@dev.internal/app' } } }] };
    const held = await send('/v1/metadata', { type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: false, metadata: next } });
    expect(held.status).toBe(400);
    expect(held.json.error).toMatch(/replaces source default \(repoints it from database from env PG_DATABASE_URL to database postgres:\/\/app:\*\*\*@dev\.internal\/app\)/);
    expect(held.json.error).toMatch(/grants credentials default/);
    expect(held.body.toString()).not.toMatch(/s3cr3t-pw/);
    expect(guard.hasura.forwarded().filter((r) => r.path === '/v1/metadata' && r.body.toString().includes('replace_metadata'))).toEqual([]);
  });
});
