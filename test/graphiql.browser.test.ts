// GraphiQL in a real browser (Chromium driven by playwright-core; test/support/chromium.ts says which one): it loads from this server alone,
// a person types validateMetadataChange, runs it and sees the guard's answer.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';
import { findChromium } from './support/chromium.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  // Not a skip: without a browser this test cannot vouch for GraphiQL, so findChromium fails and says why.
  const { executablePath, args, source, version } = await findChromium();
  console.info(`GraphiQL browser test on ${version}, from ${source}`); // which of the three, in the CI log
  server = await startTestServer();
  browser = await chromium.launch({ executablePath, args });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('GraphiQL', () => {
  // A browser start and GraphiQL's 9 MB of JavaScript take most of the default 20 s on a slow machine.
  it('works offline: typed validateMetadataChange runs and shows the result; no request leaves the server', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const origin = new URL(server.url).origin;
    const outside: string[] = [];
    // Every request the page makes is checked; anything not for this server is recorded and refused.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
    });

    await page.goto(`${server.url}/graphql`, { waitUntil: 'load' });
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(
      'mutation Validate { validateMetadataChange(input: {operation: "DROP TABLE", table_name: "public.patients", environment: "production"}) { success message confirmation_token } }',
    );
    await page.keyboard.press('Escape'); // close any completion popup
    // The default tab holds two operations, where the run button is a menu; wait until GraphiQL has parsed the
    // typed one, which turns it back into a plain button.
    await page.locator('.graphiql-execute-button:not([aria-haspopup])').click();

    const response = page.locator('.graphiql-response');
    await response.getByText('confirmMetadataChange').first().waitFor({ timeout: 15_000 });
    const text = (await response.innerText()).replace(/\s+/g, ' '); // Monaco renders non-breaking spaces
    expect(text).toMatch(/"success": true/);
    expect(text).toMatch(/"confirmation_token": "ey/);
    expect(server.logs.audits()).toMatchObject([{ action: 'validate', outcome: 'confirmation_required', table: 'public.patients' }]);
    expect(outside).toEqual([]);
    await context.close();
  });

  it('opens on a tab with both steps and a session: Validate runs as x-hasura-user-id alice', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/graphql`, { waitUntil: 'load' });
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor();
    const query = (await editor.innerText()).replace(/\s+/g, ' ');
    expect(query).toContain('mutation Validate {');
    expect(query).toContain('mutation Confirm {');

    // Two operations: the run button offers both; pick Validate.
    await page.locator('.graphiql-execute-button[aria-haspopup]').click();
    await page.getByRole('menuitem', { name: 'Validate' }).click();
    const response = page.locator('.graphiql-response');
    await response.getByText('confirmation_token').first().waitFor({ timeout: 15_000 });
    expect((await response.innerText()).replace(/\s+/g, ' ')).toMatch(/"level": "confirm"/);
    // The headers the tab came with reached the guard: the token is bound to a user, not to "anonymous".
    expect(server.logs.audits().at(-1)).toMatchObject({ action: 'validate', outcome: 'confirmation_required', userId: 'alice', role: 'developer' });
    await context.close();
  });
});
