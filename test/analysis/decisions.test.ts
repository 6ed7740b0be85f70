// The decision table: what a production guard with the default policy decides for realistic changes, through the
// real analysers (PostgreSQL's parser, the Hasura catalogue, the metadata diff) and the real policy. Each row names
// the effects found (as a set of verb:object) and the production level; a comment says why where it is a judgement.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import { effectKey, type Effect } from '../../src/vocabulary/effects.js';
import { loadPolicy, type Level } from '../../src/core/policy.js';

const policy = loadPolicy();
const production = policy.findEnvironment('production')!;
const staging = policy.findEnvironment('staging')!;

const keys = (effects: Effect[]) => [...new Set(effects.map(effectKey))].sort().join(' ');
const expectKeys = (expected: string) => expected.split(' ').filter(Boolean).sort().join(' ');

async function judge(change: { operation: string; table?: string; request?: unknown; currentMetadata?: unknown }) {
  const effects = await analyzeChange({ operation: change.operation, table: change.table ?? '', request: change.request, currentMetadata: change.currentMetadata });
  return { effects, level: policy.decide(effects, production, change.operation).level, staging: policy.decide(effects, staging, change.operation).level };
}

// [operation, table_name, effects, production level, why (where it is a judgement)]
type OperationRow = [string, string, string, Level, string?];

