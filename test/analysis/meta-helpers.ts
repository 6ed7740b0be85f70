// Helpers for the tests of changes hidden in metadata: judge a request (or a replacement against the metadata in
// force) with the real analysers and the default policy, in production.
import { analyzeChange } from '../../src/analysis/index.js';
import { effectKey, type Effect } from '../../src/vocabulary/effects.js';
import { loadPolicy, type Level } from '../../src/core/policy.js';

const policy = loadPolicy();
const production = policy.findEnvironment('production')!;

export async function judge(request: Record<string, unknown>, currentMetadata?: unknown): Promise<{ effects: Effect[]; keys: string; level: Level }> {
  const operation = String(request.type ?? 'request');
  const effects = await analyzeChange({ operation, table: '', request, currentMetadata });
  return { effects, keys: [...new Set(effects.map(effectKey))].sort().join(' '), level: policy.decide(effects, production, operation).level };
}

export const replace = (metadata: unknown) => ({ type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: false, metadata } });

/** A production-like v3 export, built afresh each time. */
export function inForce(): Record<string, any> {
  return {
    version: 3,
    sources: [
      {
        name: 'default',
        kind: 'postgres',
        tables: [
          {
            table: { schema: 'public', name: 'patients' },
            select_permissions: [
              { role: 'user', permission: { columns: ['id', 'name'], filter: { _and: [{ id: { _eq: 'X-Hasura-User-Id' } }, { deleted: { _eq: false } }] }, limit: 10, allow_aggregations: false } },
            ],
            insert_permissions: [{ role: 'user', permission: { check: { owner_id: { _eq: 'X-Hasura-User-Id' } }, set: { owner_id: 'x-hasura-User-Id' }, columns: ['name'] } }],
            event_triggers: [{ name: 'notify', definition: { enable_manual: false, insert: { columns: '*' } }, retry_conf: { num_retries: 0, interval_sec: 10, timeout_sec: 60 }, webhook: 'https://hooks.internal/notify' }],
          },
        ],
        configuration: { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' }, isolation_level: 'read-committed', pool_settings: { max_connections: 50 } } },
      },
      {
        name: 'warehouse',
        kind: 'sqlite',
        tables: [{ table: ['orders'], select_permissions: [{ role: 'user', permission: { columns: ['id'], filter: {} } }] }],
        configuration: { db: '/data/warehouse.db' },
      },
    ],
    remote_schemas: [{ name: 'payments', definition: { url: 'https://payments.internal/graphql', timeout_seconds: 60, forward_client_headers: false }, permissions: [{ role: 'user', definition: { schema: 'type Query { balance: Int }' } }] }],
    actions: [{ name: 'login', definition: { kind: 'synchronous', handler: 'https://auth.internal/login', forward_client_headers: false, type: 'mutation', arguments: [], output_type: 'LoginOutput' }, permissions: [{ role: 'anonymous' }] }],
    custom_types: { objects: [{ name: 'LoginOutput', fields: [{ name: 'token', type: 'String!' }] }] },
    query_collections: [{ name: 'allowed-queries', definition: { queries: [{ name: 'me', query: 'query { patients { id } }' }] } }],
    allowlist: [{ collection: 'allowed-queries', scope: { global: true } }],
    backend_configs: { dataconnector: { sqlite: { uri: 'http://sqlite-agent.internal:8100' } } },
  };
}

export const edited = (edit: (m: Record<string, any>) => void): Record<string, any> => {
  const m = inForce();
  edit(m);
  return m;
};
