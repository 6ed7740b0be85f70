// What an adversarial review of the guard's knowledge of people found: identity headers repeated or spelt alike,
// held changes recorded and announced for credentials Hasura refuses (or none), and names that write links or lines
// into notifications. Each test asserts the safe behaviour through a real door and failed before its fix.
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { assertionEnv, startStandInKeySet, type StandInKeySet } from '../support/stand-in-key-set.js';
import { manualTimers, slackTexts, startReceivers, type Receivers } from '../support/receivers.js';
import { createProjectRepo, runCheck, type ProjectRepo } from '../check/project-repo.js';

vi.setConfig({ testTimeout: 120_000 });

const closing: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});

async function guardWith(env: Record<string, string>, wiring = doubleWiring(), extra: Parameters<typeof startEnforcingServer>[2] = {}): Promise<EnforcingServer> {
  const guard = await startEnforcingServer(wiring, env, extra);
  closing.push(guard);
  return guard;
}

/** One request written byte for byte on a socket (header lines repeated as written), the status and JSON back. */
function socketRequest(url: string, head: string[], body: string): Promise<{ status: number; json: any }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write(`${head.join('\r\n')}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`),
    );
    let text = '';
    socket.on('data', (c) => (text += c));
    socket.on('end', () => {
      const status = Number(text.split(' ')[1]);
      const payload = text.slice(text.indexOf('\r\n\r\n') + 4);
      let json: any;
      try {
        json = JSON.parse(payload);
      } catch {
        json = undefined;
      }
      resolve({ status, json });
    });
    socket.on('error', reject);
  });
}

const headerEnv = (proxies: string) => ({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_IDENTITY_GROUPS_HEADER: 'X-Forwarded-Groups', GUARD_TRUSTED_PROXIES: proxies });

// ---- (b) identity ---------------------------------------------------------------------------------------------------

describe('identity: the groups header', () => {
  it('sent twice through the trusted proxy (the client\'s own line passed on beside the proxy\'s) is refused like a repeated email, not joined into an approver', async () => {
    const guard = await guardWith({ ...headerEnv('127.0.0.1/32'), GUARD_APPROVERS: 'group:admins' });
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'x-forwarded-email': 'alice@example.com', 'x-forwarded-groups': 'developers' });
    const token = held.json.guard.confirmation_token as string;
    expect(token).toBeTruthy();
    // bob is in "developers" only (the proxy's line); the second line is the one the client sent, which a proxy that
    // appends rather than replaces passes on. The email header sent twice is refused (IDENTITY_REPEATED); groups are
    // joined with a comma.
    const answer = await socketRequest(
      guard.url,
      [
        'POST /guard/confirm HTTP/1.1',
        'host: guard',
        'content-type: application/json',
        `x-hasura-admin-secret: ${ADMIN_SECRET}`,
        'x-forwarded-email: bob@example.com',
        'x-forwarded-groups: admins',
        'x-forwarded-groups: developers',
      ],
      JSON.stringify({ token }),
    );
    // SAFE: refused (as the repeated identity header is), never a confirmation by a made-up approver.
    expect(answer.json?.success).not.toBe(true);
    expect(answer.status).toBe(401);
    expect((await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'x-forwarded-email': 'alice@example.com' })).status).not.toBe(200);
  });
});

describe('identity: the email header', () => {
  it('sent twice, the proxy\'s line empty and the client\'s naming an approver: refused as repeated, not read as the approver', async () => {
    const guard = await guardWith({ ...headerEnv('127.0.0.1/32'), GUARD_APPROVERS: 'carol@example.com' });
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'x-forwarded-email': 'alice@example.com' });
    const token = held.json.guard.confirmation_token as string;
    // A proxy that adds its own (here empty: a user without an email, a route it does not authenticate) and passes the
    // client's on: two lines. "Sent twice: refused" is the guard's own rule (IDENTITY_REPEATED); empties are dropped first.
    const answer = await socketRequest(
      guard.url,
      ['POST /guard/confirm HTTP/1.1', 'host: guard', 'content-type: application/json', `x-hasura-admin-secret: ${ADMIN_SECRET}`, 'x-forwarded-email: ', 'x-forwarded-email: carol@example.com'],
      JSON.stringify({ token }),
    );
    expect(answer.json?.success).not.toBe(true);
    expect(answer.status).toBe(401);
  });
});

