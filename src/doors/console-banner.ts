// "Where you are": Hasura's console page, loaded through the guard, gets a banner naming the environment (production
// in red) with a link to the history. Only the page itself is touched, and in it only the banner is added: every other
// byte, header and asset passes as Hasura sent it.
//
// Hasura serves the page at GET /console and /console/<anything> (`serveApiConsole` in
// server/src-lib/Hasura/Server/App.hs, hasura/graphql-engine 5a67e3e6), rendered from server/src-rsr/console.html by
// `mkConsoleHTML` (server/src-lib/Hasura/App.hs) and sent with Spock.html: text/html, no Content-Security-Policy, no
// compression of its own. Its assets come from a CDN, or from /console/assets/ when HASURA_GRAPHQL_CONSOLE_ASSETS_DIR
// is set (`serveApiConsoleAssets`, same file): those pass untouched. A proxy between the guard and Hasura may have
// compressed the page, so gzip, deflate and br are undone and redone the same way.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Logger } from 'pino';
import { HISTORY_PAGE_PATH } from '../history/door.js';

/** Larger pages are passed untouched: Hasura's is about 3 KB. */
const MAX_PAGE_BYTES = 1024 * 1024;

/** The proxy's view of this: which requests to answer itself, and how. */
export interface ConsolePage {
  wants(req: IncomingMessage): boolean;
  /** Answers with Hasura's response, the banner added when it is the console page. `guardUrl` is the links' base. */
  respond(hasuraResponse: IncomingMessage, req: IncomingMessage, res: ServerResponse, guardUrl: string): void;
}

/** Decoded, a page may be this large at most: a page that inflates past it passes as it came (no decompression bomb). */
const MAX_DECODED_BYTES = 8 * MAX_PAGE_BYTES;
const bounded = { maxOutputLength: MAX_DECODED_BYTES };

type Codec = { decode: (bytes: Buffer) => Promise<Buffer>; encode: (bytes: Buffer) => Promise<Buffer> };
const [gunzip, inflate, brotliDecompress] = [promisify(zlib.gunzip), promisify(zlib.inflate), promisify(zlib.brotliDecompress)];
const gzipCodec: Codec = { decode: (b) => gunzip(b, bounded), encode: promisify(zlib.gzip) };
const CODECS: Record<string, Codec> = {
  identity: { decode: async (b) => b, encode: async (b) => b },
  gzip: gzipCodec,
  'x-gzip': gzipCodec,
  deflate: { decode: (b) => inflate(b, bounded), encode: promisify(zlib.deflate) },
  br: { decode: (b) => brotliDecompress(b, bounded), encode: promisify(zlib.brotliCompress) },
};

/** Headers about one hop of the connection, not the page: Node writes its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export function createConsolePage(options: { environment: string; logger: Logger }): ConsolePage {
  const { environment, logger } = options;

  function passUntouched(hasura: IncomingMessage, res: ServerResponse, already: Buffer[] = []): void {
    res.writeHead(hasura.statusCode ?? 502, hasura.statusMessage, forwardedHeaders(hasura.headers));
    for (const chunk of already) res.write(chunk);
    hasura.pipe(res);
  }

  async function withBanner(hasura: IncomingMessage, res: ServerResponse, page: Buffer, codec: Codec, guardUrl: string): Promise<void> {
    let rewritten: Buffer | undefined;
    try {
      const html = await codec.decode(page);
      const withIt = insertBanner(html, bannerHtml(environment, `${guardUrl}${HISTORY_PAGE_PATH}`));
      rewritten = withIt && (await codec.encode(withIt));
    } catch (err) {
      // A page that does not decode is Hasura's (or a proxy's) business: it goes as it came, without a banner.
      logger.warn({ err: { message: (err as Error).message } }, 'the console page could not be decoded; passed without a banner');
    }
    const body = rewritten ?? page;
    res.writeHead(hasura.statusCode ?? 200, hasura.statusMessage, { ...forwardedHeaders(hasura.headers), 'content-length': String(body.length) });
    res.end(body);
  }

  return {
    wants(req) {
      if (req.method !== 'GET') return false;
      const path = new URL(req.url ?? '/', 'http://guard').pathname;
      return (path === '/console' || path.startsWith('/console/')) && !path.startsWith('/console/assets/');
    },

    respond(hasura, req, res, guardUrl) {
      const encoding = (hasura.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      const codec = CODECS[encoding];
      const declared = Number(hasura.headers['content-length'] ?? 0);
      if (hasura.statusCode !== 200 || !isHtml(hasura.headers['content-type']) || !codec || declared > MAX_PAGE_BYTES) return passUntouched(hasura, res);
      const chunks: Buffer[] = [];
      let bytes = 0;
      const collect = (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes <= MAX_PAGE_BYTES) return;
        hasura.off('data', collect).off('end', finish);
        passUntouched(hasura, res, chunks);
      };
      const finish = () => void withBanner(hasura, res, Buffer.concat(chunks), codec, guardUrl).catch(() => res.destroy());
      hasura.on('data', collect).on('end', finish);
      hasura.on('error', () => res.destroy());
      req.on('close', () => hasura.destroy());
    },
  };
}

function isHtml(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'text/html';
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

/**
 * The page with the banner right after the opening <body> tag, every other byte as it was; undefined when the page has
 * no body tag. Searched as latin1 so that bytes in any encoding stay exactly as they were.
 */
function insertBanner(page: Buffer, banner: string): Buffer | undefined {
  const tag = /<body\b[^>]*>/i.exec(page.toString('latin1'));
  if (!tag) return undefined;
  const at = tag.index + tag[0].length;
  return Buffer.concat([page.subarray(0, at), Buffer.from(banner, 'utf8'), page.subarray(at)]);
}

/**
 * The banner: an element with inline styles (Hasura's page sets no Content-Security-Policy, and already uses inline
 * styles itself), sticky at the top so it stays in view, above the console's own layers.
 */
function bannerHtml(environment: string, historyUrl: string): string {
  const production = environment === 'production';
  const colours = production ? 'background:#b3001b;color:#fff' : 'background:#e7f0f7;color:#17324d';
  const style = `position:sticky;top:0;z-index:2147483647;${colours};font:600 14px/1.4 system-ui,sans-serif;padding:6px 12px;text-align:center`;
  const note = production ? 'changes that drop or rewrite are held for confirmation' : 'changes pass through the metadata guard';
  return (
    `<div id="hasura-guard-banner" role="note" data-environment="${escapeHtml(environment)}" style="${style}">` +
    `<span id="hasura-guard-environment">${escapeHtml(environment)}</span> — ${note} · ` +
    `<a href="${escapeHtml(historyUrl)}" style="color:inherit;text-decoration:underline">change history</a></div>`
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