const OPERATIONS: OperationRow[] = [
  // --- the words people type (the old API) ---
  ['DROP TABLE', 'public.patients', 'drop:table', 'confirm', 'completed by table_name into SQL'],
  ['DROP TABLE', 'a; DROP SCHEMA b', 'drop:schema drop:table', 'deny', 'SQL typed into table_name is read as SQL too'],
  ['DELETE FROM', 'patients', 'delete:all_rows', 'confirm', 'completed into SQL: every row deleted, not the table dropped'],
  ['drop table', 'patients', 'drop:table', 'confirm'],
  ['DROP', 'public.patients', 'drop:table', 'confirm', 'a bare verb applies to the table named'],
  ['delete', 'public.patients', 'delete:all_rows', 'confirm', 'the /v1/query `delete` type with no where: every row'],
  ['TRUNCATE', 'public.patients', 'delete:all_rows', 'confirm'],
  ['ALTER TABLE', 'public.patients', 'modify:table', 'confirm'],
  ['RENAME', 'public.patients', 'rename:table', 'confirm'],
  ['untrack', 'public.patients', 'untrack:table', 'confirm'],
  ['insert', 'public.patients', 'add:rows', 'allow', 'the /v1/query `insert` type'],
  ['create', 'public.patients', 'add:table', 'allow'],
  ['SELECT', 'public.patients', 'read:rows', 'allow', 'the /v1/query `select` type'],
  ['remove', 'public.patients', 'drop:table', 'confirm', 'a bare verb applies to the table named'],
  ['frobnicate_everything', 'public.patients', 'unknown:unknown', 'confirm', 'fails closed'],
  ['SELECT 1 then DROP', 'public.patients', 'drop:table read:table unknown:unknown', 'confirm', 'an unknown word next to known ones'],
  ['drop remote schema', 'public.patients', 'drop:remote_schema', 'confirm', '"remote schema" is not a database schema'],
  ['drop schema', 'public', 'drop:schema', 'deny'],
  ['DROP SCHEMA public CASCADE', 'public.patients', 'drop:schema', 'deny'],
  ['DROP DATABASE app', 'public.patients', 'drop:database', 'deny'],
  // --- spellings of a Hasura type ---
  ['clear_metadata', 'public.patients', 'clear:metadata', 'deny'],
  ['clear metadata', 'public.patients', 'clear:metadata', 'deny'],
  ['Clear_Metadata.', 'public.patients', 'clear:metadata', 'deny'],
  ['clear-metadata', 'public.patients', 'clear:metadata', 'deny'],
  ['CLEAR METADATA', 'public.patients', 'clear:metadata', 'deny'],
  ['replace_metadata', 'public.patients', 'replace:metadata', 'confirm', 'no metadata to compare with: critical, not denied (the issue: "one without a metadata to compare with is critical")'],
  ['pg_drop_source', 'public.patients', 'drop:source', 'deny'],
  ['mssql_drop_source', 'dbo.patients', 'drop:source', 'deny'],
  // --- metadata types typed as operation ---
  ['pg_track_table', 'public.patients', 'add:table', 'allow'],
  ['track_table', 'public.patients', 'add:table', 'allow'],
  ['pg_untrack_table', 'public.patients', 'untrack:table', 'confirm'],
  ['untrack_table', 'public.patients', 'untrack:table', 'confirm'],
  ['mssql_untrack_table', 'dbo.patients', 'untrack:table', 'confirm'],
  ['citus_untrack_table', 'public.patients', 'untrack:table', 'confirm'],
  ['bigquery_untrack_table', 'dataset.patients', 'untrack:table', 'confirm'],
  ['pg_drop_relationship', 'public.patients', 'drop:relationship', 'confirm'],
  ['drop_relationship', 'public.patients', 'drop:relationship', 'confirm'],
  ['pg_rename_relationship', 'public.patients', 'rename:relationship', 'confirm'],
  ['pg_create_object_relationship', 'public.patients', 'add:relationship', 'allow'],
  ['pg_create_array_relationship', 'public.patients', 'add:relationship', 'allow'],
  ['pg_create_select_permission', 'public.patients', 'grant:permission', 'confirm', 'a new permission widens who may read'],
  ['pg_create_insert_permission', 'public.patients', 'grant:permission', 'confirm'],
  ['pg_drop_select_permission', 'public.patients', 'revoke:permission', 'confirm'],
  ['pg_drop_update_permission', 'public.patients', 'revoke:permission', 'confirm'],
  ['pg_create_function_permission', 'public.patients', 'grant:function_permission', 'confirm'],
  ['add_inherited_role', 'public.patients', 'grant:role', 'confirm'],
  ['drop_inherited_role', 'public.patients', 'revoke:role', 'confirm'],
  ['add_host_to_tls_allowlist', 'public.patients', 'grant:tls_allowlist', 'confirm'],
  ['remove_remote_schema', 'public.patients', 'drop:remote_schema', 'confirm'],
  ['drop_action', 'public.patients', 'drop:action', 'confirm'],
  ['pg_delete_event_trigger', 'public.patients', 'drop:event_trigger', 'confirm'],
  ['delete_cron_trigger', 'public.patients', 'drop:cron_trigger', 'confirm'],
  ['set_custom_types', 'public.patients', 'replace:custom_types', 'confirm', 'no metadata to compare with'],
  ['pg_track_tables', 'public.patients', 'add:table', 'allow'],
  ['pg_suggest_relationships', 'public.patients', 'read:relationship', 'allow'],
  ['introspect_remote_schema', 'public.patients', 'read:remote_schema', 'allow'],
  ['export_metadata', 'public.patients', 'read:metadata', 'allow'],
  ['get_inconsistent_metadata', 'public.patients', 'read:metadata', 'allow'],
  ['pg_get_event_logs', 'public.patients', 'read:event_logs', 'allow'],
  ['pg_track_native_query', 'public.patients', 'grant:native_query', 'confirm'],
  ['pg_track_logical_model', 'public.patients', 'add:logical_model', 'allow'],
  ['pg_untrack_native_query', 'public.patients', 'untrack:native_query', 'confirm'],
  // --- SQL typed as operation ---
  ['DROP TABLE public.patients CASCADE', 'public.patients', 'drop:table', 'confirm'],
  ['drop /* harmless */ TABLE\n   public . patients', 'public.patients', 'drop:table', 'confirm', 'comments and whitespace cannot hide a statement'],
  ['select 1; DROP TABLE patients', 'public.patients', 'drop:table read:sql', 'confirm'],
  ['GRANT SELECT ON patients TO anonymous', 'public.patients', 'grant:privilege', 'confirm'],
  ['REVOKE ALL ON patients FROM app', 'public.patients', 'revoke:privilege', 'confirm'],
  ['CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql', 'public.patients', 'replace:function', 'confirm'],
  ['CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql', 'public.patients', 'add:function', 'allow'],
  ['SELECT truncate_all_tables()', 'public.patients', 'run:function', 'confirm'],
  ['SELECT truncate_all_tables', 'public.patients', 'unknown:sql', 'confirm', 'a column with no FROM: most likely a call typed without ()'],
  ['SELECT pg_terminate_backend(123)', 'public.patients', 'run:function', 'confirm'],
  ["SELECT set_config('role', 'admin', false)", 'public.patients', 'run:function', 'confirm'],
  ["SELECT dblink_exec('host=x', 'DROP TABLE t')", 'public.patients', 'run:function', 'confirm'],
  ['SELECT lo_unlink(4242)', 'public.patients', 'run:function', 'confirm'],
  ['SELECT count(*) FROM patients', 'public.patients', 'read:table', 'allow'],
  ['SELECT now()', 'public.patients', 'read:sql', 'allow', 'a read of no table'],
  ['drop owned by app', 'public.patients', 'drop:owned', 'deny'],
  ['DROP OWNED BY app CASCADE', 'public.patients', 'drop:owned', 'deny'],
  ['TRUNCATE patients', 'public.patients', 'delete:all_rows', 'confirm'],
  ['DELETE FROM patients', 'public.patients', 'delete:all_rows', 'confirm'],
  ['DELETE FROM patients WHERE id = 1', 'public.patients', 'delete:rows', 'confirm', 'deleting rows in production is confirmed, selected or not'],
  ['UPDATE patients SET name = null', 'public.patients', 'rewrite:all_rows', 'confirm'],
  ['UPDATE patients SET name = null WHERE id = 1', 'public.patients', 'rewrite:rows', 'confirm'],
  ["INSERT INTO patients (name) VALUES ('a')", 'public.patients', 'add:rows', 'allow'],
  ['ALTER TABLE patients DROP COLUMN ssn', 'public.patients', 'drop:column', 'confirm'],
  ['ALTER TABLE patients ALTER COLUMN age TYPE text', 'public.patients', 'rewrite:column', 'confirm'],
  ['ALTER TABLE patients RENAME TO people', 'public.patients', 'rename:table', 'confirm'],
  ['ALTER TABLE patients RENAME COLUMN a TO b', 'public.patients', 'rename:column', 'confirm'],
  ['ALTER TABLE patients ADD COLUMN note text', 'public.patients', 'add:column', 'allow'],
  ["COMMENT ON TABLE patients IS 'people'", 'public.patients', 'comment:table', 'allow'],
  ['CREATE TABLE t (id int)', 'public.patients', 'add:table', 'allow'],
  ['SELECT * INTO t2 FROM patients', 'public.patients', 'add:table', 'allow', 'creates a table from a read'],
  ['CREATE EXTENSION pgcrypto', 'public.patients', 'add:extension', 'allow'],
  ['DO $$ BEGIN PERFORM 1; END $$', 'public.patients', 'run:function', 'confirm', 'what a DO block does cannot be known'],
  ['WITH gone AS (DELETE FROM patients RETURNING *) SELECT count(*) FROM gone', 'public.patients', 'delete:all_rows read:sql', 'confirm', 'a data-modifying CTE'],
  ['ALTER SYSTEM SET fsync = off', 'public.patients', 'unknown:sql', 'confirm', 'a statement kind the analyser does not classify'],
];

describe('operations as callers type them, decided for production', () => {
  it.each(OPERATIONS)('%j on %j → %s → %s', async (operation, table, effects, level) => {
    const result = await judge({ operation, table });
    expect(keys(result.effects)).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
    expect(result.staging).toBe('allow');
  });
});

// Hasura request bodies, as clients send them. [label, body, effects, production level, why]
type BodyRow = [string, Record<string, unknown>, string, Level, string?];
const table = { schema: 'public', name: 'patients' };
const bulk = (...args: Record<string, unknown>[]) => ({ type: 'bulk', source: 'default', resource_version: 7, args });
const runSql = (sql: string, extra: Record<string, unknown> = {}) => ({ type: 'run_sql', args: { source: 'default', sql, cascade: false, read_only: false, ...extra } });

