// Hasura still takes its legacy admin-secret header, x-hasura-access-key, and reads credentials in one order:
// x-hasura-admin-secret, else x-hasura-access-key, else Authorization (server/src-lib/Hasura/Server/Auth.hs,
// checkingSecretIfSent). A held change is bound to the one Hasura will authenticate with: before, a change sent with
// the access key was bound to whatever Authorization came along, so that value alone could confirm it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { requesterFrom } from '../../src/http/requester.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer(doubleWiring());
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
});

const DROP = JSON.stringify(bodies.dropTable());
const send = (headers: Record<string, string>, body = DROP) => rawRequest(guard.url, 'POST', '/v2/query', { 'content-type': 'application/json', ...headers }, body);
const confirm = (token: string, headers: Record<string, string>) =>
  rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', ...headers }, JSON.stringify({ token }));
const OTHER = 'Bearer someone-elses-jwt';

describe('a destructive change sent with x-hasura-access-key', () => {
  const sentWith = { 'x-hasura-access-key': ADMIN_SECRET, authorization: OTHER };

  it('is bound to the access key: the Authorization that came along does not confirm it, the access key does, once', async () => {
    const held = await send(sentWith);
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    const token = held.json.guard.confirmation_token as string;

    const byOther = await confirm(token, { authorization: OTHER });
    expect(byOther.json).toEqual({ success: false, code: 'TOKEN_WRONG_CREDENTIALS', message: 'Not confirmed: only someone holding the credentials the held request carried can confirm it.' });
    expect((await send(sentWith)).status).toBe(400);
    expect(guard.hasura.forwarded()).toEqual([]);

    expect((await confirm(token, { 'x-hasura-access-key': ADMIN_SECRET })).json.success).toBe(true);
    const retry = await send(sentWith);
    expect(retry.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => [r.path, r.headers['x-hasura-access-key'], r.body.toString()])).toEqual([['/v2/query', ADMIN_SECRET, DROP]]);
    expect((await send(sentWith)).status).toBe(400);
    expect(guard.hasura.forwarded()).toHaveLength(1);
  });

  it('is confirmed on the page too, which sends the same secret as x-hasura-admin-secret', async () => {
    const held = await send({ 'x-hasura-access-key': ADMIN_SECRET });
    expect((await confirm(held.json.guard.confirmation_token, { 'x-hasura-admin-secret': ADMIN_SECRET })).json.success).toBe(true);
    expect((await send({ 'x-hasura-access-key': ADMIN_SECRET })).status).toBe(200);
  });
});

describe('several credentials: the guard binds the one Hasura reads first', () => {
  it('x-hasura-admin-secret wins over x-hasura-access-key', async () => {
    const sentWith = { 'x-hasura-admin-secret': ADMIN_SECRET, 'x-hasura-access-key': 'the-access-key' };
    const held = await send(sentWith);
    const token = held.json.guard.confirmation_token as string;
    expect((await confirm(token, { 'x-hasura-access-key': 'the-access-key' })).json.success).toBe(false);
    expect((await confirm(token, { 'x-hasura-access-key': ADMIN_SECRET })).json.success).toBe(true);
    expect((await send(sentWith)).status).toBe(200);
  });

  it('an empty x-hasura-admin-secret is what Hasura reads (and refuses): no credential to bind, nothing forwarded', async () => {
    const held = await send({ 'x-hasura-admin-secret': '', 'x-hasura-access-key': ADMIN_SECRET });
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-denied');
    expect(held.json.guard.confirmation_token).toBeNull();
    expect(held.json.error).toContain('x-hasura-admin-secret, x-hasura-access-key or Authorization');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('confirming without any credential says which headers to send', async () => {
    const held = await send({ 'x-hasura-access-key': ADMIN_SECRET });
    const none = await confirm(held.json.guard.confirmation_token, {});
    expect(none.json).toEqual({ success: false, code: 'CREDENTIALS_MISSING', message: 'Not confirmed: send the admin secret the held request carried (x-hasura-admin-secret or x-hasura-access-key header), or its Authorization.' });
  });
});

describe('the guard\'s own export_metadata read', () => {
  it('carries the access key the replacement came with, so Hasura authenticates it the same way', async () => {
    const held = await send({ 'x-hasura-access-key': ADMIN_SECRET }, JSON.stringify({ type: 'replace_metadata', args: { version: 3, sources: [] } }));
    expect(held.json.code).toBe('guard-confirmation-required');
    const exports = guard.hasura.requests.filter((r) => r.headers['user-agent'] === 'hasura-metadata-guard');
    expect(exports.map((r) => [r.path, r.headers['x-hasura-access-key'], r.headers['x-hasura-admin-secret']])).toEqual([['/v1/metadata', ADMIN_SECRET, undefined]]);
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('the advisory doors (confirmMetadataChange on the guard\'s /graphql)', () => {
  it('read the access key as the requester\'s credentials, after the admin secret and before Authorization', () => {
    const of = (headers: Record<string, string>) => {
      const result = requesterFrom((name) => headers[name]);
      return result.ok ? result.requester.credentials : result.message;
    };
    expect(of({ 'x-hasura-access-key': 'k', authorization: 'Bearer j' })).toBe('k');
    expect(of({ 'x-hasura-admin-secret': 's', 'x-hasura-access-key': 'k' })).toBe('s');
    expect(of({ authorization: 'Bearer j' })).toBe('Bearer j');
    expect(of({})).toBeUndefined();
  });
});
