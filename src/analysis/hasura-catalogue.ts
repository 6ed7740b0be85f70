// Every request type Hasura v2 accepts on /v1/metadata, /v1/query and /v2/query, as data: type → effect.
// Read by the interpreter in hasura.ts. The list follows Hasura's own parsers (graphql-engine,
// server/src-lib/Hasura/Server/API/: Backend.hs for the commands every backend takes with its prefix,
// Metadata/Instances.hs for the backend-agnostic ones, Query.hs for /v1/query, V2Query.hs for /v2/query).
import { BULK_TYPES } from '../vocabulary/bulk.js';
import type { ObjectKind, Verb } from '../vocabulary/effects.js';
import {
  forRole,
  inSource,
  member,
  objectPath,
  permissionDetail,
  permissionName,
  sourceOf,
  text,
} from './hasura-names.js';

/** Which call is being read: the type without its backend prefix, and the prefix ('' when there is none). */
export interface Call {
  command: string;
  backend: string;
}

type Args = Record<string, unknown>;
export type Namer = (args: Args, call: Call) => string | undefined;

/** An argument that changes what the call means: when it matches, the verb changes and/or a detail is added. */
export interface Meaning {
  arg: string;
  /** A boolean: the argument must be that boolean (any other non-boolean value is malformed). A function: any test. */
  when: boolean | ((value: unknown) => boolean);
  verb?: Verb;
  detail?: string;
}

interface Row {
  types: readonly string[];
  /** Also accepted with a backend prefix (`pg_`, `mssql_`, a data connector's name); bare names are v1's. */
  backendScoped?: boolean;
  /**
   * What the call may do that only its body tells (an argument such as `replace: true`): when the type is named
   * without its body (the `operation` field alone), the guard assumes it does (operation.ts). Fails closed.
   */
  withoutBody?: { verb: Verb; detail: string };
}

export interface EffectRow extends Row {
  verb: Verb;
  object: ObjectKind;
  name?: Namer;
  detail?: Namer;
  meaning?: readonly Meaning[];
  /** `args[each]` is a list: one effect per element, named from the element (pg_track_tables). */
  each?: string;
  /** Hasura's parser ignores `args` (`parseJSON _ = pure …`): any value, `"{}"` as the CLI sends it, means the same. */
  anyArgs?: boolean;
  /**
   * /v1/query's legacy forms (unprefixed types only): `args` may be the table or function itself, a bare name
   * (`"users"`, schema public) or `{schema, name}`, rather than an object holding it under this key.
   */
  bareName?: 'table' | 'function';
}

/** Calls whose effects come from their content, not their type: the interpreter has one handler for each. */
export interface HandledRow extends Row {
  handler: 'bulk' | 'sql' | 'rows' | 'replace_metadata' | 'custom_types' | 'source';
}

export type CatalogueRow = EffectRow | HandledRow;

// ---- names ----------------------------------------------------------------------------------------------------

const field =
  (key: string): Namer =>
  (args) =>
    text(args[key]);
const table: Namer = (args, call) => inSource(sourceOf(args), objectPath(args.table, call.backend));
const tableMember =
  (key: string): Namer =>
  (args, call) =>
    member(table(args, call), text(args[key]));
const fn: Namer = (args, call) => inSource(sourceOf(args), objectPath(args.function, call.backend));
const inItsSource =
  (key: string): Namer =>
  (args, call) =>
    inSource(sourceOf(args), typeof args[key] === 'string' ? text(args[key]) : objectPath(args[key], call.backend));
const roleOf =
  (owner: Namer): Namer =>
  (args, call) =>
    forRole(owner(args, call), text(args.role));
const renamedTo: Namer = (args) => (text(args.new_name) === undefined ? undefined : `to ${text(args.new_name)}`);
const sourceNamed: Namer = (args) => text(args.name) ?? text(args.source);