const BODIES: BodyRow[] = [
  // the console's own bodies (test/fixtures/hasura-console-bodies.ts has them with their sources)
  ['console: delete table', bulk(runSql('DROP table "public"."patients";')), 'drop:table', 'confirm'],
  ['console: delete table, continue with cascade', bulk(runSql('DROP table "public"."patients" CASCADE;', { cascade: true })), 'drop:table', 'confirm'],
  ['console: untrack table', bulk({ type: 'pg_untrack_table', args: { table, source: 'default' } }), 'untrack:table', 'confirm'],
  ['console: untrack tables (bare body)', { type: 'pg_untrack_tables', resource_version: 3, args: { allow_warnings: true, tables: [{ table, source: 'default' }] } }, 'untrack:table', 'confirm'],
  ['console: drop relationship', bulk({ type: 'pg_drop_relationship', args: { table, relationship: 'author', source: 'default' } }), 'drop:relationship', 'confirm'],
  ['console: delete permission', bulk({ type: 'pg_drop_select_permission', args: { table, role: 'user', source: 'default' } }), 'revoke:permission', 'confirm'],
  [
    'console: edit permission (drop + create in one bulk)',
    bulk(
      { type: 'pg_drop_select_permission', args: { table, role: 'user', source: 'default' } },
      { type: 'pg_create_select_permission', args: { table, role: 'user', source: 'default', permission: { columns: ['id'], filter: {} } } },
    ),
    'modify:permission',
    'confirm',
  ],
  ['console: remove remote schema', { type: 'remove_remote_schema', args: { name: 'payments' } }, 'drop:remote_schema', 'confirm'],
  ['console: drop action', { type: 'drop_action', args: { name: 'checkout' } }, 'drop:action', 'confirm'],
  ['console: raw SQL page, a read', bulk(runSql('SET LOCAL statement_timeout = 10000;'), runSql('SELECT * FROM patients')), 'read:setting read:table', 'allow'],
  ['console: raw SQL page, a drop', bulk(runSql('SET LOCAL statement_timeout = 10000;'), runSql('DROP TABLE patients')), 'drop:table read:setting', 'confirm'],
  ['console: drop column', bulk(runSql('ALTER TABLE "public"."patients" DROP COLUMN "ssn" CASCADE;')), 'drop:column', 'confirm'],
  ['console: login', { type: 'get_inconsistent_metadata', args: {} }, 'read:metadata', 'allow'],
  ['console: export', { type: 'export_metadata', version: 2, args: {} }, 'read:metadata', 'allow'],
  ['console: catalog state', { type: 'set_catalog_state', args: { type: 'console', state: {} } }, 'read:catalog_state', 'allow', 'UI state of the console'],
  ['read-only run_sql', runSql('SELECT * FROM patients', { read_only: true }), 'read:table', 'allow'],
  ['read-only run_sql that writes', runSql('DELETE FROM patients', { read_only: true }), 'read:sql', 'allow', 'PostgreSQL refuses writes in a read-only transaction'],
  ['read-only run_sql with a side-effect function', runSql('SELECT pg_terminate_backend(1)', { read_only: true }), 'run:function', 'confirm', 'works inside a read-only transaction'],
  ['concurrent_bulk of reads', { type: 'concurrent_bulk', args: [runSql('SELECT 1', { read_only: true }), runSql('SELECT count(*) FROM patients', { read_only: true })] }, 'read:sql read:table', 'allow'],
  // code created and run in one call (issue 23): the function's body, or the object that runs it, is what counts
  ['a function that drops, a view calling it, a read of the view', bulk(runSql('CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DROP TABLE patients; RETURN 1; END $$; CREATE VIEW v AS SELECT f(); SELECT * FROM v')), 'add:function add:view drop:table read:table run:function', 'confirm'],
  ['a trigger on a temporary table calling an existing function, and an insert', bulk(runSql('CREATE TEMP TABLE tmp (a int); CREATE TRIGGER t BEFORE INSERT ON tmp FOR EACH ROW EXECUTE FUNCTION wipe(); INSERT INTO tmp VALUES (1)')), 'add:rows add:table add:trigger run:function', 'confirm'],
  ['a column default calling an existing function, and an insert', bulk(runSql('CREATE TEMP TABLE tmp (a int DEFAULT wipe()); INSERT INTO tmp DEFAULT VALUES')), 'add:rows add:table run:function', 'confirm'],
  ['an operator backed by a function, and a SELECT using it', bulk(runSql('CREATE OPERATOR === (FUNCTION = wipe, LEFTARG = int, RIGHTARG = int); SELECT 1 === 2')), 'add:unknown read:sql run:function', 'confirm'],
  ['a rule that deletes, and an insert', bulk(runSql('CREATE TEMP TABLE tmp (a int); CREATE RULE r AS ON INSERT TO tmp DO ALSO DELETE FROM patients; INSERT INTO tmp VALUES (1)')), 'add:rows add:table add:unknown delete:all_rows', 'confirm'],
  ['an event trigger', bulk(runSql('CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()')), 'add:unknown run:function', 'confirm'],
  ['EXECUTE of a computed string in a function', bulk(runSql("CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE ' || t; END $$")), 'add:function run:sql', 'confirm', 'its text is only known when it runs'],
  ['a function in an unread language', bulk(runSql('CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$')), 'add:function run:function', 'confirm'],
  // access widened in the database, like a Hasura permission
  ['a superuser role that logs in', bulk(runSql("CREATE ROLE x SUPERUSER LOGIN PASSWORD 'p'")), 'grant:role', 'confirm'],
  ['a role with no attribute', bulk(runSql('CREATE ROLE readers')), 'add:role', 'allow', 'a name: nothing widens until something is granted to it'],
  ['a policy that opens every row', bulk(runSql('CREATE POLICY p ON patients USING (true)')), 'grant:policy', 'confirm'],
  ['a policy changed', bulk(runSql('ALTER POLICY p ON patients USING (true)')), 'grant:policy', 'confirm'],
  ['a role granted to another', bulk(runSql('GRANT admin TO app')), 'grant:role', 'confirm'],
  // routine migrations with code stay routine
  ['a pure SQL function', bulk(runSql('CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$')), 'add:function', 'allow'],
  [
    'an updated_at trigger function and its trigger (the console\'s body, created rather than replaced)',
    bulk(runSql('CREATE FUNCTION public.set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$; CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.patients FOR EACH ROW EXECUTE FUNCTION public.set_updated_at()')),
    'add:function add:trigger',
    'allow',
  ],
  ['a table with serial, now() and uuid defaults', bulk(runSql("CREATE TABLE t (id serial PRIMARY KEY, n int DEFAULT nextval('s'), at timestamptz DEFAULT now(), u uuid DEFAULT gen_random_uuid())")), 'add:table', 'allow'],
  // arguments that change the meaning
  ['event trigger with replace', { type: 'pg_create_event_trigger', args: { name: 'audit', table, source: 'default', replace: true, insert: { columns: '*' }, webhook: 'http://x' } }, 'replace:event_trigger', 'confirm'],
  ['event trigger, new', { type: 'pg_create_event_trigger', args: { name: 'audit', table, source: 'default', insert: { columns: '*' }, webhook: 'http://x' } }, 'grant:event_trigger', 'confirm'],
  ['cron trigger with replace', { type: 'create_cron_trigger', args: { name: 'nightly', webhook: 'http://x', schedule: '0 0 * * *', replace: true } }, 'replace:cron_trigger', 'confirm'],
  ['add source with replace_configuration', { type: 'pg_add_source', args: { name: 'default', configuration: {}, replace_configuration: true } }, 'replace:source', 'confirm'],
  ['add source, new', { type: 'pg_add_source', args: { name: 'analytics', configuration: {} } }, 'add:source', 'allow'],
  ['drop source', { type: 'pg_drop_source', args: { name: 'default', cascade: true } }, 'drop:source', 'deny'],
  ['select permission for anonymous', { type: 'pg_create_select_permission', args: { table, role: 'anonymous', source: 'default', permission: { columns: '*', filter: {} } } }, 'grant:permission', 'confirm'],
  ['clear metadata', { type: 'clear_metadata', args: {} }, 'clear:metadata', 'deny'],
  ['replace metadata with nothing to compare', { type: 'replace_metadata', version: 2, args: { metadata: { version: 3, sources: [] } } }, 'replace:metadata', 'confirm'],
  ['unknown type', { type: 'pg_frobnicate', args: {} }, 'unknown:unknown', 'confirm'],
  ['no type', { args: {} }, 'unknown:unknown', 'confirm'],
  ['bulk whose args is not a list', { type: 'bulk', args: { type: 'run_sql' } }, 'unknown:unknown', 'confirm'],
  ['nested bulks', bulk({ type: 'bulk_atomic', args: [{ type: 'bulk_keep_going', args: [{ type: 'pg_drop_source', args: { name: 'default' } }] }] }), 'drop:source', 'deny'],
  ['unparseable SQL', runSql('DROP TABLEE patients'), 'unknown:sql', 'confirm'],
  ['data API: delete without where', { type: 'delete', args: { table: 'patients', where: {} } }, 'delete:all_rows', 'confirm'],
  ['data API: select', { type: 'select', args: { table: 'patients', columns: ['*'] } }, 'read:rows', 'allow'],
  // remote schemas, actions, triggers, collections, limits, functions and more
  ['add_remote_schema', { type: 'add_remote_schema', args: { name: 'payments', definition: { url: 'http://x' } } }, 'grant:remote_schema', 'confirm'],
  ['update_remote_schema', { type: 'update_remote_schema', args: { name: 'payments', definition: { url: 'http://y' } } }, 'modify:remote_schema', 'confirm'],
  ['reload_remote_schema', { type: 'reload_remote_schema', args: { name: 'payments' } }, 'read:remote_schema', 'allow'],
  ['add_remote_schema_permissions', { type: 'add_remote_schema_permissions', args: { remote_schema: 'payments', role: 'user', definition: { schema: 'type Query { a: Int }' } } }, 'grant:remote_schema_permission', 'confirm'],
  ['drop_remote_schema_permissions', { type: 'drop_remote_schema_permissions', args: { remote_schema: 'payments', role: 'user' } }, 'revoke:remote_schema_permission', 'confirm'],
  ['create_action', { type: 'create_action', args: { name: 'checkout', definition: { handler: 'http://x' } } }, 'add:action', 'allow'],
  ['update_action', { type: 'update_action', args: { name: 'checkout', definition: { handler: 'http://y' } } }, 'modify:action', 'confirm'],
  ['create_action_permission', { type: 'create_action_permission', args: { action: 'checkout', role: 'user' } }, 'grant:action_permission', 'confirm'],
  ['drop_action_permission', { type: 'drop_action_permission', args: { action: 'checkout', role: 'user' } }, 'revoke:action_permission', 'confirm'],
  ['set_custom_types', { type: 'set_custom_types', args: { objects: [] } }, 'replace:custom_types', 'confirm'],
  ['create_cron_trigger', { type: 'create_cron_trigger', args: { name: 'nightly', webhook: 'http://x', schedule: '0 0 * * *' } }, 'add:cron_trigger', 'allow'],
  ['create_scheduled_event', { type: 'create_scheduled_event', args: { webhook: 'http://x', schedule_at: '2026-12-01T00:00:00Z' } }, 'add:scheduled_event', 'allow'],
  ['delete_scheduled_event', { type: 'delete_scheduled_event', args: { type: 'one_off', event_id: 'x' } }, 'drop:scheduled_event', 'confirm'],
  ['add_query_to_collection', { type: 'add_query_to_collection', args: { collection_name: 'allowed', query_name: 'q', query: '{a}' } }, 'grant:query_collection', 'confirm', 'widens what may run if the collection is allow-listed'],
  ['drop_query_collection', { type: 'drop_query_collection', args: { collection: 'allowed', cascade: true } }, 'drop:query_collection', 'confirm'],
  ['add_collection_to_allowlist', { type: 'add_collection_to_allowlist', args: { collection: 'allowed' } }, 'grant:allowlist', 'confirm', 'widens what may run, like add_query_to_collection'],
  ['drop_collection_from_allowlist', { type: 'drop_collection_from_allowlist', args: { collection: 'allowed' } }, 'drop:allowlist', 'confirm'],
  ['create_rest_endpoint', { type: 'create_rest_endpoint', args: { name: 'e', url: 'e', methods: ['GET'], definition: { query: { query_name: 'q', collection_name: 'allowed' } } } }, 'add:rest_endpoint', 'allow'],
  ['drop_rest_endpoint', { type: 'drop_rest_endpoint', args: { name: 'e' } }, 'drop:rest_endpoint', 'confirm'],
  ['set_api_limits', { type: 'set_api_limits', args: { disabled: true } }, 'modify:api_limits', 'confirm'],
  ['remove_api_limits', { type: 'remove_api_limits', args: {} }, 'drop:api_limits', 'confirm'],
  ['set_graphql_schema_introspection_options', { type: 'set_graphql_schema_introspection_options', args: { disabled_for_roles: [] } }, 'modify:introspection', 'confirm'],
  ['drop_host_from_tls_allowlist', { type: 'drop_host_from_tls_allowlist', args: { host: 'x' } }, 'revoke:tls_allowlist', 'confirm'],
  ['pg_set_function_customization', { type: 'pg_set_function_customization', args: { function: { schema: 'public', name: 'f' }, configuration: {}, source: 'default' } }, 'modify:customization', 'confirm'],
  ['pg_track_function', { type: 'pg_track_function', args: { function: { schema: 'public', name: 'f' }, source: 'default' } }, 'add:function', 'allow'],
  ['pg_untrack_function', { type: 'pg_untrack_function', args: { function: { schema: 'public', name: 'f' }, source: 'default' } }, 'untrack:function', 'confirm'],
  ['pg_add_computed_field', { type: 'pg_add_computed_field', args: { table, name: 'full_name', definition: { function: { schema: 'public', name: 'f' } }, source: 'default' } }, 'add:computed_field', 'allow'],
  ['pg_drop_computed_field', { type: 'pg_drop_computed_field', args: { table, name: 'full_name', source: 'default' } }, 'drop:computed_field', 'confirm'],
  ['pg_create_remote_relationship', { type: 'pg_create_remote_relationship', args: { table, name: 'r', definition: {}, source: 'default' } }, 'add:remote_relationship', 'allow'],
  ['pg_delete_remote_relationship', { type: 'pg_delete_remote_relationship', args: { table, name: 'r', source: 'default' } }, 'drop:remote_relationship', 'confirm'],
  ['pg_set_table_is_enum', { type: 'pg_set_table_is_enum', args: { table, is_enum: true, source: 'default' } }, 'modify:table', 'confirm'],
  ['pg_update_source', { type: 'pg_update_source', args: { name: 'default', configuration: {} } }, 'modify:source', 'confirm'],
  ['pg_redeliver_event', { type: 'pg_redeliver_event', args: { event_id: 'x', source: 'default' } }, 'run:event_trigger', 'confirm'],
  ['drop_inconsistent_metadata', { type: 'drop_inconsistent_metadata', args: {} }, 'drop:metadata', 'confirm'],
  ['reload_metadata', { type: 'reload_metadata', args: { reload_remote_schemas: true } }, 'read:metadata', 'allow'],
  ['test_webhook_transform', { type: 'test_webhook_transform', args: {} }, 'read:metadata', 'allow'],
  ['mssql_run_sql', { type: 'mssql_run_sql', args: { source: 'mssql', sql: 'DROP TABLE dbo.t' } }, 'unknown:unknown', 'confirm'],
  ['citus_run_sql', { type: 'citus_run_sql', args: { source: 'citus', sql: 'TRUNCATE t' } }, 'delete:all_rows', 'confirm'],
  ['count', { type: 'count', args: { table: 'patients' } }, 'read:rows', 'allow'],
  ['data API: update with where', { type: 'update', args: { table: 'patients', where: { id: { $eq: 1 } }, $set: { a: 1 } } }, 'rewrite:rows', 'confirm'],
  ['data API: update without where', { type: 'update', args: { table: 'patients', where: {}, $set: { a: 1 } } }, 'rewrite:all_rows', 'confirm'],
];

