// The history of production changes, through the enforcing proxy against the stand-in Hasura: GET /guard/api/changes
// shows who, when, what and the outcome, newest first, paged; only to someone Hasura accepts as an admin. In memory
// here; test/history/postgres.test.ts runs the same on PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { createHistory, createMemoryHistoryStore, DAY_MS } from '../../src/history/history.js';
import { hasuraPayload, manualClock } from '../helpers.js';

let guard: EnforcingServer;
beforeEach(async () => {
  guard = await startEnforcingServer(doubleWiring());
});
afterEach(() => guard.close());

const changes = (query = '', secret: string | null = ADMIN_SECRET) =>
  rawRequest(guard.url, 'GET', `/guard/api/changes${query}`, secret === null ? {} : { 'x-hasura-admin-secret': secret });
const confirm = (token: string) =>
  rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token }));

describe('GET /guard/api/changes', () => {
  it('shows each change once, with who asked, who confirmed, what it does and how it ended, newest first', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    guard.clock.advance(30);
    await confirm(held.json.guard.confirmation_token);
    guard.clock.advance(10);
    await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    guard.clock.advance(60);
    await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
    await postMetadata(guard.url, '/v1/metadata', bodies.getInconsistentMetadata);
    await guard.app.changeLog!.settled();

    const res = await changes();
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const [denied, passed] = res.json.changes;
    expect(res.json.changes).toHaveLength(2);
    expect(res.json.next).toBeNull();
    expect(denied).toMatchObject({ outcome: 'denied', summary: 'clears metadata', confirmer: null, confirmed_at: null });
    const start = guard.clock() - 100_000;
    expect(passed).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      environment: 'production',
      outcome: 'passed',
      requester: expect.stringMatching(/^credentials:[0-9a-f]{12}$/),
      confirmer: passed.requester,
      summary: 'untracks table default.public.patients',
      changes: ['untracks table default.public.patients'],
      held_at: new Date(start).toISOString(),
      confirmed_at: new Date(start + 30_000).toISOString(),
      finished_at: new Date(start + 40_000).toISOString(),
      hasura_status: 200,
    });
    // One change by its id, as a notification's link asks for it.
    expect((await changes(`?change=${passed.id}`)).json.changes).toEqual([passed]);
    expect(guard.hasura.forwarded().map((r) => JSON.parse(r.body.toString()).type)).toEqual(['bulk', 'get_inconsistent_metadata']);
  });

  it('records no advisory check: a change validated and confirmed through the webhooks is not one the guard saw pass', async () => {
    const webhook = (path: string, payload: unknown) => rawRequest(guard.url, 'POST', path, { 'content-type': 'application/json' }, JSON.stringify(payload));
    const change = { operation: 'DELETE', table_name: 'patients', environment: 'production' };
    const validated = await webhook('/validate-metadata-change', hasuraPayload('validateMetadataChange', change));
    expect(validated.json).toMatchObject({ success: true, code: 'CONFIRMATION_REQUIRED' });
    const confirmed = await webhook('/confirm-metadata-change', hasuraPayload('confirmMetadataChange', { confirmation_token: validated.json.confirmation_token }));
    expect(confirmed.json).toMatchObject({ success: true, code: 'CONFIRMED' });
    await guard.app.changeLog!.settled();
    expect((await changes()).json.changes).toEqual([]);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('pages with limit and the `next` cursor, without gaps or repeats', async () => {
    for (let i = 0; i < 5; i++) {
      await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
      guard.clock.advance(1);
    }
    await guard.app.changeLog!.settled();
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = await changes(`?limit=2${next ? `&before=${next}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.json.changes.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.changes.map((c: any) => c.held_at));
      next = page.json.next;
    } while (next);
    expect(seen).toHaveLength(5);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(new Set(seen).size).toBe(5);
  });

  it('401 without the admin secret or with a wrong one; 400 with a code for a bad limit, cursor or id', async () => {
    await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
    await guard.app.changeLog!.settled();
    const none = await changes('', null);
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('history-unauthorized');
    expect(none.body.toString()).not.toContain('clears');
    const wrong = await changes('', 'a-guess');
    expect(wrong.status).toBe(401);
    expect(wrong.body.toString()).not.toContain('clears');
    expect((await changes('?limit=0')).json.code).toBe('history-bad-limit');
    expect((await changes('?limit=1e3')).status).toBe(400);
    expect((await changes('?before=not-a-cursor!')).json.code).toBe('history-bad-cursor');
    expect((await changes('?change=%3Cscript%3E')).json.code).toBe('history-bad-change');
    // The admin check asks Hasura; nothing else reached it.
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('the page answers 401 without the admin secret, with no change in it, under a strict CSP', async () => {
    await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
    await guard.app.changeLog!.settled();
    const page = await rawRequest(guard.url, 'GET', '/guard/changes');
    expect(page.status).toBe(401);
    expect(page.body.toString()).not.toContain('clears');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'nonce-[\w+/=]+'; style-src 'nonce-[\w+/=]+'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'$/);
    expect((await rawRequest(guard.url, 'GET', '/guard/changes', { 'x-hasura-admin-secret': ADMIN_SECRET })).status).toBe(200);
    expect((await rawRequest(guard.url, 'POST', '/guard/api/changes', { 'x-hasura-admin-secret': ADMIN_SECRET })).status).toBe(405);
  });

  it('every refusal carries its code from the one table (docs/api.md): a method, Hasura down, the store down', async () => {
    const post = await rawRequest(guard.url, 'POST', '/guard/api/changes', { 'x-hasura-admin-secret': ADMIN_SECRET });
    expect([post.status, post.json]).toEqual([405, { code: 'history-method', error: '/guard/api/changes takes GET.' }]);

    // The admin check asks Hasura; with Hasura gone it cannot say, and nothing is shown.
    await guard.hasura.close();
    const unreachable = await changes();
    expect([unreachable.status, unreachable.json.code]).toEqual([503, 'history-hasura-unreachable']);

    // A guard whose history database does not answer (a closed port): the admin is known, the history is not.
    const storeDown = await startEnforcingServer(doubleWiring(), { GUARD_DATABASE_URL: 'postgres://guard@127.0.0.1:1/guard' });
    try {
      const down = await rawRequest(storeDown.url, 'GET', '/guard/api/changes', { 'x-hasura-admin-secret': ADMIN_SECRET });
      expect([down.status, down.json]).toEqual([503, { code: 'history-unavailable', error: 'The change history cannot be read right now; try again shortly.' }]);
      expect(down.body.toString()).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at /);
    } finally {
      await storeDown.close();
    }
  });
});

