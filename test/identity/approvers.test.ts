// Who may confirm a held production change (GUARD_APPROVERS, FOUR_EYES), through the enforcing proxy, the confirm
// page, POST /guard/confirm and the confirmMetadataChange mutation, with people named by signed assertions from a
// stand-in key set. The admin secret the held request carried is still needed.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { assertionEnv, startStandInKeySet, type StandInKeySet } from '../support/stand-in-key-set.js';

let keySet: StandInKeySet;
let guard: EnforcingServer;
beforeAll(async () => {
  keySet = await startStandInKeySet();
  await keySet.addKey('ES256', 'ec-1');
});
afterAll(() => keySet.close());
beforeEach(async () => {
  guard = await startEnforcingServer(doubleWiring(), { ...assertionEnv(keySet), GUARD_APPROVERS: 'group:platform-admins, carol@example.com', FOUR_EYES: 'true' });
});
afterEach(() => guard.close());

const people = {
  alice: { email: 'alice@example.com', groups: ['developers', 'platform-admins'] },
  bob: { email: 'bob@example.com', groups: ['platform-admins'] },
  dave: { email: 'dave@example.com', groups: ['developers'] },
};
type Who = keyof typeof people | null;

async function as(who: Who): Promise<Record<string, string>> {
  if (who === null) return {};
  return { 'cf-access-jwt-assertion': await keySet.sign('ec-1', people[who], Math.floor(guard.clock() / 1000)) };
}

async function dropTableAs(who: Who) {
  return postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, await as(who));
}

async function confirmAs(who: Who, token: string, secret: string | null = ADMIN_SECRET) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(await as(who)) };
  if (secret !== null) headers['x-hasura-admin-secret'] = secret;
  return rawRequest(guard.url, 'POST', '/guard/confirm', headers, JSON.stringify({ token }));
}

describe('GUARD_APPROVERS and FOUR_EYES on a held change', () => {
  it('refuses the requester, someone outside the approvers, and no one identified, each with a code; an approver confirms and the retry passes once', async () => {
    const held = await dropTableAs('alice');
    const token = held.json.guard.confirmation_token as string;

    const own = await confirmAs('alice', token);
    expect(own.status).toBe(403);
    expect(own.json).toEqual({ success: false, code: 'OWN_CHANGE', message: expect.stringContaining('you (alice@example.com) requested this change') });
    const outsider = await confirmAs('dave', token);
    expect(outsider.json).toEqual({ success: false, code: 'NOT_AN_APPROVER', message: expect.stringContaining('dave@example.com is not an approver') });
    expect((await confirmAs(null, token)).json).toMatchObject({ success: false, code: 'CONFIRMER_UNIDENTIFIED' });
    // An approver still needs the admin secret the held request carried.
    expect((await confirmAs('bob', token, 'another-secret-0123456789')).json).toMatchObject({ success: false, message: expect.stringContaining('only someone holding the credentials') });
    expect((await dropTableAs('alice')).status).toBe(400);
    expect(guard.hasura.forwarded()).toEqual([]);

    const confirmed = await confirmAs('bob', token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.success).toBe(true);
    expect((await dropTableAs('alice')).status).toBe(200);
    expect((await dropTableAs('alice')).status).toBe(400);
    expect(guard.hasura.forwarded()).toHaveLength(1);

    const audits = guard.logs.audits().filter((a) => a.action === 'confirm');
    expect(audits.filter((a) => a.outcome === 'refused').map((a) => [a.reason, a.person])).toEqual([
      ['OWN_CHANGE', 'alice@example.com'],
      ['NOT_AN_APPROVER', 'dave@example.com'],
      ['CONFIRMER_UNIDENTIFIED', undefined],
      ['TOKEN_WRONG_CREDENTIALS', 'bob@example.com'],
    ]);
    expect(audits.find((a) => a.outcome === 'confirmed')).toMatchObject({ person: 'bob@example.com', requester: 'alice@example.com' });

    // The history names the people, not the credentials: alice asked, bob confirmed, Hasura accepted it.
    await guard.app.changeLog!.settled();
    const history = await rawRequest(guard.url, 'GET', '/guard/api/changes', { 'x-hasura-admin-secret': ADMIN_SECRET });
    const outcomes = history.json.changes.map((change: Record<string, unknown>) => [change.outcome, change.requester, change.confirmer]);
    // Each time alice sent it held, a change of its own: the one bob confirmed passed; the others stay held.
    expect(outcomes).toContainEqual(['passed', 'alice@example.com', 'bob@example.com']);
    expect(outcomes.filter(([outcome]: string[]) => outcome !== 'held')).toEqual([['passed', 'alice@example.com', 'bob@example.com']]);
  });

  it('an approver named by email confirms too; a change sent without an identity cannot be confirmed under four-eyes', async () => {
    const carol = { 'cf-access-jwt-assertion': await keySet.sign('ec-1', { email: 'Carol@Example.com' }, Math.floor(guard.clock() / 1000)) };
    const anonymous = await dropTableAs(null);
    expect((await confirmAs('bob', anonymous.json.guard.confirmation_token)).json).toMatchObject({ success: false, code: 'REQUESTER_UNIDENTIFIED' });

    const held = await dropTableAs('alice');
    const confirmed = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...carol }, JSON.stringify({ token: held.json.guard.confirmation_token }));
    expect(confirmed.json.success).toBe(true);
  });

  it('the confirm page says who you are and whom the change was held for', async () => {
    const held = await dropTableAs('alice');
    const page = await rawRequest(guard.url, 'GET', `/guard/confirm?token=${held.json.guard.confirmation_token}`, await as('bob'));
    const html = page.body.toString();
    expect(html).toContain('You are <strong>bob@example.com</strong>.');
    expect(html).toContain('<dt>Requested by</dt><dd id="requester">alice@example.com</dd>');
  });

  it('the confirmMetadataChange mutation applies the same rules', async () => {
    const held = await dropTableAs('alice');
    const mutation = JSON.stringify({ query: 'mutation($t: String!) { confirmMetadataChange(input: {confirmation_token: $t}) { success message } }', variables: { t: held.json.guard.confirmation_token } });
    const post = async (who: Who) =>
      (await rawRequest(guard.url, 'POST', '/graphql', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET, ...(await as(who)) }, mutation)).json.data.confirmMetadataChange;
    expect(await post('dave')).toEqual({ success: false, message: expect.stringContaining('dave@example.com is not an approver') });
    expect(await post('alice')).toEqual({ success: false, message: expect.stringContaining('four-eyes mode needs someone else') });
    expect(await post('bob')).toMatchObject({ success: true });
  });
});