describe('Hasura request bodies, decided for production', () => {
  it.each(BODIES)('%s → %s → %s', async (_label, body, effects, level) => {
    const result = await judge({ operation: String(body.type ?? 'request'), request: body });
    expect(keys(result.effects)).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
  });
});

// Replacements diffed against the metadata in force.
const metadataWith = (tables: string[], extra: Record<string, unknown> = {}) => ({
  version: 3,
  sources: [
    {
      name: 'default',
      kind: 'postgres',
      tables: tables.map((name) => ({
        table: { schema: 'public', name },
        object_relationships: name === 'patients' ? [{ name: 'doctor', using: { foreign_key_constraint_on: 'doctor_id' } }] : [],
        select_permissions: [{ role: 'user', permission: { columns: ['id'], filter: {} } }],
      })),
      configuration: { connection_info: { database_url: { from_env: 'DB' } } },
    },
  ],
  ...extra,
});
/** A new table with no relationship or permission: nothing is removed or opened up. */
const withExtraTable = (metadata: ReturnType<typeof metadataWith>) => {
  metadata.sources[0]!.tables.push({ table: { schema: 'public', name: 'notes' }, object_relationships: [], select_permissions: [] });
  return metadata;
};
const replace = (metadata: unknown) => ({ type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: true, metadata } });
const current = metadataWith(['patients', 'doctors', 'visits', 'bills']);

