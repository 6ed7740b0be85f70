// `check --endpoint`: the project's metadata compared with what a running Hasura (the stand-in, answering
// export_metadata) has now, i.e. what `hasura metadata apply` would change.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readProject } from '../../src/check/project.js';
import { startStandInHasura, type StandInHasura } from '../support/stand-in-hasura.js';
import { runCheck } from './project-repo.js';

// Each test starts one or two check processes (tsx compiles on start: 2-5 s each on a machine shared with other jobs).
vi.setConfig({ testTimeout: 60_000 });

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hasura-project');
const SECRET = 'stand-in-admin-secret-5f1c';

/** The project's metadata as Hasura exports it: JSON, without the null fields Hasura does not export. */
const exported = () => JSON.parse(JSON.stringify(readProject(PROJECT, PROJECT).metadata, (_key, value) => (value === null ? undefined : value)));

let hasura: StandInHasura;
beforeEach(async () => {
  hasura = await startStandInHasura();
});
afterEach(() => hasura.close());

const check = (...args: string[]) => runCheck(['--project', PROJECT, '--endpoint', hasura.url, ...args], { env: { HASURA_GRAPHQL_ADMIN_SECRET: SECRET } });

describe('--endpoint', () => {
  it('the same metadata live: nothing would change, exit 0; one export_metadata asked, with the admin secret', async () => {
    hasura.metadata = exported();

    const run = await check();

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('production: allowed (0 changes; 0 new migrations, metadata compared with the live metadata)\n');
    expect(hasura.requests).toHaveLength(1);
    const [request] = hasura.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/metadata' });
    expect(request!.headers['x-hasura-admin-secret']).toBe(SECRET);
    expect(JSON.parse(request!.body.toString())).toEqual({ type: 'export_metadata', version: 2, args: {} });
  });

  it('a table and a permission live that the project lacks: apply would untrack and revoke them, exit 1', async () => {
    const live = exported();
    live.sources[0].tables.push({
      table: { schema: 'public', name: 'invoices' },
      select_permissions: [{ role: 'user', permission: { columns: ['id'], filter: {} } }],
    });
    hasura.metadata = live;

    const run = await check('--format', 'github', '--admin-secret', SECRET);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::warning file=test\/fixtures\/hasura-project\/metadata\/databases\/databases\.yaml,.*::untracks table pg\.public\.invoices/m);
    expect(run.stdout).toMatch(/::revokes permission pg\.public\.invoices select for user/);
    expect(run.stdout).not.toContain(SECRET);
  });

  it('Hasura answers an error: exit 3, the status only (no secret, no message from the server)', async () => {
    hasura.exportFails = true;
    const run = await check();
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`check: could not check: export_metadata at ${hasura.url}/v1/metadata answered 500 [ENDPOINT_FAILED]\n`);
  });

  it('nothing listening: exit 3', async () => {
    const url = hasura.url;
    await hasura.close();
    const run = await runCheck(['--project', PROJECT, '--endpoint', url]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`check: could not check: export_metadata at ${url}/v1/metadata: the connection failed [ENDPOINT_FAILED]\n`);
  });
});
