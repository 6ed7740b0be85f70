// Requests an attacker would send to /graphql and the webhooks, through the real server on 127.0.0.1: each one
// is refused with a 4xx and a clear message, never executed, never a 5xx, and never an error-level log line.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_SECRET, hasuraPayload, postJson, startTestServer, type TestServer } from '../helpers.js';

const drop = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
const introspect = `/graphql?query=${encodeURIComponent('{ __schema { queryType { name } } }')}`;

describe('the action secret guards every GraphQL execution', () => {
  let off: TestServer;
  let on: TestServer;
  beforeAll(async () => {
    off = await startTestServer({ ACTION_SECRET, GRAPHIQL_ENABLED: 'false' });
    on = await startTestServer({ ACTION_SECRET, GRAPHIQL_ENABLED: 'true' });
  });
  afterAll(() => Promise.all([off.close(), on.close()]));

  it('GraphiQL off: a GET that asks for HTML and JSON is a query like any other, refused without the secret', async () => {
    for (const accept of ['text/html, application/json', 'text/html']) {
      const r = await fetch(`${off.url}${introspect}`, { headers: { accept } });
      expect(r.status).toBe(401);
      expect(await r.text()).not.toContain('queryType');
    }
    // The page load itself runs nothing: it gets the page that says how to turn GraphiQL on.
    const page = await fetch(`${off.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('GRAPHIQL_ENABLED=true');
  });

  it('GraphiQL on: the page loads without the secret, but never a GET that carries a query', async () => {
    const page = await fetch(`${on.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const r = await fetch(`${on.url}${introspect}`, { headers: { accept: 'text/html, application/json' } });
    expect(r.status).toBe(401);
    expect(await r.text()).not.toContain('queryType');
  });
});

describe('only JSON reaches GraphQL, and GETs need a header no web page can send without a preflight', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const mutation = 'mutation { validateMetadataChange(input: {operation: "DROP", table_name: "t", environment: "prod"}) { success } }';

  it.each([
    ['a form', 'application/x-www-form-urlencoded', new URLSearchParams({ query: mutation }).toString()],
    ['multipart', 'multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: mutation })}\r\n--x--\r\n`],
    ['text/plain', 'text/plain', JSON.stringify({ query: mutation })],
    ['application/jsonx', 'application/jsonx', JSON.stringify({ query: mutation })],
    ['application/graphql', 'application/graphql', mutation],
  ])('a POST of %s is refused with 415 and runs nothing', async (_name, contentType, body) => {
    const r = await postJson(`${server.url}/graphql`, body, { 'content-type': contentType });
    expect(r.status).toBe(415);
    expect(r.json).toEqual({ message: 'Send GraphQL requests as Content-Type: application/json (or GET for queries).', extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(server.logs.audits()).toEqual([]);
  });

  it('JSON with a charset parameter is JSON', async () => {
    const r = await postJson(`${server.url}/graphql`, { query: '{ __typename }' }, { 'content-type': 'Application/JSON; charset=utf-8' });
    expect(r.json).toEqual({ data: { __typename: 'Query' } });
  });

  it("a GET query without a custom header is refused by yoga's CSRF prevention; with one it runs", async () => {
    const bare = await fetch(`${server.url}/graphql?query=%7B__typename%7D`);
    expect(bare.status).toBe(403);
    expect(await bare.json()).toEqual({ errors: [{ message: 'Required CSRF header(s) not present', extensions: { code: 'CSRF_HEADER_REQUIRED' } }] });
    const withHeader = await fetch(`${server.url}/graphql?query=%7B__typename%7D`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(await withHeader.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it.each([
    ['application/jsonx'],
    ['application/json-patch+json'],
    ['text/plain; application/json'],
    ['application/json, text/plain'],
  ])('a webhook refuses Content-Type %s with 415', async (contentType) => {
    const r = await postJson(`${server.url}/actions`, hasuraPayload('validateMetadataChange', drop), { 'content-type': contentType });
    expect(r.status).toBe(415);
    expect(r.json.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('a webhook takes application/json with parameters, in any case', async () => {
    const r = await postJson(`${server.url}/actions`, hasuraPayload('validateMetadataChange', drop), { 'content-type': 'APPLICATION/json ; charset=UTF-8' });
    expect(r.status).toBe(200);
  });
});

describe('no 5xx for any client input', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());
  const errorLines = () => server.logs.lines.filter((l) => (l.level as number) >= 50);

  it.each([
    ['GET', `/graphql?query=${encodeURIComponent('subscription { x }')}`],
    ['GET', `/graphql?query=${encodeURIComponent('subscription { __typename }')}`],
  ])('%s %s: a subscription is refused at validation with a code', async (method, path) => {
    const r = await fetch(`${server.url}${path}`, { method, headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(r.status).toBeLessThan(500);
    const body = await r.json();
    expect(body.errors[0]).toMatchObject({ message: 'Subscriptions are not supported: this API has queries and mutations only.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(errorLines()).toEqual([]);
  });

  it('a POSTed subscription too', async () => {
    const r = await postJson(`${server.url}/graphql`, { query: 'subscription { __typename }' });
    expect(r.status).toBe(200);
    expect(r.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(errorLines()).toEqual([]);
  });

  it.each(['/graphql', '/actions'])('a client that hangs up mid-body on %s is logged at info, without a stack', async (path) => {
    const { hostname, port } = new URL(server.url);
    const req = request({ hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1000 } });
    req.on('error', () => {});
    req.write('{"query":');
    const arrived = new Promise((resolve) => server.running.server.once('request', resolve));
    req.flushHeaders();
    await arrived;
    req.destroy();
    const line = await server.logs.waitForLine((l) => l.msg === 'client went away before the answer' && l.path === path);
    expect(line.level).toBe(30);
    expect(errorLines()).toEqual([]);
    expect(server.logs.raw.join('\n')).not.toMatch(/"stack"/);
  });
});

describe('one code per error class', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const errorsOf = async (body: unknown) => (await postJson(`${server.url}/graphql`, body)).json.errors;

  it('a syntax error is GRAPHQL_PARSE_FAILED, the first time and again', async () => {
    // The second time, yoga answers from its cache of parsed documents: the code must be the same.
    for (let time = 0; time < 2; time++) {
      expect(await errorsOf({ query: 'query { a' })).toEqual([expect.objectContaining({ message: 'Syntax Error: Expected Name, found <EOF>.', extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    }
  });

  it('an unknown field is GRAPHQL_VALIDATION_FAILED, the first time and again', async () => {
    for (let time = 0; time < 2; time++) expect((await errorsOf({ query: 'query { nope }' }))[0].extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });

  it('invalid variables are BAD_USER_INPUT and name the variable as declared', async () => {
    const query = 'mutation($i: ValidateMetadataChangeInput!) { validateMetadataChange(input: $i) { success } }';
    expect(await errorsOf({ query, variables: { i: { operation: 5, table_name: 't', environment: 'prod' } } })).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^Variable "\$i" got invalid value 5 at "i\.operation"; String cannot represent a non string value: 5/), extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
  });

  it('validate over both doors reports the level', async () => {
    const g = await postJson(`${server.url}/graphql`, { query: 'mutation($i: ValidateMetadataChangeInput!) { validateMetadataChange(input: $i) { success level } }', variables: { i: drop } }, { 'x-hasura-user-id': '42' });
    expect(g.json.data.validateMetadataChange).toEqual({ success: true, level: 'confirm' });
    const w = await postJson(`${server.url}/actions`, hasuraPayload('validateMetadataChange', { ...drop, environment: 'staging' }));
    expect(w.json).toMatchObject({ success: true, level: 'allow' });
  });
});
