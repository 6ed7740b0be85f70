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
  it('works offline: typed validateMetadataChange runs and shows the result; no request leaves the server', async () => {
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
    await page.locator('.graphiql-execute-button').click();

    const response = page.locator('.graphiql-response');
    await response.getByText('confirmMetadataChange').first().waitFor({ timeout: 15_000 });
    const text = (await response.innerText()).replace(/\s+/g, ' '); // Monaco renders non-breaking spaces
    expect(text).toMatch(/"success": true/);
    expect(text).toMatch(/"confirmation_token": "ey/);
    expect(server.logs.audits()).toMatchObject([{ action: 'validate', outcome: 'confirmation_required', table: 'public.patients' }]);
    expect(outside).toEqual([]);
    await context.close();
  });
});
