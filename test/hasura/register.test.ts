import { afterEach, describe, expect, it } from 'vitest';
import { register } from '../../src/hasura/register.js';
import { startFakeHasura } from './fake-hasura.js';

const ADMIN = 'admin-secret-for-tests';
let hasura: Awaited<ReturnType<typeof startFakeHasura>>;
afterEach(() => hasura?.close());

describe('npm run hasura:register', () => {
  it('registers custom types, both actions with permissions, and the remote schema; keeps other custom types', async () => {
    hasura = await startFakeHasura(ADMIN);
    const lines: string[] = [];
    await register({ endpoint: `${hasura.url}/`, adminSecret: ADMIN, log: (l) => lines.push(l) });
    expect(hasura.requests.map((r) => r.type)).toEqual([
      'export_metadata', 'set_custom_types', 'create_action', 'create_action_permission', 'create_action', 'create_action_permission', 'add_remote_schema',
    ]);
    expect([...hasura.state.actions.keys()]).toEqual(['validateMetadataChange', 'confirmMetadataChange']);
    expect(hasura.state.actions.get('validateMetadataChange')).toMatchObject({
      definition: { handler: '{{GUARD_BASE_URL}}/validate-metadata-change', forward_client_headers: false, type: 'mutation', output_type: 'ValidateMetadataChangeOutput', arguments: [{ name: 'input', type: 'ValidateMetadataChangeInput!' }] },
      permissions: [{ role: 'developer' }],
    });
    expect(hasura.state.custom_types.input_objects!.map((o) => o.name)).toEqual(['SomeoneElsesInput', 'ValidateMetadataChangeInput', 'ConfirmMetadataChangeInput']);
    expect(hasura.state.remote_schemas.get('metadata_guard')?.definition).toMatchObject({ url_from_env: 'GUARD_GRAPHQL_URL', forward_client_headers: false });
    expect(lines.join('\n')).not.toContain(ADMIN);
  });

  it('is idempotent: a second run updates the actions and the remote schema instead of failing', async () => {
    hasura = await startFakeHasura(ADMIN);
    await register({ endpoint: hasura.url, adminSecret: ADMIN, log: () => {} });
    hasura.requests.length = 0;
    const lines: string[] = [];
    await register({ endpoint: hasura.url, adminSecret: ADMIN, log: (l) => lines.push(l) });
    expect(hasura.requests.map((r) => r.type)).toEqual([
      'export_metadata', 'set_custom_types',
      'create_action', 'update_action', 'create_action_permission',
      'create_action', 'update_action', 'create_action_permission',
      'add_remote_schema', 'update_remote_schema',
    ]);
    expect(lines).toContain('create_action validateMetadataChange: existed, update_action done');
    expect(lines).toContain('create_action_permission validateMetadataChange: already there');
    expect(hasura.state.actions.get('confirmMetadataChange')?.permissions).toEqual([{ role: 'developer' }]);
    expect(hasura.state.custom_types.input_objects!.filter((o) => o.name === 'ValidateMetadataChangeInput')).toHaveLength(1);
  });

  it('--dry-run prints every request and sends nothing', async () => {
    hasura = await startFakeHasura(ADMIN);
    const lines: string[] = [];
    const planned = await register({ endpoint: hasura.url, adminSecret: ADMIN, dryRun: true, log: (l) => lines.push(l) });
    expect(hasura.requests).toEqual([]);
    expect(planned.map((r) => r.type)).toEqual(['set_custom_types', 'create_action', 'create_action_permission', 'create_action', 'create_action_permission', 'add_remote_schema']);
    expect(lines.filter((l) => l.startsWith('{'))).toHaveLength(6);
    expect(lines.join('\n')).not.toContain(ADMIN);
  });

  it('stops with Hasura\'s own error, without echoing the admin secret', async () => {
    hasura = await startFakeHasura(ADMIN);
    await expect(register({ endpoint: hasura.url, adminSecret: 'wrong-secret', log: () => {} })).rejects.toThrow(
      'export_metadata failed (400): access-denied: invalid x-hasura-admin-secret/x-hasura-access-key',
    );
  });
});
