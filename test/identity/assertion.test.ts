// Identity from the auth proxy's signed assertion, through the enforcing proxy against a stand-in Hasura and a
// stand-in key set (test/support/stand-in-key-set.ts). Every assertion that does not hold up is a 401 in Hasura's
// shape, and nothing reaches Hasura.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { assertionEnv, AUDIENCE, ISSUER, startStandInKeySet, type StandInKeySet } from '../support/stand-in-key-set.js';

let keySet: StandInKeySet;
let guard: EnforcingServer;
beforeAll(async () => {
  keySet = await startStandInKeySet();
  await keySet.addKey('RS256', 'rsa-1');
  await keySet.addKey('ES256', 'ec-1');
  await keySet.addKey('RS256', 'rsa-1-forged', false);
});
afterAll(() => keySet.close());
beforeEach(async () => {
  guard = await startEnforcingServer(doubleWiring(), assertionEnv(keySet));
});
afterEach(() => guard.close());

const now = () => Math.floor(guard.clock() / 1000);
const asAssertion = (token: string) => ({ 'cf-access-jwt-assertion': token });
const alice = { email: 'Alice@Example.com', groups: ['developers'] };

function expectRefused(answer: Awaited<ReturnType<typeof rawRequest>>, code: string) {
  expect(answer.status).toBe(401);
  expect(answer.json).toEqual({ path: '$', code: 'guard-identity-refused', error: expect.stringContaining('Refused by the metadata guard'), guard: { code } });
  expect(guard.hasura.forwarded()).toEqual([]);
}

describe('a verified assertion names the person', () => {
  it.each(['rsa-1', 'ec-1'])('signed %s: the held answer says whom it was held for', async (kid) => {
    const token = await keySet.sign(kid, alice, now());
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), undefined, asAssertion(token));
    expect(held.status).toBe(400);
    expect(held.json.error).toMatch(/^Held for alice@example\.com by the metadata guard \(production\)/);
    expect(held.json.guard.requester).toBe('alice@example.com');
    expect(guard.hasura.forwarded()).toEqual([]);
    const audit = guard.logs.audits().find((a) => a.outcome === 'held');
    expect(audit).toMatchObject({ person: 'alice@example.com' });
  });

  it('a read with a good assertion passes to Hasura; a request without any assertion passes with no person', async () => {
    const token = await keySet.sign('ec-1', alice, now());
    expect((await rawRequest(guard.url, 'GET', '/console', asAssertion(token))).status).toBe(200);
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    expect(held.json.error).toMatch(/^Held by the metadata guard/);
    expect(guard.hasura.forwarded().map((r) => r.path)).toEqual(['/console']);
  });

  it('an assertion a few seconds past its exp still passes (clock skew); one a minute past does not', async () => {
    const skewed = await keySet.sign('rsa-1', { ...alice, exp: now() - 3 }, now() - 300);
    expect((await rawRequest(guard.url, 'GET', '/console', asAssertion(skewed))).status).toBe(200);
    guard.hasura.requests.length = 0;
    const token = await keySet.sign('rsa-1', alice, now());
    guard.clock.advance(360);
    expectRefused(await postMetadata(guard.url, '/v2/query', bodies.dropTable(), undefined, asAssertion(token)), 'ASSERTION_EXPIRED');
  });
});

