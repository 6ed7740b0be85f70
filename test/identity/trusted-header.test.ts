// The trusted identity header (oauth2-proxy's X-Forwarded-Email, Authelia's Remote-Email), believed only from
// GUARD_TRUSTED_PROXIES: the socket's remote address, never a forwarded-for header. The test clients connect from
// 127.0.0.1, so "trusted" is a list that holds it and "not trusted" one that does not.
import { afterEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { startTestServer, type TestServer } from '../helpers.js';

let guard: EnforcingServer | undefined;
let advisory: TestServer | undefined;
afterEach(async () => {
  await guard?.close();
  await advisory?.close();
  guard = advisory = undefined;
});

const headerEnv = (proxies: string) => ({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_IDENTITY_GROUPS_HEADER: 'X-Forwarded-Groups', GUARD_TRUSTED_PROXIES: proxies });

describe('the identity header', () => {
  it('from an address not trusted: 401 in Hasura\'s shape, whatever X-Forwarded-For claims, and nothing reaches Hasura', async () => {
    guard = await startEnforcingServer(doubleWiring(), headerEnv('10.0.0.0/8, fd00::/8'));
    const sent = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'x-forwarded-email': 'alice@example.com', 'x-forwarded-for': '10.0.0.5' });
    expect(sent.status).toBe(401);
    expect(sent.json).toMatchObject({ path: '$', code: 'guard-identity-refused', guard: { code: 'IDENTITY_HEADER_UNTRUSTED' } });
    expect((await rawRequest(guard.url, 'GET', '/console', { 'x-forwarded-email': 'alice@example.com' })).status).toBe(401);
    expect(guard.hasura.forwarded()).toEqual([]);
    // Without the header the request goes on, with no person.
    expect((await rawRequest(guard.url, 'GET', '/console')).status).toBe(200);
  });

  it('from a trusted proxy: the person and groups are believed; sent twice, it is refused', async () => {
    guard = await startEnforcingServer(doubleWiring(), { ...headerEnv('127.0.0.1/32'), GUARD_APPROVERS: 'group:admins' });
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { 'x-forwarded-email': 'Alice@Example.com' });
    expect(held.json.error).toMatch(/^Held for alice@example\.com/);
    const token = held.json.guard.confirmation_token as string;
    const confirm = (headers: Record<string, string>) =>
      rawRequest(guard!.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...headers }, JSON.stringify({ token }));
    expect((await confirm({ 'x-forwarded-email': 'bob@example.com', 'x-forwarded-groups': 'developers' })).json.code).toBe('NOT_AN_APPROVER');
    expect((await confirm({ 'x-forwarded-email': 'bob@example.com', 'x-forwarded-groups': 'developers, admins' })).json.success).toBe(true);

    const twice = await new Promise<number>((resolve, reject) => {
      // Node's client would join the two values; a raw request sends them as two lines.
      import('node:net').then(({ connect }) => {
        const { port } = new URL(guard!.url);
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(`GET /console HTTP/1.1\r\nhost: x\r\nx-forwarded-email: alice@example.com\r\nx-forwarded-email: bob@example.com\r\nconnection: close\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (c) => (text += c));
        socket.on('end', () => resolve(Number(text.split(' ')[1])));
        socket.on('error', reject);
      }, reject);
    });
    expect(twice).toBe(401);
  });
});

describe('the advisory doors', () => {
  it('keep Hasura\'s session and use the person when the header arrives: four-eyes tells alice from bob', async () => {
    advisory = await startTestServer({ ...headerEnv('127.0.0.1'), FOUR_EYES: 'true' });
    const graphql = async (query: string, email: string) =>
      (await rawRequest(advisory!.url, 'POST', '/graphql', { 'content-type': 'application/json', 'x-forwarded-email': email }, JSON.stringify({ query }))).json.data;
    const validated = await graphql('mutation { validateMetadataChange(input: {operation: "DROP TABLE public.patients", table_name: "public.patients", environment: "production"}) { confirmation_token } }', 'alice@example.com');
    const token = validated.validateMetadataChange.confirmation_token as string;
    expect(token).toBeTruthy();
    const confirm = `mutation { confirmMetadataChange(input: {confirmation_token: "${token}"}) { success message } }`;
    expect((await graphql(confirm, 'alice@example.com')).confirmMetadataChange).toMatchObject({ success: false, message: expect.stringContaining('you requested this change') });
    expect((await graphql(confirm, 'bob@example.com')).confirmMetadataChange).toMatchObject({ success: true });
    const validation = advisory.logs.audits().find((a) => a.action === 'validate');
    expect(validation).toMatchObject({ person: 'alice@example.com' });
  });
});
