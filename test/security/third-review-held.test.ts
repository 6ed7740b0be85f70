// Behaviour of the fixes to people and check that a third review tried and found holding (the admin check's cache, ASCII-only
// email folding, one-line names, the unanswered outcome, YAML anchors and merge keys, migration layouts, .env forms), kept.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProjectRepo, runCheck, type ProjectRepo } from '../check/project-repo.js';
import { hasuraAdminCheck } from '../../src/http/hasura-admin.js';
import { normalEmail } from '../../src/vocabulary/person.js';
import { signalFromHasuraAnswer } from '../../src/history/changes.js';
import { slackChannel, teamsChannel } from '../../src/notify/channels.js';

vi.setConfig({ testTimeout: 120_000 });

describe('check: real layouts and YAML', () => {
  let repo: ProjectRepo;
  afterEach(() => repo?.dispose());
  const check = (env: Record<string, string> = {}) => runCheck(['--project', repo.project, '--base', 'main', '--format', 'json'], { env });
  const effects = (stdout: string) => JSON.parse(stdout).changes.map((c: { effect: { verb: string; name?: string } }) => `${c.effect.verb} ${c.effect.name}`);
  const table = 'metadata/databases/pg/tables/public_albums.yaml';
  it('anchors, merge keys, !!str and block scalars are read, and a merged-in filter widened is a change', async () => {
    repo = createProjectRepo();
    repo.write(table, `${repo.read(table)}select_permissions:\n- role: user\n  comment: !!str |\n    two\n    lines\n  permission: &p\n    columns: [id, title]\n    filter: {artist_id: {_eq: X-Hasura-User-Id}}\n- role: editor\n  permission:\n    <<: *p\n    allow_aggregations: !!bool true\n`);
    repo.commit('permissions with anchors');
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    let run = await check();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    repo.write(table, repo.read(table).replace('filter: {artist_id: {_eq: X-Hasura-User-Id}}', 'filter: {}'));
    repo.commit('every album for both roles');
    run = await check();
    expect(run.code).not.toBe(0);
    expect(JSON.parse(run.stdout).changes.length).toBeGreaterThan(0);
  });

  it('a migration with only down.sql, a README and a squashed migration\'s up.sql: the down one and the README are not analysed', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write('migrations/pg/1700000000000_only_down/down.sql', 'DROP TABLE genres CASCADE;\n');
    repo.write('migrations/pg/1700000000001_x.down.sql', 'DROP TABLE genres CASCADE;\n');
    repo.write('migrations/pg/README.md', 'DROP TABLE genres;\n');
    repo.write('migrations/pg/1700000000002_squashed/up.sql', 'CREATE TABLE public.reviews (id serial PRIMARY KEY);\n');
    repo.commit('down only');
    const run = await check();
    expect(run.stderr).toBe('');
    expect(effects(run.stdout).some((e: string) => /^drop /.test(e))).toBe(false);
  });

  it('a .env with export, quotes and a trailing comment moves the migrations directory; an empty variable in the environment does not hide it (gotenv sets a variable that is empty)', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write('.env', '# where migrations live\nexport HASURA_GRAPHQL_MIGRATIONS_DIRECTORY="db" # moved\n');
    repo.write('db/pg/1622047079431_chinook/up.sql', repo.read('migrations/pg/1622047079431_chinook/up.sql'));
    repo.write('db/pg/1700000000000_drop_genres/up.sql', 'DROP TABLE genres CASCADE;\n');
    repo.commit('moved');
    for (const env of [{}, { HASURA_GRAPHQL_MIGRATIONS_DIRECTORY: "" }] as Record<string, string>[]) {
      const run = await check(env);
      expect(run.code).toBe(1);
      expect(effects(run.stdout)).toContainEqual(expect.stringMatching(/^drop .*genres$/));
    }
  });

  it('HASURA_GRAPHQL_METADATA_FILE in the environment stops the check (exit 3, UNSUPPORTED_PROJECT)', async () => {
    repo = createProjectRepo();
    const run = await check({ HASURA_GRAPHQL_METADATA_FILE: 'metadata.yaml' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[UNSUPPORTED_PROJECT]');
  });
});

