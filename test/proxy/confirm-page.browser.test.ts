// The confirm page in a real browser (Chromium driven by playwright-core): a person opens the link from a held
// request's error, sees what the change does, enters the admin secret and confirms; the retry then passes once.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { openGuardPage } from '../support/browser-page.js';
import { findChromium } from '../support/chromium.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { ADMIN_BEARER } from '../support/stand-in-hasura.js';

let browser: Browser;
let guard: EnforcingServer;

beforeAll(async () => {
  // CHROMIUM_PATH, else Debian's Chromium, else the one packaged in @sparticuz/chromium; none working fails the test
  // with the reason (never a skip: without a browser this test cannot vouch for the page).
  const { executablePath, args } = await findChromium();
  browser = await chromium.launch({ executablePath, args });
});
afterAll(() => browser?.close());
beforeEach(async () => {
  guard = await startEnforcingServer(doubleWiring());
});
afterEach(() => guard.close());

/** The page, cut off from all but the guard. */
const openPage = (url: string) => openGuardPage(browser, guard.url, url);

describe('the confirm page', () => {
  it('shows the held change, confirms it with the admin secret, and the retry passes once', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const link = /(http:\/\/\S+\/guard\/confirm\?token=\S+)/.exec(held.json.error)![1]!;
    const { page, outside, problems } = await openPage(link);

    expect(await page.textContent('#op')).toBe('untrack:table');
    expect(await page.textContent('#tbl')).toBe('default.public.patients');
    expect(await page.textContent('#env')).toBe('production');
    expect(await page.textContent('#expires')).toContain('(300 seconds left)');

    await page.fill('#secret', ADMIN_SECRET);
    await page.click('button[type=submit]');
    await page.waitForSelector('#result.ok');
    expect(await page.textContent('#result')).toBe('Confirmed: send the same request again within 300 seconds; it passes once.');

    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(200);
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(400);
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('a change held with a JWT is confirmed by pasting its Authorization value (Bearer …), which the page sends as Hasura reads it', async () => {
    const held = await rawRequest(guard.url, 'POST', '/v1/metadata', { 'content-type': 'application/json', authorization: ADMIN_BEARER }, JSON.stringify(bodies.untrackTable));
    const { page } = await openPage(`${guard.url}/guard/confirm?token=${held.json.guard.confirmation_token}`);
    await page.fill('#secret', ADMIN_BEARER);
    await page.click('button[type=submit]');
    await page.waitForSelector('#result.ok');
    const retry = await rawRequest(guard.url, 'POST', '/v1/metadata', { 'content-type': 'application/json', authorization: ADMIN_BEARER }, JSON.stringify(bodies.untrackTable));
    expect(retry.status).toBe(200);
    // Hasura was asked whether the JWT is an admin's when the change was held (as sent), then on the page (admin role).
    expect(guard.hasura.requests.filter((r) => r.body.toString().includes('get_catalog_state')).map((r) => [r.headers.authorization, r.headers['x-hasura-role']])).toEqual([
      [ADMIN_BEARER, undefined],
      [ADMIN_BEARER, 'admin'],
    ]);
  });

  it('with the wrong secret, says so and confirms nothing', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const { page } = await openPage(`${guard.url}/guard/confirm?token=${held.json.guard.confirmation_token}`);
    await page.fill('#secret', 'a-guess');
    await page.click('button[type=submit]');
    await page.waitForSelector('#result.fail');
    expect(await page.textContent('#result')).toBe('Not confirmed: only someone holding the credentials the held request carried can confirm it.');
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(400);
  });

  it('a bad token shows why, without a form; markup in the token is not rendered', async () => {
    const { page, problems } = await openPage(`${guard.url}/guard/confirm?token=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
    expect(await page.textContent('#problem')).toBe('This token cannot be confirmed: the token is not a well-formed confirmation token.');
    expect(await page.$('form')).toBeNull();
    expect(problems).toEqual([]);
  });

  it('is served with a strict Content-Security-Policy, no referrer and no caching', async () => {
    const res = await rawRequest(guard.url, 'GET', '/guard/confirm?token=x');
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'nonce-[\w+/=]+'; style-src 'nonce-[\w+/=]+'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'$/);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a cross-site form post (not JSON) confirms nothing', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const form = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/x-www-form-urlencoded' }, `token=${held.json.guard.confirmation_token}`);
    expect(form.status).toBe(415);
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(400);
  });
});
