// Attacks on identity, the history, notifications and `check` that held when an adversarial review tried them, kept
// so they keep holding: through the real doors (HTTP against the enforcing guard, `check` as a process).
import { createHmac, createPublicKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { assertionEnv, AUDIENCE, ISSUER, startStandInKeySet, type StandInKeySet } from '../support/stand-in-key-set.js';
import { manualTimers, slackTexts, startReceivers, type Receivers } from '../support/receivers.js';
import { createProjectRepo, runCheck, type ProjectRepo } from '../check/project-repo.js';
import { isTrusted, parseTrustedProxies } from '../../src/identity/trusted-proxies.js';

vi.setConfig({ testTimeout: 60_000 });

const closing: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});
async function guardWith(env: Record<string, string>, wiring = doubleWiring(), extra: Parameters<typeof startEnforcingServer>[2] = {}): Promise<EnforcingServer> {
  const guard = await startEnforcingServer(wiring, env, extra);
  closing.push(guard);
  return guard;
}
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('assertions', () => {
  let keySet: StandInKeySet;
  beforeAll(async () => {
    keySet = await startStandInKeySet();
    await keySet.addKey('RS256', 'rsa-1');
  });
  afterAll(() => keySet.close());
  const confirmAs = (guard: EnforcingServer, token: string, assertion: string) =>
    rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, 'cf-access-jwt-assertion': assertion }, JSON.stringify({ token }));
  const holdFor = async (guard: EnforcingServer, email: string) =>
    (await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'cf-access-jwt-assertion': await keySet.sign('rsa-1', { email }, Math.floor(guard.clock() / 1000)) })).json.guard
      .confirmation_token as string;

  it('HS256 signed with the published RSA key (as PEM, and as the JWK text) is refused: algorithm confusion', async () => {
    const guard = await guardWith(assertionEnv(keySet));
    const jwk = (await (await fetch(keySet.url)).json()).keys[0];
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const now = Math.floor(guard.clock() / 1000);
    for (const secret of [pem, JSON.stringify(jwk)]) {
      const head = `${b64url({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })}.${b64url({ email: 'carol@example.com', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 })}`;
      const forged = `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
      const sent = await rawRequest(guard.url, 'GET', '/console', { 'cf-access-jwt-assertion': forged });
      expect(sent.status).toBe(401);
    }
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('a not-yet-valid assertion (nbf a minute ahead), and one whose audience array lacks ours, are refused; one whose array holds ours is taken', async () => {
    const guard = await guardWith(assertionEnv(keySet));
    const now = Math.floor(guard.clock() / 1000);
    const early = await keySet.sign('rsa-1', { email: 'a@example.com', nbf: now + 60 }, now);
    expect((await rawRequest(guard.url, 'GET', '/console', { 'cf-access-jwt-assertion': early })).status).toBe(401);
    const elsewhere = await keySet.sign('rsa-1', { email: 'a@example.com' }, now, { aud: ['other-app', 'another'] as never });
    expect((await rawRequest(guard.url, 'GET', '/console', { 'cf-access-jwt-assertion': elsewhere })).status).toBe(401);
    const ours = await keySet.sign('rsa-1', { email: 'a@example.com' }, now, { aud: ['other-app', AUDIENCE] as never });
    expect((await rawRequest(guard.url, 'GET', '/console', { 'cf-access-jwt-assertion': ours })).status).toBe(200);
  });

  it('emails: ALICE@EXAMPLE.COM is the approver alice@example.com; full-width ａｌｉｃｅ, a zero-width space, or an email in an array are not', async () => {
    const guard = await guardWith({ ...assertionEnv(keySet), GUARD_APPROVERS: 'alice@example.com' });
    const now = () => Math.floor(guard.clock() / 1000);
    for (const email of ['ａｌｉｃｅ@example.com', 'alice\u200b@example.com', ['alice@example.com']] as unknown[]) {
      const token = await holdFor(guard, 'bob@example.com');
      const answer = await confirmAs(guard, token, await keySet.sign('rsa-1', { email } as never, now()));
      expect(answer.json?.success).not.toBe(true);
    }
    const token = await holdFor(guard, 'bob@example.com');
    expect((await confirmAs(guard, token, await keySet.sign('rsa-1', { email: 'ALICE@EXAMPLE.COM' }, now()))).json).toMatchObject({ success: true });
  });

  it('groups of the wrong type (an object, a number, an array of objects) grant nothing', async () => {
    const guard = await guardWith({ ...assertionEnv(keySet), GUARD_APPROVERS: 'group:admins' });
    for (const groups of [{ admins: true }, 1, [{ name: 'admins' }], [['admins']]]) {
      const token = await holdFor(guard, 'bob@example.com');
      const answer = await confirmAs(guard, token, await keySet.sign('rsa-1', { email: 'carol@example.com', groups } as never, Math.floor(guard.clock() / 1000)));
      expect(answer.json).toMatchObject({ success: false, code: 'NOT_AN_APPROVER' });
    }
  });
});

describe('trusted proxies', () => {
  it('IPv4-mapped IPv6 socket addresses match an IPv4 range and only it; NAT64 and other spellings do not', () => {
    const parsed = parseTrustedProxies('10.0.0.0/8');
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(isTrusted(parsed.list, '::ffff:10.1.2.3')).toBe(true);
    expect(isTrusted(parsed.list, '::ffff:11.1.2.3')).toBe(false);
    expect(isTrusted(parsed.list, '64:ff9b::a01:203')).toBe(false);
    expect(isTrusted(parsed.list, '10.1.2.3.evil')).toBe(false);
    expect(isTrusted(parsed.list, undefined)).toBe(false);
  });

  it('a header from 127.0.0.1 when only ::1 is trusted is refused, whatever X-Forwarded-For and X-Real-IP say', async () => {
    const guard = await guardWith({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: '::1' });
    const sent = await rawRequest(guard.url, 'GET', '/console', { 'x-forwarded-email': 'alice@example.com', 'x-forwarded-for': '::1', 'x-real-ip': '::1', forwarded: 'for="[::1]"' });
    expect(sent.status).toBe(401);
  });
});

describe('notifications', () => {
  let receivers: Receivers;
  afterEach(async () => receivers?.close());

  it('Slack: <!channel>, <@U123> and <https://evil|click> in a table name are escaped in the mrkdwn fallback, plain text in the blocks', async () => {
    receivers = await startReceivers();
    const guard = await guardWith(receivers.env, doubleWiring({ analyze: undefined, decide: undefined, store: undefined }), { notifyTimers: manualTimers() });
    const sql = 'DROP TABLE "<!channel> <@U123> <https://evil.example|click>"';
    await postMetadata(guard.url, '/v2/query', { type: 'run_sql', args: { source: 'default', sql } });
    await guard.app.changeLog!.settled();
    await guard.app.changeLog!.notifier!.idle();
    const message = receivers.of('slack')[0]!.json;
    expect(message.text).toContain('&lt;!channel&gt;');
    expect(message.text).not.toContain('<@U123>');
    for (const t of slackTexts(message).filter((t) => /<!channel>|<@U123>|evil\.example/.test(t.text))) expect(t.type).toBe('plain_text');
  });
});

describe('pages', () => {
  it('the history page: the same strict CSP whether 200 or 401, no inline handler, and its API never answers without an admin', async () => {
    const guard = await guardWith({});
    const page = await rawRequest(guard.url, 'GET', '/guard/changes?change=%3Cscript%3E');
    expect(page.status).toBe(401);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'nonce-[^']+'; .*frame-ancestors 'none'/);
    expect(page.body.toString()).not.toContain('<script>');
    expect((await rawRequest(guard.url, 'GET', '/guard/api/changes', { 'x-hasura-admin-secret': 'wrong' })).status).toBe(401);
    expect((await rawRequest(guard.url, 'GET', '/guard/api/changes?change=%3Cimg%3E', { 'x-hasura-admin-secret': ADMIN_SECRET })).status).toBe(400);
  });

  it('the confirm page escapes the requester and the objects the token names', async () => {
    const guard = await guardWith({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: '127.0.0.1' }, doubleWiring({ analyze: undefined, decide: undefined, store: undefined }));
    const sql = 'DROP TABLE "<img src=x onerror=alert(1)>"';
    const held = await postMetadata(guard.url, '/v2/query', { type: 'run_sql', args: { source: 'default', sql } }, ADMIN_SECRET, { 'x-forwarded-email': '"><svg onload=alert(1)>@example.com' });
    const token = held.json.guard.confirmation_token as string;
    const page = (await rawRequest(guard.url, 'GET', `/guard/confirm?token=${token}`, { 'x-forwarded-email': '<b>carol</b>@example.com' })).body.toString();
    expect(page).not.toMatch(/<img|<svg|<b>/);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('check', () => {
  let repo: ProjectRepo;
  afterEach(() => repo?.dispose());

  it('a tables file with a second YAML document (the Go CLI reads the first only): could not check, exit 3', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    const file = 'metadata/databases/pg/tables/tables.yaml';
    repo.write(file, `${repo.read(file)}---\n[]\n`);
    repo.commit('two documents');
    const run = await runCheck(['--project', repo.project, '--base', 'main']);
    expect(run.code).toBe(3);
  });

  it('an up.sql that starts with a byte order mark and uses CRLF line ends: its DROP is still seen', async () => {
    repo = createProjectRepo();
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write('migrations/pg/1700000000000_drop/up.sql', '\uFEFF-- cleanup\r\nDROP TABLE genres CASCADE;\r\n');
    repo.commit('bom');
    const run = await runCheck(['--project', repo.project, '--base', 'main', '--format', 'json']);
    expect(run.code).not.toBe(0);
  });

  it('the control for the Date hole: the same filter widened with quoted dates is reported and needs a confirmation', async () => {
    repo = createProjectRepo();
    const file = 'metadata/databases/pg/tables/public_albums.yaml';
    const permission = (date: string) => `select_permissions:\n- role: user\n  permission:\n    columns: [id, title]\n    filter:\n      released_at:\n        _gte: "${date}"\n`;
    repo.write(file, `${repo.read(file)}${permission('2024-01-01')}`);
    repo.commit('user reads albums released since 2024');
    repo.git('checkout', '--quiet', '-b', 'pull-request');
    repo.write(file, repo.read(file).replace('_gte: "2024-01-01"', '_gte: "1970-01-01"'));
    repo.commit('user reads every album');
    const run = await runCheck(['--project', repo.project, '--base', 'main', '--format', 'json']);
    expect(JSON.parse(run.stdout).changes.length).toBeGreaterThan(0);
    expect(run.code).not.toBe(0);
  });

  it('--admin-secret never reaches the output, whether the endpoint refuses or is unreachable', async () => {
    repo = createProjectRepo();
    const secret = 'the-admin-secret-do-not-print-0123';
    const run = await runCheck(['--project', repo.project, '--endpoint', `http://user:${secret}@127.0.0.1:1/`, '--admin-secret', secret]);
    expect(run.code).toBe(3);
    expect(run.stdout + run.stderr).not.toContain(secret);
  });
});
