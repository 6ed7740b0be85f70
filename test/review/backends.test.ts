// The third hardening round's attacks on other backends' SQL, on replacements Hasura reads differently from the guard,
// and on connection strings in messages: sent to the real proxy (real analysis, default policy, production) in front
// of a stand-in Hasura that records what reaches it. Facts about Hasura are cited beside the code they shaped
// (src/analysis/hasura.ts, src/analysis/metadata-diff.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TABLES_IN_BYTES_FROM } from '../../src/big-json/lazy-tables.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

const permission = { role: 'user', permission: { columns: ['id'], filter: {} } };
const table = (name: string) => ({ table: { schema: 'public', name }, select_permissions: [permission] });
const PATIENTS = table('patients');
const DOCTORS = table('doctors');
/** Enough untouched tables to take a body past TABLES_IN_BYTES_FROM. */
const ARCHIVE = Array.from({ length: Math.ceil(TABLES_IN_BYTES_FROM / 40) }, (_, i) => ({ table: { schema: 'archive', name: `t${i}` } }));
const PASSWORD = 'Pw-s3cr3t-7f2c';
const configuration = { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' } } };
const metadataOf = (tables: unknown[]) => ({ version: 3, sources: [{ name: 'default', kind: 'postgres', tables, configuration }] });
const apply = (metadata: unknown) => ({ type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: false, metadata } });

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer({});
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
  guard.hasura.metadata = metadataOf([PATIENTS, DOCTORS]);
});

const heldAnswer = async (path: string, body: unknown) => {
  const answer = await postMetadata(guard.url, path, body);
  expect(answer.status).toBe(400);
  expect(answer.json.code).toBe('guard-confirmation-required');
  expect(guard.hasura.forwarded()).toEqual([]);
  return answer;
};

describe("each backend's SQL is its own", () => {
  // Hasura's MSSQL and BigQuery run_sql parsers have no read_only (Hasura/Backends/MSSQL/DDL/RunSQL.hs,
  // Backends/BigQuery/DDL/RunSQL.hs): they run read-write whatever the body says.
  it.each([
    ['mssql_run_sql with read_only: true', { type: 'mssql_run_sql', args: { source: 'mssql', read_only: true, sql: 'DROP TABLE patients' } }, 'mssql'],
    // PostgreSQL reads one SELECT (a subscript holding a string); T-SQL reads ['x] as an alias, then the DROP.
    ['T-SQL: a DROP inside what PostgreSQL reads as a string', { type: 'mssql_run_sql', args: { source: 'mssql', sql: "SELECT (1)['x]; DROP TABLE patients; --']" } }, 'mssql'],
    // BigQuery: `#` starts a comment and `\'` escapes a quote; PostgreSQL reads neither so.
    ['BigQuery: # comments and \\\' escapes', { type: 'bigquery_run_sql', args: { source: 'bq', sql: "SELECT 1 # '\nSELECT '\\'; DROP TABLE ds.patients; --'" } }, 'bigquery'],
    ["a data connector's run_sql", { type: 'sqlite_run_sql', args: { source: 'lite', sql: 'DROP TABLE patients' } }, 'sqlite'],
  ])('%s is held as not understood, and Hasura never sees it', async (_label, body, backend) => {
    const held = await heldAnswer('/v2/query', { type: 'bulk', args: [body] });
    expect(held.json.error).toContain(`is not understood (SQL for ${backend} (source `);
    expect(held.json.error).toContain('is not read by the guard');
  });

  // Postgres.RunSQL with no_transaction runs outside a transaction block (NoTxRead: PG.runTx'), so read_only binds nothing.
  it('run_sql with read_only and no_transaction is read as read-write: its DROP is held', async () => {
    const held = await heldAnswer('/v2/query', { type: 'run_sql', args: { source: 'default', read_only: true, no_transaction: true, sql: 'DROP TABLE patients' } });
    expect(held.json.error).toMatch(/drops table default\.patients/);
  });

  it.each(['run_sql', 'pg_run_sql', 'citus_run_sql', 'cockroach_run_sql'])('%s, the PostgreSQL family, is still read: a read-only SELECT passes', async (type) => {
    const body = { type, args: { source: 'default', read_only: true, sql: 'SELECT id FROM patients' } };
    const answer = await postMetadata(guard.url, '/v2/query', body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(guard.hasura.forwarded()[0]!.body.toString())).toEqual(body);
  });
});

