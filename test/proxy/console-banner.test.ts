// "Where you are": Hasura's console page (test/fixtures/hasura-console.html, Hasura's own template as it renders it),
// fetched through the enforcing proxy, carries a banner naming the environment, and nothing else in it changes; in
// every encoding it may arrive in. Other answers pass byte for byte. The browser's view: test/history/pages.browser.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { doubleWiring } from '../support/analysis-double.js';
import { rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { CONSOLE_ASSET_PATH, CONSOLE_PAGE, type ContentEncoding } from '../support/stand-in-hasura.js';

let guard: EnforcingServer | undefined;
afterEach(() => guard?.close());

const DECODE: Record<ContentEncoding, (bytes: Buffer) => Buffer> = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync, identity: (b) => b };
const BANNER = /<div id="hasura-guard-banner"[^>]*>.*?<\/div>/;

/** The page as the browser gets it, and the same page with the banner taken out again. */
function readPage(body: Buffer, encoding: ContentEncoding) {
  const html = DECODE[encoding](body).toString('utf8');
  const banner = BANNER.exec(html)?.[0];
  return { html, banner, without: banner === undefined ? html : html.replace(banner, '') };
}

describe('the console page through the guard', () => {
  for (const encoding of ['gzip', 'br', 'deflate', 'identity'] as const) {
    it(`${encoding}: the banner is added right after <body>, every other byte and header as Hasura sent them, content-length fixed`, async () => {
      guard = await startEnforcingServer(doubleWiring());
      guard.hasura.consoleEncoding = encoding;
      const res = await rawRequest(guard.url, 'GET', '/console', { 'accept-encoding': 'gzip, deflate, br' });

      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe(encoding === 'identity' ? undefined : encoding);
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['x-stand-in']).toBe('console');
      const page = readPage(res.body, encoding);
      expect(page.banner).toBeDefined();
      expect(page.without).toBe(CONSOLE_PAGE.toString('utf8'));
      expect(page.html).toContain(`<body>${page.banner}`);
      expect(page.banner).toContain('<span id="hasura-guard-environment">production</span>');
      expect(page.banner).toContain(`href="${guard.url}/guard/changes"`);
      expect(page.banner).toContain('background:#b3001b');
    });
  }

  it('the console\'s own routes (/console/data/...) get it too; the link follows GUARD_PUBLIC_URL', async () => {
    guard = await startEnforcingServer(doubleWiring(), { GUARD_PUBLIC_URL: 'https://guard.example.com/hasura' });
    const res = await rawRequest(guard.url, 'GET', '/console/data/default/schema/public', { 'accept-encoding': 'gzip' });
    expect(readPage(res.body, 'gzip').banner).toContain('href="https://guard.example.com/hasura/guard/changes"');
  });

  it('another environment gets a calm banner, naming it', async () => {
    guard = await startEnforcingServer(doubleWiring(), { GUARD_ENVIRONMENT: 'staging' });
    const res = await rawRequest(guard.url, 'GET', '/console', { 'accept-encoding': 'gzip' });
    const { banner } = readPage(res.body, 'gzip');
    expect(banner).toContain('<span id="hasura-guard-environment">staging</span>');
    expect(banner).toContain('background:#e7f0f7');
    expect(banner).not.toContain('#b3001b');
  });

  it('a console asset, a HEAD of the page and anything that is not the page pass byte for byte', async () => {
    guard = await startEnforcingServer(doubleWiring());
    const asset = await rawRequest(guard.url, 'GET', CONSOLE_ASSET_PATH, { 'accept-encoding': 'gzip' });
    expect(asset.body.equals(guard.hasura.consoleAssetGzip)).toBe(true);
    const head = await rawRequest(guard.url, 'HEAD', '/console');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(guard.hasura.consolePageServed!.length);
    const other = await rawRequest(guard.url, 'GET', '/v1/version');
    expect(other.json).toEqual({ received: { method: 'GET', path: '/v1/version', bytes: 0 } });
  });
});

describe('a console page that is not what it claims', () => {
  it('one that inflates past 8 MB passes as it came, without a banner (no decompression bomb)', async () => {
    guard = await startEnforcingServer(doubleWiring());
    const { gzipSync } = await import('node:zlib');
    const bomb = gzipSync(Buffer.concat([Buffer.from('<html><body>'), Buffer.alloc(9 * 1024 * 1024, 0x20)]));
    guard.hasura.consolePageOverride = bomb;
    const res = await rawRequest(guard.url, 'GET', '/console', { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.body.equals(bomb)).toBe(true);
    expect(guard.logs.lines.some((l) => l.msg === 'the console page could not be decoded; passed without a banner')).toBe(true);
  });
});
