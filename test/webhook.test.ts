// The action webhooks, replaying the payloads and headers graphql-engine sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHasuraAccepts } from './hasura-check.js';
import { HASURA_HEADERS, hasuraPayload, postJson, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const drop = { operation: 'DELETE', table_name: 'patients', environment: 'production' };

async function call(path: string, body: unknown, headers: Record<string, string> = {}) {
  return postJson(`${server.url}${path}`, body, { ...HASURA_HEADERS, ...headers });
}

describe.each([
  ['the dedicated routes', '/validate-metadata-change', '/confirm-metadata-change'],
  ['the single /actions route', '/actions', '/actions'],
])('%s', (_name, validatePath, confirmPath) => {
  it('validate then confirm, with the session bound to the token', async () => {
    const v = await call(validatePath, hasuraPayload('validateMetadataChange', drop));
    expect(v.status).toBe(200);
    const out = expectHasuraAccepts('validateMetadataChange', v.status, v.text);
    expect(out).toMatchObject({ success: true, confirmation_token: expect.any(String) });

    const stranger = await call(confirmPath, hasuraPayload('confirmMetadataChange', { confirmation_token: out.confirmation_token }, { 'x-hasura-role': 'developer', 'x-hasura-user-id': '99' }));
    expect(expectHasuraAccepts('confirmMetadataChange', stranger.status, stranger.text)).toMatchObject({ success: false, message: expect.stringMatching(/someone else/) });

    const c = await call(confirmPath, hasuraPayload('confirmMetadataChange', { confirmation_token: out.confirmation_token }));
    expect(expectHasuraAccepts('confirmMetadataChange', c.status, c.text)).toEqual({ success: true, code: 'CONFIRMED', message: 'Confirmed: DELETE on patients in production. Go ahead with the change.' });
  });

  it('a business refusal is success:false with 200', async () => {
    const r = await call(validatePath, hasuraPayload('validateMetadataChange', { ...drop, environment: 'moon' }));
    expect(r.status).toBe(200);
    expect(expectHasuraAccepts('validateMetadataChange', r.status, r.text)).toMatchObject({ success: false, confirmation_token: null });
  });
});

describe('Hasura payload variants', () => {
  it('accepts flat input, the older plain-string action, a null request_query, and ignores unknown keys', async () => {
    const r = await call('/actions', {
      action: 'validateMetadataChange',
      input: drop,
      session_variables: { 'x-hasura-role': 'admin' },
      request_query: null,
      some_future_key: { anything: true },
    });
    expect(expectHasuraAccepts('validateMetadataChange', r.status, r.text)).toMatchObject({ success: true, confirmation_token: expect.any(String) });
  });

  it('binds the token to the role when there is no user id', async () => {
    const v = await call('/actions', hasuraPayload('validateMetadataChange', drop, { 'x-hasura-role': 'admin' }));
    const token = v.json.confirmation_token;
    const asOtherRole = await call('/actions', hasuraPayload('confirmMetadataChange', { confirmation_token: token }, { 'x-hasura-role': 'developer' }));
    expect(asOtherRole.json.success).toBe(false);
    const asAdmin = await call('/actions', hasuraPayload('confirmMetadataChange', { confirmation_token: token }, { 'x-hasura-role': 'admin' }));
    expect(asAdmin.json.success).toBe(true);
  });
});

describe('errors Hasura can relay', () => {
  const cases: [string, string, unknown, number, string, RegExp][] = [
    ['malformed JSON', '/actions', '{"action":', 400, 'INVALID_JSON', /not valid JSON/],
    ['a JSON array', '/actions', '[]', 400, 'INVALID_PAYLOAD', /not a Hasura action payload/],
    ['no action', '/actions', { input: {} }, 400, 'INVALID_PAYLOAD', /"action"/],
    ['no input', '/actions', { action: { name: 'validateMetadataChange' } }, 400, 'INVALID_PAYLOAD', /"input"/],
    ['an unknown action', '/actions', hasuraPayload('dropEverything', {}), 400, 'UNKNOWN_ACTION', /Unknown action "dropEverything"/],
    ['a missing field', '/validate-metadata-change', hasuraPayload('validateMetadataChange', { operation: 'DROP', environment: 'prod' }), 400, 'INVALID_INPUT', /"table_name" is required \(String!\)/],
    ['a field of the wrong type', '/validate-metadata-change', hasuraPayload('validateMetadataChange', { ...drop, table_name: 42 }), 400, 'INVALID_INPUT', /"table_name" must be a String/],
    ['no token', '/confirm-metadata-change', hasuraPayload('confirmMetadataChange', {}), 400, 'INVALID_INPUT', /"confirmation_token" is required/],
    ['session values that are not strings', '/actions', { ...hasuraPayload('validateMetadataChange', drop), session_variables: { 'x-hasura-role': 1 } }, 400, 'INVALID_PAYLOAD', /session_variables/],
  ];
  it.each(cases)('%s: %i with one {message, extensions.code} object', async (_name, path, body, status, code, message) => {
    const r = await call(path, body);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const out = expectHasuraAccepts('validateMetadataChange', r.status, r.text);
    expect(out).toEqual({ message: expect.stringMatching(message), extensions: { code } });
  });

  it('refuses other methods and media types with a JSON body', async () => {
    const get = await fetch(`${server.url}/actions`);
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ extensions: { code: 'METHOD_NOT_ALLOWED' } });
    const form = await fetch(`${server.url}/actions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const nowhere = await call('/nowhere', {});
    expect(nowhere.status).toBe(404);
    expect(nowhere.json.extensions.code).toBe('NOT_FOUND');
  });

  it('nothing was decided for a refused payload', async () => {
    const before = server.logs.audits().length;
    await call('/actions', '{"action":');
    await call('/actions', hasuraPayload('validateMetadataChange', { operation: 'DROP' }));
    expect(server.logs.audits().length).toBe(before);
  });
});
