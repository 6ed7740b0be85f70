// Every refusal of every door carries a code from the table (src/core/codes.ts, docs/api.md): probed through HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODES } from '../../src/core/codes.js';
import { ACTION_SECRET, postJson, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ ACTION_SECRET, ACTION_SECRET_HEADER: 'x-guard-secret' });
});
afterAll(() => server.close());

const secret = { 'x-guard-secret': ACTION_SECRET };

/** The codes an answer carries: a webhook or HTTP error's extensions.code, or each GraphQL error's. */
function codesOf(json: any): unknown[] {
  if (Array.isArray(json?.errors)) return json.errors.map((e: any) => e.extensions?.code);
  return [json?.extensions?.code ?? json?.code];
}

describe('every refusal has a code from the table', () => {
  it.each([
    ['a path that is not the guard\'s', 'GET', '/nowhere', {}, undefined, 404],
    ['a webhook without the secret', 'POST', '/validate-metadata-change', { 'content-type': 'application/json' }, '{}', 401],
    ['a webhook GET', 'GET', '/validate-metadata-change', secret, undefined, 405],
    ['a webhook in text/plain', 'POST', '/validate-metadata-change', { ...secret, 'content-type': 'text/plain' }, '{}', 415],
    ['a webhook body over the limit', 'POST', '/validate-metadata-change', { ...secret, 'content-type': 'application/json' }, JSON.stringify({ x: 'x'.repeat(70_000) }), 413],
    ['a GraphQL form POST', 'POST', '/graphql', { ...secret, 'content-type': 'application/x-www-form-urlencoded' }, 'query=%7B__typename%7D', 415],
    ['a GraphQL GET without the CSRF header', 'GET', '/graphql?query=%7B__typename%7D', secret, undefined, 403],
    ['a GraphQL GET subscription without the CSRF header', 'GET', '/graphql?query=subscription%7Bx%7D', secret, undefined, 403],
    ['a GraphQL subscription', 'POST', '/graphql', { ...secret, 'content-type': 'application/json' }, JSON.stringify({ query: 'subscription { x }' }), undefined],
    ['a GraphQL document that does not parse', 'POST', '/graphql', { ...secret, 'content-type': 'application/json' }, JSON.stringify({ query: '{' }), undefined],
    ['a GraphQL mutation over GET', 'GET', `/graphql?query=${encodeURIComponent('mutation { confirmMetadataChange(input: {confirmation_token: "x"}) { success } }')}`, { ...secret, 'x-graphql-yoga-csrf': '1' }, undefined, 405],
  ])('%s', async (_name, method, path, headers, body, status) => {
    const res = await fetch(`${server.url}${path}`, { method, headers, body });
    if (status !== undefined) expect(res.status).toBe(status);
    const codes = codesOf(await res.json());
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(Object.keys(CODES)).toContain(code);
  });

  it('a business refusal over the webhook carries its code in the output', async () => {
    const payload = { action: { name: 'validateMetadataChange' }, input: { input: { operation: 'clear_metadata', table_name: '', environment: 'production' } }, session_variables: { 'x-hasura-user-id': '1' } };
    const r = await postJson(`${server.url}/validate-metadata-change`, payload, secret);
    expect(r.json).toMatchObject({ success: false, code: 'DENIED_BY_POLICY', level: 'deny' });
  });
});
