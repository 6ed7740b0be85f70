// Which Chromium the browser test gets: the order, and a clear error instead of a silent fallback or a skip.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChromium } from './chromium.js';

const packagedMajor = JSON.parse(readFileSync(new URL('../../node_modules/@sparticuz/chromium/package.json', import.meta.url), 'utf8')).version.split('.')[0];
const MISSING = '/nonexistent/chromium';

describe('findChromium', () => {
  it('falls back to the Chromium inside @sparticuz/chromium when Debian has none', async () => {
    const found = await findChromium({ env: {}, debianPath: MISSING });
    expect(found.source).toBe('@sparticuz/chromium');
    expect(found.version).toMatch(new RegExp(`^Chromium ${packagedMajor}\\.`));
    expect(found.args).toContain('--no-sandbox');
  });

  it('prefers the Debian path when it runs', async () => {
    const { executablePath } = await findChromium({ env: {}, debianPath: MISSING });
    const found = await findChromium({ env: {}, debianPath: executablePath });
    expect(found).toMatchObject({ source: executablePath, executablePath });
  });

  it('takes CHROMIUM_PATH over everything, and fails rather than fall back when it does not run', async () => {
    const { executablePath } = await findChromium({ env: {}, debianPath: MISSING });
    await expect(findChromium({ env: { CHROMIUM_PATH: executablePath }, debianPath: MISSING })).resolves.toMatchObject({ source: 'CHROMIUM_PATH', executablePath });
    await expect(findChromium({ env: { CHROMIUM_PATH: MISSING } })).rejects.toThrow(`CHROMIUM_PATH=${MISSING} does not run (not found)`);
  });

  it('refuses a program that runs but is not Chromium', async () => {
    await expect(findChromium({ env: { CHROMIUM_PATH: process.execPath } })).rejects.toThrow(/printed "v\d+.*", not a Chromium version/);
  });
});
