// A stand-in for Hasura behind the proxy: a real HTTP server on 127.0.0.1 that records every request (method, path,
// headers, raw body bytes) and answers the few things the proxy tests need: export_metadata, a gzip'd console page,
// a redirect, and a websocket on /v1/graphql (and any other path) that echoes the chosen subprotocol.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { WebSocketServer } from 'ws';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export const CONSOLE_HTML = '<!doctype html><html><head><title>Hasura Console</title></head><body><div id="content"></div></body></html>';

export interface StandInHasura {
  url: string;
  requests: RecordedRequest[];
  /** Requests other than the guard's own export_metadata calls (which carry user-agent hasura-metadata-guard). */
  forwarded(): RecordedRequest[];
  /** What export_metadata answers; set `exportFails` to make it answer 500. */
  metadata: unknown;
  exportFails: boolean;
  /** The gzip'd console page bytes exactly as served. */
  consoleGzip: Buffer;
  close(): Promise<void>;
}

export async function startStandInHasura(): Promise<StandInHasura> {
  const consoleGzip = gzipSync(Buffer.from(CONSOLE_HTML.repeat(20)));
  const state: StandInHasura = {
    url: '',
    requests: [],
    forwarded: () => state.requests.filter((r) => r.headers['user-agent'] !== 'hasura-metadata-guard'),
    metadata: { version: 3, sources: [{ name: 'default', kind: 'postgres', tables: [] }] },
    exportFails: false,
    consoleGzip,
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
      if (path === '/console') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': consoleGzip.length });
        return res.end(consoleGzip);
      }
      if (path === '/v1/metadata' && body.toString().includes('"export_metadata"')) {
        if (state.exportFails) return json(500, { path: '$', code: 'unexpected', error: 'database unavailable' });
        return json(200, { resource_version: 17, metadata: state.metadata });
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