/** `create_select_permission` → `select`. */
const permissionKind = (command: string): string => /_(insert|select|update|delete)_permission$/.exec(command)?.[1] ?? 'select';
const tablePermission: Namer = (args, call) => permissionName(table(args, call), permissionKind(call.command), text(args.role));
const modelPermission: Namer = (args) => permissionName(inSource(sourceOf(args), text(args.name)), 'select', text(args.role));
const permissionWords: Namer = (args, call) => permissionDetail(permissionKind(call.command), text(args.role));
const tlsHost: Namer = (args) => {
  const host = text(args.host);
  return host !== undefined && text(args.suffix) !== undefined ? `${host}:${text(args.suffix)}` : host;
};
const queryInCollection: Namer = (args) => member(text(args.collection_name), text(args.query_name));

// ---- meanings -------------------------------------------------------------------------------------------------

const CASCADE: Meaning = { arg: 'cascade', when: true, detail: 'CASCADE' };
const CASCADE_UNTRACK: Meaning = { arg: 'cascade', when: true, detail: 'CASCADE: its dependents go too' };
const REPLACE: Meaning = { arg: 'replace', when: true, verb: 'replace', detail: 'replace: true' };
// Hasura's create_event_trigger and create_cron_trigger silently overwrite a trigger of the same name when given
// `replace: true` (Hasura/RQL/DDL/EventTrigger.hs, Hasura/RQL/DDL/ScheduledTrigger.hs).
const MAY_REPLACE = { verb: 'replace', detail: 'replace: true would overwrite an existing one; only the request body tells' } as const;
// Hasura's drop_action deletes an asynchronous action's logs unless told `clear_data: false`.
const CLEARS_ACTION_LOGS: Meaning = { arg: 'clear_data', when: (value) => value !== false, detail: 'clears its logs' };
const CLEARS_EVENT_LOGS: Meaning = { arg: 'clear_data', when: true, detail: 'clears its logs' };

const PERMISSION_KINDS = ['insert', 'select', 'update', 'delete'] as const;

// ---- the catalogue --------------------------------------------------------------------------------------------

