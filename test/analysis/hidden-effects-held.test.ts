// Attacks on the analysis that held (review-sql): each row is an input a reviewer tried as destructive, code-running
// or access-widening, and the production decision the guard gave it. Kept as coverage so they keep holding. Rows
// already in test/analysis/decisions.test.ts or sql.test.ts are not repeated.
import { describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import { effectKey, type Effect } from '../../src/vocabulary/effects.js';
import { loadPolicy, type Level } from '../../src/core/policy.js';

const policy = loadPolicy();
const production = policy.findEnvironment('production')!;
const keys = (effects: Effect[]) => [...new Set(effects.map(effectKey))].sort().join(' ');

async function judgeBody(body: Record<string, unknown>) {
  const effects = await analyzeChange({ operation: String(body.type), table: '', request: body });
  return { keys: keys(effects), level: policy.decide(effects, production, String(body.type)).level };
}
const runSql = (sql: string, extra: Record<string, unknown> = {}) => ({ type: 'run_sql', args: { source: 'default', sql, ...extra } });

// [SQL, effects (verb:object, sorted), production level]
const SQL_ROWS: [string, string, Level][] = [
  ['CALL public.cleanup()', 'run:function', 'confirm'],
  ['PREPARE p AS DELETE FROM patients; EXECUTE p', 'delete:all_rows unknown:sql', 'confirm'],
  ['EXECUTE p', 'unknown:sql', 'confirm'],
  ['DECLARE c CURSOR FOR SELECT public.wipe()', 'run:function', 'confirm'],
  ['FETCH ALL FROM c', 'unknown:sql', 'confirm'],
  ['MERGE INTO patients p USING incoming i ON p.id = i.id WHEN MATCHED THEN DELETE', 'delete:rows', 'confirm'],
  ['WITH d AS (UPDATE patients SET name = null RETURNING id) SELECT * FROM d', 'read:sql rewrite:all_rows', 'confirm'],
  ['INSERT INTO patients (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = excluded.name', 'add:rows rewrite:rows', 'confirm'],
  ['TRUNCATE ONLY patients, doctors RESTART IDENTITY', 'delete:all_rows', 'confirm'],
  ['SET ROLE postgres', 'modify:setting', 'confirm'],
  ['SET SESSION AUTHORIZATION postgres', 'modify:setting', 'confirm'],
  ['SET search_path = evil, public', 'modify:setting', 'confirm'],
  ['REASSIGN OWNED BY app TO attacker', 'modify:owned', 'confirm'],
  ['REFRESH MATERIALIZED VIEW mv', 'modify:materialized_view', 'confirm'],
  ['CLUSTER patients USING patients_pkey', 'modify:table', 'confirm'],
  ['VACUUM FULL patients', 'modify:table', 'confirm'],
  ['LOCK TABLE patients IN ACCESS EXCLUSIVE MODE', 'modify:table', 'confirm'],
  ['SELECT pg_advisory_lock(1)', 'run:function', 'confirm'],
  ["SELECT pg_catalog.set_config('role', 'postgres', false)", 'run:function', 'confirm'],
  ['SELECT 1 OPERATOR(evil.+) 2', 'run:function', 'confirm'],
  ["SELECT query_to_xml('select 1', true, true, '')", 'run:function', 'confirm'],
  ['ALTER TABLE patients DETACH PARTITION p2020', 'modify:table', 'confirm'],
  ['ALTER TABLE patients SET UNLOGGED', 'modify:table', 'confirm'],
  ['ALTER TABLE patients DISABLE TRIGGER ALL', 'modify:table', 'confirm'],
  ['ALTER TABLE patients DISABLE ROW LEVEL SECURITY', 'modify:table', 'confirm'],
  ['ALTER TABLE patients OWNER TO attacker', 'modify:table', 'confirm'],
  ['ALTER TABLE patients DROP CONSTRAINT patients_pkey', 'drop:constraint', 'confirm'],
  ['ALTER GROUP admins ADD USER app', 'grant:role', 'confirm'],
  ['DROP TABLE U&"p\\0061tients"', 'drop:table', 'confirm'],
  ["DO $x$ BEGIN EXECUTE 'DROP TABLE patients'; END $x$", 'run:function', 'confirm'],
  ["CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN EXECUTE 'TRUNCATE patients'; END $body$", 'add:function delete:all_rows', 'confirm'],
  ['CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM patients; END', 'add:function delete:all_rows', 'confirm'],
  ['CREATE TABLE t (a int CHECK (public.wipe(a)))', 'add:table run:function', 'confirm'],
  ['CREATE DOMAIN d AS int CHECK (public.wipe(VALUE))', 'add:type run:function', 'confirm'],
  ['CREATE TABLE t (a int GENERATED ALWAYS AS (public.wipe(1)) STORED)', 'add:table run:function', 'confirm'],
  ['CREATE TABLE t (a int) PARTITION BY RANGE ((public.wipe(a)))', 'add:table run:function', 'confirm'],
  ['CREATE INDEX ON patients ((public.wipe(id)))', 'add:index run:function', 'confirm'],
  ['CREATE STATISTICS s ON (public.wipe(id)) FROM patients', 'add:unknown run:function', 'confirm'],
  ['CREATE AGGREGATE a (int) (SFUNC = wipe, STYPE = int)', 'add:function run:function', 'confirm'],
  ['CREATE CONSTRAINT TRIGGER t AFTER INSERT ON patients FOR EACH ROW EXECUTE FUNCTION wipe()', 'add:trigger run:function', 'confirm'],
  ['CREATE RULE r AS ON INSERT TO patients DO INSTEAD DELETE FROM doctors', 'add:unknown delete:all_rows modify:table', 'confirm'],
  ['CREATE RULE r AS ON DELETE TO patients DO INSTEAD NOTHING', 'add:unknown modify:table', 'confirm'],
  ['CREATE OR REPLACE VIEW v AS SELECT 1', 'replace:view', 'confirm'],
  ['BEGIN; DROP TABLE patients; ROLLBACK', 'drop:table', 'confirm'],
  ['SAVEPOINT a; DELETE FROM patients; ROLLBACK TO SAVEPOINT a', 'delete:all_rows', 'confirm'],
  ['LISTEN x', 'unknown:sql', 'confirm'],
  ['DISCARD ALL', 'unknown:sql', 'confirm'],
  ['CHECKPOINT', 'unknown:sql', 'confirm'],
  // PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK PREPARED give no effect, so alone they are not understood; they
  // cannot run in a multi-statement string (PostgreSQL refuses them in an implicit transaction block).
  ["ROLLBACK PREPARED 'x'", '', 'confirm'],
];

describe('SQL attacks that held', () => {
  it.each(SQL_ROWS)('%s → %s → %s', async (sql, effects, level) => {
    const result = await judgeBody(runSql(sql));
    expect(result.keys).toBe(effects);
    expect(result.level).toBe(level);
  });
});

const BODY_ROWS: [string, Record<string, unknown>, string, Level][] = [
  ['mssql_run_sql is not read', { type: 'mssql_run_sql', args: { source: 'mssql', sql: 'SELECT 1' } }, 'unknown:unknown', 'confirm'],
  ['drop_source with cascade', { type: 'pg_drop_source', args: { name: 'default', cascade: true } }, 'drop:source', 'deny'],
  ['a drop inside bulk_atomic inside concurrent_bulk', { type: 'concurrent_bulk', args: [{ type: 'bulk_atomic', args: [runSql('DROP TABLE patients')] }] }, 'drop:table', 'confirm'],
  ['untrack_table with cascade', { type: 'pg_untrack_table', args: { table: 'patients', source: 'default', cascade: true } }, 'untrack:table', 'confirm'],
  ['rename_source', { type: 'rename_source', args: { name: 'default', new_name: 'x' } }, 'rename:source', 'confirm'],
  ['read_only given as a string', runSql('DROP TABLE patients', { read_only: 'true' }), 'unknown:unknown', 'confirm'],
  ['read_only with a COMMIT first', runSql('COMMIT; DROP TABLE patients', { read_only: true }), 'drop:table', 'confirm'],
  ['read_only with no_transaction', runSql('DROP TABLE patients', { read_only: true, no_transaction: true }), 'drop:table', 'confirm'],
];

describe('Hasura bodies that held', () => {
  it.each(BODY_ROWS)('%s → %s → %s', async (_label, body, effects, level) => {
    const result = await judgeBody(body);
    expect(result.keys).toBe(effects);
    expect(result.level).toBe(level);
  });
});
