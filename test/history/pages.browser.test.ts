// In a real browser (Chromium driven by playwright-core): Hasura's console page loaded through the guard says
// "production" in a red banner that links to the history, and the history page shows a held, confirmed and passed
// change once the admin secret is typed in. Pages may only talk to the guard: the console's CDN is cut off.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { openGuardPage } from '../support/browser-page.js';
import { findChromium } from '../support/chromium.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let browser: Browser;
let guard: EnforcingServer;

beforeAll(async () => {
  const { executablePath, args } = await findChromium();
  browser = await chromium.launch({ executablePath, args });
});
afterAll(() => browser?.close());
beforeEach(async () => {
  guard = await startEnforcingServer(doubleWiring());
});
afterEach(() => guard.close());

/** The page, cut off from all but the guard. It answers 401 until the admin secret is given: Chromium reports that
 * status, which is expected. */
const openPage = (url: string) => openGuardPage(browser, guard.url, url, (text) => text.includes('status of 401'));

describe('the console through the guard', () => {
  it('shows a red banner saying production, above Hasura\'s page, with a link to the history', async () => {
    const { page, outside, problems } = await openPage(`${guard.url}/console`);
    const banner = page.locator('#hasura-guard-banner');
    expect(await banner.isVisible()).toBe(true);
    expect(await page.textContent('#hasura-guard-environment')).toBe('production');
    expect(await banner.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(179, 0, 27)');
    // Hasura's own page is there, unchanged: its loading screen and the element the console renders into.
    expect(await page.textContent('#loading')).toContain('Loading...');
    expect(await page.locator('#content').count()).toBe(1);
    // Hasura's page loads its assets from the CDN, which this test cuts off: that is what it tried, nothing else failed
    // because of the banner.
    expect(outside.every((url) => url.startsWith('https://graphql-engine-cdn.hasura.io/'))).toBe(true);
    expect(problems.filter((p) => p.startsWith('CSP violation'))).toEqual([]);

    await page.click('#hasura-guard-banner a');
    await page.waitForURL(`${guard.url}/guard/changes`);
    expect(await page.textContent('h1')).toBe('Production change history');
  });
});

describe('the history page', () => {
  it('shows who asked, who confirmed and how it ended, once the admin secret is given; the notification link focuses the change', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify({ token: held.json.guard.confirmation_token }));
    await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    guard.clock.advance(60);
    await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
    await guard.app.changeLog!.settled();
    const [, passed] = (await rawRequest(guard.url, 'GET', '/guard/api/changes', { 'x-hasura-admin-secret': ADMIN_SECRET })).json.changes;

    const { page, outside, problems } = await openPage(`${guard.url}/guard/changes`);
    expect(await page.locator('.change').count()).toBe(0);
    await page.fill('#secret', 'a-guess');
    await page.click('#unlock button');
    await page.waitForFunction(() => document.getElementById('problem')!.textContent !== '');
    expect(await page.textContent('#problem')).toBe('Hasura does not accept this credential as an admin, so the history is not shown.');
    expect(await page.locator('.change').count()).toBe(0);

    await page.fill('#secret', ADMIN_SECRET);
    await page.click('#unlock button');
    await page.waitForSelector('.change');
    expect(await page.locator('.change .outcome').allTextContents()).toEqual(['denied', 'passed']);
    const row = page.locator(`#change-${passed.id}`);
    expect(await row.locator('.summary').textContent()).toBe('untracks table default.public.patients');
    expect(await row.locator('.requester').textContent()).toBe(`requested by ${passed.requester}`);
    expect(await row.locator('.confirmer').textContent()).toBe(`confirmed by ${passed.confirmer}`);
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);

    const focused = await openPage(`${guard.url}/guard/changes?change=${passed.id}`);
    await focused.page.fill('#secret', ADMIN_SECRET);
    await focused.page.click('#unlock button');
    await focused.page.waitForSelector('.change.focus');
    expect(await focused.page.locator('.change').count()).toBe(1);
    expect(focused.problems).toEqual([]);
  });

  it('markup in a change is shown as text, never run', async () => {
    await guard.app.changeLog!.history.record({ type: 'denied', environment: 'production', at: guard.clock(), summary: '<img src=x onerror="window.hacked=1">', changes: ['<script>window.hacked=1</script>'] });
    const { page, problems } = await openPage(`${guard.url}/guard/changes`);
    await page.fill('#secret', ADMIN_SECRET);
    await page.click('#unlock button');
    await page.waitForSelector('.change');
    expect(await page.textContent('.change .summary')).toBe('<img src=x onerror="window.hacked=1">');
    expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
