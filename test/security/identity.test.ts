// Who is asking, through the real doors: identities are normalised before they are compared, values that are
// too long or sent twice are refused with a clear error (in every mode), four-eyes needs identified users, and
// each identity has its own rate limits (429 with Retry-After on the webhooks).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM, hasuraPayload, postJson, startTestServer, VALIDATE, type TestServer } from '../helpers.js';

const drop = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
const webhook = (server: TestServer, action: string, input: Record<string, unknown>, session: Record<string, string>) =>
  postJson(`${server.url}/actions`, hasuraPayload(action, input, session));

/** A GraphQL POST with raw header lines, so a header can be sent twice (fetch would join the two values). */
function postRaw(url: string, body: unknown, headers: Record<string, string | string[]>): Promise<{ status: number; json: any }> {
  const { hostname, port } = new URL(url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers } }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(answer) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('identity values', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('a user id over 256 characters is refused, not replaced by the role (webhook: 400)', async () => {
    const r = await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-role': 'developer', 'x-hasura-user-id': 'u'.repeat(257) });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: 'Refused: x-hasura-user-id is longer than 256 characters.', extensions: { code: 'INVALID_SESSION' } });
    expect(server.logs.audits().filter((a) => a.outcome === 'confirmation_required')).toEqual([]);
  });

  it('a user id over 256 characters is refused over GraphQL with a coded error', async () => {
    const r = await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input: drop } }, { 'x-hasura-user-id': 'u'.repeat(257) });
    expect(r.json.errors).toEqual([expect.objectContaining({ message: 'Refused: x-hasura-user-id is longer than 256 characters.', extensions: { code: 'INVALID_SESSION' } })]);
    expect(r.json.data).toEqual({ validateMetadataChange: null });
  });

  it('a user id header sent twice is refused, not joined into "42, 43"', async () => {
    const r = await postRaw(server.url, { query: VALIDATE, variables: { input: drop } }, { 'x-hasura-user-id': ['42', '43'] });
    expect(r.json.errors).toEqual([expect.objectContaining({ message: 'Refused: x-hasura-user-id was sent more than once.', extensions: { code: 'INVALID_SESSION' } })]);
    const role = await postRaw(server.url, { query: VALIDATE, variables: { input: drop } }, { 'x-hasura-user-id': '42', 'x-hasura-role': ['admin', 'developer'] });
    expect(role.json.errors[0].message).toBe('Refused: x-hasura-role was sent more than once.');
  });

  it('a session variable given twice in different case is refused (webhook: 400)', async () => {
    const r = await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-user-id': '42', 'X-Hasura-User-Id': '43' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: 'Refused: x-hasura-user-id was sent more than once.', extensions: { code: 'INVALID_SESSION' } });
  });

  it('ids are compared after trimming and Unicode normalisation: "42 " is user 42', async () => {
    const v = await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-user-id': '42 ' });
    expect((await webhook(server, 'confirmMetadataChange', { confirmation_token: v.json.confirmation_token }, { 'x-hasura-user-id': '42' })).json.success).toBe(true);
    const composed = await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-user-id': 'Ren\u00e9' });
    const decomposed = { 'x-hasura-user-id': 'Rene\u0301' };
    expect((await webhook(server, 'confirmMetadataChange', { confirmation_token: composed.json.confirmation_token }, decomposed)).json.success).toBe(true);
  });
});

describe('four-eyes through the doors', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ FOUR_EYES: 'true' });
  });
  afterAll(() => server.close());

  it('"42 " is not a second person for "42"', async () => {
    const v = await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-user-id': '42' });
    const c = await webhook(server, 'confirmMetadataChange', { confirmation_token: v.json.confirmation_token }, { 'x-hasura-user-id': '42 ' });
    expect(c.json).toMatchObject({ success: false, message: expect.stringMatching(/four-eyes mode needs a second person/) });
    const other = await webhook(server, 'confirmMetadataChange', { confirmation_token: v.json.confirmation_token }, { 'x-hasura-user-id': '43' });
    expect(other.json.success).toBe(true);
  });

  it('a role-only requester gets no token to hand to someone else', async () => {
    const v = await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-role': 'developer' });
    expect(v.json).toMatchObject({ success: false, confirmation_token: null, message: expect.stringMatching(/^Refused: four-eyes mode issues confirmation tokens to identified users only/) });
  });
});

describe('rate limits per identity, through the doors', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_VALIDATIONS_PER_MINUTE: '2', RATE_LIMIT_CONFIRMATIONS_PER_MINUTE: '1' });
  });
  afterAll(() => server.close());

  it('the webhook answers 429 with Retry-After once a user is over the limit; another user goes on', async () => {
    const alice = { 'x-hasura-user-id': 'alice' };
    for (let i = 0; i < 2; i++) expect((await webhook(server, 'validateMetadataChange', drop, alice)).status).toBe(200);
    const r = await webhook(server, 'validateMetadataChange', drop, alice);
    expect(r.status).toBe(429);
    const retryAfter = Number(r.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(r.json).toEqual({ message: `Refused: too many validations (at most 2 a minute for each user). Try again in ${retryAfter} seconds.`, extensions: { code: 'RATE_LIMITED' } });
    expect((await webhook(server, 'validateMetadataChange', drop, { 'x-hasura-user-id': 'bob' })).status).toBe(200);
  });

  it('GraphQL answers success:false with the seconds to wait, in the usual output type', async () => {
    const carol = { 'x-hasura-user-id': 'carol' };
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) tokens.push((await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input: drop } }, carol)).json.data.validateMetadataChange.confirmation_token);
    const v = await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input: drop } }, carol);
    expect(v.json.data.validateMetadataChange).toEqual({ success: false, message: expect.stringMatching(/^Refused: too many validations \(at most 2 a minute for each user\)\. Try again in \d+ seconds\.$/), confirmation_token: null });
    expect((await postJson(`${server.url}/graphql`, { query: CONFIRM, variables: { input: { confirmation_token: tokens[0] } } }, carol)).json.data.confirmMetadataChange.success).toBe(true);
    const c = await postJson(`${server.url}/graphql`, { query: CONFIRM, variables: { input: { confirmation_token: tokens[1] } } }, carol);
    expect(c.json.data.confirmMetadataChange).toEqual({ success: false, message: expect.stringMatching(/^Not confirmed: too many confirmations \(at most 1 a minute for each user\)\. Try again in \d+ seconds\.$/) });
  });
});

describe("one identity cannot take the others' share of the replay memory", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ REPLAY_CACHE_MAX: '1000' }); // a tenth of it, 100 live confirmations, per identity
  });
  afterAll(() => small.close());

  const change = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
  async function validateAndConfirm(user: string) {
    const session = { 'x-hasura-user-id': user, 'x-hasura-role': 'developer' };
    const v = await postJson(`${small.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', change, session));
    const c = await postJson(`${small.url}/confirm-metadata-change`, hasuraPayload('confirmMetadataChange', { confirmation_token: v.json.confirmation_token }, session));
    return c.json as { success: boolean; message: string };
  }

  it('past its share, the flooding user is refused with when to retry; another user still confirms', async () => {
    for (let i = 0; i < 100; i++) expect((await validateAndConfirm('mallory')).success).toBe(true);
    expect(await validateAndConfirm('mallory')).toEqual({ success: false, code: 'REPLAY_SHARE_FULL', message: expect.stringMatching(/more confirmations in flight than one identity may hold\. Try again once your earlier tokens have expired \(within 305 seconds\)/) });
    expect(await validateAndConfirm('alice')).toMatchObject({ success: true });
  });
});