const REPLACEMENTS: [string, unknown, string, Level][] = [
  ['the same metadata again', current, '', 'allow'],
  ['one table more, with a permission', metadataWith(['patients', 'doctors', 'visits', 'bills', 'notes']), 'add:table grant:permission', 'confirm'],
  ['one table more, no permission', withExtraTable(metadataWith(['patients', 'doctors', 'visits', 'bills'])), 'add:table', 'allow'],
  ['one table less', metadataWith(['patients', 'doctors', 'visits']), 'revoke:permission untrack:table', 'confirm'],
  ['most tables gone', metadataWith(['patients']), 'clear:metadata revoke:permission untrack:table', 'deny'],
  ['an empty metadata', { version: 3, sources: [] }, 'clear:metadata clear:source drop:relationship drop:source revoke:permission untrack:table', 'deny'],
];

describe('replacements against the metadata in force', () => {
  it.each(REPLACEMENTS)('replace_metadata: %s → %s → %s', async (_label, next, effects, level) => {
    const result = await judge({ operation: 'replace_metadata', request: replace(next), currentMetadata: current });
    expect(keys(result.effects.filter((e) => e.verb !== 'read'))).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
  });
});

// Every backend's prefix means the same thing: the same families under each, as bodies with real arguments.
const BACKENDS = ['pg', 'mssql', 'citus', 'cockroach', 'bigquery'];
const FAMILIES: [string, Record<string, unknown>, string, Level][] = [
  ['track_table', { table, source: 'default' }, 'add:table', 'allow'],
  ['untrack_table', { table, source: 'default', cascade: true }, 'untrack:table', 'confirm'],
  ['create_object_relationship', { table, name: 'doctor', using: { foreign_key_constraint_on: 'doctor_id' }, source: 'default' }, 'add:relationship', 'allow'],
  ['drop_relationship', { table, relationship: 'doctor', source: 'default' }, 'drop:relationship', 'confirm'],
  ['rename_relationship', { table, name: 'doctor', new_name: 'physician', source: 'default' }, 'rename:relationship', 'confirm'],
  ['create_select_permission', { table, role: 'anonymous', permission: { columns: '*', filter: {} }, source: 'default' }, 'grant:permission', 'confirm'],
  ['drop_update_permission', { table, role: 'user', source: 'default' }, 'revoke:permission', 'confirm'],
  ['set_table_customization', { table, configuration: { custom_name: 'people' }, source: 'default' }, 'modify:customization', 'confirm'],
  ['drop_source', { name: 'default' }, 'drop:source', 'deny'],
];
const PREFIXED: BodyRow[] = BACKENDS.flatMap((backend) =>
  FAMILIES.map(([type, args, effects, level]): BodyRow => [`${backend}_${type}`, { type: `${backend}_${type}`, args }, effects, level]),
);

