// A new user's first hour, through the real HTTP server: what the root and a browser see, calling an action
// route by hand as the action guides teach, mixing up the two actions, and a secret header a proxy dropped.
import { afterEach, describe, expect, it } from 'vitest';
import { expectHasuraAccepts } from './hasura-check.js';
import { ACTION_SECRET, postJson, startTestServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const start = async (env: Record<string, string> = {}) => (server = await startTestServer(env));
const browserGet = (url: string) => fetch(url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });

describe('GET / and a browser at /graphql', () => {
  it('GET / names the routes and where GraphiQL is, as JSON for curl and HTML for a browser', async () => {
    const s = await start({ GRAPHIQL_ENABLED: 'true', ACTION_SECRET });
    const json = await (await fetch(`${s.url}/`)).json();
    expect(json).toMatchObject({
      graphiql: 'GraphiQL: open /graphql in a browser.',
      secret: 'Every operation needs the action secret in the action_secret header.',
      routes: { 'POST /graphql': expect.stringContaining('validateMetadataChange'), 'POST /validate-metadata-change': expect.any(String), 'GET /health': 'liveness' },
    });
    const page = await browserGet(`${s.url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('GraphiQL: <a href="/graphql">/graphql</a>.');
  });

  it("GraphiQL's page comes with both steps and a session to fill in, naming the secret's header", async () => {
    const s = await start({ GRAPHIQL_ENABLED: 'true', ACTION_SECRET, ACTION_SECRET_HEADER: 'X-Action-Secret' });
    const html = await (await browserGet(`${s.url}/graphql`)).text();
    expect(html).toContain('mutation Validate {');
    expect(html).toContain('mutation Confirm {');
    for (const header of ['x-hasura-user-id', 'x-hasura-role', 'x-action-secret']) expect(html).toContain(header);
    expect(html).not.toContain(ACTION_SECRET);
  });

  it('with GraphiQL off, GET / says how to turn it on', async () => {
    const s = await start({ GRAPHIQL_ENABLED: 'false' });
    const json = await (await fetch(`${s.url}/`)).json();
    expect(json.graphiql).toBe('GraphiQL is off. Set GRAPHIQL_ENABLED=true and restart the guard (it is on by default outside NODE_ENV=production).');
  });

  it('with GraphiQL off, a browser at /graphql gets a short page saying how to turn it on, not "Must provide query string."', async () => {
    const s = await start({ GRAPHIQL_ENABLED: 'false', ACTION_SECRET });
    const page = await browserGet(`${s.url}/graphql`);
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<title>GraphiQL is off</title>');
    expect(html).toContain('Set GRAPHIQL_ENABLED=true');
    expect(html).not.toContain('Must provide query string');
  });

  it('with GraphiQL off, a GET carrying a query is an API request, not the page', async () => {
    const s = await start({ GRAPHIQL_ENABLED: 'false' });
    const r = await browserGet(`${s.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(await r.text()).not.toContain('GraphiQL is off');
  });
});

describe('the 401 for a secret header that never arrived', () => {
  const body = { input: { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' } };

  it('no header at all: hints that a proxy drops names with "_" and how to avoid it', async () => {
    const s = await start({ ACTION_SECRET });
    const r = await postJson(`${s.url}/validate-metadata-change`, body);
    expect(r.status).toBe(401);
    expect(r.json.message).toBe(
      'Missing action secret: no action_secret header arrived. A proxy such as nginx drops header names containing "_" by default; set ACTION_SECRET_HEADER=x-action-secret (here and in Hasura\'s action headers) or turn on nginx\'s underscores_in_headers.',
    );
  });

  it('a wrong value: no hint, the header did arrive', async () => {
    const s = await start({ ACTION_SECRET });
    const r = await postJson(`${s.url}/validate-metadata-change`, body, { action_secret: 'wrong-wrong-wrong-wrong' });
    expect(r.status).toBe(401);
    expect(r.json.message).toBe('Missing or wrong action secret in the action_secret header.');
  });
});

describe('calling an action route directly, as the action guides teach', () => {
  const input = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };

  it('{"input": ...} with the session in X-Hasura-* headers: validated and confirmed as that user', async () => {
    const s = await start({ ACTION_SECRET });
    const alice = { action_secret: ACTION_SECRET, 'x-hasura-user-id': 'alice', 'x-hasura-role': 'developer' };
    const v = await postJson(`${s.url}/validate-metadata-change`, { input }, alice);
    const out = expectHasuraAccepts('validateMetadataChange', v.status, v.text);
    expect(out).toMatchObject({ success: true, level: 'confirm', confirmation_token: expect.stringMatching(/^ey/) });

    const bob = await postJson(`${s.url}/confirm-metadata-change`, { input: { confirmation_token: out.confirmation_token } }, { ...alice, 'x-hasura-user-id': 'bob' });
    expect(bob.json).toMatchObject({ success: false, message: expect.stringMatching(/issued to someone else/) });
    const c = await postJson(`${s.url}/confirm-metadata-change`, { input: { confirmation_token: out.confirmation_token } }, alice);
    expect(c.json).toEqual({ success: true, code: 'CONFIRMED', message: 'Confirmed: DROP TABLE on public.patients in production. Go ahead with the change.' });
    expect(s.logs.audits()).toMatchObject([{ userId: 'alice' }, { userId: 'bob', outcome: 'refused' }, { userId: 'alice', outcome: 'confirmed' }]);
  });

  it('session_variables in the body win over headers (what Hasura sends is what counts)', async () => {
    const s = await start();
    await postJson(`${s.url}/validate-metadata-change`, { input, session_variables: { 'x-hasura-user-id': 'from-body' } }, { 'x-hasura-user-id': 'from-header' });
    expect(s.logs.audits()).toMatchObject([{ userId: 'from-body' }]);
  });

  it('/actions still needs the action name, and says where to go instead', async () => {
    const s = await start();
    const r = await postJson(`${s.url}/actions`, { input });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/"action" is missing\. \/actions serves both actions .* or POST to \/validate-metadata-change or \/confirm-metadata-change/);
  });

  it('a confirm input posted to /validate-metadata-change names the mix-up instead of listing three missing fields', async () => {
    const s = await start();
    const r = await postJson(`${s.url}/validate-metadata-change`, { input: { confirmation_token: 'eyJ...' } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: 'This looks like a confirmMetadataChange input: POST it to /confirm-metadata-change.', extensions: { code: 'WRONG_ACTION' } });
    const back = await postJson(`${s.url}/confirm-metadata-change`, { input });
    expect(back.json.message).toBe('This looks like a validateMetadataChange input: POST it to /validate-metadata-change.');
    const dispatched = await postJson(`${s.url}/actions`, { action: { name: 'validateMetadataChange' }, input: { confirmation_token: 'x' } });
    expect(dispatched.json.message).toBe('This looks like a confirmMetadataChange input: name the action "confirmMetadataChange".');
    expect(s.logs.audits()).toEqual([]);
  });
});
