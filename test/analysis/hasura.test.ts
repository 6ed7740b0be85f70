import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Effect } from '../../src/vocabulary/effects.js';
import { analyzeHasuraRequest, isHasuraType, MAX_BULK_DEPTH, type HasuraAnalysisContext } from '../../src/analysis/hasura.js';
import { CATALOGUE } from '../../src/analysis/hasura-catalogue.js';
import { AGNOSTIC_COMMANDS, BACKEND_COMMANDS, V1_QUERY_TYPES, V2_QUERY_TYPES } from '../fixtures/hasura-api-types.js';
import * as consoleBodies from '../fixtures/hasura-console-bodies.js';

/** A stand-in for the SQL analyser: enough statement kinds to see what the Hasura analyser does with its answer. */
function fakeSql(sql: string, options: { readOnly: boolean; at: string }): Effect[] {
  return sql
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '')
    .map((statement, index): Effect => {
      const at = `${options.at} statement ${index + 1}`.trim();
      const drop = /^drop\s+table\s+(\S+)/i.exec(statement);
      if (drop) return { verb: 'drop', object: 'table', name: drop[1]!.replace(/"/g, ''), at };
      if (/^select/i.test(statement)) return { verb: 'read', object: 'rows', at };
      if (/^set/i.test(statement)) return { verb: 'modify', object: 'setting', name: 'statement_timeout', at };
      return { verb: 'unknown', object: 'sql', detail: options.readOnly ? 'read only' : 'read write', at };
    });
}

const context: HasuraAnalysisContext = { analyzeSql: fakeSql };
const analyse = (body: unknown, currentMetadata?: unknown): Effect[] => analyzeHasuraRequest(body, { ...context, currentMetadata });

/** One effect in a line a test can state: `drop:relationship default.public.t.r (CASCADE)`. */
const line = (effect: Effect): string =>
  `${effect.verb}:${effect.object}${effect.name === undefined ? '' : ` ${effect.name}`}${effect.detail === undefined ? '' : ` (${effect.detail})`}`;
const lines = (body: unknown, currentMetadata?: unknown): string[] => analyse(body, currentMetadata).map(line);

const t = { schema: 'public', name: 'patients' };
const call = (type: string, args?: unknown) => (args === undefined ? { type } : { type, args });
const unknownType = (type: string) => [`unknown:unknown (unknown Hasura type "${type}")`];

type Row = [label: string, body: unknown, expected: string[]];

const METADATA_ROWS: Row[] = [
  // sources
  ['pg_add_source', call('pg_add_source', { name: 'reports', configuration: {} }), ['add:source reports']],
  ['pg_add_source replace_configuration', call('pg_add_source', { name: 'default', configuration: {}, replace_configuration: true }), ['replace:source default (repoints it to a database not said, from where it points now, which the guard was not shown)']],
  ['mssql_add_source', call('mssql_add_source', { name: 'ms', configuration: {} }), ['add:source ms']],
  ['snowflake_add_source (data connector)', call('snowflake_add_source', { name: 'snow', configuration: {} }), ['add:source snow']],
  ['pg_drop_source', call('pg_drop_source', { name: 'default' }), ['drop:source default']],
  ['pg_drop_source cascade', call('pg_drop_source', { name: 'default', cascade: true }), ['drop:source default (CASCADE)']],
  ['bigquery_drop_source', call('bigquery_drop_source', { name: 'bq' }), ['drop:source bq']],
  ['pg_update_source', call('pg_update_source', { name: 'default', configuration: {} }), ['modify:source default']],
  ['rename_source', call('rename_source', { name: 'default', new_name: 'main' }), ['rename:source default (to main)']],
  ['list_source_kinds', call('list_source_kinds', {}), ['read:source']],
  ['get_source_kind_capabilities', call('get_source_kind_capabilities', { name: 'sqlite' }), ['read:source sqlite']],
  ['pg_get_source_tables', call('pg_get_source_tables', { source: 'default' }), ['read:source default']],
  ['pg_test_connection_template', call('pg_test_connection_template', { source_name: 'default' }), ['read:source']],
  ['get_table_info (agnostic)', call('get_table_info', { source: 'default', table: ['main', 'album'] }), ['read:table default.main.album']],
  ['dc_add_agent', call('dc_add_agent', { name: 'sqlite', url: 'http://agent' }), ['add:data_connector sqlite']],
  ['dc_delete_agent', call('dc_delete_agent', { name: 'sqlite' }), ['drop:data_connector sqlite']],
  // tables
  ['pg_track_table', call('pg_track_table', { source: 'default', table: t }), ['add:table default.public.patients']],
  ['track_table (v1, bare name)', call('track_table', { table: 'patients' }), ['add:table default.public.patients']],
  ['add_existing_table_or_view', call('add_existing_table_or_view', { schema: 'public', name: 'patients' }), ['add:table default.public.patients']],
  ['citus_track_table', call('citus_track_table', { source: 'c', table: t }), ['add:table c.public.patients']],
  ['cockroach_track_table', call('cockroach_track_table', { source: 'cr', table: 'users' }), ['add:table cr.public.users']],
  ['mssql_track_table (dbo by default)', call('mssql_track_table', { source: 'ms', table: 'orders' }), ['add:table ms.dbo.orders']],
  ['bigquery_track_table (dataset)', call('bigquery_track_table', { source: 'bq', table: { dataset: 'sales', name: 'orders' } }), ['add:table bq.sales.orders']],
  ['mysql_track_table', call('mysql_track_table', { source: 'my', table: { schema: 'shop', name: 'items' } }), ['add:table my.shop.items']],
  ['pg_track_tables (adds each)', call('pg_track_tables', { tables: [{ table: t, source: 'default' }, { table: { schema: 'public', name: 'visits' }, source: 'default' }] }), ['add:table default.public.patients', 'add:table default.public.visits']],
  ['pg_untrack_table', call('pg_untrack_table', { source: 'default', table: t }), ['untrack:table default.public.patients']],
  ['pg_untrack_table cascade', call('pg_untrack_table', { source: 'default', table: t, cascade: true }), ['untrack:table default.public.patients (CASCADE: its dependents go too)']],
  ['untrack_table (v1)', call('untrack_table', { table: t, cascade: false }), ['untrack:table default.public.patients']],
  ['mssql_untrack_table', call('mssql_untrack_table', { source: 'ms', table: { schema: 'dbo', name: 'orders' } }), ['untrack:table ms.dbo.orders']],
  ['pg_untrack_tables cascade', call('pg_untrack_tables', { cascade: true, tables: [{ table: t, source: 'default' }] }), ['untrack:table default.public.patients (CASCADE: its dependents go too)']],
  ['pg_set_table_customization', call('pg_set_table_customization', { source: 'default', table: t, configuration: { custom_name: 'Patient' } }), ['modify:customization default.public.patients']],
  ['set_table_custom_fields (v1 query, version 2)', { type: 'set_table_custom_fields', version: 2, args: { table: t, custom_root_fields: {} } }, ['modify:customization default.public.patients']],
  ['pg_set_table_is_enum', call('pg_set_table_is_enum', { source: 'default', table: t, is_enum: true }), ['modify:table default.public.patients (is_enum: true)']],
  ['set_table_is_enum (v1)', call('set_table_is_enum', { table: t, is_enum: false }), ['modify:table default.public.patients (is_enum: false)']],
  ['pg_set_apollo_federation_config', call('pg_set_apollo_federation_config', { source: 'default', table: t, apollo_federation_config: { enable: 'v1' } }), ['modify:table default.public.patients (apollo federation)']],
  ['pg_get_table_info', call('pg_get_table_info', { source: 'default', table: t }), ['read:table default.public.patients']],
  // permissions
  ['pg_create_select_permission for anonymous', call('pg_create_select_permission', { source: 'default', table: t, role: 'anonymous', permission: { columns: '*', filter: {} } }), ['grant:permission default.public.patients select for anonymous (select for role anonymous)']],
  ['pg_create_insert_permission', call('pg_create_insert_permission', { source: 'default', table: t, role: 'user', permission: {} }), ['grant:permission default.public.patients insert for user (insert for role user)']],
  ['pg_create_update_permission', call('pg_create_update_permission', { source: 'default', table: t, role: 'user', permission: {} }), ['grant:permission default.public.patients update for user (update for role user)']],
  ['pg_create_delete_permission', call('pg_create_delete_permission', { source: 'default', table: t, role: 'user', permission: {} }), ['grant:permission default.public.patients delete for user (delete for role user)']],
  ['create_select_permission (v1)', call('create_select_permission', { table: 'patients', role: 'anonymous', permission: {} }), ['grant:permission default.public.patients select for anonymous (select for role anonymous)']],
  ['mssql_create_select_permission', call('mssql_create_select_permission', { source: 'ms', table: 'orders', role: 'user', permission: {} }), ['grant:permission ms.dbo.orders select for user (select for role user)']],
  ['bigquery_create_select_permission', call('bigquery_create_select_permission', { source: 'bq', table: { dataset: 'd', name: 'o' }, role: 'user', permission: {} }), ['grant:permission bq.d.o select for user (select for role user)']],
  ['pg_drop_select_permission', call('pg_drop_select_permission', { source: 'default', table: t, role: 'user' }), ['revoke:permission default.public.patients select for user (select for role user)']],
  ['pg_drop_insert_permission', call('pg_drop_insert_permission', { source: 'default', table: t, role: 'user' }), ['revoke:permission default.public.patients insert for user (insert for role user)']],
  ['pg_drop_update_permission', call('pg_drop_update_permission', { source: 'default', table: t, role: 'user' }), ['revoke:permission default.public.patients update for user (update for role user)']],
  ['drop_delete_permission (v1)', call('drop_delete_permission', { table: t, role: 'user' }), ['revoke:permission default.public.patients delete for user (delete for role user)']],
  ['citus_drop_select_permission', call('citus_drop_select_permission', { source: 'c', table: t, role: 'user' }), ['revoke:permission c.public.patients select for user (select for role user)']],
  ['pg_set_permission_comment', call('pg_set_permission_comment', { source: 'default', table: t, role: 'user', type: 'select', comment: 'x' }), ['comment:permission default.public.patients select for user']],
  // relationships
  ['pg_create_object_relationship', call('pg_create_object_relationship', { source: 'default', table: t, name: 'doctor', using: {} }), ['add:relationship default.public.patients.doctor']],
  ['pg_create_array_relationship', call('pg_create_array_relationship', { source: 'default', table: t, name: 'visits', using: {} }), ['add:relationship default.public.patients.visits']],
  ['create_object_relationship (v1)', call('create_object_relationship', { table: 'patients', name: 'doctor', using: {} }), ['add:relationship default.public.patients.doctor']],
  ['pg_drop_relationship', call('pg_drop_relationship', { source: 'default', table: t, relationship: 'doctor' }), ['drop:relationship default.public.patients.doctor']],
  ['pg_drop_relationship cascade', call('pg_drop_relationship', { source: 'default', table: t, relationship: 'doctor', cascade: true }), ['drop:relationship default.public.patients.doctor (CASCADE)']],
  ['mssql_drop_relationship', call('mssql_drop_relationship', { source: 'ms', table: 'orders', relationship: 'customer' }), ['drop:relationship ms.dbo.orders.customer']],
  ['pg_rename_relationship', call('pg_rename_relationship', { source: 'default', table: t, name: 'doctor', new_name: 'physician' }), ['rename:relationship default.public.patients.doctor (to physician)']],
  ['pg_set_relationship_comment', call('pg_set_relationship_comment', { source: 'default', table: t, name: 'doctor', comment: 'x' }), ['comment:relationship default.public.patients.doctor']],
  ['pg_suggest_relationships', call('pg_suggest_relationships', { source: 'default', omit_tracked: true }), ['read:relationship default']],
  ['pg_create_remote_relationship', call('pg_create_remote_relationship', { source: 'default', table: t, name: 'country', definition: {} }), ['add:remote_relationship default.public.patients.country']],
  ['pg_update_remote_relationship', call('pg_update_remote_relationship', { source: 'default', table: t, name: 'country', definition: {} }), ['modify:remote_relationship default.public.patients.country']],
  ['pg_delete_remote_relationship', call('pg_delete_remote_relationship', { source: 'default', table: t, name: 'country' }), ['drop:remote_relationship default.public.patients.country']],
  ['create_remote_schema_remote_relationship', call('create_remote_schema_remote_relationship', { remote_schema: 'rs', type_name: 'User', name: 'orders', definition: {} }), ['add:remote_relationship rs.User.orders']],
  ['update_remote_schema_remote_relationship', call('update_remote_schema_remote_relationship', { remote_schema: 'rs', type_name: 'User', name: 'orders', definition: {} }), ['modify:remote_relationship rs.User.orders']],
  ['delete_remote_schema_remote_relationship', call('delete_remote_schema_remote_relationship', { remote_schema: 'rs', type_name: 'User', name: 'orders' }), ['drop:remote_relationship rs.User.orders']],
  // functions and computed fields
  ['pg_track_function', call('pg_track_function', { source: 'default', function: { schema: 'public', name: 'search' } }), ['add:function default.public.search']],
  ['track_function (v1, bare name)', call('track_function', { name: 'search', schema: 'public' }), ['add:function default.public.search']],
  ['pg_untrack_function', call('pg_untrack_function', { source: 'default', function: { schema: 'public', name: 'search' } }), ['untrack:function default.public.search']],
  ['pg_set_function_customization', call('pg_set_function_customization', { source: 'default', function: 'search', configuration: {} }), ['modify:customization default.public.search']],
  ['pg_create_function_permission', call('pg_create_function_permission', { source: 'default', function: 'search', role: 'user' }), ['grant:function_permission default.public.search for user (role user)']],
  ['pg_drop_function_permission', call('pg_drop_function_permission', { source: 'default', function: 'search', role: 'user' }), ['revoke:function_permission default.public.search for user (role user)']],
  ['pg_add_computed_field', call('pg_add_computed_field', { source: 'default', table: t, name: 'age', definition: {} }), ['add:computed_field default.public.patients.age']],
  ['pg_drop_computed_field cascade', call('pg_drop_computed_field', { source: 'default', table: t, name: 'age', cascade: true }), ['drop:computed_field default.public.patients.age (CASCADE)']],
  // native queries, logical models, stored procedures
  ['pg_track_native_query', call('pg_track_native_query', { source: 'default', root_field_name: 'top_patients', code: 'SELECT 1', returns: 'p' }), ['grant:native_query default.top_patients']],
  ['pg_untrack_native_query', call('pg_untrack_native_query', { source: 'default', root_field_name: 'top_patients' }), ['untrack:native_query default.top_patients']],
  ['pg_get_native_query', call('pg_get_native_query', { source: 'default' }), ['read:native_query default']],
  ['pg_track_logical_model', call('pg_track_logical_model', { source: 'default', name: 'p', fields: [] }), ['add:logical_model default.p']],
  ['pg_untrack_logical_model', call('pg_untrack_logical_model', { source: 'default', name: 'p' }), ['untrack:logical_model default.p']],
  ['pg_get_logical_model', call('pg_get_logical_model', { source: 'default' }), ['read:logical_model default']],
  ['pg_create_logical_model_select_permission', call('pg_create_logical_model_select_permission', { source: 'default', name: 'p', role: 'anonymous', permission: {} }), ['grant:permission default.p select for anonymous (select for role anonymous)']],
  ['pg_drop_logical_model_select_permission', call('pg_drop_logical_model_select_permission', { source: 'default', name: 'p', role: 'anonymous' }), ['revoke:permission default.p select for anonymous (select for role anonymous)']],
  ['pg_track_custom_return_type (earlier name)', call('pg_track_custom_return_type', { source: 'default', name: 'p', fields: [] }), ['add:logical_model default.p']],
  ['mssql_track_stored_procedure', call('mssql_track_stored_procedure', { source: 'ms', stored_procedure: { schema: 'dbo', name: 'report' } }), ['add:stored_procedure ms.dbo.report']],
  ['mssql_untrack_stored_procedure', call('mssql_untrack_stored_procedure', { source: 'ms', stored_procedure: 'report' }), ['untrack:stored_procedure ms.report']],
  ['mssql_get_stored_procedure', call('mssql_get_stored_procedure', { source: 'ms' }), ['read:stored_procedure ms']],
  // event triggers
  ['pg_create_event_trigger', call('pg_create_event_trigger', { source: 'default', table: t, name: 'notify', webhook: 'http://x' }), ['grant:event_trigger notify']],
  ['pg_create_event_trigger replace: true', call('pg_create_event_trigger', { source: 'default', table: t, name: 'notify', webhook: 'http://x', replace: true }), ['replace:event_trigger notify (replace: true)']],
  ['create_event_trigger (v1)', call('create_event_trigger', { table: t, name: 'notify', replace: false }), ['grant:event_trigger notify']],
  ['mssql_create_event_trigger replace', call('mssql_create_event_trigger', { source: 'ms', table: 'orders', name: 'n', replace: true }), ['replace:event_trigger n (replace: true)']],
  ['pg_delete_event_trigger', call('pg_delete_event_trigger', { source: 'default', name: 'notify' }), ['drop:event_trigger notify']],
  ['pg_delete_event_trigger clear_data', call('pg_delete_event_trigger', { source: 'default', name: 'notify', clear_data: true }), ['drop:event_trigger notify (clears its logs)']],
  ['pg_redeliver_event', call('pg_redeliver_event', { source: 'default', event_id: 'e1' }), ['run:event_trigger e1 (redelivers an event)']],
  ['pg_invoke_event_trigger', call('pg_invoke_event_trigger', { source: 'default', name: 'notify', payload: {} }), ['run:event_trigger notify (calls its webhook)']],
  ['pg_get_event_logs', call('pg_get_event_logs', { source: 'default', name: 'notify' }), ['read:event_logs notify']],
  ['pg_get_event_invocation_logs', call('pg_get_event_invocation_logs', { source: 'default', name: 'notify' }), ['read:event_logs notify']],
  ['pg_get_event_by_id', call('pg_get_event_by_id', { source: 'default', event_id: 'e1' }), ['read:event_logs']],
  ['cleanup_event_trigger_logs', call('cleanup_event_trigger_logs', { event_trigger_name: 'notify', source: 'default' }), ['delete:event_logs notify']],
  ['pause_event_trigger_cleanups', call('pause_event_trigger_cleanups', { event_triggers: ['notify'] }), ['modify:event_trigger (log cleanup paused)']],
  ['resume_event_trigger_cleanups', call('resume_event_trigger_cleanups', { event_triggers: ['notify'] }), ['modify:event_trigger (log cleanup resumed)']],
  // remote schemas
  ['add_remote_schema', call('add_remote_schema', { name: 'countries', definition: {} }), ['grant:remote_schema countries']],
  ['update_remote_schema', call('update_remote_schema', { name: 'countries', definition: {} }), ['modify:remote_schema countries']],
  ['remove_remote_schema', consoleBodies.removeRemoteSchema, ['drop:remote_schema countries']],
  ['reload_remote_schema', call('reload_remote_schema', { name: 'countries' }), ['read:remote_schema countries']],
  ['introspect_remote_schema', call('introspect_remote_schema', { name: 'countries' }), ['read:remote_schema countries']],
  ['add_remote_schema_permissions', call('add_remote_schema_permissions', { remote_schema: 'countries', role: 'user', definition: {} }), ['grant:remote_schema_permission countries for user (role user)']],
  ['drop_remote_schema_permissions', call('drop_remote_schema_permissions', { remote_schema: 'countries', role: 'user' }), ['revoke:remote_schema_permission countries for user (role user)']],
  // scheduled triggers
  ['create_cron_trigger', call('create_cron_trigger', { name: 'nightly', webhook: 'http://x', schedule: '0 0 * * *' }), ['add:cron_trigger nightly']],
  ['create_cron_trigger replace: true', call('create_cron_trigger', { name: 'nightly', webhook: 'http://x', schedule: '0 0 * * *', replace: true }), ['replace:cron_trigger nightly (replace: true)']],
  ['delete_cron_trigger', call('delete_cron_trigger', { name: 'nightly' }), ['drop:cron_trigger nightly']],
  ['get_cron_triggers (no args)', call('get_cron_triggers'), ['read:cron_trigger']],
  ['create_scheduled_event', call('create_scheduled_event', { webhook: 'http://x', schedule_at: '2030-01-01' }), ['add:scheduled_event http://x']],
  ['delete_scheduled_event', call('delete_scheduled_event', { type: 'one_off', event_id: 'e2' }), ['drop:scheduled_event e2']],
  ['get_scheduled_events', call('get_scheduled_events', { type: 'cron' }), ['read:scheduled_event']],
  ['get_scheduled_event_invocations', call('get_scheduled_event_invocations', { type: 'cron' }), ['read:event_logs']],
  // actions
  ['create_action', call('create_action', { name: 'login', definition: {} }), ['add:action login']],
  ['update_action', call('update_action', { name: 'login', definition: {} }), ['modify:action login']],
  ['drop_action (clears its logs by default)', consoleBodies.dropAction, ['drop:action login (clears its logs)']],
  ['drop_action clear_data: false', call('drop_action', { name: 'login', clear_data: false }), ['drop:action login']],
  ['create_action_permission', call('create_action_permission', { action: 'login', role: 'anonymous' }), ['grant:action_permission login for anonymous (role anonymous)']],
  ['drop_action_permission', call('drop_action_permission', { action: 'login', role: 'anonymous' }), ['revoke:action_permission login for anonymous (role anonymous)']],
  // collections, allow list, REST
  ['create_query_collection', call('create_query_collection', { name: 'allowed', definition: { queries: [] } }), ['add:query_collection allowed']],
  ['rename_query_collection', call('rename_query_collection', { name: 'allowed', new_name: 'ok' }), ['rename:query_collection allowed (to ok)']],
  ['drop_query_collection cascade', call('drop_query_collection', { collection: 'allowed', cascade: true }), ['drop:query_collection allowed (CASCADE)']],
  ['add_query_to_collection', call('add_query_to_collection', { collection_name: 'allowed', query_name: 'q', query: '{a}' }), ['grant:query_collection allowed.q (adds a query: it may run if the collection is allow-listed)']],
  ['drop_query_from_collection', call('drop_query_from_collection', { collection_name: 'allowed', query_name: 'q' }), ['modify:query_collection allowed.q (removes a query)']],
  ['add_collection_to_allowlist', call('add_collection_to_allowlist', { collection: 'allowed' }), ['grant:allowlist allowed (its queries may run)']],
  ['drop_collection_from_allowlist', call('drop_collection_from_allowlist', { collection: 'allowed' }), ['drop:allowlist allowed']],
  ['update_scope_of_collection_in_allowlist', call('update_scope_of_collection_in_allowlist', { collection: 'allowed', scope: { global: true } }), ['modify:allowlist allowed']],
  ['create_rest_endpoint', call('create_rest_endpoint', { name: 'patients', url: 'patients', methods: ['GET'] }), ['add:rest_endpoint patients']],
  ['drop_rest_endpoint', call('drop_rest_endpoint', { name: 'patients' }), ['drop:rest_endpoint patients']],
  // roles, network, settings
  ['add_inherited_role', call('add_inherited_role', { role_name: 'staff', role_set: ['doctor', 'nurse'] }), ['grant:role staff (inherits doctor, nurse)']],
  ['drop_inherited_role', call('drop_inherited_role', { role_name: 'staff' }), ['revoke:role staff']],
  ['add_host_to_tls_allowlist', call('add_host_to_tls_allowlist', { host: 'legacy.internal', suffix: '8443' }), ['grant:tls_allowlist legacy.internal:8443']],
  ['drop_host_from_tls_allowlist', call('drop_host_from_tls_allowlist', { host: 'legacy.internal' }), ['revoke:tls_allowlist legacy.internal']],
  ['set_api_limits', call('set_api_limits', { disabled: true }), ['modify:api_limits']],
  ['remove_api_limits (no args)', call('remove_api_limits'), ['drop:api_limits']],
  ['set_metrics_config', call('set_metrics_config', { analyze_query_variables: true }), ['modify:metrics_config']],
  ['remove_metrics_config', call('remove_metrics_config'), ['drop:metrics_config']],
  ['set_graphql_schema_introspection_options', call('set_graphql_schema_introspection_options', { disabled_for_roles: [] }), ['modify:introspection']],
  ['set_query_tags', call('set_query_tags', { source_name: 'default', disabled: true }), ['modify:query_tags default']],
  ['set_opentelemetry_config', call('set_opentelemetry_config', { status: 'enabled' }), ['modify:opentelemetry']],
  ['set_opentelemetry_status', call('set_opentelemetry_status', 'disabled'), ['unknown:unknown ("set_opentelemetry_status" args is not an object)']],
  // the metadata as a whole
  ['export_metadata', call('export_metadata', {}), ['read:metadata']],
  ['export_metadata v2', { type: 'export_metadata', version: 2, args: {} }, ['read:metadata']],
  ['get_inconsistent_metadata (the console login, no args)', consoleBodies.login, ['read:metadata']],
  ['dump_internal_state', call('dump_internal_state', {}), ['read:metadata']],
  ['get_feature_flag', call('get_feature_flag', { identifier: 'x' }), ['read:metadata']],
  ['reload_metadata', call('reload_metadata', { reload_remote_schemas: true }), ['read:metadata (reload)']],
  ['drop_inconsistent_metadata', call('drop_inconsistent_metadata', {}), ['drop:metadata (every inconsistent object)']],
  ['clear_metadata', call('clear_metadata', {}), ['clear:metadata']],
  ['clear_metadata (no args)', call('clear_metadata'), ['clear:metadata']],
  ['test_webhook_transform', call('test_webhook_transform', { webhook_url: 'http://x', body: {} }), ['read:metadata (webhook transform test)']],
  ['get_catalog_state', call('get_catalog_state', {}), ['read:catalog_state']],
  ['set_catalog_state console', call('set_catalog_state', { type: 'console', state: {} }), ['read:catalog_state console']],
  ['set_catalog_state cli (migrate apply)', consoleBodies.cliCatalogState, ['read:catalog_state cli']],
  ['set_catalog_state other type', call('set_catalog_state', { type: 'server', state: {} }), ['unknown:unknown (catalog state type is neither "console" nor "cli")']],
  ['replace_metadata without current metadata', consoleBodies.metadataApply({ version: 3, sources: [] }), ['replace:metadata (nothing to compare with)']],
  ['set_custom_types without current metadata', call('set_custom_types', { objects: [] }), ['replace:custom_types (nothing to compare with)']],
];

const QUERY_ROWS: Row[] = [
  ['run_sql drop', call('run_sql', { sql: 'DROP TABLE public.t' }), ['drop:table default.public.t']],
  ['run_sql with source', call('run_sql', { source: 'reports', sql: 'drop table x' }), ['drop:table reports.x']],
  ['run_sql cascade adds CASCADE to drops', call('run_sql', { sql: 'drop table a; select 1', cascade: true }), ['drop:table default.a (CASCADE)', 'read:rows']],
  ['run_sql read_only reaches the SQL analyser', call('run_sql', { sql: 'vacuum', read_only: true }), ['unknown:sql (read only)']],
  ['pg_run_sql', call('pg_run_sql', { source: 'default', sql: 'select 1' }), ['read:rows']],
  ['citus_run_sql', call('citus_run_sql', { source: 'c', sql: 'drop table t' }), ['drop:table c.t']],
  ['cockroach_run_sql', call('cockroach_run_sql', { source: 'cr', sql: 'drop table t' }), ['drop:table cr.t']],
  // Only the PostgreSQL family's SQL is PostgreSQL; read as PostgreSQL, T-SQL or BigQuery SQL can mean something else.
  ['mssql_run_sql', call('mssql_run_sql', { source: 'ms', sql: 'drop table t' }), ['unknown:unknown (SQL for mssql (source ms) is not read by the guard)']],
  ['bigquery_run_sql', call('bigquery_run_sql', { source: 'bq', sql: 'select 1' }), ['unknown:unknown (SQL for bigquery (source bq) is not read by the guard)']],
  ['data connector run_sql (name with underscores)', call('my_sqlite_run_sql', { source: 'lite', sql: 'drop table t' }), ['unknown:unknown (SQL for my_sqlite (source lite) is not read by the guard)']],
  ['postgres_run_sql is a data connector\'s, not PostgreSQL\'s', call('postgres_run_sql', { source: 'p', sql: 'select 1' }), ['unknown:unknown (SQL for postgres (source p) is not read by the guard)']],
  ['mssql_run_sql read_only: Hasura has no such field for SQL Server', call('mssql_run_sql', { source: 'ms', read_only: true, sql: 'SELECT (1)[\'x]; DROP TABLE patients; --\']' }), ['unknown:unknown (SQL for mssql (source ms) is not read by the guard)']],
  ['bigquery_run_sql with a # comment', call('bigquery_run_sql', { source: 'bq', sql: "select 1 # '\nselect '\\'; drop table patients; --'" }), ['unknown:unknown (SQL for bigquery (source bq) is not read by the guard)']],
  ['run_sql read_only with no_transaction runs read-write', call('run_sql', { sql: 'vacuum', read_only: true, no_transaction: true }), ['unknown:sql (read write)']],
  ['pg_run_sql read_only without no_transaction is read-only', call('pg_run_sql', { sql: 'vacuum', read_only: true, no_transaction: false }), ['unknown:sql (read only)']],
  ['citus_run_sql read_only', call('citus_run_sql', { source: 'c', sql: 'vacuum', read_only: true }), ['unknown:sql (read only)']],
  ['cockroach_run_sql read_only with no_transaction', call('cockroach_run_sql', { source: 'cr', sql: 'vacuum', read_only: true, no_transaction: true }), ['unknown:sql (read write)']],
  ['run_sql no_transaction not a boolean', call('run_sql', { sql: 'select 1', no_transaction: 'yes' }), ['unknown:unknown ("no_transaction" of "run_sql" is not a boolean)']],
  ['bigquery_database_inspection', call('bigquery_database_inspection', { source: 'bq', sql: '' }), ['read:database']],
  ['run_sql without sql', call('run_sql', { source: 'default' }), ['unknown:unknown ("run_sql" has no "sql" string)']],
  ['run_sql cascade not a boolean', call('run_sql', { sql: 'drop table t', cascade: 'yes' }), ['unknown:unknown ("cascade" of "run_sql" is not a boolean)']],
  ['select', call('select', { table: t, columns: ['*'] }), ['read:rows default.public.patients']],
  ['count', call('count', { table: 'patients' }), ['read:rows default.public.patients']],
  ['insert', call('insert', { table: t, objects: [{}] }), ['add:rows default.public.patients']],
  ['update with where', call('update', { table: t, where: { id: { $eq: 1 } }, $set: { a: 1 } }), ['rewrite:rows default.public.patients']],
  ['update without where', call('update', { table: t, $set: { a: 1 } }), ['rewrite:all_rows default.public.patients']],
  ['update with an empty where', call('update', { table: t, where: {}, $set: { a: 1 } }), ['rewrite:all_rows default.public.patients']],
  ['delete with where', call('delete', { source: 'default', table: t, where: { id: { $eq: 1 } } }), ['delete:rows default.public.patients']],
  ['delete with an empty where', call('delete', { table: t, where: {} }), ['delete:all_rows default.public.patients']],
  ['delete without where', call('delete', { table: t }), ['delete:all_rows default.public.patients']],
  ['select args not an object', call('select', []), ['unknown:unknown ("select" args is not an object)']],
];

const CONSOLE_ROWS: Row[] = [
  ['console: delete table', consoleBodies.deleteTable, ['drop:table default.public.t']],
  ['console: delete table, Continue with cascade', consoleBodies.deleteTableCascade, ['drop:table default.public.t (CASCADE)']],
  ['console: untrack table', consoleBodies.untrackTable, ['untrack:table default.public.t']],
  ['console: pg_untrack_tables bare body', consoleBodies.untrackTablesBare, ['untrack:table default.public.t']],
  ['console: drop relationship', consoleBodies.dropRelationship, ['drop:relationship default.public.t.r']],
  ['console: delete permission', consoleBodies.dropPermission, ['revoke:permission default.public.t select for user (select for role user)']],
  ['console: edit permission is one modify', consoleBodies.editPermission, ['modify:permission default.public.t select for user (select for role user)']],
  ['console: remove remote schema', consoleBodies.removeRemoteSchema, ['drop:remote_schema countries']],
  ['console: drop action', consoleBodies.dropAction, ['drop:action login (clears its logs)']],
  ['console: rename action (no current metadata)', consoleBodies.renameAction, ['drop:action login (clears its logs)', 'replace:custom_types (nothing to compare with)', 'add:action signIn']],
  ['console: raw SQL page with statement_timeout', consoleBodies.rawSql, ['modify:setting default.statement_timeout', 'drop:table default.public.audit']],
];

const BULK_ROWS: Row[] = [
  ['bulk of two', call('bulk', [call('pg_track_table', { table: t }), call('pg_untrack_table', { table: t })]), ['add:table default.public.patients', 'untrack:table default.public.patients']],
  ['bulk_atomic', call('bulk_atomic', [call('remove_remote_schema', { name: 'a' })]), ['drop:remote_schema a']],
  ['bulk_keep_going', call('bulk_keep_going', [call('drop_action', { name: 'a', clear_data: false })]), ['drop:action a']],
  ['concurrent_bulk of reads', call('concurrent_bulk', [call('run_sql', { sql: 'select 1', read_only: true })]), ['read:rows']],
  ['nested bulk', call('bulk', [call('bulk', [call('pg_drop_relationship', { table: t, relationship: 'r' })]), call('clear_metadata', {})]), ['drop:relationship default.public.patients.r', 'clear:metadata']],
  ['empty bulk', call('bulk', []), []],
  ['bulk args not a list', call('bulk', { type: 'clear_metadata' }), ['unknown:unknown ("bulk" args is not a list)']],
  ['bulk with an unknown member', call('bulk', [call('pg_track_table', { table: t }), call('frobnicate', {})]), ['add:table default.public.patients', 'unknown:unknown (unknown Hasura type "frobnicate")']],
  ['bulk with a member that is not an object', call('bulk', [42]), ['unknown:unknown (the request is not a JSON object)']],
  ['drop then create of different roles: no merge', call('bulk', [call('pg_drop_select_permission', { table: t, role: 'a' }), call('pg_create_select_permission', { table: t, role: 'b', permission: {} })]), ['revoke:permission default.public.patients select for a (select for role a)', 'grant:permission default.public.patients select for b (select for role b)']],
  ['drop then create of different kinds: no merge', call('bulk', [call('pg_drop_select_permission', { table: t, role: 'a' }), call('pg_create_update_permission', { table: t, role: 'a', permission: {} })]), ['revoke:permission default.public.patients select for a (select for role a)', 'grant:permission default.public.patients update for a (update for role a)']],
  ['drop then create on other sources: no merge', call('bulk', [call('pg_drop_select_permission', { source: 's1', table: t, role: 'a' }), call('pg_create_select_permission', { source: 's2', table: t, role: 'a', permission: {} })]), ['revoke:permission s1.public.patients select for a (select for role a)', 'grant:permission s2.public.patients select for a (select for role a)']],
  ['create then drop: no merge (the permission goes)', call('bulk', [call('pg_create_select_permission', { table: t, role: 'a', permission: {} }), call('pg_drop_select_permission', { table: t, role: 'a' })]), ['grant:permission default.public.patients select for a (select for role a)', 'revoke:permission default.public.patients select for a (select for role a)']],
  ['drop and create in different bulks: no merge', call('bulk', [call('bulk', [call('pg_drop_select_permission', { table: t, role: 'a' })]), call('pg_create_select_permission', { table: t, role: 'a', permission: {} })]), ['revoke:permission default.public.patients select for a (select for role a)', 'grant:permission default.public.patients select for a (select for role a)']],
  ['logical model permission edit merges', call('bulk', [call('pg_drop_logical_model_select_permission', { name: 'p', role: 'u' }), call('pg_create_logical_model_select_permission', { name: 'p', role: 'u', permission: {} })]), ['modify:permission default.p select for u (select for role u)']],
];

const UNKNOWN_AND_MALFORMED_ROWS: Row[] = [
  ['unknown type', call('frobnicate', {}), unknownType('frobnicate')],
  ['unknown command with a backend prefix', call('pg_frobnicate', {}), unknownType('pg_frobnicate')],
  ['agnostic command with a backend prefix', call('pg_add_remote_schema', { name: 'x' }), unknownType('pg_add_remote_schema')],
  ['prefixed data-only type', call('pg_select', { table: t }), unknownType('pg_select')],
  ['a prefix that is not a name', call('p-g_track_table', { table: t }), unknownType('p-g_track_table')],
  ['type differs in case', call('PG_TRACK_TABLE', { table: t }), unknownType('PG_TRACK_TABLE')],
  ['empty type', call('', {}), unknownType('')],
  ['null body', null, ['unknown:unknown (the request is not a JSON object)']],
  ['array body', [call('clear_metadata')], ['unknown:unknown (the request is not a JSON object)']],
  ['string body', 'clear_metadata', ['unknown:unknown (the request is not a JSON object)']],
  ['no type', { args: {} }, ['unknown:unknown (the request has no "type")']],
  ['type not a string', { type: 7, args: {} }, ['unknown:unknown (the request has no "type")']],
  ['no args where a name is needed', call('pg_drop_relationship'), ['unknown:unknown ("pg_drop_relationship" has no args)']],
  ['args a string', call('pg_untrack_table', 'patients'), ['unknown:unknown ("pg_untrack_table" args is not an object)']],
  ['cascade not a boolean', call('pg_untrack_table', { table: t, cascade: 'true' }), ['unknown:unknown ("cascade" of "pg_untrack_table" is not a boolean)']],
  ['replace not a boolean', call('pg_create_event_trigger', { table: t, name: 'n', replace: 1 }), ['unknown:unknown ("replace" of "pg_create_event_trigger" is not a boolean)']],
  ['replace_configuration not a boolean', call('pg_add_source', { name: 'd', replace_configuration: 'yes' }), ['unknown:unknown ("replace_configuration" of "pg_add_source" is not a boolean)']],
  ['untrack_tables without a list', call('pg_untrack_tables', { tables: { table: t } }), ['unknown:unknown ("tables" of "pg_untrack_tables" is not a list)']],
  ['untrack_tables with a bad element', call('pg_untrack_tables', { tables: ['t'] }), ['unknown:unknown (an element of "tables" of "pg_untrack_tables" is not an object)']],
  ['replace_metadata v2 without metadata', { type: 'replace_metadata', version: 2, args: {} }, ['unknown:unknown (replace_metadata has no metadata object)']],
  ['replace_metadata unknown version', { type: 'replace_metadata', version: 9, args: {} }, ['unknown:unknown (replace_metadata has an unknown "version")']],
  ['set_custom_types args a list', call('set_custom_types', []), ['unknown:unknown ("set_custom_types" args is not an object)']],
];

const ROWS: Row[] = [...METADATA_ROWS, ...QUERY_ROWS, ...CONSOLE_ROWS, ...BULK_ROWS, ...UNKNOWN_AND_MALFORMED_ROWS];

describe('analyzeHasuraRequest', () => {
  it('has a row for at least 150 requests', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(150);
  });

  it.each(ROWS)('%s', (_label, body, expected) => {
    expect(lines(body)).toEqual(expected);
  });

  it('says where in a bulk each effect comes from', () => {
    const body = call('bulk', [call('export_metadata', {}), call('bulk', [call('clear_metadata', {}), call('run_sql', { sql: 'drop table t' })])]);
    expect(analyse(body).map((effect) => effect.at)).toEqual(['args[0]', 'args[1].args[0]', 'args[1].args[1] statement 1']);
    expect(analyse(call('clear_metadata', {}))[0]).toEqual({ verb: 'clear', object: 'metadata' });
  });

  it('merges a permission edit at the place of the drop', () => {
    const body = call('bulk', [call('export_metadata', {}), ...consoleBodies.editPermission.args]);
    expect(analyse(body)).toEqual([
      { verb: 'read', object: 'metadata', at: 'args[0]' },
      { verb: 'modify', object: 'permission', name: 'default.public.t select for user', detail: 'select for role user', at: 'args[1]' },
    ]);
  });

  it(`walks bulks ${MAX_BULK_DEPTH} deep and no deeper`, () => {
    const nest = (depth: number): unknown => {
      let body: unknown = call('clear_metadata', {});
      for (let level = 0; level < depth; level += 1) body = call('bulk', [body]);
      return body;
    };
    expect(lines(nest(MAX_BULK_DEPTH))).toEqual(['clear:metadata']);
    expect(lines(nest(MAX_BULK_DEPTH + 1))).toEqual([`unknown:unknown (bulks nested deeper than ${MAX_BULK_DEPTH})`]);
    expect(lines(nest(10_000))).toEqual([`unknown:unknown (bulks nested deeper than ${MAX_BULK_DEPTH})`]);
  });

  it('is not understood when the SQL analyser throws', () => {
    const throwing: HasuraAnalysisContext = { analyzeSql: () => { throw new Error('parser crashed: secret internals'); } };
    expect(analyzeHasuraRequest(call('run_sql', { sql: 'drop table t' }), throwing)).toEqual([
      { verb: 'unknown', object: 'unknown', detail: 'the request could not be analysed' },
    ]);
  });

  it('passes read_only and the place to the SQL analyser', () => {
    const seen: unknown[] = [];
    const recording: HasuraAnalysisContext = { analyzeSql: (sql, options) => (seen.push({ sql, ...options }), []) };
    analyzeHasuraRequest(call('bulk', [call('run_sql', { sql: 'select 1', read_only: true }), call('run_sql', { sql: 'x' })]), recording);
    expect(seen).toEqual([
      { sql: 'select 1', readOnly: true, at: 'args[0]' },
      { sql: 'x', readOnly: false, at: 'args[1]' },
    ]);
  });
});