export const CATALOGUE: readonly CatalogueRow[] = [
  // bulks and requests whose content decides
  { types: [...BULK_TYPES], handler: 'bulk' },
  { types: ['run_sql'], backendScoped: true, handler: 'sql' },
  { types: ['select', 'count', 'insert', 'update', 'delete'], handler: 'rows' },
  { types: ['replace_metadata'], handler: 'replace_metadata' },
  // /v2/query's bigquery_database_inspection: lists the dataset's tables.
  { types: ['database_inspection'], backendScoped: true, verb: 'read', object: 'database' },
  { types: ['set_custom_types'], handler: 'custom_types' },

  // sources: what a source points to, before and after, takes the metadata in force (hasura.ts, analyzeSource).
  // add_source with `replace_configuration: true` overwrites a live source's configuration (runAddSource,
  // Hasura/RQL/DDL/Schema/Source.hs), hasura/graphql-engine#8199; update_source may give it a new connection.
  {
    types: ['add_source'],
    backendScoped: true,
    handler: 'source',
    withoutBody: { verb: 'replace', detail: 'replace_configuration: true would repoint a live source; only the request body tells' },
  },
  {
    types: ['update_source'],
    backendScoped: true,
    handler: 'source',
    withoutBody: { verb: 'replace', detail: 'a new configuration would repoint the source; only the request body tells' },
  },
  { types: ['drop_source'], backendScoped: true, verb: 'drop', object: 'source', name: field('name'), meaning: [CASCADE] },
  { types: ['rename_source'], verb: 'rename', object: 'source', name: field('name'), detail: renamedTo },
  { types: ['list_source_kinds', 'get_source_kind_capabilities'], verb: 'read', object: 'source', name: sourceNamed },
  { types: ['get_source_tables', 'get_source_trackables', 'test_connection_template'], backendScoped: true, verb: 'read', object: 'source', name: sourceNamed },
  { types: ['get_table_info'], backendScoped: true, verb: 'read', object: 'table', name: table },
  { types: ['dc_add_agent'], verb: 'add', object: 'data_connector', name: field('name') },
  { types: ['dc_delete_agent'], verb: 'drop', object: 'data_connector', name: field('name') },

  // tables
  // /v1/query's track_table and add_existing_table_or_view read args as TrackTable, which is `{table, source, …}` or
  // else the table itself (Hasura/Table/API.hs: `withOptions <|> withoutOptions`), and a Postgres table is a bare
  // name or `{schema, name}` (QualifiedObject, Hasura/Backends/Postgres/SQL/Types.hs; Server/API/Query.hs).
  { types: ['track_table', 'add_existing_table_or_view'], backendScoped: true, verb: 'add', object: 'table', name: table, bareName: 'table' },
  { types: ['track_tables'], backendScoped: true, verb: 'add', object: 'table', name: table, each: 'tables' },
  { types: ['untrack_table'], backendScoped: true, verb: 'untrack', object: 'table', name: table, meaning: [CASCADE_UNTRACK] },
  { types: ['untrack_tables'], backendScoped: true, verb: 'untrack', object: 'table', name: table, each: 'tables', meaning: [CASCADE_UNTRACK] },
  { types: ['set_table_customization', 'set_table_custom_fields'], backendScoped: true, verb: 'modify', object: 'customization', name: table },
  { types: ['set_table_is_enum'], backendScoped: true, verb: 'modify', object: 'table', name: table, detail: (args) => `is_enum: ${String(args.is_enum)}` },
  { types: ['set_apollo_federation_config'], backendScoped: true, verb: 'modify', object: 'table', name: table, detail: () => 'apollo federation' },

  // table permissions
  { types: PERMISSION_KINDS.map((kind) => `create_${kind}_permission`), backendScoped: true, verb: 'grant', object: 'permission', name: tablePermission, detail: permissionWords },
  { types: PERMISSION_KINDS.map((kind) => `drop_${kind}_permission`), backendScoped: true, verb: 'revoke', object: 'permission', name: tablePermission, detail: permissionWords },
  { types: ['set_permission_comment'], backendScoped: true, verb: 'comment', object: 'permission', name: (args, call) => permissionName(table(args, call), text(args.type) ?? '?', text(args.role)) },

  // relationships
  { types: ['create_object_relationship', 'create_array_relationship'], backendScoped: true, verb: 'add', object: 'relationship', name: tableMember('name') },
  { types: ['drop_relationship'], backendScoped: true, verb: 'drop', object: 'relationship', name: tableMember('relationship'), meaning: [CASCADE] },
  { types: ['rename_relationship'], backendScoped: true, verb: 'rename', object: 'relationship', name: tableMember('name'), detail: renamedTo },
  { types: ['set_relationship_comment'], backendScoped: true, verb: 'comment', object: 'relationship', name: tableMember('name') },
  { types: ['suggest_relationships'], backendScoped: true, verb: 'read', object: 'relationship', name: sourceNamed },
  { types: ['create_remote_relationship'], backendScoped: true, verb: 'add', object: 'remote_relationship', name: tableMember('name') },
  { types: ['update_remote_relationship'], backendScoped: true, verb: 'modify', object: 'remote_relationship', name: tableMember('name') },
  { types: ['delete_remote_relationship'], backendScoped: true, verb: 'drop', object: 'remote_relationship', name: tableMember('name') },
  { types: ['create_remote_schema_remote_relationship'], verb: 'add', object: 'remote_relationship', name: (args) => member(member(text(args.remote_schema), text(args.type_name)), text(args.name)) },
  { types: ['update_remote_schema_remote_relationship'], verb: 'modify', object: 'remote_relationship', name: (args) => member(member(text(args.remote_schema), text(args.type_name)), text(args.name)) },
  { types: ['delete_remote_schema_remote_relationship'], verb: 'drop', object: 'remote_relationship', name: (args) => member(member(text(args.remote_schema), text(args.type_name)), text(args.name)) },

  // functions and computed fields
  // /v1/query's track_function is TrackFunction, a newtype of the function's name (a bare name or `{schema, name}`);
  // untrack_function reads `{schema, name}` as the function when no "source" is given (Hasura/Function/API.hs).
  { types: ['track_function'], backendScoped: true, verb: 'add', object: 'function', name: fn, bareName: 'function' },
  { types: ['untrack_function'], backendScoped: true, verb: 'untrack', object: 'function', name: fn, bareName: 'function' },
  { types: ['set_function_customization'], backendScoped: true, verb: 'modify', object: 'customization', name: fn },
  { types: ['create_function_permission'], backendScoped: true, verb: 'grant', object: 'function_permission', name: roleOf(fn), detail: (args) => `role ${text(args.role) ?? '?'}` },
  { types: ['drop_function_permission'], backendScoped: true, verb: 'revoke', object: 'function_permission', name: roleOf(fn), detail: (args) => `role ${text(args.role) ?? '?'}` },
  { types: ['add_computed_field'], backendScoped: true, verb: 'add', object: 'computed_field', name: tableMember('name') },
  { types: ['drop_computed_field'], backendScoped: true, verb: 'drop', object: 'computed_field', name: tableMember('name'), meaning: [CASCADE] },

  // native queries, logical models (once "custom return types"), stored procedures
  { types: ['get_native_query'], backendScoped: true, verb: 'read', object: 'native_query', name: sourceNamed },
  // A root field over SQL the guard does not read, open at once to the roles its logical model lets select.
  { types: ['track_native_query'], backendScoped: true, verb: 'grant', object: 'native_query', name: inItsSource('root_field_name') },
  { types: ['untrack_native_query'], backendScoped: true, verb: 'untrack', object: 'native_query', name: inItsSource('root_field_name') },
  { types: ['get_logical_model', 'get_custom_return_type'], backendScoped: true, verb: 'read', object: 'logical_model', name: sourceNamed },
  { types: ['track_logical_model', 'track_custom_return_type'], backendScoped: true, verb: 'add', object: 'logical_model', name: inItsSource('name') },
  { types: ['untrack_logical_model', 'untrack_custom_return_type'], backendScoped: true, verb: 'untrack', object: 'logical_model', name: inItsSource('name') },
  { types: ['create_logical_model_select_permission', 'create_custom_return_type_select_permission'], backendScoped: true, verb: 'grant', object: 'permission', name: modelPermission, detail: (args) => permissionDetail('select', text(args.role)) },
  { types: ['drop_logical_model_select_permission', 'drop_custom_return_type_select_permission'], backendScoped: true, verb: 'revoke', object: 'permission', name: modelPermission, detail: (args) => permissionDetail('select', text(args.role)) },
  { types: ['get_stored_procedure'], backendScoped: true, verb: 'read', object: 'stored_procedure', name: sourceNamed },
  { types: ['track_stored_procedure'], backendScoped: true, verb: 'add', object: 'stored_procedure', name: inItsSource('stored_procedure') },
  { types: ['untrack_stored_procedure'], backendScoped: true, verb: 'untrack', object: 'stored_procedure', name: inItsSource('stored_procedure') },

  // event triggers
  // Every row written to the table is then sent, old and new, to the trigger's webhook: data leaves the database.
  { types: ['create_event_trigger'], backendScoped: true, verb: 'grant', object: 'event_trigger', name: field('name'), meaning: [REPLACE], withoutBody: MAY_REPLACE },
  { types: ['delete_event_trigger'], backendScoped: true, verb: 'drop', object: 'event_trigger', name: field('name'), meaning: [CLEARS_EVENT_LOGS] },
  // Both make Hasura call the trigger's webhook now: what that does is the webhook's business.
  { types: ['redeliver_event'], backendScoped: true, verb: 'run', object: 'event_trigger', name: field('event_id'), detail: () => 'redelivers an event' },
  { types: ['invoke_event_trigger'], backendScoped: true, verb: 'run', object: 'event_trigger', name: field('name'), detail: () => 'calls its webhook' },
  { types: ['get_event_logs', 'get_event_invocation_logs', 'get_event_by_id'], backendScoped: true, verb: 'read', object: 'event_logs', name: field('name') },
  { types: ['cleanup_event_trigger_logs'], verb: 'delete', object: 'event_logs', name: field('event_trigger_name') },
  { types: ['pause_event_trigger_cleanups'], verb: 'modify', object: 'event_trigger', detail: () => 'log cleanup paused' },
  { types: ['resume_event_trigger_cleanups'], verb: 'modify', object: 'event_trigger', detail: () => 'log cleanup resumed' },

  // remote schemas
  // Without remote schema permissions (Hasura's default) every role may query it, called with its headers.
  { types: ['add_remote_schema'], verb: 'grant', object: 'remote_schema', name: field('name') },
  { types: ['update_remote_schema'], verb: 'modify', object: 'remote_schema', name: field('name') },
  { types: ['remove_remote_schema'], verb: 'drop', object: 'remote_schema', name: field('name') },
  { types: ['reload_remote_schema', 'introspect_remote_schema'], verb: 'read', object: 'remote_schema', name: field('name') },
  { types: ['add_remote_schema_permissions'], verb: 'grant', object: 'remote_schema_permission', name: (args) => forRole(text(args.remote_schema), text(args.role)), detail: (args) => `role ${text(args.role) ?? '?'}` },
  { types: ['drop_remote_schema_permissions'], verb: 'revoke', object: 'remote_schema_permission', name: (args) => forRole(text(args.remote_schema), text(args.role)), detail: (args) => `role ${text(args.role) ?? '?'}` },

  // scheduled triggers
  { types: ['create_cron_trigger'], verb: 'add', object: 'cron_trigger', name: field('name'), meaning: [REPLACE], withoutBody: MAY_REPLACE },
  { types: ['delete_cron_trigger'], verb: 'drop', object: 'cron_trigger', name: field('name') },
  { types: ['get_cron_triggers'], verb: 'read', object: 'cron_trigger', anyArgs: true },
  { types: ['create_scheduled_event'], verb: 'add', object: 'scheduled_event', name: field('webhook') },
  { types: ['delete_scheduled_event'], verb: 'drop', object: 'scheduled_event', name: field('event_id') },
  { types: ['get_scheduled_events'], verb: 'read', object: 'scheduled_event' },
  { types: ['get_scheduled_event_invocations', 'get_event_invocations'], verb: 'read', object: 'event_logs' },

  // actions
  { types: ['create_action'], verb: 'add', object: 'action', name: field('name') },
  { types: ['update_action'], verb: 'modify', object: 'action', name: field('name') },
  { types: ['drop_action'], verb: 'drop', object: 'action', name: field('name'), meaning: [CLEARS_ACTION_LOGS] },
  { types: ['create_action_permission'], verb: 'grant', object: 'action_permission', name: (args) => forRole(text(args.action), text(args.role)), detail: (args) => `role ${text(args.role) ?? '?'}` },
  { types: ['drop_action_permission'], verb: 'revoke', object: 'action_permission', name: (args) => forRole(text(args.action), text(args.role)), detail: (args) => `role ${text(args.role) ?? '?'}` },

  // query collections, the allow list, REST endpoints
  { types: ['create_query_collection'], verb: 'add', object: 'query_collection', name: field('name') },
  { types: ['rename_query_collection'], verb: 'rename', object: 'query_collection', name: field('name'), detail: renamedTo },
  { types: ['drop_query_collection'], verb: 'drop', object: 'query_collection', name: field('collection'), meaning: [CASCADE] },
  { types: ['add_query_to_collection'], verb: 'grant', object: 'query_collection', name: queryInCollection, detail: () => 'adds a query: it may run if the collection is allow-listed' },
  { types: ['drop_query_from_collection'], verb: 'modify', object: 'query_collection', name: queryInCollection, detail: () => 'removes a query' },
  // Both widen what may run where the allow list is enforced: a collection's queries join it, or a query joins a
  // collection that is on it. Decided alike, as grants (the guard cannot tell whether the collection is allow-listed).
  { types: ['add_collection_to_allowlist'], verb: 'grant', object: 'allowlist', name: field('collection'), detail: () => 'its queries may run' },
  { types: ['drop_collection_from_allowlist'], verb: 'drop', object: 'allowlist', name: field('collection') },
  { types: ['update_scope_of_collection_in_allowlist'], verb: 'modify', object: 'allowlist', name: field('collection') },
  { types: ['create_rest_endpoint'], verb: 'add', object: 'rest_endpoint', name: field('name') },
  { types: ['drop_rest_endpoint'], verb: 'drop', object: 'rest_endpoint', name: field('name') },

  // roles and the network
  { types: ['add_inherited_role'], verb: 'grant', object: 'role', name: field('role_name'), detail: (args) => (Array.isArray(args.role_set) ? `inherits ${args.role_set.map(String).join(', ')}` : undefined) },
  { types: ['drop_inherited_role'], verb: 'revoke', object: 'role', name: field('role_name') },
  { types: ['add_host_to_tls_allowlist'], verb: 'grant', object: 'tls_allowlist', name: tlsHost },
  { types: ['drop_host_from_tls_allowlist'], verb: 'revoke', object: 'tls_allowlist', name: tlsHost },

  // settings
  { types: ['set_api_limits'], verb: 'modify', object: 'api_limits' },
  { types: ['remove_api_limits'], verb: 'drop', object: 'api_limits', anyArgs: true },
  { types: ['set_metrics_config'], verb: 'modify', object: 'metrics_config' },
  { types: ['remove_metrics_config'], verb: 'drop', object: 'metrics_config', anyArgs: true },
  { types: ['set_graphql_schema_introspection_options'], verb: 'modify', object: 'introspection' },
  { types: ['set_query_tags'], verb: 'modify', object: 'query_tags', name: field('source_name') },
  { types: ['set_opentelemetry_config', 'set_opentelemetry_status'], verb: 'modify', object: 'opentelemetry' },

  // the metadata as a whole
  // Their parsers ignore args (`parseJSON _ = pure ExportMetadata`, Hasura/RQL/DDL/Metadata/Types.hs): the CLI sends
  // `"args": "{}"`, a string (cli/internal/hasura/v1query/v1_query_test.go), and Hasura answers 200.
  { types: ['export_metadata', 'get_inconsistent_metadata', 'dump_internal_state'], verb: 'read', object: 'metadata', anyArgs: true },
  { types: ['get_feature_flag'], verb: 'read', object: 'metadata' },
  // Rebuilds Hasura's schema cache from the metadata in force: nothing in the metadata changes.
  { types: ['reload_metadata'], verb: 'read', object: 'metadata', detail: () => 'reload' },
  // Removes every object Hasura currently finds inconsistent; which ones cannot be known from the request,
  // and they are real metadata (a permission whose table is briefly missing goes for good).
  { types: ['drop_inconsistent_metadata'], verb: 'drop', object: 'metadata', detail: () => 'every inconsistent object', anyArgs: true },
  { types: ['clear_metadata'], verb: 'clear', object: 'metadata', anyArgs: true },
  // Computes what a webhook transform would send; sends nothing.
  { types: ['test_webhook_transform'], verb: 'read', object: 'metadata', detail: () => 'webhook transform test' },
  { types: ['get_catalog_state'], verb: 'read', object: 'catalog_state', anyArgs: true },
  // The console's and the CLI's own UI state (e.g. applied migrations): harmless. Hasura knows no other type.
  {
    types: ['set_catalog_state'],
    verb: 'read',
    object: 'catalog_state',
    name: field('type'),
    meaning: [{ arg: 'type', when: (value) => value !== 'console' && value !== 'cli', verb: 'unknown', detail: 'catalog state type is neither "console" nor "cli"' }],
  },
];

/**
 * Whether the effect is fully known without arguments: reads (the console's login sends get_inconsistent_metadata
 * bare) and calls that name nothing (clear_metadata, remove_api_limits). Any other call without an `args` object
 * is not understood.
 */
export const knownWithoutArgs = (row: EffectRow): boolean =>
  row.verb === 'read' || (row.name === undefined && row.meaning === undefined && row.each === undefined);
