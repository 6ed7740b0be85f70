// Issue 19's whole story in one test, through the enforcing proxy in front of the stand-in Hasura, with a stand-in key
// set for the auth proxy's assertions and stand-in webhook, Slack and Teams receivers: alice's DROP TABLE is held and
// announced (signed); alice cannot confirm her own change, nor can someone outside the approvers; forged, expired and
// other-audience assertions get 401 and nothing reaches Hasura; bob, in an approvers' group, confirms; alice's retry
// passes once and `passed` is announced; the history shows alice, bob and the outcome; the console page says
// production in the browser; a trusted header from an address not trusted gets 401.
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { findChromium } from '../support/chromium.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { manualTimers, startReceivers, type Receivers } from '../support/receivers.js';
import { assertionEnv, startStandInKeySet, type StandInKeySet } from '../support/stand-in-key-set.js';

let keySet: StandInKeySet;
let receivers: Receivers;
let guard: EnforcingServer;

beforeAll(async () => {
  keySet = await startStandInKeySet();
  await keySet.addKey('RS256', 'rsa-1');
  await keySet.addKey('RS256', 'forger', false);
  receivers = await startReceivers();
  guard = await startEnforcingServer(
    doubleWiring(),
    {
      ...assertionEnv(keySet),
      ...receivers.env,
      GUARD_APPROVERS: 'group:platform-admins',
      FOUR_EYES: 'true',
      // A second source: a header believed only from the auth proxy's network, which 127.0.0.1 is not.
      GUARD_IDENTITY_HEADER: 'X-Forwarded-Email',
      GUARD_TRUSTED_PROXIES: '10.0.0.0/8',
      GUARD_PUBLIC_URL: 'https://guard.example.com',
    },
    { notifyTimers: manualTimers() },
  );
});
afterAll(async () => {
  await guard?.close();
  await receivers?.close();
  await keySet?.close();
});

const now = () => Math.floor(guard.clock() / 1000);
const people = {
  // alice is an approver too: what stops her is that the change is her own.
  alice: { email: 'alice@example.com', groups: ['developers', 'platform-admins'] },
  bob: { email: 'bob@example.com', groups: ['platform-admins'] },
  dave: { email: 'dave@example.com', groups: ['developers'] },
};
const signedAs = async (who: keyof typeof people, kid = 'rsa-1') => ({ 'cf-access-jwt-assertion': await keySet.sign(kid, people[who], now()) });
const dropTable = (headers: Record<string, string>) => postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, headers);
const confirm = async (who: keyof typeof people, token: string) =>
  rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...(await signedAs(who)) }, JSON.stringify({ token }));
async function announced(): Promise<string[]> {
  await guard.app.changeLog!.settled();
  await guard.app.changeLog!.notifier!.idle();
  return receivers.of('webhook').map((delivery) => delivery.json.type);
}

it('held for alice and announced; only an approver other than alice confirms; her retry passes once; the history and the console say so', async () => {
  // alice's DROP TABLE is held, and the receivers hear of it, signed.
  const held = await dropTable(await signedAs('alice'));
  expect(held.status).toBe(400);
  expect(held.json.error).toContain('Held for alice@example.com');
  const token = held.json.guard.confirmation_token as string;
  expect(await announced()).toEqual(['held']);
  expect(receivers.of('webhook').every((delivery) => delivery.signatureValid)).toBe(true);
  expect(receivers.of('webhook')[0]!.json.requester).toBe('alice@example.com');
  expect(receivers.of('slack')).toHaveLength(1);
  expect(receivers.of('teams')).toHaveLength(1);

  // alice cannot confirm her own change; dave is not an approver.
  expect((await confirm('alice', token)).json).toMatchObject({ success: false, code: 'OWN_CHANGE' });
  expect((await confirm('dave', token)).json).toMatchObject({ success: false, code: 'NOT_AN_APPROVER' });

  // Assertions that do not hold up, and a trusted header from an address not trusted: 401, nothing forwarded.
  const forged = await dropTable(await signedAs('bob', 'forger'));
  const expired = await dropTable({ 'cf-access-jwt-assertion': await keySet.sign('rsa-1', { ...people.bob, exp: now() - 600 }, now() - 900) });
  const otherAudience = await dropTable({ 'cf-access-jwt-assertion': await keySet.sign('rsa-1', people.bob, now(), { aud: 'another-app' }) });
  const untrustedHeader = await dropTable({ 'x-forwarded-email': 'bob@example.com' });
  for (const refused of [forged, expired, otherAudience, untrustedHeader]) {
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ path: '$', code: 'guard-identity-refused' });
  }
  expect(guard.hasura.forwarded()).toEqual([]);

  // bob, an approver, confirms; alice's retry passes once, and the receivers hear it was confirmed and passed.
  expect((await confirm('bob', token)).json).toMatchObject({ success: true });
  expect((await dropTable(await signedAs('alice'))).status).toBe(200);
  expect(guard.hasura.forwarded()).toHaveLength(1);
  expect(await announced()).toEqual(['held', 'confirmed', 'passed']);
  const passed = receivers.of('webhook')[2]!.json;
  expect(passed).toMatchObject({ requester: 'alice@example.com', confirmer: 'bob@example.com' });
  // Neither the admin secret nor the token in any delivery.
  const everything = JSON.stringify([receivers.of('webhook'), receivers.of('slack'), receivers.of('teams')].flat().map((delivery) => delivery.json));
  expect(everything).not.toContain(ADMIN_SECRET);
  expect(everything).not.toContain(token);

  // The history shows alice, bob and the outcome.
  const history = await rawRequest(guard.url, 'GET', '/guard/api/changes', { 'x-hasura-admin-secret': ADMIN_SECRET });
  expect(history.json.changes).toEqual([expect.objectContaining({ outcome: 'passed', requester: 'alice@example.com', confirmer: 'bob@example.com', hasura_status: 200 })]);

  // The console page, loaded through the guard in a browser, says production.
  const { executablePath, args } = await findChromium();
  const browser = await chromium.launch({ executablePath, args });
  try {
    const context = await browser.newContext({ extraHTTPHeaders: await signedAs('alice') });
    const origin = new URL(guard.url).origin;
    await context.route('**/*', (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort()));
    const page = await context.newPage();
    await page.goto(`${guard.url}/console`);
    expect(await page.textContent('#hasura-guard-environment')).toBe('production');
  } finally {
    await browser.close();
  }
});
