// Attacks on confirmation tokens, through the real GraphQL door (HTTP, real server, controlled clock).
// Every forgery below is refused with success:false and the message for its case.
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import { createEngine } from '../../src/core/engine.js';
import { loadPolicy } from '../../src/core/policy.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createTokenService, TOKEN_ISSUER, tokenAudience } from '../../src/core/tokens.js';
import { CONFIRM, manualClock, postJson, startTestServer, TEST_SECRET, VALIDATE, type TestServer } from '../helpers.js';

const alice = { 'x-hasura-role': 'developer', 'x-hasura-user-id': 'alice' };
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function issue(environment = 'production', table_name = 'public.patients') {
  const r = await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input: { operation: 'DROP TABLE', table_name, environment } } }, alice);
  return r.json.data.validateMetadataChange.confirmation_token as string;
}

async function confirm(token: string, session = alice) {
  const r = await postJson(`${server.url}/graphql`, { query: CONFIRM, variables: { input: { confirmation_token: token } } }, session);
  expect(r.status).toBe(200);
  return r.json.data.confirmMetadataChange as { success: boolean; message: string };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
const nowSeconds = () => Math.floor(server.clock() / 1000);

const NOT_SIGNED = /^Not confirmed: the token was not signed by this guard\./;
const MALFORMED = /^Not confirmed: the token (is not a well-formed confirmation token|is longer than 2048 characters|is empty)\./;

describe('forged tokens', () => {
  it('alg "none" with the claims of a real token', async () => {
    const real = await issue();
    const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsOf(real))}.`;
    expect(await confirm(forged)).toEqual({ success: false, message: expect.stringMatching(NOT_SIGNED) });
  });

  it('signed with another key', async () => {
    const claims = claimsOf(await issue());
    const forged = jwt.sign(claims, 'another-secret-that-is-long-enough-000000', { algorithm: 'HS256' });
    expect((await confirm(forged)).message).toMatch(NOT_SIGNED);
  });

  it('algorithm confusion: HS512 with the right secret, and RS256 with a real key pair', async () => {
    const claims = claimsOf(await issue());
    expect((await confirm(jwt.sign(claims, TEST_SECRET, { algorithm: 'HS512' }))).message).toMatch(NOT_SIGNED);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect((await confirm(jwt.sign(claims, privateKey, { algorithm: 'RS256' }))).message).toMatch(NOT_SIGNED);
  });

  it.each([
    ['another table', { tbl: 'public.payments' }],
    ['another environment', { env: 'staging' }],
    ['another user', { sub: 'user:mallory' }],
    ['a later expiry', { exp: 4102444800 }],
  ])('tampered claims (%s) keep the old signature and fail it', async (_name, change) => {
    const real = await issue();
    const [h, , s] = real.split('.');
    const forged = `${h}.${b64({ ...claimsOf(real), ...change })}.${s}`;
    expect((await confirm(forged)).message).toMatch(NOT_SIGNED);
    // and the real one is still good: a forgery uses nothing up
    expect((await confirm(real)).success).toBe(true);
  });

  it('a token of the right key but another issuer or audience (another system or deployment sharing the secret)', async () => {
    const claims = { ...claimsOf(await issue()) };
    delete claims.iss;
    delete claims.aud;
    const key = createSecretKey(Buffer.from(TEST_SECRET));
    expect((await confirm(jwt.sign(claims, key, { algorithm: 'HS256', issuer: 'someone-else', audience: tokenAudience('default', 'production') }))).message).toMatch(NOT_SIGNED);
    const notOurs = /^Not confirmed: the token was not issued by this deployment \(default\)( for production)?\. Confirm it at the guard that issued it/;
    expect((await confirm(jwt.sign(claims, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: 'other' }))).message).toMatch(notOurs);
    expect((await confirm(jwt.sign(claims, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: tokenAudience('another', 'production') }))).message).toMatch(notOurs);
    // the audience of one environment with the claims of another
    expect((await confirm(jwt.sign(claims, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: tokenAudience('default', 'staging') }))).message).toMatch(notOurs);
  });
});

describe('time', () => {
  it('expired: accepted up to 5 s past exp (stated clock tolerance), refused after', async () => {
    const late = await issue();
    const tooLate = await issue();
    server.clock.advance(300 + 4);
    expect((await confirm(late)).success).toBe(true);
    server.clock.advance(1);
    expect(await confirm(tooLate)).toEqual({ success: false, message: 'Not confirmed: the token has expired. Validate the change again to get a new token.' });
  });

  it('not yet valid: nbf or iat in the future', async () => {
    const key = createSecretKey(Buffer.from(TEST_SECRET));
    const claims = claimsOf(await issue());
    const opts = { algorithm: 'HS256' as const };
    const nbf = jwt.sign({ ...claims, nbf: nowSeconds() + 60 }, key, opts);
    expect((await confirm(nbf)).message).toMatch(/^Not confirmed: the token is not valid yet/);
    const iat = jwt.sign({ ...claims, iat: nowSeconds() + 60, exp: nowSeconds() + 120 }, key, opts);
    expect((await confirm(iat)).message).toMatch(/^Not confirmed: the token is not valid yet/);
    // Issued in the future means another guard's clock runs ahead: say so, not "pass it exactly as returned".
    expect((await confirm(iat)).message).toMatch(/clock ahead of this one's: check that every replica's clock is synchronised/);
    expect((await confirm(iat)).message).not.toContain('exactly as');
  });
});

describe('replay and garbage', () => {
  it('replayed', async () => {
    const token = await issue();
    expect((await confirm(token)).success).toBe(true);
    expect((await confirm(token)).message).toMatch(/^Not confirmed: the token has already been used\./);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['garbage', 'not-a-token'],
    ['three dots', 'a.b.c'],
    ['bad base64', '!!!.@@@.###'],
    ['JSON that is not an object', `${b64('x')}.${b64(42)}.sig`],
    ['a GraphQL injection attempt', '") { success } } mutation { x'],
    ['control characters', 'eyJ\u0000\u001f.x.y'],
  ])('%s', async (_name, token) => {
    expect((await confirm(token)).message).toMatch(MALFORMED);
  });

  it('a very long token is refused before any decoding; past 64 KiB the request itself is refused', async () => {
    expect((await confirm(`${(await issue()).split('.')[0]}.${'A'.repeat(60 * 1024)}.x`)).message).toMatch(/longer than 2048 characters/);
    const huge = await postJson(`${server.url}/graphql`, { query: CONFIRM, variables: { input: { confirmation_token: 'A'.repeat(100 * 1024) } } }, alice);
    expect(huge.status).toBe(413);
  });

  it('a 100 kB token handed to the core directly is refused as malformed, cheaply', async () => {
    const clock = manualClock();
    const guard = createEngine({ policy: loadPolicy(), analyze: analyzeChange, tokens: createTokenService({ key: createSecretKey(Buffer.from(TEST_SECRET)), ttlSeconds: 300, clock }), store: createMemoryStore({ maxEntries: 1000, clock }), clock, fourEyes: false });
    expect(await guard.confirm('A'.repeat(100 * 1024), { userId: 'alice' })).toEqual({ success: false, code: 'TOKEN_MALFORMED', message: expect.stringMatching(/longer than 2048 characters/) });
  });
});
