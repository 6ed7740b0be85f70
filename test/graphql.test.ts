// The GraphQL API in-process (yoga.fetch: no port) and over HTTP against the real server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM, postJson, startTestServer, testApp, VALIDATE, type TestServer } from './helpers.js';

const INTROSPECTION = readFileSync(new URL('./fixtures/hasura-introspection.graphql', import.meta.url), 'utf8');

function inProcess(env: Record<string, string> = {}) {
  const t = testApp(env);
  const gql = async (query: string, variables?: unknown, headers: Record<string, string> = {}) => {
    const { yoga } = await t.app.graphql();
    const res = await yoga.fetch('http://guard/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { ...t, gql };
}

const session = { 'x-hasura-role': 'developer', 'x-hasura-user-id': '42' };
const drop = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };

describe('GraphQL API (in-process)', () => {
  it('validates and confirms a production change, bound to the x-hasura session', async () => {
    const { gql, logs } = inProcess();
    const v = await gql(VALIDATE, { input: drop }, session);
    expect(v.status).toBe(200);
    const out = v.body.data.validateMetadataChange;
    expect(out).toMatchObject({ success: true, confirmation_token: expect.any(String) });

    const other = await gql(CONFIRM, { input: { confirmation_token: out.confirmation_token } }, { 'x-hasura-user-id': '7' });
    expect(other.body.data.confirmMetadataChange).toEqual({ success: false, message: expect.stringMatching(/issued to someone else/) });

    const c = await gql(CONFIRM, { input: { confirmation_token: out.confirmation_token } }, session);
    expect(c.body.data.confirmMetadataChange).toEqual({ success: true, message: 'Confirmed: DROP TABLE on public.patients in production. Go ahead with the change.' });
    const replay = await gql(CONFIRM, { input: { confirmation_token: out.confirmation_token } }, session);
    expect(replay.body.data.confirmMetadataChange.message).toMatch(/already been used/);

    expect(logs.audits().map((a) => `${a.action}:${a.outcome}`)).toEqual(['validate:confirmation_required', 'confirm:refused', 'confirm:confirmed', 'confirm:refused']);
  });

  it('staging is validated automatically with a null token', async () => {
    const { gql } = inProcess();
    const v = await gql(VALIDATE, { input: { ...drop, environment: 'stage' } }, session);
    expect(v.body.data.validateMetadataChange).toEqual({ success: true, message: expect.stringMatching(/^Validated automatically/), confirmation_token: null });
  });

  it('previewMetadataChange is a dry run on the Query root', async () => {
    const { gql, logs } = inProcess();
    const r = await gql('query($i: ValidateMetadataChangeInput!) { previewMetadataChange(input: $i) { success level operation_class environment message } }', { i: drop });
    expect(r.body.data.previewMetadataChange).toMatchObject({ success: true, level: 'confirm', operation_class: 'critical', environment: 'production' });
    expect(logs.audits()).toEqual([]);
  });

  it('input that breaks the schema gets GraphQL errors with extensions.code', async () => {
    const { gql } = inProcess();
    const missing = await gql(VALIDATE, { input: { operation: 'DROP', environment: 'prod' } });
    expect(missing.body.errors[0].message).toMatch(/table_name/);
    expect(missing.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const unknownField = await gql('mutation { validateMetadataChange(input: {operation: "x", table_name: "t", environment: "p"}) { nope } }');
    expect(unknownField.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const syntax = await gql('mutation {');
    expect(syntax.body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('answers the introspection query Hasura sends, with the contract types', async () => {
    const { app } = inProcess();
    // Hasura sends no session headers on this call.
    const res = await (await app.graphql()).yoga.fetch('http://guard/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'hasura-graphql-engine/v2.44.0' },
      body: JSON.stringify({ query: INTROSPECTION, variables: null, operationName: 'IntrospectionQuery' }),
    });
    const body = (await res.json()) as any;
    expect(body.errors).toBeUndefined();
    const types = new Map<string, any>(body.data.__schema.types.map((t: any) => [t.name, t]));
    expect(body.data.__schema.mutationType.name).toBe('Mutation');
    expect(body.data.__schema.queryType.name).toBe('Query');
    expect(body.data.__schema.subscriptionType).toBeNull();
    expect(types.get('ValidateMetadataChangeInput').inputFields.map((f: any) => `${f.name}:${f.type.kind}`)).toEqual([
      'operation:NON_NULL', 'table_name:NON_NULL', 'environment:NON_NULL', 'hasura_request:SCALAR', 'current_metadata:SCALAR',
    ]);
    expect(types.get('ValidateMetadataChangeOutput').fields.map((f: any) => `${f.name}:${f.type.kind}`)).toEqual([
      'success:NON_NULL', 'message:NON_NULL', 'confirmation_token:SCALAR', 'level:SCALAR', 'changes:LIST', 'code:SCALAR',
    ]);
    expect(types.has('Upload')).toBe(false);
    // only graphql-js's built-in directives, none of our own (Hasura drops custom ones)
    expect(body.data.__schema.directives.map((d: any) => d.name).sort()).toEqual(['deprecated', 'include', 'oneOf', 'skip', 'specifiedBy']);
  });
});

describe('GraphQL API over HTTP (real server)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('serves the query Hasura regenerates: anonymous, operationName null, session as headers', async () => {
    const query = 'mutation ($v: ValidateMetadataChangeInput!) { validateMetadataChange(input: $v) { success message confirmation_token } }';
    const v = await postJson(`${server.url}/graphql`, { query, variables: { v: drop }, operationName: null }, session);
    expect(v.status).toBe(200);
    const token = v.json.data.validateMetadataChange.confirmation_token;
    expect(token).toEqual(expect.any(String));
    const c = await postJson(`${server.url}/graphql`, { query: `mutation { confirmMetadataChange(input: {confirmation_token: "${token}"}) { success message } }`, operationName: null }, session);
    expect(c.json.data.confirmMetadataChange.success).toBe(true);
  });

  it('GET /health answers 200', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});
