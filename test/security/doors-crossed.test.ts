// Attacks on confirmation tokens that held when an adversarial review tried them, kept so they keep holding: tokens
// taken to the wrong door, other guards' tokens, claims of the wrong type, approvers spelt differently, the confirm
// page's markup. Each goes through a real door over HTTP and asserts the safe behaviour.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { ACTION_SECRET, postJson, startTestServer, TEST_SECRET } from '../helpers.js';
import { TOKEN_ISSUER, tokenAudience } from '../../src/core/tokens.js';

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** HS256 by hand with the test key: any payload, wrong types included (jsonwebtoken's sign would refuse some). */
const sign = (payload: object) => {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
};

const VALIDATE_Q = 'mutation($i: ValidateMetadataChangeInput!) { validateMetadataChange(input: $i) { success code confirmation_token } }';
const CONFIRM_Q = 'mutation($t: String!) { confirmMetadataChange(input: {confirmation_token: $t}) { success code message } }';
const drop = { operation: 'DROP TABLE public.patients', table_name: 'public.patients', environment: 'production' };

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function enforcing(env: Record<string, string> = {}): Promise<EnforcingServer> {
  const guard = await startEnforcingServer(doubleWiring({ store: undefined }), { ACTION_SECRET, ...env });
  servers.push(guard);
  return guard;
}
const graphqlAt = (url: string) => (body: unknown, headers: Record<string, string> = {}) => postJson(`${url}/graphql`, body, { action_secret: ACTION_SECRET, ...headers });
const confirmPage = (url: string, token: string, headers: Record<string, string> = {}) =>
  rawRequest(url, 'POST', '/guard/confirm', { 'content-type': 'application/json', ...headers }, JSON.stringify({ token }));

describe('a token in another door than it was issued in', () => {
  it('an advisory token is refused at /guard/confirm (TOKEN_ADVISORY), and still confirms once at the API', async () => {
    const guard = await enforcing();
    const graphql = graphqlAt(guard.url);
    const token = (await graphql({ query: VALIDATE_Q, variables: { i: drop } }, { 'x-hasura-user-id': 'alice' })).json.data.validateMetadataChange.confirmation_token;
    const atPage = await confirmPage(guard.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET });
    expect(atPage.status).toBe(400);
    expect(atPage.json).toMatchObject({ success: false, code: 'TOKEN_ADVISORY' });
    const atApi = await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-user-id': 'alice' });
    expect(atApi.json.data.confirmMetadataChange).toMatchObject({ success: true, code: 'CONFIRMED' });
  });

  it('a held token at the GraphQL mutation still needs the held request\'s credentials, and confirms once across doors', async () => {
    const guard = await enforcing();
    const graphql = graphqlAt(guard.url);
    const token = (await postMetadata(guard.url, '/v2/query', bodies.dropTable())).json.guard.confirmation_token as string;
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } })).json.data.confirmMetadataChange.code).toBe('CREDENTIALS_MISSING');
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-admin-secret': 'wrong-secret' })).json.data.confirmMetadataChange.code).toBe('TOKEN_WRONG_CREDENTIALS');
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-admin-secret': ADMIN_SECRET })).json.data.confirmMetadataChange.code).toBe('CONFIRMED');
    expect((await confirmPage(guard.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET })).json.code).toBe('TOKEN_ALREADY_USED');
    expect((await postMetadata(guard.url, '/v2/query', bodies.dropTable())).status).toBe(200);
    expect((await postMetadata(guard.url, '/v2/query', bodies.dropTable())).status).toBe(400);
  });

  it('a held token through the action webhook: credentials in session_variables are not enough without the binding', async () => {
    const guard = await enforcing();
    const token = (await postMetadata(guard.url, '/v2/query', bodies.dropTable())).json.guard.confirmation_token as string;
    const payload = (session: Record<string, string>) => ({ action: { name: 'confirmMetadataChange' }, input: { input: { confirmation_token: token } }, session_variables: session });
    const viaHasura = await postJson(`${guard.url}/confirm-metadata-change`, payload({ 'x-hasura-role': 'admin', 'x-hasura-user-id': '1' }), { action_secret: ACTION_SECRET });
    expect(viaHasura.json).toMatchObject({ success: false, code: 'CREDENTIALS_MISSING' });
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('tokens of another guard or environment, with a shared TOKEN_SECRET', () => {
  it("a staging enforcing guard's held token does not confirm at the production guard", async () => {
    const staging = await enforcing({ GUARD_ENVIRONMENT: 'staging' });
    const production = await enforcing();
    // The policy double holds anything that is not a read, whatever the environment: staging issues a held token too.
    const held = await postMetadata(staging.url, '/v2/query', bodies.dropTable());
    const token = held.json.guard.confirmation_token as string;
    expect(claimsOf(token).env).toBe('staging');
    const there = await confirmPage(production.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET });
    expect(there.json).toMatchObject({ success: false, code: 'TOKEN_ENVIRONMENT_MISMATCH' });
    expect((await postMetadata(production.url, '/v2/query', bodies.dropTable())).status).toBe(400);
  });

  it('another deployment id (same secret, same environment) is refused at the confirm page and the API', async () => {
    const other = await enforcing({ GUARD_DEPLOYMENT_ID: 'eu-west' });
    const ours = await enforcing();
    const token = (await postMetadata(other.url, '/v2/query', bodies.dropTable())).json.guard.confirmation_token as string;
    expect((await confirmPage(ours.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET })).json.code).toBe('TOKEN_WRONG_AUDIENCE');
    const api = await graphqlAt(ours.url)({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-admin-secret': ADMIN_SECRET });
    expect(api.json.data.confirmMetadataChange.code).toBe('TOKEN_WRONG_AUDIENCE');
  });
});

describe('claims of the wrong type, signed with the right key (an insider or an older version)', () => {
  it.each([
    ['exp as a string', (now: number) => ({ exp: String(now + 300) })],
    ['iat as a string', (now: number) => ({ iat: String(now) })],
    ['no exp', () => ({ exp: undefined })],
    ['aud as an array holding our audience', () => ({ aud: [tokenAudience('default', 'production'), 'x'] })],
    ['env claim differing from the audience', () => ({ env: 'staging' })],
    ['sub as a number', () => ({ sub: 42 })],
    ['fp without crd', () => ({ fp: 'a'.repeat(64) })],
    ['fx with an effect key in capitals', () => ({ fx: ['DROP:TABLE'] })],
  ])('%s: refused with a code, never confirmed', async (_name, change) => {
    const server = await startTestServer({ ACTION_SECRET, GUARD_ENVIRONMENT: 'production' });
    servers.push(server);
    const now = Math.floor(server.clock() / 1000);
    const base: Record<string, unknown> = {
      op: 'DROP TABLE', tbl: 'public.patients', env: 'production', sub: 'user:alice', fx: ['drop:table'], jti: 'j-1',
      iat: now, exp: now + 300, aud: tokenAudience('default', 'production'), iss: TOKEN_ISSUER,
    };
    const claims: Record<string, unknown> = { ...base, ...change(now) };
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    const r = await graphqlAt(server.url)({ query: CONFIRM_Q, variables: { t: sign(claims) } }, { 'x-hasura-user-id': 'alice' });
    expect(r.status).toBe(200);
    const answer = r.json.data.confirmMetadataChange;
    expect(answer.success).toBe(false);
    expect(answer.code).toMatch(/^TOKEN_(MALFORMED|WRONG_AUDIENCE|EXPIRED)$/);
    expect(r.text).not.toMatch(/at .*\.ts:\d+|stack/i);
  });
});

describe('advisory single use at the edge of the clock tolerance', () => {
  it('an advisory token confirmed once is refused at exp + 4 s, when it still verifies', async () => {
    const server = await startTestServer({ ACTION_SECRET, GUARD_ENVIRONMENT: 'production' });
    servers.push(server);
    const graphql = graphqlAt(server.url);
    const token = (await graphql({ query: VALIDATE_Q, variables: { i: drop } }, { 'x-hasura-user-id': 'alice' })).json.data.validateMetadataChange.confirmation_token;
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-user-id': 'alice' })).json.data.confirmMetadataChange.success).toBe(true);
    server.clock.advance(300 + 4);
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-user-id': 'alice' })).json.data.confirmMetadataChange.code).toBe('TOKEN_ALREADY_USED');
    server.clock.advance(2);
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-user-id': 'alice' })).json.data.confirmMetadataChange.code).toBe('TOKEN_EXPIRED');
  });
});

describe('approvers and four-eyes with a trusted identity header', () => {
  const identity = { GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: '127.0.0.1', GUARD_APPROVERS: 'Alice@Example.com, bob@example.com', FOUR_EYES: 'true' };

  it('the requester in another case, with spaces, or in NFD is still the requester (OWN_CHANGE)', async () => {
    const guard = await enforcing(identity);
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'x-forwarded-email': 'ALICE@example.COM' });
    const token = held.json.guard.confirmation_token as string;
    for (const me of ['alice@example.com', '  Alice@Example.Com  ']) {
      const r = await confirmPage(guard.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET, 'x-forwarded-email': me });
      expect(r.status).toBe(403);
      expect(r.json.code).toBe('OWN_CHANGE');
    }
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('the identity header from an address that is not a trusted proxy is refused (401), never taken as the approver', async () => {
    const guard = await enforcing({ ...identity, GUARD_TRUSTED_PROXIES: '10.0.0.0/8' });
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET);
    const token = held.json.guard.confirmation_token as string;
    const spoofed = await confirmPage(guard.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET, 'x-forwarded-email': 'bob@example.com', 'x-forwarded-for': '10.0.0.7' });
    expect(spoofed.status).toBe(401);
    expect(spoofed.json.extensions.code).toBe('IDENTITY_HEADER_UNTRUSTED');
    const empty = await confirmPage(guard.url, token, { 'x-hasura-admin-secret': ADMIN_SECRET, 'x-forwarded-email': '' });
    expect(empty.json.code).toBe('CONFIRMER_UNIDENTIFIED');
  });
});

