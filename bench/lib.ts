// Shared by the benchmark and the load test: start a server process, load it with autocannon, read its memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

export const ROOT = join(import.meta.dirname, '..');
export const SECRET = 'benchmark-secret-that-is-long-enough-0123456789';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resident set size in MB, from /proc. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Spawns `node FILE` and resolves once it logs a line with its URL; also reports how long that took. */
export async function startNode(file: string, env: Record<string, string>): Promise<ServerProcess & { startedMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', TOKEN_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('"url"')) return;
      resolve(JSON.parse(line).url);
      // Keep draining stdout (the audit log) so the server never blocks on a full pipe.
      lines.removeAllListeners('line');
      child.stdout!.resume();
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before listening`)));
  });
  return {
    url,
    child,
    startedMs: performance.now() - started,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Time from spawn to the first 200 on /health, polling every millisecond. */
export async function coldStartMs(file: string, env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '39123', HOST: '127.0.0.1', TOKEN_SECRET: SECRET, LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      const ok = await fetch('http://127.0.0.1:39123/health').then((r) => r.status === 200, () => false);
      if (ok) return performance.now() - started;
      if (performance.now() - started > 20_000) throw new Error(`${file} did not answer /health within 20 s`);
      await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export type Scenario = { name: string; requests: autocannon.Request[] };

export async function load(url: string, scenario: Scenario, seconds: number, connections: number): Promise<LoadResult> {
  const result = await autocannon({ url, connections, duration: seconds, requests: scenario.requests });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const session = { 'x-hasura-role': 'developer', 'x-hasura-user-id': '42' };
const change = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };
const json = { 'content-type': 'application/json' };

/** Hasura's body for an action. */
export const actionBody = (name: string, input: object) => JSON.stringify({ action: { name }, input: { input }, session_variables: session, request_query: null });

export const REST_VALIDATE: Scenario = {
  name: 'REST webhook validate (production, token issued)',
  requests: [{ method: 'POST', path: '/validate-metadata-change', headers: json, body: actionBody('validateMetadataChange', change) }],
};

/** The same work as REST_VALIDATE as Hasura sends it to a remote schema. The reference has no GraphQL: it gets REST. */
export function graphqlValidate(forReference: boolean): Scenario {
  if (forReference) return { ...REST_VALIDATE, name: 'GraphQL validate' };
  const body = JSON.stringify({
    query: 'mutation ($input: ValidateMetadataChangeInput!) { validateMetadataChange(input: $input) { success message confirmation_token } }',
    variables: { input: change },
    operationName: null,
  });
  return { name: 'GraphQL validate', requests: [{ method: 'POST', path: '/graphql', headers: { ...json, ...session }, body }] };
}

/** validate then confirm on one connection: every confirm spends a fresh token, as in real use. */
export function confirmPair(validatePath: string, confirmPath: string, counters = { confirmed: 0, refused: 0 }): Scenario {
  type Context = { token?: string };
  return {
    name: 'confirm (validate + confirm, webhook)',
    requests: [
      {
        method: 'POST',
        path: validatePath,
        headers: json,
        body: actionBody('validateMetadataChange', change),
        onResponse: (_status, body, context) => {
          (context as Context).token = JSON.parse(body).confirmation_token;
        },
      },
      {
        method: 'POST',
        path: confirmPath,
        headers: json,
        setupRequest: (req, context) => ({ ...req, body: actionBody('confirmMetadataChange', { confirmation_token: (context as Context).token }) }),
        onResponse: (_status, body) => {
          if (JSON.parse(body).success) counters.confirmed++;
          else counters.refused++;
        },
      },
    ],
  };
}
