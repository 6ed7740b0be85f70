// A third review, of the fixes to people and check: a denied change without credentials recorded anyway, Hasura's
// 5xx read as "not an admin", and a project .env that the Hasura CLI (gotenv) reads differently from node's parseEnv.
// Each test asserts the correct behaviour, and failed before its fix.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { postMetadata, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { manualTimers, startReceivers, type Receivers } from '../support/receivers.js';
import { createProjectRepo, runCheck, type ProjectRepo } from '../check/project-repo.js';
import { hasuraAdminCheck } from '../../src/http/hasura-admin.js';

vi.setConfig({ testTimeout: 120_000 });

const closing: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});

describe('history and notifications: a denied change without credentials', () => {
  let receivers: Receivers | undefined;
  afterEach(async () => receivers?.close());

  it('a catastrophic change (denied by policy) sent without any credentials is neither written into the history nor announced', async () => {
    receivers = await startReceivers();
    const guard: EnforcingServer = await startEnforcingServer(doubleWiring(), receivers.env, { notifyTimers: manualTimers() });
    closing.push(guard);
    // clear_metadata is "deny" in production (the double, like policies/default.json's catastrophic: deny).
    const sent = await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} }, null);
    expect(sent.status).toBeGreaterThanOrEqual(400);
    expect(guard.hasura.forwarded()).toEqual([]);
    await guard.app.changeLog!.settled();
    await guard.app.changeLog!.notifier!.idle();
    // docs/history-and-notifications.md: a change sent with no credentials is audited only, neither recorded nor
    // announced (anyone who reaches the proxy could flood both). The engine checks "deny" before "no credentials".
    expect(await guard.app.changeLog!.history.list(10)).toEqual([]);
    expect(receivers.deliveries).toEqual([]);
  });
});

describe('the admin check: a Hasura that answers but is not well', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  for (const status of [502, 503, 500]) {
    it(`get_catalog_state answered ${status} (Hasura restarting, its database down, a load balancer with no backend) is "unreachable", not "not-admin"`, async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{"code":"unexpected","error":"database query error"}'));
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const { port } = server.address() as { port: number };
      const check = hasuraAdminCheck({ hasuraUrl: `http://127.0.0.1:${port}`, clock: () => Date.now() });
      // An admin whose secret is right is told 401 "Hasura does not accept this request's credentials as an admin's".
      expect(await check('the-real-admin-secret', 'x-hasura-admin-secret', undefined)).toBe('unreachable');
    });
  }
});

describe('check: the project .env as the Hasura CLI reads it (subosito/gotenv)', () => {
  let repo: ProjectRepo;
  afterEach(() => repo?.dispose());
  const check = () => runCheck(['--project', repo.project, '--base', 'main', '--format', 'json']);
  const drops = (stdout: string) => JSON.parse(stdout).changes.map((c: { effect: { verb: string; name?: string } }) => `${c.effect.verb} ${c.effect.name}`);
  const moveMigrations = () => {
    repo.write('db/pg/1622047079431_chinook/up.sql', repo.read('migrations/pg/1622047079431_chinook/up.sql'));
    repo.write('db/pg/1700000000000_drop_genres/up.sql', 'DROP TABLE genres CASCADE;\n');
  };

  it('a .env line in gotenv\'s "KEY: value" form moves the migrations directory (the CLI reads it, node:util parseEnv does not): the check stops', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    // gotenv linePattern: (?:\s*=\s*|:\s+?) — a colon and a space assign too.
    repo.write('.env', 'HASURA_GRAPHQL_MIGRATIONS_DIRECTORY: db\n');
    moveMigrations();
    repo.commit('migrations elsewhere, colon form');
    const run = await check();
    // SAFE: a .env check cannot read as the CLI does stops the check (exit 3) rather than pass a directory unread.
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[UNSUPPORTED_PROJECT]');
  });

  it('a .env value with ${VAR} (gotenv expands it, parseEnv would not): the check stops', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write('.env', 'DIR=db\nHASURA_GRAPHQL_MIGRATIONS_DIRECTORY=${DIR}\n');
    moveMigrations();
    repo.commit('migrations elsewhere, expanded');
    const run = await check();
    // SAFE: a .env check cannot read as the CLI does stops the check (exit 3) rather than pass a directory unread.
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[UNSUPPORTED_PROJECT]');
  });

  it('a .env with one line gotenv cannot parse is ignored whole by the CLI (cli.go loadEnvfile only warns), so migrations/ is what it applies', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    // gotenv.Load → parset: StrictParse fails on "not a setting", and nothing is set. parseEnv skips the line.
    repo.write('.env', 'HASURA_GRAPHQL_MIGRATIONS_DIRECTORY=db\nnot a setting\n');
    repo.write('db/pg/1622047079431_chinook/up.sql', repo.read('migrations/pg/1622047079431_chinook/up.sql'));
    repo.write('migrations/pg/1700000000000_drop_genres/up.sql', 'DROP TABLE genres CASCADE;\n');
    repo.commit('the DROP where the CLI looks');
    const run = await check();
    // SAFE: the DROP the CLI applies is seen, or the check refuses (exit 3) a .env it cannot read as the CLI does.
    expect(run.code).toBe(3);
  });
});
