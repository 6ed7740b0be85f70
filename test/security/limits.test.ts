// What one request may ask for: GraphQL depth, aliases, tokens and directives; no batching; secrets kept out
// of logs even at the chattiest level.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_LIMITS } from '../../src/doors/graphql.js';
import { ACTION_SECRET, CONFIRM, hasuraPayload, postJson, startTestServer, TEST_SECRET, VALIDATE, type TestServer } from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LOG_LEVEL: 'trace', ACTION_SECRET });
});
afterAll(() => server.close());

const auth = { action_secret: ACTION_SECRET, 'x-hasura-user-id': 'alice' };
const gql = (body: unknown) => postJson(`${server.url}/graphql`, body, auth);
const input = '{operation: "DROP", table_name: "t", environment: "prod"}';

describe('GraphQL limits', () => {
  it(`refuses more than ${GRAPHQL_LIMITS.aliases} aliases`, async () => {
    const ok = await gql({ query: `mutation { ${Array.from({ length: GRAPHQL_LIMITS.aliases }, (_, i) => `a${i}: validateMetadataChange(input: ${input}) { success }`).join(' ')} }` });
    expect(ok.json.errors).toBeUndefined();
    const tooMany = await gql({ query: `mutation { ${Array.from({ length: GRAPHQL_LIMITS.aliases + 1 }, (_, i) => `a${i}: validateMetadataChange(input: ${input}) { success }`).join(' ')} }` });
    expect(tooMany.json.errors[0].message).toMatch(/aliases/i);
    expect(tooMany.json.data).toBeUndefined();
  });

  it(`refuses more than ${GRAPHQL_LIMITS.tokens} tokens`, async () => {
    const r = await gql({ query: `query { ${'__typename '.repeat(GRAPHQL_LIMITS.tokens)} }` });
    expect(r.json.errors[0].message).toMatch(/token/i);
  });

  it(`refuses more than ${GRAPHQL_LIMITS.directives} directives`, async () => {
    const r = await gql({ query: `query { __typename ${'@include(if: true) '.repeat(GRAPHQL_LIMITS.directives + 1)} }` });
    expect(r.json.errors[0].message).toMatch(/directive/i);
  });

  it(`refuses depth over ${GRAPHQL_LIMITS.depth}, but not Hasura's deep introspection`, async () => {
    // The schema is two levels deep; only a fragment cycle or introspection could nest deeper.
    const deep = `query { __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }`;
    const introspection = await gql({ query: deep });
    expect(introspection.json.errors).toBeUndefined();
    const r = await gql({ query: 'query { previewMetadataChange(input: ' + input + ') { ...A } } fragment A on MetadataChangePreview { ...B } fragment B on MetadataChangePreview { ...A }' });
    expect(r.json.errors.length).toBeGreaterThan(0);
  });

  it('has batching off', async () => {
    const r = await gql([{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(JSON.stringify(r.json)).not.toContain('"__typename":"Query"');
  });
});

describe('secrets stay out of logs at LOG_LEVEL=trace', () => {
  it('neither the token, the action secret, the token secret nor a header value is written', async () => {
    const v = await gql({ query: VALIDATE, variables: { input: { operation: 'DROP', table_name: 't', environment: 'prod' } } });
    const token = v.json.data.validateMetadataChange.confirmation_token as string;
    await gql({ query: CONFIRM, variables: { input: { confirmation_token: token } } });
    await postJson(`${server.url}/actions`, hasuraPayload('confirmMetadataChange', { confirmation_token: token }), { ...auth, 'x-private': 'private-header-value' });
    await postJson(`${server.url}/actions`, { broken: true }, { action_secret: 'a-wrong-secret-guess' });
    const log = server.logs.raw.join('\n');
    expect(server.logs.lines.length).toBeGreaterThan(3);
    for (const secret of [token, token.split('.')[2]!, ACTION_SECRET, TEST_SECRET, 'private-header-value', 'a-wrong-secret-guess']) expect(log).not.toContain(secret);
  });
});
