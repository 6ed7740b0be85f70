// Attacks on confirmations that an adversarial review found to work, each through a real door over HTTP, asserting the
// safe behaviour: a token forged with the credentials' hash as an HMAC oracle (the hash now has its own key), a held
// token confirmed again in the seconds of clock tolerance after exp, four-eyes fooled by one person seen as two
// identities, the memory of used tokens filled by held changes confirmed with made-up secrets, and a name that Teams
// would render as a link.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { assertionEnv, startStandInKeySet, type StandInKeySet } from '../support/stand-in-key-set.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ACTION_SECRET, postJson, startTestServer, type TestServer } from '../helpers.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

let keySet: StandInKeySet;
beforeAll(async () => {
  keySet = await startStandInKeySet();
  await keySet.addKey('ES256', 'ec-1');
});
afterAll(() => keySet.close());

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('HS256 key reuse: the credentials HMAC in every held token is a signing oracle', () => {
  const people = {
    alice: { email: 'alice@example.com', groups: ['platform-admins'] },
    bob: { email: 'bob@example.com', groups: ['platform-admins'] },
  };

  it('a requester cannot forge a held token (by: someone else) and confirm her own change under FOUR_EYES', async () => {
    const guard = await startEnforcingServer(doubleWiring(), { ...assertionEnv(keySet), GUARD_APPROVERS: 'group:platform-admins', FOUR_EYES: 'true' });
    servers.push(guard);
    // A Hasura without an admin secret takes any credential as an admin's, so the guard holds (and hashes) any string.
    guard.hasura.noAdminSecret = true;
    const as = async (who: keyof typeof people) => ({ 'cf-access-jwt-assertion': await keySet.sign('ec-1', people[who], Math.floor(guard.clock() / 1000)) });

    // alice (an approver, and holder of the admin secret) sends a DROP TABLE: held for her.
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, await as('alice'));
    expect(held.status).toBe(400);
    const real = claimsOf(held.json.guard.confirmation_token);
    expect(real.by).toBe('alice@example.com');
    // Control: four-eyes refuses her own confirmation.
    const own = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...(await as('alice')) }, JSON.stringify({ token: held.json.guard.confirmation_token }));
    expect(own.json.code).toBe('OWN_CHANGE');

    // The same claims, held "for bob". The signing input is sent as the admin secret of another destructive request:
    // the guard answers with a token whose crd claim is HMAC-SHA256(TOKEN_SECRET, signing input), i.e. an HS256 signature.
    const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ ...real, by: 'bob@example.com', jti: 'forged-0001' })}`;
    const oracle = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable, signingInput, await as('alice'));
    expect(oracle.status).toBe(400);
    const signature = Buffer.from(String(claimsOf(oracle.json.guard.confirmation_token).crd), 'hex').toString('base64url');
    const forged = `${signingInput}.${signature}`;

    const confirmed = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...(await as('alice')) }, JSON.stringify({ token: forged }));
    const retry = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, await as('alice'));

    // SAFE: a token the guard did not issue does not verify, and alice's DROP never reaches Hasura without bob.
    expect.soft(confirmed.json).toMatchObject({ success: false, code: 'TOKEN_BAD_SIGNATURE' });
    expect.soft(retry.status).toBe(400);
    expect.soft(guard.hasura.forwarded()).toEqual([]);
  });

  it('nor mint an advisory token for the GraphQL door (sub: someone else, any change) with no validation at all', async () => {
    const guard = await startEnforcingServer(doubleWiring(), { ACTION_SECRET, FOUR_EYES: 'true', ...assertionEnv(keySet) });
    servers.push(guard);
    guard.hasura.noAdminSecret = true;
    const now = Math.floor(guard.clock() / 1000);
    const claims = {
      op: 'DROP TABLE public.patients', tbl: 'public.patients', env: 'production', sub: 'user:bob', fx: ['drop:table'],
      jti: 'forged-advisory-1', iat: now, exp: now + 300, aud: 'hasura-metadata-guard:default:production', iss: 'hasura-metadata-guard',
    };
    const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
    const oracle = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable, signingInput);
    expect(oracle.status).toBe(400);
    const forged = `${signingInput}.${Buffer.from(String(claimsOf(oracle.json.guard.confirmation_token).crd), 'hex').toString('base64url')}`;
    const confirm = await postJson(
      `${guard.url}/graphql`,
      { query: 'mutation($t: String!) { confirmMetadataChange(input: {confirmation_token: $t}) { success code message } }', variables: { t: forged } },
      { 'action_secret': ACTION_SECRET, 'x-hasura-user-id': 'alice' },
    );
    expect(confirm.json.data.confirmMetadataChange).toMatchObject({ success: false, code: 'TOKEN_BAD_SIGNATURE' });
  });
});

describe('single use of a held token inside the accepted clock skew', () => {
  async function confirm(guard: EnforcingServer, token: string) {
    return rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token }));
  }

  it('a held token confirmed once is refused again in the seconds after exp that it still verifies (real memory store)', async () => {
    // store: undefined -> the app's own store (src/store/memory.ts), as a deployment without GUARD_DATABASE_URL runs.
    const guard = await startEnforcingServer(doubleWiring({ store: undefined }));
    servers.push(guard);
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const token = held.json.guard.confirmation_token as string;
    expect((await confirm(guard, token)).json.success).toBe(true);
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(200);

    guard.clock.advance(300 + 2); // 2 s past exp: still within CLOCK_TOLERANCE_SECONDS, so the token verifies
    const again = await confirm(guard, token);
    // SAFE: single use. The used id was remembered only until exp (engine.ts confirmHeld: spendToken(…, claims.exp)).
    expect(again.json).toMatchObject({ success: false });
    expect(guard.logs.audits().filter((a) => a.action === 'confirm' && a.outcome === 'confirmed')).toHaveLength(1);
  });

  it('two replicas sharing one store, clocks 4 s apart (within the tolerance): a held change passes only once', async () => {
    // One store shared by both, as GUARD_DATABASE_URL's PostgreSQL is (same useToken/approve/takeApproval semantics,
    // and the same expiry rule: rows with expires_at < now are swept).
    const shared = createMemoryStore({ maxEntries: 10_000 });
    const a = await startEnforcingServer(doubleWiring({ store: shared }));
    const b = await startEnforcingServer(doubleWiring({ store: shared }));
    servers.push(a, b);
    b.clock.advance(-4); // replica B's clock runs 4 s behind A's

    const held = await postMetadata(a.url, '/v1/metadata', bodies.untrackTable);
    const token = held.json.guard.confirmation_token as string;
    expect((await confirm(a, token)).json.success).toBe(true);
    expect((await postMetadata(a.url, '/v1/metadata', bodies.untrackTable)).status).toBe(200);

    a.clock.advance(300 + 1);
    b.clock.advance(300 + 1);
    await confirm(a, token); // replayed on A: 1 s past exp by A's clock
    const second = await postMetadata(b.url, '/v1/metadata', bodies.untrackTable); // B: 3 s before exp by its clock

    // SAFE: one confirmation, one pass in total.
    expect(second.status).toBe(400);
    expect(a.hasura.forwarded().length + b.hasura.forwarded().length).toBe(1);
  });
});



describe('FOUR_EYES on advisory tokens compares identities across two namespaces', () => {
  const VALIDATE_Q = 'mutation($i: ValidateMetadataChangeInput!) { validateMetadataChange(input: $i) { success code confirmation_token } }';
  const CONFIRM_Q = 'mutation($t: String!) { confirmMetadataChange(input: {confirmation_token: $t}) { success code message } }';
  const change = { operation: 'DROP TABLE public.patients', table_name: 'public.patients', environment: 'production' };

  it('the same x-hasura-user-id validates (through the auth proxy) and confirms (without it): not a second person', async () => {
    const server: TestServer = await startTestServer({
      ACTION_SECRET, FOUR_EYES: 'true', GUARD_ENVIRONMENT: 'production',
      GUARD_IDENTITY_HEADER: 'x-forwarded-email', GUARD_TRUSTED_PROXIES: '127.0.0.1',
    });
    servers.push(server);
    const graphql = (body: unknown, headers: Record<string, string>) => postJson(`${server.url}/graphql`, body, { action_secret: ACTION_SECRET, ...headers });

    // alice asks through the auth proxy (her email) with her Hasura session (user id "alice"): sub = person:alice@example.com
    const validated = await graphql({ query: VALIDATE_Q, variables: { i: change } }, { 'x-forwarded-email': 'alice@example.com', 'x-hasura-user-id': 'alice' });
    const token = validated.json.data.validateMetadataChange.confirmation_token as string;
    expect(claimsOf(token).sub).toBe('person:alice@example.com');
    // Control: as herself through the proxy, refused.
    const same = await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-forwarded-email': 'alice@example.com', 'x-hasura-user-id': 'alice' });
    expect(same.json.data.confirmMetadataChange.code).toBe('TOKEN_SAME_USER');

    // The same Hasura user, as Hasura's remote schema calls the guard (no auth proxy header): user:alice.
    const viaHasura = await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-hasura-user-id': 'alice' });
    // SAFE: four-eyes needs a second person; user "alice" asked for this change.
    expect(viaHasura.json.data.confirmMetadataChange).toMatchObject({ success: false, code: 'TOKEN_SAME_USER' });
  });

  it('the other way round: asked as user "alice" through Hasura, confirmed through the auth proxy by her with the same user id', async () => {
    const server: TestServer = await startTestServer({
      ACTION_SECRET, FOUR_EYES: 'true', GUARD_ENVIRONMENT: 'production',
      GUARD_IDENTITY_HEADER: 'x-forwarded-email', GUARD_TRUSTED_PROXIES: '127.0.0.1',
    });
    servers.push(server);
    const graphql = (body: unknown, headers: Record<string, string>) => postJson(`${server.url}/graphql`, body, { action_secret: ACTION_SECRET, ...headers });
    const validated = await graphql({ query: VALIDATE_Q, variables: { i: change } }, { 'x-hasura-user-id': 'alice' });
    const token = validated.json.data.validateMetadataChange.confirmation_token as string;
    expect(claimsOf(token).sub).toBe('user:alice');
    const viaProxy = await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-forwarded-email': 'alice@example.com', 'x-hasura-user-id': 'alice' });
    expect(viaProxy.json.data.confirmMetadataChange).toMatchObject({ success: false, code: 'TOKEN_SAME_USER' });
    // Control: a second person (bob, through the proxy) confirms.
    const byBob = await graphql({ query: CONFIRM_Q, variables: { t: token } }, { 'x-forwarded-email': 'bob@example.com', 'x-hasura-user-id': 'bob' });
    expect(byBob.json.data.confirmMetadataChange).toMatchObject({ success: true, code: 'CONFIRMED' });
  });
});

describe('the replay memory in enforcing mode: one client crowding out everyone', () => {
  it('a client with made-up credentials cannot fill the used-token memory so that an admin\'s confirmation is refused', async () => {
    // The smallest REPLAY_CACHE_MAX the configuration accepts, so the flood is 1,000 pairs rather than 50,000.
    const guard = await startEnforcingServer(doubleWiring({ store: undefined }), { REPLAY_CACHE_MAX: '1000' });
    servers.push(guard);
    let n = 0;
    const confirmWith = (token: string, secret: string) =>
      rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': secret }, JSON.stringify({ token }));
    // A destructive request with a credential Hasura refuses is refused too (401, as Hasura would): no token, nothing
    // remembered, nothing recorded or announced.
    const pair = async () => {
      const junk = `not-an-admin-secret-${n++}`;
      const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable, junk);
      expect(held.status).toBe(401);
      expect(held.json).toMatchObject({ code: 'guard-credentials-not-admin' });
      return held.json.guard?.confirmation_token ?? null;
    };
    const tokens: unknown[] = [];
    for (let round = 0; round < 101; round++) tokens.push(...(await Promise.all(Array.from({ length: 10 }, pair))));
    expect(new Set(tokens)).toEqual(new Set([null]));

    // The real admin's change, held and confirmed with the real admin secret.
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    const mine = await confirmWith(held.json.guard.confirmation_token, ADMIN_SECRET);
    // SAFE (docs/security.md, "Memory exhaustion through confirmations": only the flooding identity is refused).
    expect(mine.json).toMatchObject({ success: true, code: 'CONFIRMED' });
    expect(guard.hasura.forwarded()).toEqual([]);
  }, 60_000);
});


describe('notifications carry attacker-chosen names into the team\'s channel', () => {
  it('a table name written as a Markdown link reaches the Teams card as text, not as a link', async () => {
    const { startReceivers, manualTimers } = await import('../support/receivers.js');
    const receivers = await startReceivers();
    // The real analysis and policy (no doubles): names come from the SQL as sent.
    const guard = await startEnforcingServer(doubleWiring({ analyze: undefined, decide: undefined, store: undefined }), receivers.env, { notifyTimers: manualTimers() });
    servers.push(guard, receivers);
    const sql = 'DROP TABLE "[Approve it here](https://evil.example/confirm)"';
    // Sent by an admin (a request without credentials is neither recorded nor announced).
    const sent = await postMetadata(guard.url, '/v2/query', { type: 'run_sql', args: { source: 'default', sql } });
    expect(sent.status).toBe(400);
    await guard.app.changeLog!.settled();
    await guard.app.changeLog!.notifier!.idle();
    const card = receivers.of('teams')[0]!.json.attachments[0].content;
    // What Teams renders as Markdown: a TextBlock's text and a FactSet's values. What it shows as typed: TextRuns.
    type Block = { type: string; text?: string; facts?: { value: string }[]; inlines?: { type: string; text: string }[] };
    const blocks: Block[] = card.body;
    const markdown = blocks.flatMap((b) => (b.type === 'TextBlock' ? [b.text!] : b.type === 'FactSet' ? b.facts!.map((f) => f.value) : []));
    const typed = blocks.flatMap((b) => (b.inlines ?? []).filter((i) => i.type === 'TextRun').map((i) => i.text));
    expect(typed.join('\n')).toContain('[Approve it here](https://evil.example/confirm)'); // the name is there, as typed...
    // SAFE: ...but nowhere a Teams client renders it as a link under the guard's own name.
    expect(markdown.join('\n')).not.toContain('evil.example');
  });
});