describe('the confirm page with attacker-chosen claims', () => {
  it('markup in op, tbl and by is shown as text, under a CSP with a nonce, and the token is kept out of referrers and caches', async () => {
    const guard = await enforcing();
    const now = Math.floor(guard.clock() / 1000);
    const x = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'';
    const token = sign({
      op: x, tbl: x, env: 'production', sub: 'credentials:abc', fp: 'a'.repeat(64), crd: 'b'.repeat(64), by: x, jti: 'j-x',
      iat: now, exp: now + 300, aud: tokenAudience('default', 'production'), iss: TOKEN_ISSUER,
    });
    const page = await rawRequest(guard.url, 'GET', `/guard/confirm?token=${token}`, { accept: 'text/html' });
    const html = page.body.toString();
    expect(page.status).toBe(200);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'; /);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    // every script tag carries the nonce
    const nonce = /nonce-([^']+)'/.exec(String(page.headers['content-security-policy']))![1];
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toBe(`<script nonce="${nonce}">`);
  });
});

describe('GraphQL door: bad input never reaches a resolver, never a 5xx, always a code', () => {
  it('a mutation by GET (with the CSRF header and the secret) is refused and uses no token', async () => {
    const server = await startTestServer({ ACTION_SECRET, GUARD_ENVIRONMENT: 'production' });
    servers.push(server);
    const graphql = graphqlAt(server.url);
    const token = (await graphql({ query: VALIDATE_Q, variables: { i: drop } }, { 'x-hasura-user-id': 'alice' })).json.data.validateMetadataChange.confirmation_token;
    const q = new URLSearchParams({ query: CONFIRM_Q, variables: JSON.stringify({ t: token }) });
    const got = await fetch(`${server.url}/graphql?${q}`, { headers: { action_secret: ACTION_SECRET, 'x-graphql-yoga-csrf': '1', 'x-hasura-user-id': 'alice', accept: 'application/json' } });
    expect(got.status).toBeGreaterThanOrEqual(400);
    expect(got.status).toBeLessThan(500);
    expect(await got.text()).not.toContain('"success":true');
    expect((await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-user-id': 'alice' })).json.data.confirmMetadataChange.success).toBe(true);
  });

  it.each([
    ['a number for the token', { t: 12345 }],
    ['an object for the token', { t: { toString: 'x' } }],
    ['null for the token', { t: null }],
    ['a list for the token', { t: ['a', 'b'] }],
  ])('%s: BAD_USER_INPUT', async (_name, variables) => {
    const server = await startTestServer({ ACTION_SECRET });
    servers.push(server);
    const r = await graphqlAt(server.url)({ query: CONFIRM_Q, variables }, { 'x-hasura-user-id': 'alice' });
    expect(r.status).toBeLessThan(500);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.text).not.toMatch(/\.ts:\d+|node_modules/);
  });

  it('a 60 kB token is refused as malformed with a code, and the request answered', async () => {
    const server = await startTestServer({ ACTION_SECRET });
    servers.push(server);
    const r = await graphqlAt(server.url)({ query: CONFIRM_Q, variables: { t: 'e'.repeat(60_000) } }, { 'x-hasura-user-id': 'alice' });
    expect(r.json.data.confirmMetadataChange).toMatchObject({ success: false, code: 'TOKEN_MALFORMED' });
  });
});