describe('the catalogue covers every type Hasura accepts', () => {
  const backendPrefixes = ['pg', 'citus', 'cockroach', 'mssql', 'bigquery', 'mysql', 'snowflake', 'sqlite'];
  const prefixed = BACKEND_COMMANDS.flatMap((command) => backendPrefixes.map((prefix) => `${prefix}_${command}`));
  const all = [...new Set([...prefixed, ...BACKEND_COMMANDS, ...AGNOSTIC_COMMANDS, ...V1_QUERY_TYPES, ...V2_QUERY_TYPES])];

  it.each(all)('%s is known', (type) => {
    expect(isHasuraType(type)).toBe(true);
    const effects = analyse({ type, args: {} });
    for (const found of effects) expect(found.detail ?? '').not.toMatch(/unknown Hasura type/);
  });

  it('knows nothing else', () => {
    for (const type of ['frobnicate', 'pg_frobnicate', 'pg_add_remote_schema', 'drop', 'pg', '_run_sql', 'select_permission', 'pg_bulk']) {
      expect(isHasuraType(type)).toBe(false);
    }
  });

  it('every catalogue type is one of Hasura’s', () => {
    const hasura = new Set<string>(all);
    for (const row of CATALOGUE) for (const type of row.types) expect(hasura.has(type) || hasura.has(`bigquery_${type}`)).toBe(true);
  });
});