describe('every backend prefix, decided for production', () => {
  it.each(PREFIXED)('%s → %s → %s', async (_label, body, effects, level) => {
    const result = await judge({ operation: String(body.type), request: body });
    expect(keys(result.effects)).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
  });
});

// However operations are nested in bulks, the whole is never judged weaker than its strictest part.
const RANK: Record<Level, number> = { allow: 0, confirm: 1, deny: 2 };
const PARTS = [...BODIES, ...PREFIXED].map(([, body]) => body).filter((body) => typeof body.type === 'string');

describe('bulks, whatever their nesting', () => {
  it('are never judged weaker than their strictest part (fast-check)', async () => {
    const levelOf = async (body: unknown) => (await judge({ operation: 'request', request: body })).level;
    const partLevels = new Map<unknown, Level>();
    for (const part of PARTS) partLevels.set(part, await levelOf(part));
    type Tree = { part: Record<string, unknown> } | { bulk: string; children: Tree[] };
    const tree = fc.letrec<{ node: Tree }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ part: fc.constantFrom(...PARTS) }),
        fc.record({ bulk: fc.constantFrom('bulk', 'bulk_atomic', 'bulk_keep_going'), children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }) }),
      ),
    })).node;
    const toBody = (t: Tree): unknown => ('part' in t ? t.part : { type: t.bulk, args: t.children.map(toBody) });
    const strictest = (t: Tree): number => ('part' in t ? RANK[partLevels.get(t.part)!] : Math.max(...t.children.map(strictest)));
    await fc.assert(
      fc.asyncProperty(tree, async (t) => {
        expect(RANK[await levelOf(toBody(t))]).toBeGreaterThanOrEqual(strictest(t));
      }),
      { numRuns: 300 },
    );
  });
});

// ---- Hasura's own words (issue 20): shapes from Hasura's test suite, and decisions the words alone must fail closed on.

