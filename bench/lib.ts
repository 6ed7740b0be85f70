// Shared by the benchmark and the load test: start a server process, load it with autocannon, read its memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import { imageStart } from '../test/support/image-start.js';

export const ROOT = join(import.meta.dirname, '..');

const IMAGE = imageStart(ROOT);
/** The project's server as the image starts it: the Dockerfile's CMD, so the benchmark runs what ships. */
export const PROJECT_COMMAND: string[] = IMAGE.cmd;
/**
 * The image's environment for it (the Dockerfile's ENV lines, GLIBC_TUNABLES among them), but for PORT and HOST, which
 * each measurement sets. BENCH_IMAGE_ENV (JSON) changes entries, to measure without one:
 * `BENCH_IMAGE_ENV='{"GLIBC_TUNABLES":""}'`.
 */
export const PROJECT_IMAGE_ENV: Record<string, string> = {
  ...Object.fromEntries(Object.entries(IMAGE.env).filter(([name]) => name !== 'PORT' && name !== 'HOST')),
  ...(JSON.parse(process.env.BENCH_IMAGE_ENV ?? '{}') as Record<string, string>),
};
export const PROJECT = PROJECT_COMMAND.at(-1)!;
/** The references live in bench/; anything else is a build of the project (dist/index.js, or a copy for an A/B). */
const isProject = (file: string) => !file.startsWith('bench/');
const nodeArgsFor = (file: string) => (isProject(file) ? PROJECT_COMMAND.slice(1, -1) : []);
const imageEnvFor = (file: string) => (isProject(file) ? PROJECT_IMAGE_ENV : {});
/** Node flags as an environment variable spells them, space-separated: `'--trace-gc --single-threaded-gc'`. */
export const nodeFlags = (text: string | undefined): string[] => text?.split(' ').filter(Boolean) ?? [];
/** node's arguments for the project as the image starts it, with `flags` added before the file. */
export const projectArgs = (flags: string[] = []): string[] => [...PROJECT_COMMAND.slice(1, -1), ...flags, PROJECT];
/** Node flags a measurement adds to the command (`NODE_ARGS` in its env), to compare a flag before it ships. */
const extraNodeArgs = (env: Record<string, string>) => nodeFlags(env.NODE_ARGS);
export const SECRET = 'benchmark-secret-that-is-long-enough-0123456789';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** CPU time (user + system, all threads) the process has used so far, in microseconds, from /proc. */
  cpuMicros(): number;
  /** Resident set size in MB, from /proc. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Polls url until it answers 200 (every millisecond); resolves with the time that took. */
async function waitFor200(url: string, started: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before answering ${url}`);
    if (await fetch(url).then((r) => r.status === 200, () => false)) return performance.now() - started;
    if (performance.now() - started > 20_000) throw new Error(`${url} did not answer 200 within 20 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * What the benchmarks add to a production start: they send from one identity without an action secret or a
 * pinned environment, far past the per-identity rate limits, which they measure around rather than through.
 */
export const BENCH_ENV = {
  ALLOW_INSECURE_PRODUCTION: 'true',
  RATE_LIMIT_VALIDATIONS_PER_MINUTE: '1000000000',
  RATE_LIMIT_CONFIRMATIONS_PER_MINUTE: '1000000000',
};

/** Spawns `node FILE` on a free port of 127.0.0.1 and resolves once it is ready (the project: GraphQL loaded too). */
export async function startNode(file: string, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgsFor(file), ...extraNodeArgs(env), file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...imageEnvFor(file), PORT: String(port), HOST: '127.0.0.1', TOKEN_SECRET: SECRET, ...BENCH_ENV, ...env },
    // The audit log is drained and dropped, as a log collector would take it.
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}${file.includes('reference') ? '/health' : '/ready'}`, performance.now(), child);
  return {
    url,
    child,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    cpuMicros: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 1/100 s
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Time from spawn to the first 200 on `path`, polling every millisecond. */
export async function coldStartMs(file: string, path: string, env: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgsFor(file), ...extraNodeArgs(env), file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...imageEnvFor(file), PORT: String(port), HOST: '127.0.0.1', TOKEN_SECRET: SECRET, ...BENCH_ENV, ...env },
    stdio: 'ignore',
  });
  try {
    return await waitFor200(`http://127.0.0.1:${port}${path}`, started, child);
  } finally {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

export interface LoadResult {
  rps: number;
  /** Server CPU per request (user + system, all threads): steadier than req/s on a shared machine. */
  cpuPerRequest: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export type Scenario = { name: string; requests: autocannon.Request[] };

export async function load(server: ServerProcess, scenario: Scenario, seconds: number, connections: number): Promise<LoadResult> {
  const cpuBefore = server.cpuMicros();
  const result = await autocannon({ url: server.url, connections, duration: seconds, requests: scenario.requests });
  return {
    rps: result.requests.average,
    cpuPerRequest: (server.cpuMicros() - cpuBefore) / result.requests.total,
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

/** Where a V8 profile's sample or allocation was made: `function file:line`, the file from node_modules/ or dist/. */
export type CallFrame = { functionName: string; url: string; lineNumber: number };
export const functionKey = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber}`;

/** A .cpuprofile's time by function (self time, µs), `(idle)` included. */
export function selfTimeByFunction(file: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { id: number; callFrame: CallFrame }[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = functionKey(byId.get(id)!.callFrame);
    self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i]!);
  });
  return self;
}
