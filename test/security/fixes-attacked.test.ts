// Attacks on the first adversarial review's fixes that held when a second review tried them (repeated keys in every
// spelling, switched credential headers, every statement that leaves a read-only transaction, COPY and EXPLAIN
// variants, notifications), kept so they keep holding. Each asserts the safe behaviour.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { analyzeChange } from '../../src/analysis/index.js';
import { loadPolicy } from '../../src/core/policy.js';
import { slackChannel, teamsChannel, type ChangeEvent } from '../../src/notify/channels.js';
import { slackTexts } from '../support/receivers.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { ADMIN_BEARER } from '../support/stand-in-hasura.js';

const json = { 'content-type': 'application/json' };
const policy = loadPolicy();
const production = policy.findEnvironment('production')!;
async function level(sql: string, extra: Record<string, unknown> = {}) {
  const body = { type: 'run_sql', args: { source: 'default', sql, ...extra } };
  const effects = await analyzeChange({ operation: 'run_sql', table: '', request: body });
  return policy.decide(effects, production, 'run_sql').level;
}

describe('repeated keys through the real proxy', () => {
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer({});
  });
  afterAll(() => guard.close());
  const send = (raw: string) => rawRequest(guard.url, 'POST', '/v2/query', { ...json, 'x-hasura-admin-secret': ADMIN_SECRET }, raw);

  it.each([
    ['escaped spelling of the same key', '{"type":"run_sql","args":{"sql":"DROP TABLE patients","s\\u0071l":"SELECT 1"}}'],
    ['escaped solidus-free unicode for every letter', '{"type":"run_sql","args":{"\\u0073\\u0071\\u006c":"DROP TABLE patients","sql":"SELECT 1"}}'],
    ['in the second request of a nested bulk', '{"type":"bulk","args":[{"type":"run_sql","args":{"sql":"SELECT 1"}},{"type":"bulk","args":[{"type":"run_sql","args":{"sql":"DROP TABLE patients","read_only":false,"read_only":true}}]}]}'],
    ['the "type" key at the top', '{"type":"run_sql","type":"export_metadata","args":{"sql":"DROP TABLE patients"}}'],
    ['with whitespace before the colon', '{"type":"run_sql","args":{"sql" \n:"DROP TABLE patients", "sql"\t:"SELECT 1"}}'],
  ])('%s: refused (JSON_AMBIGUOUS), nothing forwarded', async (_, raw) => {
    guard.hasura.requests.length = 0;
    const answer = await send(raw);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toContain('says the key');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('the same key in sibling objects (a bulk of two run_sql) is not ambiguous', async () => {
    guard.hasura.requests.length = 0;
    const answer = await send('{"type":"bulk","args":[{"type":"run_sql","args":{"sql":"SELECT 1"}},{"type":"run_sql","args":{"sql":"SELECT 2"}}]}');
    expect(answer.status).toBe(200);
  });

  it('a key equal to another only after a closing nested object is still caught', async () => {
    const answer = await send('{"type":"run_sql","args":{"sql":"DROP TABLE patients","x":{"sql":"y"},"sql":"SELECT 1"}}');
    expect(answer.json.error).toContain('says the key');
  });
});

