// A stand-in for Hasura behind the proxy: a real HTTP server on 127.0.0.1 that records every request (method, path,
// headers, raw body bytes) and answers the few things the proxy tests need: export_metadata, Hasura's own console page
// (compressed as a test chooses), a gzip'd console asset, a redirect, get_catalog_state for admins only, and a websocket
// on /v1/graphql (and any other path) that echoes the chosen subprotocol.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { WebSocketServer } from 'ws';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The admin secret this Hasura accepts (get_catalog_state answers 200 only with it). */
export const ADMIN_SECRET = 'stand-in-admin-secret-0123456789';
/** An Authorization this Hasura takes as an admin's, as a Hasura in JWT mode takes a token of the admin role. */
export const ADMIN_BEARER = 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.signature';

/** A console asset, as Hasura serves one from HASURA_GRAPHQL_CONSOLE_ASSETS_DIR: a .gz file with content-encoding gzip. */
export const CONSOLE_ASSET_JS = 'window.__loadConsoleAssetsFromBasePath = () => { /* <body> is not a page */ };\n'.repeat(40);
export const CONSOLE_ASSET_PATH = '/console/assets/versioned/main.js.gz';

/** Hasura's console page (test/fixtures/hasura-console.html says where it comes from). */
export const CONSOLE_PAGE = readFileSync(new URL('../fixtures/hasura-console.html', import.meta.url));
export type ContentEncoding = 'gzip' | 'br' | 'deflate' | 'identity';
const ENCODE: Record<ContentEncoding, (bytes: Buffer) => Buffer> = { gzip: gzipSync, br: brotliCompressSync, deflate: deflateSync, identity: (b) => b };

export interface StandInHasura {
  url: string;
  requests: RecordedRequest[];
  /** Requests other than the guard's own export_metadata calls (which carry user-agent hasura-metadata-guard). */
  forwarded(): RecordedRequest[];
  /** What export_metadata answers; set `exportFails` to make it answer 500. */
  metadata: unknown;
  exportFails: boolean;
  /**
   * When true, every credential is an admin's, as in a Hasura without an admin secret (Auth.hs, `AMNoAuth`:
   * every request is the admin role).
   */
  noAdminSecret: boolean;
  /** When true, every other metadata and query request is refused (400, as Hasura refuses a change it cannot make). */
  refuseChanges: boolean;
  /** The gzip'd console asset's bytes exactly as served. */
  consoleAssetGzip: Buffer;
  /** How the console page is compressed when served (gzip unless a test chooses). */
  consoleEncoding: ContentEncoding;
  /** Bytes served as the gzip'd console page instead of Hasura's own (a page that is not what it claims). */
  consolePageOverride?: Buffer;
  /** The console page's bytes exactly as last served. */
  consolePageServed?: Buffer;
  close(): Promise<void>;
}

export async function startStandInHasura(): Promise<StandInHasura> {
  const consoleAssetGzip = gzipSync(Buffer.from(CONSOLE_ASSET_JS));
  const state: StandInHasura = {
    url: '',
    requests: [],
    forwarded: () => state.requests.filter((r) => r.headers['user-agent'] !== 'hasura-metadata-guard'),
    metadata: { version: 3, sources: [{ name: 'default', kind: 'postgres', tables: [] }] },
    exportFails: false,
    noAdminSecret: false,
    refuseChanges: false,
    consoleAssetGzip,
    consoleEncoding: 'gzip',
    close: async () => {},
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      state.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path === '/') {
        // Absolute, as a Hasura behind its own host name would build it: the proxy must rewrite it.
        res.writeHead(302, { location: `${state.url}/console` });
        return res.end();
      }
      if (path === CONSOLE_ASSET_PATH) {
        res.writeHead(200, { 'content-type': 'application/javascript', 'content-encoding': 'gzip', 'content-length': consoleAssetGzip.length });
        return res.end(consoleAssetGzip);
      }
      if (path === '/console' || path.startsWith('/console/')) {
        // Spock.html's content type; compressed here as a proxy in front of Hasura would (Hasura itself sends it plain).
        const page = state.consolePageOverride ?? ENCODE[state.consoleEncoding](CONSOLE_PAGE);
        state.consolePageServed = page;
        const encoding = state.consoleEncoding === 'identity' ? {} : { 'content-encoding': state.consoleEncoding };
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...encoding, 'content-length': page.length, 'x-stand-in': 'console' });
        return res.end(page);
      }
      if (path === '/v1/metadata' && body.toString().includes('"get_catalog_state"')) {
        // Hasura: every metadata command needs the admin role; a wrong admin secret is a 401.
        // The admin secret under either name, else (JWT mode) a bearer token of the admin role.
        const secret = req.headers['x-hasura-admin-secret'] ?? req.headers['x-hasura-access-key'];
        const admin = state.noAdminSecret || (secret !== undefined ? secret === ADMIN_SECRET : req.headers.authorization === ADMIN_BEARER);
        if (admin) return json(200, { id: 'stand-in', cli_state: {}, console_state: {} });
        return json(401, { path: '$', code: 'access-denied', error: 'invalid x-hasura-admin-secret/x-hasura-access-key' });
      }
      if (path === '/v1/metadata' && body.toString().includes('"export_metadata"')) {
        if (state.exportFails) return json(500, { path: '$', code: 'unexpected', error: 'database unavailable' });
        return json(200, { resource_version: 17, metadata: state.metadata });
      }
      if (state.refuseChanges && req.method === 'POST' && /^\/v[12]\/(metadata|query)$/.test(path)) {
        return json(400, { path: '$', code: 'not-exists', error: 'table "patients" does not exist' });
      }
      // Everything else: say what was received, so tests can compare.
      json(200, { received: { method: req.method, path, bytes: body.length } });
    });
  });

  const sockets = new WebSocketServer({
    server,
    // Negotiated only if the client's Sec-WebSocket-Extensions reaches here and the answer gets back.
    perMessageDeflate: true,
    handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : protocols.has('graphql-ws') ? 'graphql-ws' : false),
  });
  sockets.on('connection', (socket, req) => {
    socket.on('message', (data) => socket.send(JSON.stringify({ protocol: socket.protocol, path: req.url, echo: data.toString() })));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
