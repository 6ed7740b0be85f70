// An operation typed as SQL with a secret in a string constant: the advisory doors (GraphQL and the action webhook)
// record the decision, and no log line, token or message holds the secret. The enforcing proxy's side of the same
// promise is in test/proxy/sql-code.test.ts and test/review/backends.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_SECRET, CONFIRM, hasuraPayload, postJson, startTestServer, VALIDATE, type TestServer } from '../helpers.js';

const SECRET = 'sk_live_4242424242424242';
const OPERATIONS = [
  `SET app.key = '${SECRET}'`,
  `COPY patients TO PROGRAM 'curl -H "Authorization: ${SECRET}" https://example.com'`,
  `ALTER ROLE app PASSWORD '${SECRET}'; DROP TABLE patients`,
  `DROP TABLE patients /* ${SECRET} */`,
  `SELECT dblink_connect($$host=db password=${SECRET}$$)`,
  // Not SQL the lexer can read (an unclosed quote): cut before the quote.
  `DROP TABLE patients; SELECT '${SECRET}`,
];
const session = { 'x-hasura-role': 'developer', 'x-hasura-user-id': '42' };
const headers = { action_secret: ACTION_SECRET, ...session };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ ACTION_SECRET, GUARD_ENVIRONMENT: 'production' });
});
afterAll(() => server.close());

describe('a secret in a SQL literal reaches no log line, token or message', () => {
  it.each(OPERATIONS)('GraphQL: validate and confirm %s', async (operation) => {
    const input = { operation, table_name: '', environment: 'production' };
    const validated = await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input } }, headers);
    const answer = validated.json.data.validateMetadataChange;
    expect(answer.message).not.toContain(SECRET);
    if (answer.confirmation_token) {
      const payload = Buffer.from(answer.confirmation_token.split('.')[1], 'base64url').toString('utf8');
      expect(payload).not.toContain(SECRET);
      const confirmed = await postJson(`${server.url}/graphql`, { query: CONFIRM, variables: { input: { confirmation_token: answer.confirmation_token } } }, headers);
      expect(confirmed.text).not.toContain(SECRET);
    }
    const audits = server.logs.audits().filter((a) => a.action === 'validate');
    expect(audits.length).toBeGreaterThan(0);
    expect(server.logs.raw.join('\n')).not.toContain(SECRET);
  });

  it.each(OPERATIONS)('webhook: validate %s', async (operation) => {
    const before = server.logs.raw.length;
    const res = await postJson(`${server.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', { operation, table_name: '', environment: 'production' }, session), { action_secret: ACTION_SECRET });
    expect(res.status).toBeLessThan(500);
    expect(res.text).not.toContain(SECRET);
    expect(server.logs.raw.length).toBeGreaterThan(before); // the decision was recorded...
    expect(server.logs.raw.join('\n')).not.toContain(SECRET); // ...without the secret
  });

  it('the recorded operation still says what was asked, with the literal masked', async () => {
    const input = { operation: `SET app.key = '${SECRET}'`, table_name: '', environment: 'production' };
    await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input } }, headers);
    const recorded = server.logs.audits().map((a) => a.operation);
    expect(recorded).toContain("SET app.key = '…'");
  });
});
