// npm run bench: the compiled server against two references doing the same work (bench/reference-logic.mjs): a
// seed-style Express backend, the floor issue 18 sets, and a hand-written node:http server, the fastest thing on this
// stack. One run, interleaved, on 127.0.0.1 only and for a bounded time. Prints medians and ratios; asserts nothing.
//   BENCH_SECONDS (3) per measurement, BENCH_ROUNDS (5) rounds, BENCH_CONNECTIONS (32), BENCH_RSS_SECONDS (30),
//   BENCH_ONLY=throughput to stop after the throughput table (for quick iterations while optimising)
import { execFileSync } from 'node:child_process';
import { createSecretKey } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import jwt from 'jsonwebtoken';
import { createTokenService } from '../src/core/tokens.js';
import { coldStartMs, confirmPair, graphqlValidate, load, median, PROJECT, PROJECT_COMMAND, REST_VALIDATE, ROOT, SECRET, startNode, type LoadResult, type Scenario } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RSS_SECONDS = Number(process.env.BENCH_RSS_SECONDS ?? 30);
/** The references, each served by node FILE; ratios are the project's req/s over each one's, round by round. */
const REFERENCES = { express: 'bench/reference-express.mjs', 'node:http': 'bench/reference-server.mjs' } as const;
type Who = 'project' | keyof typeof REFERENCES;
const REFERENCE_NAMES = Object.keys(REFERENCES) as (keyof typeof REFERENCES)[];
const PROJECT_ENV = { NODE_ENV: 'production' };

const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

log(`# Benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
log(`# ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections, 127.0.0.1\n`);
execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

const servers = {
  project: await startNode(PROJECT, PROJECT_ENV),
  express: await startNode(REFERENCES.express, {}),
  'node:http': await startNode(REFERENCES['node:http'], {}),
};

type Row = { scenario: string; results: Record<Who, LoadResult[]> };
const rows: Row[] = [];
const scenarios: [Scenario, Scenario][] = [
  [REST_VALIDATE, REST_VALIDATE],
  [graphqlValidate(false), graphqlValidate(true)],
  [confirmPair('/validate-metadata-change', '/confirm-metadata-change'), confirmPair('/', '/')],
];

// Warm all of them up (JIT, caches) before measuring.
await load(servers.project, REST_VALIDATE, 2, CONNECTIONS);
await load(servers.project, graphqlValidate(false), 2, CONNECTIONS);
for (const name of REFERENCE_NAMES) await load(servers[name], REST_VALIDATE, 2, CONNECTIONS);

const everyone: Who[] = ['project', ...REFERENCE_NAMES];
for (const [forProject, forReference] of scenarios) {
  const row: Row = { scenario: forProject.name, results: { project: [], express: [], 'node:http': [] } };
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate who goes first, so drift on a noisy machine does not favour one side.
    const order = everyone.map((_, i) => everyone[(i + round) % everyone.length]!);
    for (const who of order) {
      const result = await load(servers[who], who === 'project' ? forProject : forReference, SECONDS, CONNECTIONS);
      if (result.errors || result.non2xx) log(`!! ${who} ${forProject.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
      row.results[who].push(result);
    }
  }
  rows.push(row);
}
for (const server of Object.values(servers)) await server.stop();

const m = (xs: LoadResult[], k: keyof LoadResult) => median(xs.map((x) => x[k]));
log('| scenario | server | req/s | p50 / p99 ms | CPU µs/req | project ÷ it, req/s (median of rounds) | range |');
log('|---|---|---:|---:|---:|---:|---:|');
for (const { scenario, results } of rows) {
  for (const who of everyone) {
    const ratios = results.project.map((p, i) => p.rps / results[who][i]!.rps);
    const ratio = who === 'project' ? '' : `${fmt(median(ratios), 2)} | ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`;
    log(`| ${scenario} | ${who} | ${fmt(m(results[who], 'rps'))} | ${m(results[who], 'p50')} / ${m(results[who], 'p99')} | ${fmt(m(results[who], 'cpuPerRequest'))} | ${ratio || ' | '} |`);
  }
}

if (process.env.BENCH_ONLY === 'throughput') process.exit(0);

// Tokens on one core: this process, one thread.
function perSecond(fn: () => void): number {
  const results: number[] = [];
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const end = performance.now() + 1000;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
    }
    results.push(n);
  }
  return median(results);
}
const tokens = createTokenService({ key: createSecretKey(Buffer.from(SECRET)), ttlSeconds: 300, clock: Date.now });
const claims = { op: 'DROP TABLE', tbl: 'public.patients', env: 'production', sub: 'user:42' };
const sample = tokens.issue(claims).token;
const sign = perSecond(() => tokens.issue(claims));
const verify = perSecond(() => tokens.verify(sample));
const stringSign = perSecond(() => jwt.sign({ ...claims, jti: 'x' }, SECRET, { algorithm: 'HS256', issuer: 'i', audience: 'a' }));
log(`\n| tokens, one core | per second |`);
log('|---|---:|');
log(`| sign (project, KeyObject built once) | ${fmt(sign)} |`);
log(`| verify (project) | ${fmt(verify)} |`);
log(`| sign with a string secret (what the KeyObject avoids) | ${fmt(stringSign)} |`);

// Cold start: spawn to first 200 on /health, interleaved.
const cold: Record<string, number[]> = { project: [], ready: [], express: [], 'node:http': [] };
for (let i = 0; i < 11; i++) {
  cold.project!.push(await coldStartMs(PROJECT, '/health', PROJECT_ENV));
  cold.ready!.push(await coldStartMs(PROJECT, '/ready', PROJECT_ENV));
  for (const name of REFERENCE_NAMES) cold[name]!.push(await coldStartMs(REFERENCES[name], '/health'));
}
const coldOf = (who: string) => median(cold[who]!);
log(`\n| cold start (spawn → first 200), median of 11 | ms | ÷ express | ÷ node:http |`);
log('|---|---:|---:|---:|');
for (const [who, label] of [
  ['project', `project /health (webhooks served; ${PROJECT_COMMAND.join(' ')})`],
  ['ready', 'project /ready (GraphQL loaded too)'],
  ['express', 'express reference /health'],
  ['node:http', 'node:http reference /health'],
] as const) {
  log(`| ${label} | ${fmt(coldOf(who))} | ${fmt(coldOf(who) / coldOf('express'), 2)} | ${fmt(coldOf(who) / coldOf('node:http'), 2)} |`);
}

// Memory after a sustained load of validate + confirm pairs.
const rss: Record<string, { before: number; after: number; requests: number }> = {};
for (const [who, file, env] of [['project', PROJECT, PROJECT_ENV], ...REFERENCE_NAMES.map((name) => [name, REFERENCES[name], {}] as const)] as const) {
  const server = await startNode(file, env);
  const before = server.rssMb();
  const scenario = who === 'project' ? confirmPair('/validate-metadata-change', '/confirm-metadata-change') : confirmPair('/', '/');
  const result = await load(server, scenario, RSS_SECONDS, CONNECTIONS);
  rss[who] = { before, after: server.rssMb(), requests: result.requests };
  await server.stop();
}
log(`\n| RSS, ${RSS_SECONDS} s of validate + confirm at ${CONNECTIONS} connections | before MB | after MB | requests |`);
log('|---|---:|---:|---:|');
for (const [who, r] of Object.entries(rss)) log(`| ${who} | ${fmt(r.before)} | ${fmt(r.after)} | ${fmt(r.requests)} |`);