describe('GUARD_HISTORY_DAYS', () => {
  it('changes older than the days kept are forgotten; newer ones stay (controlled clock)', async () => {
    const clock = manualClock();
    const history = createHistory({ store: createMemoryHistoryStore(), clock, days: 90 });
    await history.record({ type: 'denied', environment: 'production', at: clock(), summary: 'old' });
    clock.advance((89 * DAY_MS) / 1000);
    await history.record({ type: 'denied', environment: 'production', at: clock(), summary: 'recent' });
    expect(await history.prune()).toBe(0);
    clock.advance((1 * DAY_MS) / 1000 + 1);
    expect(await history.prune()).toBe(1);
    expect((await history.list(10)).map((r) => r.summary)).toEqual(['recent']);
  });

  it('defaults to 90 days and takes 1 to 3650', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({}).historyDays).toBe(90);
    expect(loadConfig({ GUARD_HISTORY_DAYS: '7' }).historyDays).toBe(7);
    expect(() => loadConfig({ GUARD_HISTORY_DAYS: '0' })).toThrow('GUARD_HISTORY_DAYS must be a whole number from 1 to 3650 days');
  });
});

describe('the receivers\' configuration', () => {
  it('a webhook URL needs its secret and the secret its URL; a short secret or a non-http URL stops the start', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const url = 'https://hooks.example.com/guard';
    const secret = 'webhook-secret-0123456789';
    expect(() => loadConfig({ GUARD_NOTIFY_WEBHOOK_URL: url })).toThrow(/^GUARD_NOTIFY_WEBHOOK_URL needs GUARD_NOTIFY_WEBHOOK_SECRET/);
    expect(() => loadConfig({ GUARD_NOTIFY_WEBHOOK_SECRET: secret })).toThrow(/^GUARD_NOTIFY_WEBHOOK_SECRET is set without GUARD_NOTIFY_WEBHOOK_URL/);
    expect(() => loadConfig({ GUARD_NOTIFY_WEBHOOK_URL: url, GUARD_NOTIFY_WEBHOOK_SECRET: 'short' })).toThrow(/at least 16 characters/);
    expect(() => loadConfig({ GUARD_NOTIFY_SLACK_URL: 'ftp://hooks.slack.com/x' })).toThrow(/^GUARD_NOTIFY_SLACK_URL must be an http/);
    const config = loadConfig({ GUARD_NOTIFY_WEBHOOK_URL: url, GUARD_NOTIFY_WEBHOOK_SECRET: secret, GUARD_NOTIFY_TEAMS_URL: 'https://prod.example.logic.azure.com/workflows/1?sig=x' });
    expect(config.notify).toEqual({ webhook: { url, secret }, slackUrl: undefined, teamsUrl: 'https://prod.example.logic.azure.com/workflows/1?sig=x' });
    // Links in notifications need the guard's address; none of the warnings repeats a receiver's URL.
    expect(config.warnings.join('\n')).toContain('GUARD_NOTIFY_* is set without GUARD_PUBLIC_URL');
    expect(config.warnings.join('\n')).not.toContain('sig=x');
  });
});
