import { Writable } from 'node:stream';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';
export const ACTION_SECRET = 'action-secret-for-tests-0123456789';

/** A clock the test moves by hand: expiry is tested without sleeping. */
export function manualClock(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, { advance: (seconds: number) => void (now += seconds * 1000) });
}

/** Collects the JSON log lines the app writes, so tests can read the audit records. */
export function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        const parsed = JSON.parse(line);
        lines.push(parsed);
        for (const waiter of waiters.filter((w) => w.match(parsed))) waiters.splice(waiters.indexOf(waiter), 1), waiter.resolve(parsed);
      }
      done();
    },
  });
  /** Resolves with the first line, written so far or later, that matches: waits on the log rather than sleeping. */
  const waitForLine = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  return { stream, lines, raw, waitForLine, audits: () => lines.filter((l) => l.audit).map((l) => l.audit as Record<string, unknown>) };
}

export function testApp(env: Record<string, string> = {}, clock = manualClock()) {
  const logs = logCapture();
  // Tests send many requests as one user; the per-identity rate limits are tested on their own (test/security/).
  const unlimited = { RATE_LIMIT_VALIDATIONS_PER_MINUTE: '1000000', RATE_LIMIT_CONFIRMATIONS_PER_MINUTE: '1000000' };
  const config = loadConfig({ TOKEN_SECRET: TEST_SECRET, LOG_LEVEL: 'info', ...unlimited, ...env });
  const app = createApp(config, { clock, logDestination: logs.stream });
  return { app, clock, logs, config };
}

export interface TestServer {
  app: App;
  url: string;
  clock: ReturnType<typeof manualClock>;
  logs: ReturnType<typeof logCapture>;
  running: RunningServer;
  close(): Promise<void>;
}

/** The real HTTP server on an ephemeral port of 127.0.0.1. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const { app, clock, logs, config } = testApp(env);
  const running = await startServer(app.listener, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 2000, onShutdownStart: app.markShuttingDown, ...config.http });
  return { app, url: running.url, clock, logs, running, close: () => running.shutdown().then(() => app.close()) };
}

export const VALIDATE = /* GraphQL */ `
  mutation Validate($input: ValidateMetadataChangeInput!) {
    validateMetadataChange(input: $input) { success message confirmation_token }
  }
`;
export const CONFIRM = /* GraphQL */ `
  mutation Confirm($input: ConfirmMetadataChangeInput!) {
    confirmMetadataChange(input: $input) { success message }
  }
`;

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A Hasura action webhook payload, as graphql-engine sends it. */
export function hasuraPayload(action: string, input: Record<string, unknown>, session: Record<string, string> = { 'x-hasura-role': 'developer', 'x-hasura-user-id': '42' }) {
  return {
    action: { name: action },
    input: { input },
    session_variables: session,
    request_query: `mutation { ${action}(input: {}) { success message } }`,
  };
}

export const HASURA_HEADERS = { 'user-agent': 'hasura-graphql-engine/v2.44.0' };