describe('the admin check', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('an admin answer is remembered per credential, header and role: the same secret with x-hasura-role: user is asked again and refused', async () => {
    const asked: (string | undefined)[] = [];
    server = createServer((req, res) => {
      req.resume();
      asked.push(req.headers['x-hasura-role'] as string | undefined);
      const ok = req.headers['x-hasura-admin-secret'] === 's' && (req.headers['x-hasura-role'] ?? 'admin') === 'admin';
      req.on('end', () => res.writeHead(ok ? 200 : 401).end('{}'));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const check = hasuraAdminCheck({ hasuraUrl: `http://127.0.0.1:${port}`, clock: () => 0 });
    expect(await check('s', 'x-hasura-admin-secret', undefined)).toBe('admin');
    expect(await check('s', 'x-hasura-admin-secret', undefined)).toBe('admin');
    expect(await check('s', 'x-hasura-admin-secret', 'user')).toBe('not-admin');
    expect(await check('s', 'x-hasura-access-key', 'user')).toBe('not-admin');
    expect(await check('t', 'x-hasura-admin-secret', undefined)).toBe('not-admin');
    expect(asked).toEqual([undefined, 'user', 'user', undefined]);
  });

  it('nothing listening is "unreachable"', async () => {
    const check = hasuraAdminCheck({ hasuraUrl: 'http://127.0.0.1:1', clock: () => 0, timeoutMs: 2000 });
    expect(await check('s', 'x-hasura-admin-secret', undefined)).toBe('unreachable');
  });
});

describe('people and notifications', () => {
  it('emails fold ASCII letters only: KELVIN SIGN and a decomposed é stay distinct', () => {
    expect(normalEmail(' Kate@Example.COM ')).toBe('kate@example.com');
    expect(normalEmail('\u212Aate@example.com')).not.toBe('kate@example.com');
    expect(normalEmail('re\u0301my@example.com')).not.toBe(normalEmail('r\u00e9my@example.com'));
  });

  it('no status at all is unanswered; 0 too; 2xx passed; 4xx/5xx failed', () => {
    const c = { fingerprint: 'f', sub: 's' };
    expect(signalFromHasuraAnswer(c, 'production', undefined, 0).type).toBe('unanswered');
    expect(signalFromHasuraAnswer(c, 'production', 0, 0).type).toBe('unanswered');
    expect(signalFromHasuraAnswer(c, 'production', 204, 0).type).toBe('passed');
    expect(signalFromHasuraAnswer(c, 'production', 500, 0).type).toBe('failed');
  });

  it('Slack and Teams: a U+2028, a zero-width joiner and CR/LF in a name do not start a line', () => {
    const event = {
      id: 'e', type: 'held' as const, at: '2026-01-01T00:00:00Z', environment: 'production', requester: 'a\u2028*b*', confirmer: null,
      summary: 'drops table x\r\n\u200d*Confirmed by carol*', changes: ['drops table x\n*Confirmed by carol*'], link: 'https://guard.example/h/1',
    };
    const slack = JSON.parse(slackChannel('https://hooks.slack.com/x').message(event).body);
    const texts: string[] = [slack.text, ...slack.blocks.flatMap((b: any) => [b.text?.text, ...(b.fields ?? []).map((f: any) => f.text)])].filter(Boolean);
    for (const t of texts) expect(t).not.toMatch(/[\r\u2028\u2029\u200d]|\n\*Confirmed/);
    const teams = JSON.stringify(teamsChannel('https://example.webhook.office.com/x').message(event).body);
    expect(teams).not.toMatch(/\\n\*Confirmed|\\r|\\u2028/);
  });
});