describe('an assertion that does not hold up is refused with 401, never treated as anonymous', () => {
  it('forged: signed with another key under a published kid', async () => {
    const forged = await keySet.sign('rsa-1-forged', alice, now());
    // The forger's token names the real kid.
    const [, payload, signature] = forged.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'rsa-1' })).toString('base64url');
    expectRefused(await postMetadata(guard.url, '/v2/query', bodies.dropTable(), undefined, asAssertion(`${header}.${payload}.${signature}`)), 'ASSERTION_BAD_SIGNATURE');
  });

  it('for another audience, from another issuer, not a JWT, or unsigned (alg none)', async () => {
    const otherAudience = await keySet.sign('rsa-1', alice, now(), { aud: 'someone-else' });
    expectRefused(await postMetadata(guard.url, '/v1/metadata', bodies.dropTable(), undefined, asAssertion(otherAudience)), 'ASSERTION_WRONG_AUDIENCE');
    const otherIssuer = await keySet.sign('ec-1', alice, now(), { iss: 'https://evil.example' });
    expectRefused(await postMetadata(guard.url, '/v1/metadata', bodies.dropTable(), undefined, asAssertion(otherIssuer)), 'ASSERTION_WRONG_ISSUER');
    expectRefused(await postMetadata(guard.url, '/v1/metadata', bodies.dropTable(), undefined, asAssertion('not-a-jwt')), 'ASSERTION_MALFORMED');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...alice, iss: ISSUER, aud: AUDIENCE, exp: now() + 60 })).toString('base64url')}.`;
    expectRefused(await postMetadata(guard.url, '/v1/metadata', bodies.dropTable(), undefined, asAssertion(none)), 'ASSERTION_BAD_SIGNATURE');
  });

  it('on every path: a console page load and a websocket are refused too, and the guard\'s own routes answer JSON with a code', async () => {
    const expired = await keySet.sign('rsa-1', { ...alice, exp: now() - 60 }, now() - 400);
    expectRefused(await rawRequest(guard.url, 'GET', '/console', asAssertion(expired)), 'ASSERTION_EXPIRED');
    const page = await rawRequest(guard.url, 'GET', '/guard/confirm?token=x', asAssertion(expired));
    expect(page.status).toBe(401);
    expect(page.json).toEqual({ message: expect.stringContaining('the identity assertion has expired'), extensions: { code: 'ASSERTION_EXPIRED' } });
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${guard.url.replace('http', 'ws')}/v1/graphql`, 'graphql-transport-ws', { headers: asAssertion(expired) });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the websocket opened')));
      socket.on('error', reject);
    });
    expect(status).toBe(401);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('the token and its claims reach neither the answer nor the log', async () => {
    const otherAudience = await keySet.sign('rsa-1', alice, now(), { aud: 'someone-else' });
    const answer = await postMetadata(guard.url, '/v1/metadata', bodies.dropTable(), undefined, asAssertion(otherAudience));
    expect(answer.body.toString()).not.toContain('alice');
    expect(answer.body.toString()).not.toContain('someone-else');
    expect(guard.logs.raw.join('\n')).not.toContain(otherAudience.split('.')[1]!);
    expect(guard.logs.raw.join('\n')).not.toContain('someone-else');
  });
});

describe('the key set', () => {
  afterEach(() => void vi.useRealTimers());

  it('is fetched once and cached; an unknown kid fetches it again, at most once per cooldown; a rotated key is found after it', async () => {
    // jose times its cache and cooldown by Date: a controlled Date, not a sleep.
    vi.useFakeTimers({ toFake: ['Date'], now: guard.clock() });
    const before = keySet.fetches();
    for (let i = 0; i < 3; i++) {
      const token = await keySet.sign('rsa-1', alice, now());
      expect((await rawRequest(guard.url, 'GET', '/console', asAssertion(token))).status).toBe(200);
    }
    expect(keySet.fetches() - before).toBe(1);

    await keySet.addKey('ES256', 'ec-unannounced', false);
    const unknown = await keySet.sign('ec-unannounced', alice, now());
    guard.hasura.requests.length = 0;
    // Fetched at the first request, so still within the cooldown: no fetch, and a flood of unknown kids costs none.
    for (let i = 0; i < 5; i++) expectRefused(await rawRequest(guard.url, 'GET', '/console', asAssertion(unknown)), 'ASSERTION_UNKNOWN_KEY');
    expect(keySet.fetches() - before).toBe(1);

    // The proxy rotates: the new key is published, and after the cooldown an unknown kid fetches the set again.
    await keySet.addKey('ES256', 'ec-2');
    const rotated = await keySet.sign('ec-2', alice, now());
    vi.setSystemTime(Date.now() + 31_000);
    guard.clock.advance(31);
    const fresh = await keySet.sign('ec-2', alice, now());
    expect((await rawRequest(guard.url, 'GET', '/console', asAssertion(fresh))).status).toBe(200);
    expect(keySet.fetches() - before).toBe(2);
    expect(rotated).not.toBe(fresh);
  });
});