// ---- properties -----------------------------------------------------------------------------------------------

const json = fc.jsonValue({ maxDepth: 6 });
const catalogueTypes = CATALOGUE.flatMap((row) => row.types).filter((type) => type !== 'replace_metadata' && !type.includes('bulk'));
const args = fc.record(
  {
    source: fc.constantFrom('default', 'reports'),
    table: fc.oneof(fc.constantFrom('a', 'b'), fc.record({ schema: fc.constantFrom('public', 's'), name: fc.constantFrom('a', 'b') })),
    role: fc.constantFrom('user', 'anonymous'),
    name: fc.constantFrom('x', 'y'),
    relationship: fc.constantFrom('r'),
    cascade: fc.boolean(),
    replace: fc.boolean(),
    sql: fc.constantFrom('drop table t', 'select 1', 'set x = 1'),
    tables: fc.constant([{ table: 'a' }]),
    where: fc.constantFrom({}, { id: 1 }),
  },
  { requiredKeys: [] },
);
const operation = fc.record({ type: fc.oneof(fc.constantFrom(...catalogueTypes), fc.constantFrom(...BACKEND_COMMANDS).map((c) => `pg_${c}`)), args });
const bulkOf = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, operation, fc.record({ type: fc.constantFrom('bulk', 'bulk_atomic', 'bulk_keep_going'), args: fc.array(tie('node'), { maxLength: 5 }) })),
}));