const FIDELITY_OPERATIONS: OperationRow[] = [
  // only the body says replace: true / replace_configuration: true / a new connection: without it, the guard asks
  ['pg_create_event_trigger', 'public.patients', 'replace:event_trigger', 'confirm', 'replace: true silently overwrites a trigger; only the body tells'],
  ['create_event_trigger', 'public.patients', 'replace:event_trigger', 'confirm'],
  ['create_cron_trigger', '', 'replace:cron_trigger', 'confirm', 'replace: true silently overwrites a trigger; only the body tells'],
  ['pg_add_source', 'default', 'replace:source', 'confirm', 'replace_configuration: true repoints a live source (hasura/graphql-engine#8199)'],
  ['add_source', 'default', 'replace:source', 'confirm'],
  ['pg_update_source', 'default', 'replace:source', 'confirm', 'a new connection repoints the source'],
  ['update_source', 'default', 'replace:source', 'confirm'],
  // both widen what may run where the allow list is enforced: decided alike
  ['add_collection_to_allowlist', '', 'grant:allowlist', 'confirm', 'its queries join the allow list'],
  ['add_query_to_collection', '', 'grant:query_collection', 'confirm', 'the collection may be on the allow list'],
  // comments are comments, however they are typed
  ['COMMENT ON TABLE x', '', 'comment:table', 'allow', 'not SQL without IS: the word after TABLE is its name'],
  ['COMMENT ON TABLE public.patients', 'public.patients', 'comment:table', 'allow'],
  ['COMMENT ON TABLE drop_everything', '', 'comment:table drop:table unknown:unknown', 'confirm', 'a name holding a verb is read as words'],
  // extensions: code that reaches outside the database is a grant
  ['CREATE EXTENSION dblink', '', 'grant:extension', 'confirm', 'dblink opens connections to other databases'],
  ['CREATE EXTENSION IF NOT EXISTS postgres_fdw', '', 'grant:extension', 'confirm'],
  ['CREATE EXTENSION plpython3u', '', 'grant:extension', 'confirm', 'an untrusted language: its functions do anything the server user can'],
  ['CREATE EXTENSION pg_cron', '', 'grant:extension', 'confirm'],
  ['CREATE EXTENSION postgis', '', 'add:extension', 'allow'],
  ['CREATE EXTENSION "uuid-ossp"', '', 'add:extension', 'allow'],
  ['CREATE EXTENSION citext', '', 'add:extension', 'allow'],
  ['CREATE EXTENSION pg_trgm', '', 'add:extension', 'allow'],
  ['CREATE EXTENSION btree_gist', '', 'add:extension', 'allow'],
  // functions of the common extensions compute; setval writes a sequence
  ["SELECT ST_AsText(ST_Buffer(ST_GeomFromText('POINT(1 2)'), 3))", '', 'read:sql', 'allow'],
  ["SELECT setval('patients_id_seq', 1)", '', 'run:function', 'confirm', 'setval resets a sequence: code, not a computation'],
  ["SELECT EXISTS (SELECT * FROM information_schema.tables WHERE table_schema = 'hdb_catalog' AND table_name = 'event_log')", '', 'read:table', 'allow', 'the subquery has its own FROM'],
];

describe("Hasura's own words: operations, decided for production", () => {
  it.each(FIDELITY_OPERATIONS)('%j on %j → %s → %s', async (operation, table, effects, level) => {
    const result = await judge({ operation, table });
    expect(keys(result.effects)).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
    expect(result.staging).toBe('allow');
  });
});

const fromEnv = { connection_info: { database_url: { from_env: 'DB' } } };
const inline = (url: string) => ({ connection_info: { database_url: url } });

const FIDELITY_BODIES: BodyRow[] = [
  // legacy /v1/query shapes from Hasura's test suite
  ['track_table, a bare name', { type: 'track_table', args: 'users' }, 'add:table', 'allow', 'TrackTable: the table itself, public.users'],
  ['track_table, {schema, name}', { type: 'track_table', args: { schema: 'public', name: 'users' } }, 'add:table', 'allow'],
  ['add_existing_table_or_view, a bare name', { type: 'add_existing_table_or_view', args: 'crust' }, 'add:table', 'allow'],
  ['track_function, a bare name', { type: 'track_function', args: 'get_test2' }, 'add:function', 'allow'],
  ['untrack_function, {schema, name}', { type: 'untrack_function', args: { schema: 'public', name: 'f' } }, 'untrack:function', 'confirm'],
  ['untrack_table, a bare name (Hasura refuses it)', { type: 'untrack_table', args: 'users' }, 'unknown:unknown', 'confirm'],
  ['pg_track_table, a bare name (Hasura refuses it)', { type: 'pg_track_table', args: 'users' }, 'unknown:unknown', 'confirm'],
  // args Hasura ignores, as the CLI sends them
  ['export_metadata, args "{}" (the CLI)', { type: 'export_metadata', args: '{}' }, 'read:metadata', 'allow'],
  ['get_inconsistent_metadata, args "{}"', { type: 'get_inconsistent_metadata', args: '{}' }, 'read:metadata', 'allow'],
  ['clear_metadata, args "{}"', { type: 'clear_metadata', args: '{}' }, 'clear:metadata', 'deny'],
  ['drop_inconsistent_metadata, args null', { type: 'drop_inconsistent_metadata', args: null }, 'drop:metadata', 'confirm'],
  ['remove_api_limits, args "{}"', { type: 'remove_api_limits', args: '{}' }, 'drop:api_limits', 'confirm'],
  // version 2 bodies
  ['export_metadata, version 2', { type: 'export_metadata', version: 2, args: {} }, 'read:metadata', 'allow'],
  ['track_table, version 2 (/v1/query)', { type: 'track_table', version: 2, args: { table: 'users', configuration: { custom_name: 'people' } } }, 'add:table', 'allow'],
  ['track_function, version 2 (/v1/query)', { type: 'track_function', version: 2, args: { function: 'search', configuration: {} } }, 'add:function', 'allow'],
  // backend prefixes and data connectors
  ['citus_track_table', { type: 'citus_track_table', args: { table: 'users', source: 'citus' } }, 'add:table', 'allow'],
  ['cockroach_create_select_permission', { type: 'cockroach_create_select_permission', args: { table, role: 'user', permission: { columns: '*', filter: {} }, source: 'crdb' } }, 'grant:permission', 'confirm'],
  ['a data connector: sqlite_track_table', { type: 'sqlite_track_table', args: { table: ['main', 'users'], source: 'chinook' } }, 'add:table', 'allow'],
  ['a data connector: sqlite_run_sql', { type: 'sqlite_run_sql', args: { source: 'chinook', sql: 'SELECT 1' } }, 'unknown:unknown', 'confirm', 'another dialect: not read'],
  ['cockroach_run_sql', { type: 'cockroach_run_sql', args: { source: 'crdb', sql: 'SELECT 1' } }, 'read:sql', 'allow', "PostgreSQL's dialect"],
  // triggers: replace: true is a replacement, without it an addition
  ['pg_create_event_trigger, replace: true', { type: 'pg_create_event_trigger', args: { name: 'audit', table, source: 'default', replace: true, insert: { columns: '*' }, webhook: 'http://x' } }, 'replace:event_trigger', 'confirm'],
  ['create_event_trigger, new', { type: 'create_event_trigger', args: { name: 'audit', table, insert: { columns: '*' }, webhook: 'http://x' } }, 'grant:event_trigger', 'confirm'],
  ['create_cron_trigger, replace: true', { type: 'create_cron_trigger', args: { name: 'nightly', webhook: 'http://x', schedule: '0 0 * * *', replace: true } }, 'replace:cron_trigger', 'confirm'],
  // sources
  ['pg_add_source, new, from_env', { type: 'pg_add_source', args: { name: 'analytics', configuration: fromEnv } }, 'add:source', 'allow'],
  ['pg_add_source, new, a URL in the metadata', { type: 'pg_add_source', args: { name: 'analytics', configuration: inline('postgres://app:pw@db/analytics') } }, 'add:source grant:credentials', 'confirm', 'the URL travels with every export and apply'],
  ['pg_add_source, replace_configuration: true', { type: 'pg_add_source', args: { name: 'default', configuration: fromEnv, replace_configuration: true } }, 'replace:source', 'confirm'],
  ['pg_update_source, a new connection', { type: 'pg_update_source', args: { name: 'default', configuration: { connection_info: { database_url: { from_env: 'DEV_DB' } } } } }, 'replace:source', 'confirm'],
  ['pg_update_source, customization only', { type: 'pg_update_source', args: { name: 'default', customization: { root_fields: { prefix: 'x' } } } }, 'modify:source', 'confirm'],
  // seeds with PostGIS
  ['a seed calling PostGIS', runSql("INSERT INTO places (geom) VALUES (ST_GeomFromEWKT('SRID=4326;POINT(1 2)')), (ST_Buffer(ST_SetSRID(ST_MakePoint(1, 2), 4326), 3))"), 'add:rows', 'allow'],
  ['a seed resetting a sequence', runSql("SELECT setval('places_id_seq', 10)"), 'run:function', 'confirm'],
  [
    'a function created under an extension function\'s name, then called',
    runSql('CREATE FUNCTION st_buffer(a int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN DROP TABLE patients; RETURN a; END $$; SELECT st_buffer(1)'),
    'add:function drop:table read:sql',
    'confirm',
    'its body is read where it is created',
  ],
];