describe('confirming with another header than the held request used', () => {
  it('a made-up value held as x-hasura-admin-secret and confirmed as Authorization is still not an admin', async () => {
    const guard = await startEnforcingServer(doubleWiring());
    try {
      // Held with a made-up value Hasura refuses: refused at once, no token.
      const refused = await rawRequest(guard.url, 'POST', '/v1/metadata', { ...json, 'x-hasura-admin-secret': 'made-up' }, JSON.stringify(bodies.untrackTable));
      expect(refused.status).toBe(401);
      expect(refused.json.guard.confirmation_token).toBeNull();
      // Held while Hasura took any credential (no admin secret), confirmed after it got one.
      guard.hasura.noAdminSecret = true;
      const held = await rawRequest(guard.url, 'POST', '/v1/metadata', { ...json, 'x-hasura-admin-secret': 'made-up' }, JSON.stringify(bodies.untrackTable));
      guard.hasura.noAdminSecret = false;
      guard.clock.advance(61); // past the minute an accepted credential is remembered
      const token = held.json.guard.confirmation_token;
      expect(token).toBeTypeOf('string');
      const asBearer = await rawRequest(guard.url, 'POST', '/guard/confirm', { ...json, authorization: 'made-up' }, JSON.stringify({ token }));
      expect(asBearer.json.code).toBe('CREDENTIALS_NOT_ADMIN');
      // Both headers: the guard, like Hasura, reads the admin secret first and asks with it.
      const both = await rawRequest(guard.url, 'POST', '/guard/confirm', { ...json, 'x-hasura-admin-secret': 'made-up', authorization: ADMIN_BEARER }, JSON.stringify({ token }));
      expect(both.json.code).toBe('CREDENTIALS_NOT_ADMIN');
      // Header case and a second, empty copy of the header do not change what is asked.
      const upper = await rawRequest(guard.url, 'POST', '/guard/confirm', { ...json, 'X-HASURA-ADMIN-SECRET': 'made-up' }, JSON.stringify({ token }));
      expect(upper.json.code).toBe('CREDENTIALS_NOT_ADMIN');
      expect(guard.hasura.forwarded().filter((r) => !r.body.toString().includes('get_catalog_state'))).toEqual([]);
    } finally {
      await guard.close();
    }
  });

  it('a change held with Authorization is confirmed with that Authorization (the API)', async () => {
    const guard = await startEnforcingServer(doubleWiring());
    try {
      const held = await rawRequest(guard.url, 'POST', '/v1/metadata', { ...json, authorization: ADMIN_BEARER }, JSON.stringify(bodies.untrackTable));
      const confirmed = await rawRequest(guard.url, 'POST', '/guard/confirm', { ...json, authorization: ADMIN_BEARER }, JSON.stringify({ token: held.json.guard.confirmation_token }));
      expect(confirmed.json).toMatchObject({ success: true, code: 'CONFIRMED' });
    } finally {
      await guard.close();
    }
  });
});

describe('read_only lifted by statements that leave or reopen the transaction', () => {
  it.each([
    'ABORT; DELETE FROM patients',
    'END; DELETE FROM patients',
    'COMMIT AND CHAIN; DELETE FROM patients',
    'ROLLBACK AND CHAIN; DELETE FROM patients',
    'BEGIN READ WRITE; DELETE FROM patients',
    'START TRANSACTION; DELETE FROM patients',
    'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; DELETE FROM patients',
    'SET LOCAL transaction_read_only = off; DELETE FROM patients',
    'SET transaction_read_only TO DEFAULT; DELETE FROM patients',
    'RESET transaction_read_only; DELETE FROM patients',
    'DO $$BEGIN DELETE FROM patients; END$$',
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "COPY patients TO '/var/lib/postgresql/data/pg_hba.conf' WITH (FORMAT csv)",
    'PREPARE p AS DELETE FROM patients; EXPLAIN ANALYZE EXECUTE p',
    'EXPLAIN ANALYZE EXECUTE p',
  ])('%s under read_only: not routine', async (sql) => {
    expect(await level(sql, { read_only: true })).toBe('confirm');
  });

  it.each(['SELECT 1', 'SAVEPOINT a; SELECT 1', 'EXPLAIN SELECT * FROM patients', 'COPY patients TO STDOUT'])('%s under read_only: routine still', async (sql) => {
    expect(await level(sql, { read_only: true })).toBe('allow');
  });
});

describe('notifications carry names as text', () => {
  const event: ChangeEvent = {
    id: 'e1', type: 'held', at: '2026-01-01T00:00:00Z', environment: 'production', requester: '<https://evil.example|Approve> *now*',
    confirmer: null, summary: 'drop table [Approve](https://evil.example)', changes: ['drop table <!channel> <https://evil.example|here>'], link: '/guard/history/1',
  };

  it('Slack: no link or mention can be formed from a name', () => {
    const message = JSON.parse(slackChannel('https://hooks.slack.example/x').message(event).body);
    // The fallback text is mrkdwn: escaped. The blocks show names as plain_text, which Slack never reads as markup.
    expect(message.text).not.toMatch(/<https:\/\/evil/);
    expect(message.text).not.toContain('<!channel>');
    for (const t of slackTexts(message).filter((t) => t.text.includes('evil') || t.text.includes('<!channel>'))) expect(t.type).toBe('plain_text');
  });

  it('Teams: no TextBlock (Markdown) anywhere in the card', () => {
    const body = teamsChannel('https://teams.example/x').message(event).body;
    expect(body).not.toContain('"TextBlock"');
    expect(body).not.toContain('"FactSet"');
  });
});
