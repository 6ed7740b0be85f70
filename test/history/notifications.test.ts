// Notifications of production changes, through the enforcing proxy against the stand-in Hasura, delivered to stand-in
// receivers on 127.0.0.1: a webhook that checks the signature, Slack, Teams. The analysis and policy are the test
// doubles (test/support/analysis-double.ts): an untrack is held, clear_metadata denied, reads pass.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { manualTimers, startReceivers, type Receivers } from '../support/receivers.js';

const PUBLIC_URL = 'https://guard.example.com';
let guard: EnforcingServer;
let receivers: Receivers;
let timers: ReturnType<typeof manualTimers>;

beforeEach(async () => {
  receivers = await startReceivers();
  timers = manualTimers();
  guard = await startEnforcingServer(doubleWiring(), { ...receivers.env, GUARD_PUBLIC_URL: PUBLIC_URL }, { notifyTimers: timers });
});
afterEach(async () => {
  await guard.close();
  await receivers.close();
});

/** Waits until every step so far is recorded and every delivery tried (no sleeping: the notifier says when). */
async function delivered() {
  await guard.app.changeLog!.settled();
  await guard.app.changeLog!.notifier!.idle();
}

const confirm = (token: string) =>
  rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token }));

describe('a held change is announced to every receiver', () => {
  it('held, confirmed, passed: signed webhook events with the fields the issue fixes, Slack text and blocks, a Teams Adaptive Card', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    expect(held.status).toBe(400);
    await delivered();
    const token = held.json.guard.confirmation_token as string;
    expect((await confirm(token)).status).toBe(200);
    await delivered();
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(200);
    await delivered();

    const events = receivers.of('webhook').map((d) => d.json);
    expect(events.map((e) => e.type)).toEqual(['held', 'confirmed', 'passed']);
    for (const delivery of receivers.of('webhook')) {
      expect(delivery.signatureValid).toBe(true);
      expect(Object.keys(delivery.json).sort()).toEqual(['at', 'changes', 'confirmer', 'environment', 'id', 'link', 'requester', 'summary', 'type']);
    }
    const [heldEvent, confirmedEvent, passedEvent] = events;
    expect(heldEvent).toMatchObject({ environment: 'production', summary: 'untracks table default.public.patients', changes: ['untracks table default.public.patients'], confirmer: null });
    expect(heldEvent.requester).toMatch(/^credentials:[0-9a-f]{12}$/);
    expect(heldEvent.at).toBe(new Date(guard.clock()).toISOString());
    // One change: every event links to the same entry of the history; each event has its own id.
    const changeId = heldEvent.link.slice(`${PUBLIC_URL}/guard/changes?change=`.length);
    expect(heldEvent.link).toBe(`${PUBLIC_URL}/guard/changes?change=${changeId}`);
    expect(confirmedEvent.link).toBe(heldEvent.link);
    expect(passedEvent.link).toBe(heldEvent.link);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    expect(confirmedEvent.confirmer).toBe(heldEvent.requester);
    expect(passedEvent).toMatchObject({ requester: heldEvent.requester, confirmer: heldEvent.requester, summary: heldEvent.summary });

    const slack = receivers.of('slack').map((d) => d.json);
    expect(slack).toHaveLength(3);
    expect(slack[0].text).toContain('Held in production: untracks table default.public.patients');
    expect(slack[0].blocks.at(-1).elements[0].text).toContain(`<${heldEvent.link}|Open in the history>`);
    const teams = receivers.of('teams').map((d) => d.json);
    expect(teams).toHaveLength(3);
    expect(teams[2].type).toBe('message');
    expect(teams[2].attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(teams[2].attachments[0].content.type).toBe('AdaptiveCard');
    expect(teams[2].attachments[0].content.body[0].inlines[0].text).toContain('Applied in production');
    expect(teams[2].attachments[0].content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in the history', url: heldEvent.link }]);
  });

  it('a confirmed change Hasura refuses is announced as failed; a denied one as denied; a routine one to no one', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await confirm(held.json.guard.confirmation_token);
    guard.hasura.refuseChanges = true;
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(400);
    expect((await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} })).status).toBe(400);
    guard.hasura.refuseChanges = false;
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.getInconsistentMetadata)).status).toBe(200);
    await delivered();

    expect(receivers.of('webhook').map((d) => d.json.type)).toEqual(['held', 'confirmed', 'failed', 'denied']);
    expect(receivers.of('webhook')[3]!.json.summary).toBe('clears metadata');
    expect(receivers.of('slack')[2]!.json.text).toContain('Hasura refused the confirmed change');
  });
});

describe('what a notification never carries', () => {
  it('neither the admin secret, nor the confirmation token, nor the receivers\' own URLs', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const token = held.json.guard.confirmation_token as string;
    await confirm(token);
    await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
    await delivered();

    expect(receivers.deliveries).toHaveLength(12);
    const signaturePart = token.split('.')[2]!;
    for (const { raw, headers } of receivers.deliveries) {
      const everything = raw + JSON.stringify(headers);
      for (const secret of [ADMIN_SECRET, token, signaturePart, 'slack-url-secret', 'teams-url-secret']) expect(everything).not.toContain(secret);
    }
    const logs = guard.logs.raw.join('\n');
    for (const secret of ['slack-url-secret', 'teams-url-secret', receivers.env.GUARD_NOTIFY_WEBHOOK_SECRET!]) expect(logs).not.toContain(secret);
  });
});

describe('delivery', () => {
  it('a failing receiver is retried with growing waits and the same event id; each failure is logged and counted in /metrics', async () => {
    receivers.failNext('webhook', 2, 503);
    await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await guard.app.changeLog!.settled();
    await until(() => timers.delays().length === 1);
    expect(timers.delays()).toEqual([2000]);
    timers.fireAll();
    await until(() => timers.delays().length === 1);
    expect(timers.delays()).toEqual([4000]);
    timers.fireAll();
    await guard.app.changeLog!.notifier!.idle();

    const tries = receivers.of('webhook');
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((t) => t.json.id)).size).toBe(1);
    expect(new Set(tries.map((t) => t.raw)).size).toBe(1);
    expect(guard.logs.lines.filter((l) => (l.notification as any)?.reason === 'answered 503')).toHaveLength(2);
    const metrics = (await rawRequest(guard.url, 'GET', '/metrics')).body.toString();
    expect(metrics).toContain('guard_notifications_total{channel="webhook",outcome="failed"} 2');
    expect(metrics).toContain('guard_notifications_total{channel="webhook",outcome="delivered"} 1');
  });

  it('a receiver that refuses the request itself (400) is not retried; the failure is logged', async () => {
    receivers.failNext('slack', 1, 400);
    await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await delivered();
    expect(receivers.of('slack')).toHaveLength(1);
    expect(timers.delays()).toEqual([]);
    expect(guard.logs.lines.some((l) => l.level === 50 && (l.notification as any)?.channel === 'slack')).toBe(true);
  });

  it('a receiver that never answers delays nothing: the held answer and the confirmation come back while it hangs', async () => {
    receivers.failNext('webhook', 10, 'hang');
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    expect(held.status).toBe(400);
    expect((await confirm(held.json.guard.confirmation_token)).status).toBe(200);
    await until(() => receivers.of('webhook').length === 2);
    expect(guard.app.changeLog!.notifier!.pending()).toBeGreaterThan(0);
  });
});

/** Waits on the event loop (never a timer) until the condition holds: the deliveries are real HTTP on 127.0.0.1. */
async function until(condition: () => boolean, turns = 10_000) {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}