describe("Hasura's own words: request bodies, decided for production", () => {
  it.each(FIDELITY_BODIES)('%s → %s → %s', async (_label, body, effects, level) => {
    const result = await judge({ operation: String(body.type ?? 'request'), request: body });
    expect(keys(result.effects)).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
  });

  it('a bare-name track_table names the table as Hasura reads it', async () => {
    const { effects } = await judge({ operation: 'track_table', request: { type: 'track_table', args: 'users' } });
    expect(effects).toEqual([{ verb: 'add', object: 'table', name: 'default.public.users' }]);
  });
});

const inForce = { version: 3, sources: [{ name: 'default', kind: 'postgres', tables: [], configuration: inline('postgres://app:prod-pw@prod.internal/app') }] };

describe('sources repointed, against the metadata in force: which source, from what, to what, never a password', () => {
  it('add_source with replace_configuration: true', async () => {
    const request = { type: 'pg_add_source', args: { name: 'default', configuration: inline('postgres://app:dev-pw@dev.internal/app'), replace_configuration: true } };
    const result = await judge({ operation: 'pg_add_source', request, currentMetadata: inForce });
    expect(result.level).toBe('confirm');
    expect(result.effects[0]).toEqual({
      verb: 'replace',
      object: 'source',
      name: 'default',
      detail: 'repoints it to database postgres://app:***@dev.internal/app, from database postgres://app:***@prod.internal/app',
    });
    expect(JSON.stringify(result.effects)).not.toMatch(/dev-pw|prod-pw/);
  });

  it('add_source with replace_configuration: true for a source not in force is an addition', async () => {
    const request = { type: 'pg_add_source', args: { name: 'reports', configuration: fromEnv, replace_configuration: true } };
    expect(keys((await judge({ operation: 'pg_add_source', request, currentMetadata: inForce })).effects)).toBe('add:source');
  });

  it('update_source with the same connection is a modification', async () => {
    const request = { type: 'pg_update_source', args: { name: 'default', configuration: inline('postgres://app:prod-pw@prod.internal/app') } };
    expect(keys((await judge({ operation: 'pg_update_source', request, currentMetadata: inForce })).effects)).toBe('grant:credentials modify:source');
  });

  it.each([
    ['another database_url', inline('postgres://app:dev-pw@dev.internal/app'), 'grant:credentials replace:source', 'confirm'],
    ['the same database_url', inline('postgres://app:prod-pw@prod.internal/app'), '', 'allow'],
    ['from_env instead', fromEnv, 'replace:source', 'confirm'],
  ])('replace_metadata with %s', async (_label, configuration, effects, level) => {
    const next = { ...inForce, sources: [{ ...inForce.sources[0]!, configuration }] };
    const result = await judge({ operation: 'replace_metadata', request: replace(next), currentMetadata: inForce });
    expect(keys(result.effects.filter((e) => e.verb !== 'read'))).toBe(expectKeys(effects));
    expect(result.level).toBe(level);
    expect(JSON.stringify(result.effects)).not.toMatch(/dev-pw|prod-pw/);
  });

  it('replace_metadata bringing a new source with its URL written in', async () => {
    const next = { ...inForce, sources: [...inForce.sources, { name: 'reports', kind: 'postgres', tables: [], configuration: inline('postgres://r:pw@reports/r') }] };
    const result = await judge({ operation: 'replace_metadata', request: replace(next), currentMetadata: inForce });
    expect(keys(result.effects)).toBe('add:source grant:credentials');
    expect(result.level).toBe('confirm');
  });

  it('replace_metadata adding a collection to the allow list', async () => {
    const next = { ...inForce, allowlist: [{ collection: 'allowed', scope: { global: true } }] };
    const result = await judge({ operation: 'replace_metadata', request: replace(next), currentMetadata: inForce });
    expect(keys(result.effects)).toBe('grant:allowlist');
    expect(result.level).toBe('confirm');
  });
});
