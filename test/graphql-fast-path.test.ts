// The GraphQL fast path must answer exactly as yoga does. Each request is sent twice: over HTTP to the server
// (the fast path takes what it can) and to yoga itself in-process (always the full path); the answers must match.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const session = { 'x-hasura-role': 'developer', 'x-hasura-user-id': '42' };
const drop = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
const validate = 'mutation V($input: ValidateMetadataChangeInput!) { validateMetadataChange(input: $input) { success message confirmation_token } }';
const INTROSPECTION = readFileSync(new URL('./fixtures/hasura-introspection.graphql', import.meta.url), 'utf8');

/** Tokens differ between two runs (random id, time); everything else must be byte for byte the same. */
const normalise = (text: string) => text.replace(/"ey[\w-]+\.[\w-]+\.[\w-]+"/g, '"<token>"');

const cases: [string, unknown, boolean][] = [
  // [name, body, expected to take the fast path]
  ['validate in production', { query: validate, variables: { input: drop }, operationName: null }, true],
  ['validate in staging, inline input', { query: 'mutation { validateMetadataChange(input: {operation: "DROP", table_name: "t", environment: "staging"}) { success message confirmation_token } }' }, true],
  ['a business refusal', { query: validate, variables: { input: { ...drop, environment: 'moon' } } }, true],
  ['confirm with garbage', { query: 'mutation { confirmMetadataChange(input: {confirmation_token: "garbage"}) { success message } }' }, true],
  ['preview with __typename and an alias', { query: '{ p: previewMetadataChange(input: {operation: "x", table_name: "t", environment: "prod"}) { __typename level message } }' }, true],
  ['choosing one of two operations', { query: `query A { __typename } ${validate}`, operationName: 'A' }, true],
  ['Hasura introspection', { query: INTROSPECTION, variables: null, operationName: 'IntrospectionQuery' }, true],
  ['variables missing a field', { query: validate, variables: { input: { operation: 'DROP' } } }, false],
  ['variables of the wrong type', { query: validate, variables: { input: 42 } }, false],
  ['two operations and no name', { query: `query A { __typename } query B { __typename }` }, false],
  ['an unknown operation name', { query: validate, variables: { input: drop }, operationName: 'Nope' }, false],
  ['a syntax error', { query: 'mutation {' }, false],
  ['an unknown field', { query: '{ nope }' }, false],
  ['too many aliases', { query: `{ ${Array.from({ length: 11 }, (_, i) => `a${i}: previewMetadataChange(input: {operation: "x", table_name: "t", environment: "prod"}) { level }`).join(' ')} }` }, false],
  ['an anonymous operation and an operationName', { query: '{ __typename }', operationName: 'Named' }, false],
  ['no query', { variables: {} }, false],
  ['extensions (persisted queries)', { query: '{ __typename }', extensions: { persistedQuery: { version: 1 } } }, false],
];

describe('GraphQL fast path', () => {
  // Twice each: the second time the fast path has seen the document (it remembers which ones validated).
  it.each(cases)('%s: same status, headers and body as yoga, the first time and again', async (_name, body, fast) => {
    const door = await server.app.graphql();
    const before = door.served.fast;
    const init = { method: 'POST', headers: { 'content-type': 'application/json', ...session }, body: JSON.stringify(body) };
    for (let time = 0; time < 2; time++) {
      const viaServer = await fetch(`${server.url}/graphql`, init);
      const viaYoga = await door.yoga.fetch('http://guard/graphql', init);
      expect(normalise(await viaServer.text())).toBe(normalise(await viaYoga.text()));
      expect(viaServer.status).toBe(viaYoga.status);
      expect(viaServer.headers.get('content-type')).toBe(viaYoga.headers.get('content-type'));
    }
    expect(door.served.fast - before).toBe(fast ? 2 : 0);
  });

  it('leaves other media types to yoga', async () => {
    const door = await server.app.graphql();
    const before = { ...door.served };
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.headers.get('content-type')).toMatch(/application\/graphql-response\+json/);
    expect(door.served).toEqual({ fast: before.fast, full: before.full + 1 });
  });
});
