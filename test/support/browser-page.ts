// A page of the guard opened in the test browser, cut off from everything but the guard: what it tries elsewhere is
// recorded and refused, and so are its script errors and Content-Security-Policy violations.
import type { Browser, Page } from 'playwright-core';

export interface OpenedPage {
  page: Page;
  /** URLs the page tried to reach outside the guard's origin (each refused). */
  outside: string[];
  /** Console errors, uncaught script errors and CSP violations. */
  problems: string[];
}

/** Opens `url` in a fresh context; `expected` says which console errors are the page's normal life (e.g. a 401). */
export async function openGuardPage(browser: Browser, guardUrl: string, url: string, expected: (text: string) => boolean = () => false): Promise<OpenedPage> {
  const context = await browser.newContext();
  const origin = new URL(guardUrl).origin;
  const outside: string[] = [];
  await context.route('**/*', (route) => {
    const target = route.request().url();
    if (new URL(target).origin === origin) return route.continue();
    outside.push(target);
    return route.abort();
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective}`));
  });
  await page.goto(url);
  return { page, outside, problems };
}
