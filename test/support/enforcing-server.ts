// The guard in enforcing mode (HASURA_URL) in front of a stand-in Hasura, both on 127.0.0.1, plus a raw HTTP client
// that sends exact bytes, headers and request targets (fetch would normalise some of them).
import { request } from 'node:http';
import { createApp, type EnforcementWiring } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { logCapture, manualClock, TEST_SECRET } from '../helpers.js';
import { ADMIN_SECRET, startStandInHasura, type StandInHasura } from './stand-in-hasura.js';
import type { Timers } from '../../src/notify/notifier.js';

export { ADMIN_SECRET } from './stand-in-hasura.js';

export interface EnforcingServer {
  url: string;
  hasura: StandInHasura;
  clock: ReturnType<typeof manualClock>;
  logs: ReturnType<typeof logCapture>;
  running: RunningServer;
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

export async function startEnforcingServer(wiring: EnforcementWiring, env: Record<string, string> = {}, extra: { notifyTimers?: Timers } = {}): Promise<EnforcingServer> {
  const hasura = await startStandInHasura();
  const clock = manualClock();
  const logs = logCapture();
  const config = loadConfig({ TOKEN_SECRET: TEST_SECRET, LOG_LEVEL: 'info', GUARD_ENVIRONMENT: 'production', HASURA_URL: hasura.url, ...env });
  const app = createApp(config, { clock, logDestination: logs.stream, enforcement: wiring, notifyTimers: extra.notifyTimers });
  const running = await startServer(app.listener, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 500, onUpgrade: app.upgrade });
  return {
    url: running.url,
    hasura,
    clock,
    logs,
    running,
    app,
    close: async () => {
      await running.shutdown();
      await app.close();
      await hasura.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: any;
}

/** One request with exactly these bytes and headers to `target` (the request line's target, verbatim). */
export function rawRequest(baseUrl: string, method: string, target: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(bytes.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A console-like metadata call: JSON body, the admin secret header (none when secret is null). */
export function postMetadata(baseUrl: string, path: string, body: unknown, secret: string | null = ADMIN_SECRET, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (secret !== null) headers['x-hasura-admin-secret'] = secret;
  return rawRequest(baseUrl, 'POST', path, headers, JSON.stringify(body));
}