describe('identity: emails compared as people read them', () => {
  let keySet: StandInKeySet;
  beforeAll(async () => {
    keySet = await startStandInKeySet();
    await keySet.addKey('ES256', 'ec-1');
  });
  afterAll(() => keySet.close());

  it('an assertion for "\\u212Aate@example.com" (KELVIN SIGN, a different account) is not the approver kate@example.com, and the history does not say kate confirmed', async () => {
    const guard = await guardWith({ ...assertionEnv(keySet), GUARD_APPROVERS: 'kate@example.com' });
    const as = async (email: string) => ({ 'cf-access-jwt-assertion': await keySet.sign('ec-1', { email }, Math.floor(guard.clock() / 1000)) });
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, await as('alice@example.com'));
    const token = held.json.guard.confirmation_token as string;
    const impostor = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...(await as('\u212Aate@example.com')) }, JSON.stringify({ token }));
    await guard.app.changeLog!.settled();
    const [change] = await guard.app.changeLog!.history.list(10);
    // SAFE: a mailbox spelled with U+212A is not kate's (String.prototype.toLowerCase folds it into "k").
    expect(impostor.json).toMatchObject({ success: false, code: 'NOT_AN_APPROVER' });
    expect(change?.confirmer ?? null).not.toBe('kate@example.com');
  });
});

// ---- (a) history and notifications ----------------------------------------------------------------------------------

