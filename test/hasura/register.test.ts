import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { register } from '../../src/hasura/register.js';
import { GUARD_HASURA_ENV, startFakeHasura } from './fake-hasura.js';

const ADMIN = 'admin-secret-for-tests';
let hasura: Awaited<ReturnType<typeof startFakeHasura>>;
afterEach(() => hasura?.close());

describe('npm run hasura:register', () => {
  it('registers custom types, both actions with permissions, and the remote schema in one bulk; keeps other custom types', async () => {
    hasura = await startFakeHasura(ADMIN);
    const lines: string[] = [];
    await register({ endpoint: `${hasura.url}/`, adminSecret: ADMIN, log: (l) => lines.push(l) });
    expect(hasura.requests.map((r) => r.type)).toEqual(['export_metadata', 'bulk']);
    expect(hasura.requests[1]!.args.map((r: { type: string }) => r.type)).toEqual([
      'set_custom_types', 'create_action', 'create_action_permission', 'create_action', 'create_action_permission', 'add_remote_schema',
    ]);
    expect([...hasura.state.actions.keys()]).toEqual(['validateMetadataChange', 'confirmMetadataChange']);
    expect(hasura.state.actions.get('validateMetadataChange')).toMatchObject({
      definition: { handler: '{{GUARD_BASE_URL}}/validate-metadata-change', forward_client_headers: false, type: 'mutation', output_type: 'ValidateMetadataChangeOutput', arguments: [{ name: 'input', type: 'ValidateMetadataChangeInput!' }] },
      permissions: [{ role: 'developer' }],
    });
    expect(hasura.state.custom_types.input_objects!.map((o) => o.name)).toEqual(['SomeoneElsesInput', 'ValidateMetadataChangeInput', 'ConfirmMetadataChangeInput']);
    expect(hasura.state.remote_schemas.get('metadata_guard')?.definition).toMatchObject({ url_from_env: 'GUARD_GRAPHQL_URL', forward_client_headers: false });
    expect(lines.at(-1)).toBe("Registered in one bulk request. Hasura's own environment must have GUARD_ACTION_SECRET, GUARD_BASE_URL, GUARD_GRAPHQL_URL.");
    expect(lines.join('\n')).not.toContain(ADMIN);
  });

  it('is idempotent: a second run updates what exists and adds no permission twice', async () => {
    hasura = await startFakeHasura(ADMIN);
    await register({ endpoint: hasura.url, adminSecret: ADMIN, log: () => {} });
    hasura.requests.length = 0;
    await register({ endpoint: hasura.url, adminSecret: ADMIN, log: () => {} });
    expect(hasura.requests.map((r) => r.type)).toEqual(['export_metadata', 'bulk']);
    expect(hasura.requests[1]!.args.map((r: { type: string }) => r.type)).toEqual(['set_custom_types', 'update_action', 'update_action', 'update_remote_schema']);
    expect(hasura.state.actions.get('confirmMetadataChange')?.permissions).toEqual([{ role: 'developer' }]);
    expect(hasura.state.custom_types.input_objects!.filter((o) => o.name === 'ValidateMetadataChangeInput')).toHaveLength(1);
  });

  it('a Hasura lacking GUARD_GRAPHQL_URL: fails naming the variable, and nothing is changed', async () => {
    const { GUARD_GRAPHQL_URL: _, ...withoutGraphqlUrl } = GUARD_HASURA_ENV;
    hasura = await startFakeHasura(ADMIN, withoutGraphqlUrl);
    const before = structuredClone(hasura.state);
    const error = await register({ endpoint: hasura.url, adminSecret: ADMIN, log: () => {} }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      "Hasura's environment lacks GUARD_GRAPHQL_URL: set it on the Hasura server (not the guard), restart Hasura and run this again. Hasura's own environment must have GUARD_ACTION_SECRET, GUARD_BASE_URL, GUARD_GRAPHQL_URL. Nothing was changed.",
    );
    // The actions came before the remote schema in the bulk, and still nothing was stored.
    expect(hasura.writes).toEqual([]);
    expect(hasura.state).toEqual(before);
  });

  it('a Hasura that is not there: says so, changes nothing', async () => {
    hasura = await startFakeHasura(ADMIN);
    const url = hasura.url;
    await hasura.close();
    await expect(register({ endpoint: url, adminSecret: ADMIN, log: () => {} })).rejects.toThrow(
      new RegExp(`^Hasura is not reachable at ${url}/v1/metadata .*check HASURA_GRAPHQL_ENDPOINT\\. Nothing was changed\\.$`),
    );
  });

  it('a wrong admin secret: says which variable to fix, without echoing either secret', async () => {
    hasura = await startFakeHasura(ADMIN);
    const error = (await register({ endpoint: hasura.url, adminSecret: 'wrong-secret', log: () => {} }).catch((e: Error) => e)) as Error;
    expect(error.message).toBe(
      'Hasura refused the admin secret (access-denied: invalid x-hasura-admin-secret/x-hasura-access-key): set HASURA_GRAPHQL_ADMIN_SECRET to Hasura\'s admin secret. Nothing was changed.',
    );
    expect(hasura.writes).toEqual([]);
  });

  it('--dry-run prints one JSON document (the bulk request and the variables Hasura needs) and sends nothing', async () => {
    hasura = await startFakeHasura(ADMIN);
    const lines: string[] = [];
    await register({ endpoint: hasura.url, adminSecret: ADMIN, dryRun: true, log: (l) => lines.push(l) });
    expect(hasura.requests).toEqual([]);
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!);
    expect(doc).toMatchObject({ dry_run: true, url: `${hasura.url}/v1/metadata`, admin_secret: 'set', hasura_env_required: ['GUARD_ACTION_SECRET', 'GUARD_BASE_URL', 'GUARD_GRAPHQL_URL'] });
    expect(doc.request.type).toBe('bulk');
    expect(doc.request.args.map((r: { type: string }) => r.type)).toEqual(['set_custom_types', 'create_action', 'create_action_permission', 'create_action', 'create_action_permission', 'add_remote_schema']);
    expect(lines[0]).not.toContain(ADMIN);
  });

  it('the command itself: --dry-run writes only JSON to stdout, so it pipes into jq', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const { stdout } = await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsx'), ['src/hasura/register-cli.ts', '--dry-run'], {
      cwd: root,
      env: { ...process.env, HASURA_GRAPHQL_ENDPOINT: 'http://127.0.0.1:1', HASURA_GRAPHQL_ADMIN_SECRET: '' },
    });
    expect(JSON.parse(stdout)).toMatchObject({ dry_run: true, admin_secret: 'not set', request: { type: 'bulk' } });
  });
});