const withoutAt = ({ at: _at, ...rest }: Effect): string => JSON.stringify(rest);
function partsOf(node: unknown): unknown[] {
  const record = node as { type: string; args: unknown[] };
  return record.type.includes('bulk') ? record.args.flatMap(partsOf) : [node];
}

describe('properties', () => {
  it('never throws, whatever JSON it is given', () => {
    fc.assert(
      fc.property(json, (body) => {
        expect(Array.isArray(analyse(body))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...catalogueTypes, 'pg_track_table', 'bulk'), json, fc.option(json), (type, anyArgs, current) => {
        const effects = analyse({ type, args: anyArgs, version: 2 }, current ?? undefined);
        expect(effects.every((found) => typeof found.verb === 'string')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a bulk says at least what each of its parts says alone (a permission edit merges into one modify)', () => {
    fc.assert(
      fc.property(fc.record({ type: fc.constant('bulk'), args: fc.array(bulkOf.node, { maxLength: 6 }) }), (bulk) => {
        const whole = analyse(bulk);
        const said = new Set(whole.map(withoutAt));
        const modified = new Set(whole.filter((found) => found.verb === 'modify' && found.object === 'permission').map((found) => found.name));
        for (const part of partsOf(bulk)) {
          for (const found of analyse(part)) {
            const merged = found.object === 'permission' && (found.verb === 'grant' || found.verb === 'revoke') && modified.has(found.name);
            if (!merged) expect(said).toContain(withoutAt(found));
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('connection strings: the database a source points to, never a credential', () => {
  const INLINE = 'grant:credentials reports (database URL written in the metadata, not from_env: every export holds it, with any password, and an apply to another environment repoints that one)';
  const addSource = (configuration: unknown, type = 'pg_add_source') => lines(call(type, { name: 'reports', configuration }));
  it.each([
    ['a URL', { connection_info: { database_url: 'postgres://app:s3cr3t-pw@db.internal:5432/reports?sslmode=require&password=s3cr3t-pw' } }, 'database postgres://app:***@db.internal:5432/reports'],
    ['a URL without a user', { connection_info: { database_url: 'postgresql://:s3cr3t-pw@db/reports' } }, 'database postgresql://***@db/reports'],
    ['from the environment', { connection_info: { database_url: { from_env: 'REPORTS_URL' } } }, 'database from env REPORTS_URL'],
    ['connection parameters', { connection_info: { database_url: { connection_parameters: { host: 'db', port: 5432, username: 'app', password: 's3cr3t-pw', database: 'reports' } } } }, 'database db:5432/reports'],
    ['libpq key=value', { connection_info: { database_url: "host=db dbname=reports user=app password='s3cr3t-pw'" } }, 'database db/reports'],
  ])('pg_add_source, %s', (_label, configuration, said) => {
    const inline = !said.includes('from env');
    expect(addSource(configuration)).toEqual([`add:source reports (${said})`, ...(inline ? [INLINE] : [])]);
  });

  it('mssql_add_source with an ODBC string', () => {
    const odbc = 'Driver={ODBC Driver 18 for SQL Server};Server=tcp:sql.internal,1433;Database=reports;Uid=app;Pwd=s3cr3t-pw;';
    expect(addSource({ connection_info: { connection_string: odbc } }, 'mssql_add_source')).toEqual(['add:source reports (database tcp:sql.internal,1433/reports)', INLINE]);
  });

  it('bigquery_update_source says the project, not the service account', () => {
    const configuration = { service_account: { private_key: '-----BEGIN PRIVATE KEY-----s3cr3t-pw', client_email: 'x@y' }, project_id: 'acme', datasets: ['d'] };
    expect(lines(call('bigquery_update_source', { name: 'bq', configuration }))).toEqual(['replace:source bq (repoints it to project acme, from where it points now, which the guard was not shown)']);
  });

  it('a string that is no connection string is not shown', () => {
    expect(addSource({ connection_info: { database_url: 's3cr3t-pw' } })).toEqual(['add:source reports (database a connection string (not shown))', INLINE]);
  });

  it('a name or detail carrying a URL with its password is masked wherever it comes from', () => {
    const said = lines({ type: 'bulk', args: [call('pg_add_source', { name: 'postgres://app:s3cr3t-pw@db/x', configuration: {} }), call('pg_drop_source', { name: 'db password=s3cr3t-pw' })] });
    expect(said).toEqual(['add:source postgres://app:***@db/x', 'drop:source db password=***']);
  });

  it('fast-check: no password of a URL survives in any effect of a source call', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9!$%^*()_+:@/-]{0,20}$/).map((rest) => `Zq7${rest}`), fc.constantFrom('pg_add_source', 'pg_update_source', 'citus_add_source', 'mssql_update_source'), (password, type) => {
        const url = `postgres://app:${password}@db.internal/reports`;
        const said = lines(call(type, { name: url, configuration: { connection_info: { database_url: url, connection_string: url } } })).join('\n');
        expect(said).not.toContain(password);
      }),
      { numRuns: 200 },
    );
  });
});