describe('history and notifications: requests Hasura would refuse', () => {
  let receivers: Receivers;
  afterEach(async () => receivers?.close());

  it('a DROP sent with a made-up admin secret (Hasura refuses it) is refused, neither written into the history nor announced', async () => {
    receivers = await startReceivers();
    const guard = await guardWith(receivers.env, doubleWiring(), { notifyTimers: manualTimers() });
    const sent = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), 'made-up-secret-from-the-internet');
    expect(sent.status).toBe(401); // refused as Hasura would: nothing reaches Hasura
    expect(sent.json.code).toBe('guard-credentials-not-admin');
    expect(guard.hasura.forwarded()).toEqual([]);
    await guard.app.changeLog!.settled();
    await guard.app.changeLog!.notifier!.idle();
    // SAFE: someone without Hasura's admin secret changed nothing and could change nothing; the history of production
    // changes and the team's channel should not say a production change was requested and "needs a confirmation".
    expect(await guard.app.changeLog!.history.list(10)).toEqual([]);
    expect(receivers.deliveries).toEqual([]);
  });

  it('ten thousand DROPs without any credentials do not evict a real admin\'s held change from the (memory) history', async () => {
    const guard = await guardWith({});
    const real = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET);
    expect(real.json.guard.confirmation_token).toBeTruthy();
    await guard.app.changeLog!.settled();
    const realId = (await guard.app.changeLog!.history.list(1))[0]!.id;
    guard.clock.advance(1);
    // Anyone who reaches the port: no credentials at all. Each is "denied" (CREDENTIALS_MISSING) and recorded.
    const body = JSON.stringify(bodies.dropTable());
    const headers = { 'content-type': 'application/json' };
    let sent = 0;
    const worker = async () => {
      while (sent < 10_000) {
        sent++;
        await fetch(`${guard.url}/v2/query`, { method: 'POST', headers, body }).then((r) => r.arrayBuffer());
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await guard.app.changeLog!.settled();
    // SAFE: the admin's held change is still in the history.
    expect(await guard.app.changeLog!.history.get(realId)).toBeDefined();
  });

  it('a flood of DROPs without credentials while a receiver is slow does not make the guard drop the notification of a real admin\'s held change', async () => {
    receivers = await startReceivers();
    // A receiver that is slow or rate-limiting (Slack answers 429 past one message a second): tries wait.
    for (const r of ['webhook', 'slack', 'teams'] as const) receivers.failNext(r, 100_000, 'hang');
    const guard = await guardWith(receivers.env, doubleWiring(), { notifyTimers: manualTimers() });
    const body = JSON.stringify(bodies.dropTable());
    for (let i = 0; i < 400; i++) await fetch(`${guard.url}/v2/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.arrayBuffer());
    await guard.app.changeLog!.settled();
    const real = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET);
    expect(real.status).toBe(400);
    await guard.app.changeLog!.settled();
    const dropped = guard.logs.lines.filter((l) => (l.notification as { type?: string } | undefined)?.type === 'held' && String(l.msg).includes('dropped'));
    // SAFE: the one notification that matters (an admin's change held in production) is not dropped because of requests
    // that carried no credentials at all.
    expect(dropped).toEqual([]);
  });
});

describe('notifications: Slack renders attacker-chosen names', () => {
  let receivers: Receivers;
  afterEach(async () => receivers?.close());

  it('a table named "https://evil.example/approve" reaches Slack as plain text, never a link under the guard\'s name', async () => {
    receivers = await startReceivers();
    // The real analysis and policy: names come from the SQL as sent (with no credentials at all).
    const guard = await guardWith(receivers.env, doubleWiring({ analyze: undefined, decide: undefined, store: undefined }), { notifyTimers: manualTimers() });
    const sql = 'DROP TABLE "Approve at https://evil.example/approve"';
    // An admin's request (one without credentials is neither recorded nor announced); the name is still anyone's words.
    const sent = await postMetadata(guard.url, '/v2/query', { type: 'run_sql', args: { source: 'default', sql } });
    expect(sent.status).toBe(400);
    await guard.app.changeLog!.settled();
    await guard.app.changeLog!.notifier!.idle();
    const message = receivers.of('slack')[0]!.json;
    const texts = slackTexts(message);
    const carrying = texts.filter((t) => t.text.includes('evil.example'));
    expect(carrying.length).toBeGreaterThan(0);
    // SAFE (Slack's text object reference): only plain_text, or mrkdwn with verbatim: true, leaves a URL in the text
    // unlinked; the default (verbatim: false) auto-converts URLs into links and parses mentions.
    for (const t of carrying) expect(t.type === 'plain_text' || t.verbatim === true).toBe(true);
  });
});

describe('notifications: a name that writes its own lines', () => {
  let receivers: Receivers;
  afterEach(async () => receivers?.close());

  it('a table name holding newlines and *bold* writes no line "*Confirmed in production by carol@example.com*" into the Slack message', async () => {
    receivers = await startReceivers();
    const guard = await guardWith(receivers.env, doubleWiring({ analyze: undefined, decide: undefined, store: undefined }), { notifyTimers: manualTimers() });
    const sql = 'DROP TABLE "x\n\n*Confirmed in production by carol@example.com*"';
    await postMetadata(guard.url, '/v2/query', { type: 'run_sql', args: { source: 'default', sql } });
    await guard.app.changeLog!.settled();
    await guard.app.changeLog!.notifier!.idle();
    const message = receivers.of('slack')[0]!.json;
    const texts: string[] = [message.text, ...slackTexts(message).map((t) => t.text)];
    // SAFE: a name's control characters are replaced (as printable() does for log lines) and mrkdwn's markup in it is
    // neutralised: no line of the guard's message is written by the requester.
    for (const text of texts) expect(text).not.toMatch(/\n\*Confirmed in production by carol@example\.com\*/);
  });
});

// ---- (d) the check CLI ----------------------------------------------------------------------------------------------

describe('check: what the Hasura CLI applies is what check reads', () => {
  let repo: ProjectRepo;
  afterEach(() => repo?.dispose());
  const prepare = () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
  };
  const check = () => runCheck(['--project', repo.project, '--base', 'main', '--format', 'json']);

  it('a migration written as a file, migrations/pg/<version>_<name>.up.sql (the CLI\'s "v1" layout, which config v3 still scans)', async () => {
    prepare();
    // cli/migrate/source/file/file.go Scan: a file directly in the database's directory is parsed by Parsev2
    // (^([0-9]+)_(.*)\.(down|up)\.(sql)$) and applied by `hasura migrate apply` like a directory's up.sql.
    repo.write('migrations/pg/1700000000000_drop_genres.up.sql', 'DROP TABLE genres CASCADE;\n');
    repo.commit('drop genres, v1 layout');
    const run = await check();
    // SAFE: the DROP is analysed (needs a confirmation), or the check refuses to pass a migration it does not read.
    expect(run.code).toBe(1); // the DROP needs a confirmation
    expect(JSON.parse(run.stdout).changes.map((c: { effect: { verb: string; name?: string } }) => `${c.effect.verb} ${c.effect.name}`)).toContainEqual(expect.stringMatching(/^drop .*genres$/));
  });

  it('a migration directory whose SQL is in drop.up.sql rather than up.sql (the CLI reads "<dir>.<file>" with Parsev2)', async () => {
    prepare();
    // "1700000000000_cleanup" + "." + "drop.up.sql" → version 1700000000000, name "cleanup.drop", direction up.
    repo.write('migrations/pg/1700000000000_cleanup/drop.up.sql', 'DROP TABLE genres CASCADE;\n');
    repo.commit('cleanup');
    const run = await check();
    expect(run.code).toBe(1); // the DROP needs a confirmation
    expect(JSON.parse(run.stdout).changes.map((c: { effect: { verb: string; name?: string } }) => `${c.effect.verb} ${c.effect.name}`)).toContainEqual(expect.stringMatching(/^drop .*genres$/));
  });

  it('config.yaml names a metadata_file (metadata.json): `hasura metadata apply` sends that file', async () => {
    prepare();
    // cli/cli.go: metadata_file (.json or .yaml) puts the CLI in MetadataModeJSON/YAML; cli/pkg/metadata/mode_handlers.go
    // then reads ec.MetadataFile for apply, not the metadata directory.
    repo.write('config.yaml', `${repo.read('config.yaml')}\nmetadata_file: metadata.json\n`);
    repo.write('metadata.json', JSON.stringify({ version: 3, sources: [{ name: 'pg', kind: 'postgres', tables: [], configuration: { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' } } } }] }));
    repo.commit('metadata as one file: every table untracked');
    const run = await check();
    // SAFE: the file the CLI applies is the one diffed (every table untracked: a confirmation), or exit 3.
    expect(run.code).toBe(3); // not read, so not passed
    expect(run.stderr).toContain('[UNSUPPORTED_PROJECT]');
  });

  it('a .env in the project sets HASURA_GRAPHQL_MIGRATIONS_DIRECTORY (the CLI loads it, and env wins over config.yaml)', async () => {
    prepare();
    // cli/cli.go: Validate() loads <project>/.env (gotenv), then readConfig() binds HASURA_GRAPHQL_* (viper AutomaticEnv).
    repo.write('.env', 'HASURA_GRAPHQL_MIGRATIONS_DIRECTORY=db\n');
    repo.write('db/pg/1622047079431_chinook/up.sql', repo.read('migrations/pg/1622047079431_chinook/up.sql'));
    repo.write('db/pg/1700000000000_drop_genres/up.sql', 'DROP TABLE genres CASCADE;\n');
    repo.commit('migrations elsewhere');
    const run = await check();
    expect(run.code).toBe(1); // the DROP needs a confirmation
    expect(JSON.parse(run.stdout).changes.map((c: { effect: { verb: string; name?: string } }) => `${c.effect.verb} ${c.effect.name}`)).toContainEqual(expect.stringMatching(/^drop .*genres$/));
  });

  it('a permission filter\'s unquoted date widened from 2024-01-01 to 1970-01-01', async () => {
    repo = createProjectRepo();
    const file = 'metadata/databases/pg/tables/public_albums.yaml';
    const permission = (date: string) => `select_permissions:\n- role: user\n  permission:\n    columns: [id, title]\n    filter:\n      released_at:\n        _gte: ${date}\n`;
    repo.write(file, `${repo.read(file)}${permission('2024-01-01')}`);
    repo.commit('user reads albums released since 2024');
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write(file, repo.read(file).replace('_gte: 2024-01-01', '_gte: 1970-01-01'));
    repo.commit('user reads every album');
    // The Hasura CLI (gopkg.in/yaml.v3) reads an unquoted timestamp into interface{} as its string, so apply sends
    // "1970-01-01": the role now reads every row. The check's YAML schema builds a Date, which has no own keys.
    const run = await check();
    const json = JSON.parse(run.stdout);
    // SAFE: the widened filter is a change (the same change with quotes, "1970-01-01", is reported).
    expect(json.changes.length).toBeGreaterThan(0);
    expect(run.code).not.toBe(0);
  });

  it('an existing migration edited in the branch (main has it, production may not have run it yet)', async () => {
    repo = createProjectRepo();
    repo.write('migrations/pg/1700000000000_reviews/up.sql', 'CREATE TABLE public.reviews (id serial PRIMARY KEY, body text);\n');
    repo.commit('reviews (merged, not yet deployed)');
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write('migrations/pg/1700000000000_reviews/up.sql', 'CREATE TABLE public.reviews (id serial PRIMARY KEY, body text);\nDROP TABLE genres CASCADE;\n');
    repo.commit('edit the migration');
    const run = await check();
    // SAFE: a migration whose up.sql differs from the base's is analysed again (or at least flagged), since the
    // base's migration may not have been applied yet and `migrate apply` will run the edited file.
    expect(run.code).toBe(1); // the DROP needs a confirmation
    expect(JSON.parse(run.stdout).changes.map((c: { effect: { verb: string; name?: string } }) => `${c.effect.verb} ${c.effect.name}`)).toContainEqual(expect.stringMatching(/^drop .*genres$/));
  });
});

// ---- a confirmed change whose answer the guard never saw ------------------------------------------------------------

describe('history: the outcome of a confirmed change', () => {
  it('the sender hangs up after the confirmed retry reached Hasura, which applies it: the history says no answer was seen, not "failed"', async () => {
    const { createServer } = await import('node:http');
    const { createApp } = await import('../../src/app.js');
    const { loadConfig } = await import('../../src/config.js');
    const { startServer } = await import('../../src/server.js');
    const { logCapture, manualClock, TEST_SECRET } = await import('../helpers.js');
    // A Hasura that takes a while to apply a change (a big migration does): it has the request, and answers when the
    // test lets it, after the sender has gone.
    const applied: string[] = [];
    let reached!: () => void;
    const reachedHasura = new Promise<void>((resolve) => (reached = resolve));
    const answers: Array<() => void> = [];
    const hasura = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (body.includes('"get_catalog_state"')) return json(req.headers['x-hasura-admin-secret'] === ADMIN_SECRET ? 200 : 401, {});
        // Hasura (warp) goes on with a request whose client has gone: the change is made.
        applied.push(body);
        answers.push(() => json(200, { result_type: 'CommandOk' }));
        reached();
      });
    });
    await new Promise<void>((resolve) => hasura.listen(0, '127.0.0.1', resolve));
    closing.push({ close: () => new Promise<void>((resolve) => (hasura.closeAllConnections(), hasura.close(() => resolve()))) });
    const hasuraUrl = `http://127.0.0.1:${(hasura.address() as { port: number }).port}`;
    const config = loadConfig({ TOKEN_SECRET: TEST_SECRET, LOG_LEVEL: 'info', GUARD_ENVIRONMENT: 'production', HASURA_URL: hasuraUrl });
    const app = createApp(config, { clock: manualClock(), logDestination: logCapture().stream, enforcement: doubleWiring(), notifyTimers: manualTimers() });
    const running = await startServer(app.listener, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 500, onUpgrade: app.upgrade });
    closing.push({ close: async () => (await running.shutdown(), await app.close()) });

    const held = await postMetadata(running.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET);
    const token = held.json.guard.confirmation_token as string;
    const confirmed = await rawRequest(running.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token }));
    expect(confirmed.json.success).toBe(true);

    // The confirmed retry, and the sender hangs up before Hasura answers.
    const body = JSON.stringify(bodies.dropTable());
    const { port } = new URL(running.url);
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write(`POST /v2/query HTTP/1.1\r\nhost: guard\r\ncontent-type: application/json\r\nx-hasura-admin-secret: ${ADMIN_SECRET}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
    );
    await reachedHasura;
    socket.destroy(); // the sender leaves before Hasura answers
    await vi.waitFor(async () => {
      await app.changeLog!.settled();
      expect((await app.changeLog!.history.list(1))[0]!.outcome).not.toBe('confirmed');
    });
    for (const answer of answers) answer(); // Hasura answers at last, to no one
    expect(applied).toHaveLength(1); // Hasura has it, and made the change
    const [change] = await app.changeLog!.history.list(1);
    // SAFE: not recorded (and announced) as "failed: Hasura refused the confirmed change" when Hasura applied it.
    expect(change!.outcome).toBe('unanswered');
  });
});