describe('replacements read as Hasura reads them, small bodies and big', () => {
  const sizes = [
    ['small', [] as unknown[]],
    ['big', ARCHIVE],
  ] as const;

  it.each(sizes)('%s: the source default listed twice, a table only in the first copy, is held', async (size, extra) => {
    guard.hasura.metadata = metadataOf([PATIENTS, DOCTORS, ...extra]);
    const inForce = metadataOf([PATIENTS, DOCTORS, ...extra]);
    const twice = { ...inForce, sources: [...inForce.sources, { ...inForce.sources[0]!, tables: [DOCTORS, ...extra] }] };
    const body = JSON.stringify(apply(twice));
    expect(body.length > TABLES_IN_BYTES_FROM).toBe(size === 'big');
    const held = await heldAnswer('/v1/metadata', JSON.parse(body));
    expect(held.json.error).toMatch(/source default is listed twice/);
  });

  it.each(sizes)('%s: a version 2 metadata carrying the sources in force and top-level tables without patients is held', async (size, extra) => {
    guard.hasura.metadata = metadataOf([PATIENTS, DOCTORS, ...extra]);
    // Hasura reads version 1 and 2 by their top-level tables (MetadataNoSources); the sources are ignored.
    const legacy = { ...metadataOf([PATIENTS, DOCTORS, ...extra]), version: 2, tables: [DOCTORS, ...extra] };
    const body = JSON.stringify(apply(legacy));
    expect(body.length > TABLES_IN_BYTES_FROM).toBe(size === 'big');
    const held = await heldAnswer('/v1/metadata', JSON.parse(body));
    expect(held.json.error).toMatch(/untracks table default\.public\.patients/);
  });

  it('the same version 2 metadata with every table in force at the top changes nothing, and is forwarded', async () => {
    const legacy = { ...metadataOf([PATIENTS, DOCTORS]), version: 2, tables: [PATIENTS, DOCTORS] };
    const answer = await postMetadata(guard.url, '/v1/metadata', apply(legacy));
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded()).toHaveLength(1);
  });
});

describe('connection strings never in an answer or a log line', () => {
  const url = `postgres://app:${PASSWORD}@db.internal:5432/reports?sslmode=require&password=${PASSWORD}`;
  const logText = () => guard.logs.raw.join('\n');

  it('an update_source pointing a source at a URL with its password: held naming the database, the password nowhere', async () => {
    const held = await heldAnswer('/v1/metadata', { type: 'pg_update_source', args: { name: 'default', configuration: { connection_info: { database_url: url } } } });
    expect(held.json.error).toContain('replaces source default (repoints it to database postgres://app:***@db.internal:5432/reports, from where it points now');
    expect(held.body.toString()).not.toContain(PASSWORD);
    expect(logText()).toContain('database postgres://app:***@db.internal:5432/reports');
    expect(logText()).not.toContain(PASSWORD);
  });

  it('an add_source with its URL written in (held: the URL travels with the metadata) leaves no password in its audit line', async () => {
    const held = await heldAnswer('/v1/metadata', { type: 'pg_add_source', args: { name: 'reports', configuration: { connection_info: { database_url: url } } } });
    expect(held.json.error).toContain('grants credentials reports (database URL written in the metadata, not from_env');
    const audit = guard.logs.audits().find((line) => String(line.effects).includes('adds source reports'));
    expect(audit?.effects).toContain('adds source reports (database postgres://app:***@db.internal:5432/reports)');
    expect(logText()).not.toContain(PASSWORD);
  });

  it('an apply that moves the default source to another database: held, said without the password, in the answer and the log', async () => {
    const moved = metadataOf([PATIENTS, DOCTORS]);
    moved.sources[0]!.configuration = { connection_info: { database_url: url } } as never;
    const held = await heldAnswer('/v1/metadata', apply(moved));
    expect(held.json.error).toMatch(/replaces source default \(repoints it from database [^)]* to database postgres:\/\/app:\*\*\*@db\.internal:5432\/reports\)/);
    expect(held.body.toString()).not.toContain(PASSWORD);
    expect(logText()).not.toContain(PASSWORD);
  });

  it('a raw body with the password in a source named after its URL: masked too', async () => {
    const body = JSON.stringify({ type: 'pg_drop_source', args: { name: `postgres://app:${PASSWORD}@db/x` } });
    const answer = await rawRequest(guard.url, 'POST', '/v1/metadata', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, body);
    expect(answer.status).toBe(400);
    expect(answer.body.toString()).not.toContain(PASSWORD);
    expect(logText()).not.toContain(PASSWORD);
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});
