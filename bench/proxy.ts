// Enforcing mode's cost: `npx tsx bench/proxy.ts` (BENCH_PROXY=latency: part 0 only).
// 0. What a person feels: the latency one connection sees, requests one after another, for a pass-through
//    POST /v1/graphql, an inspected routine metadata call and an inspected console SQL bulk, straight to the
//    stand-in upstream, through the guard as the image runs it (the compiled bundle, the Dockerfile's CMD and ENV, default
//    log level: one audit line per inspected request), through http-proxy-3 alone and through nginx; interleaved
//    in rounds, so that other load on the machine falls on all of them alike. Beside the latencies, each proxy's
//    CPU time and time spent waiting for a CPU (the kernel's run-queue delay), per request.
// 1. Latency (p50/p99) and throughput of pass-through POST /v1/graphql and of inspected POST /v1/metadata, straight
//    to a stand-in upstream, through the guard, and through nginx (when installed) proxying the same upstream.
// 2. RSS growth of the guard while it inspects one 50 MB replace_metadata (target: at most 3x the body): against an
//    empty metadata in force (a first apply: everything is added, and held), and against the same 50 MB metadata
//    (an apply again: nothing changes, and it is forwarded; the guard then also holds the 50 MB export).
// Each server is its own process; autocannon runs here. Everything on 127.0.0.1, bounded, stopping by itself.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, nodeFlags, PROJECT_IMAGE_ENV, projectArgs, ROOT, SECRET } from './lib.js';
import { ADMIN, ONE_CONNECTION_SCENARIOS, oneAfterAnother, SCENARIOS } from './proxy-scenarios.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;

interface Proc {
  url: string;
  child: ChildProcess;
  stop(): void;
}

/** Starts a process that prints "listening" once it listens on PORT. */
async function startProcess(command: string, args: string[], env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, child, stop: () => void child.kill() };
}

const startUpstream = (env: Record<string, string> = {}) => startProcess(process.execPath, ['bench/proxy-upstream.mjs'], env);
const startBare = (upstream: string) => startProcess(process.execPath, ['bench/proxy-bare.mjs'], { HASURA_URL: upstream });
/** The guard as the image runs it: the bundle (`npm run build`), node with the Dockerfile CMD's arguments and its ENV, its default log level. */
const startImageGuard = (upstream: string, extraNodeArgs: string[] = []) =>
  startProcess(process.execPath, projectArgs(extraNodeArgs), { ...PROJECT_IMAGE_ENV, HASURA_URL: upstream, HOST: '127.0.0.1', ACTION_SECRET: SECRET, GUARD_ENVIRONMENT: 'production', TOKEN_SECRET: SECRET });
const startGuard = (upstream: string, extra: Record<string, string> = {}) =>
  startProcess(process.execPath, ['--import', 'tsx', 'bench/proxy-guard.ts'], { HASURA_URL: upstream, GUARD_ENVIRONMENT: 'production', TOKEN_SECRET: SECRET, ...extra });

/** nginx on loopback with a generated config in a temp dir, proxying to the same upstream; undefined if not installed. */
async function startNginx(upstream: string): Promise<Proc | undefined> {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync);
  if (!binary) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'guard-bench-nginx-'));
  const port = await freePort();
  const { port: upstreamPort } = new URL(upstream);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  client_max_body_size 100m;
  upstream hasura { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://hasura; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawn(binary, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/v1/version`).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    child,
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Figures {
  p50: number;
  p99: number;
  rps: number;
}

async function load(url: string, path: string, body: string): Promise<Figures> {
  const options = { url: `${url}${path}`, method: 'POST' as const, headers: ADMIN, body, connections: CONNECTIONS };
  await autocannon({ ...options, duration: 1 }); // warm up
  const result = await autocannon({ ...options, duration: SECONDS });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}${path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
/** The machine's CPU ticks so far, from /proc/stat: all of them, and those the hypervisor gave to others (steal). */
function machineTicks(): { total: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7]! };
}

/**
 * CPU time and run-queue delay (time runnable but waiting for a CPU) so far, in ns, summed over the threads of a
 * process and of its children (nginx's worker), from /proc/<pid>/task/<tid>/schedstat.
 */
function schedstat(pid: number): { cpuNs: number; waitNs: number } {
  const total = { cpuNs: 0, waitNs: 0 };
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  for (const p of [pid, ...children]) {
    for (const tid of readdirSync(`/proc/${p}/task`)) {
      const [cpu, wait] = readFileSync(`/proc/${p}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      total.cpuNs += cpu!;
      total.waitNs += wait!;
    }
  }
  return total;
}

interface Target {
  url: string;
  pid?: number;
}

/** One target's requests for one scenario: every latency, each round's p99, and its process's CPU and waits. */
interface Measured {
  times: number[];
  roundP99s: number[];
  cpuNs: number;
  waitNs: number;
}

async function measureRound(target: Target, scenario: (typeof ONE_CONNECTION_SCENARIOS)[number], count: number, into: Measured): Promise<void> {
  const before = target.pid ? schedstat(target.pid) : undefined;
  const times = await oneAfterAnother(target.url, scenario.path, scenario.body, count);
  if (before) {
    const after = schedstat(target.pid!);
    into.cpuNs += after.cpuNs - before.cpuNs;
    into.waitNs += after.waitNs - before.waitNs;
  }
  into.times.push(...times);
  into.roundP99s.push(percentile(sortedCopy(times), 99));
}

/**
 * Part 0: each target's p50 and p99 over ROUNDS × PER_ROUND sequential requests, interleaved (who goes first
 * rotates), and the median of the per-round p99s, which one burst of other work on the machine moves less.
 */
async function personPace(targets: Record<string, Target>): Promise<void> {
  const ROUNDS = 10;
  const PER_ROUND = 300;
  const WARM_UP = 500;
  console.log(`\nOne connection, one request after another (${ROUNDS} interleaved rounds of ${PER_ROUND} per target, after ${WARM_UP} to warm up)`);
  console.log('| request | target | p50 ms | p99 ms | median of round p99s | added p50 / p99 / round-p99 median ms (to direct) | CPU µs/req | waiting for a CPU µs/req | load average, CPU stolen by the host |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const names = Object.keys(targets);
  // Every process freshly started compiles and settles during its first seconds: all of them first see every
  // request, so that the scenario measured first is not the one that pays for it.
  for (const scenario of ONE_CONNECTION_SCENARIOS) for (const who of names) await oneAfterAnother(targets[who]!.url, scenario.path, scenario.body, WARM_UP);
  for (const scenario of ONE_CONNECTION_SCENARIOS) {
    const measured: Record<string, Measured> = {};
    for (const who of names) {
      await oneAfterAnother(targets[who]!.url, scenario.path, scenario.body, WARM_UP);
      measured[who] = { times: [], roundP99s: [], cpuNs: 0, waitNs: 0 };
    }
    const loadBefore = loadAverage();
    const ticksBefore = machineTicks();
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
      for (const who of order) await measureRound(targets[who]!, scenario, PER_ROUND, measured[who]!);
    }
    const ticks = machineTicks();
    const load = `${loadBefore}–${loadAverage()}, steal ${((100 * (ticks.steal - ticksBefore.steal)) / (ticks.total - ticksBefore.total)).toFixed(1)}%`;
    const figures = Object.fromEntries(names.map((who) => [who, summary(measured[who]!)]));
    for (const who of names) {
      const f = figures[who]!;
      const d = figures.direct!;
      const added = who === 'direct' ? '' : `${(f.p50 - d.p50).toFixed(2)} / ${(f.p99 - d.p99).toFixed(2)} / ${(f.roundP99 - d.roundP99).toFixed(2)}`;
      const cpu = targets[who]!.pid ? `${f.cpuMicros.toFixed(0)} | ${f.waitMicros.toFixed(0)}` : '– | –';
      console.log(`| ${scenario.name} | ${who} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} | ${f.roundP99.toFixed(2)} | ${added} | ${cpu} | ${load} |`);
    }
  }
}

function summary(m: Measured) {
  const sorted = sortedCopy(m.times);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    roundP99: percentile(sortedCopy(m.roundP99s), 50),
    cpuMicros: m.cpuNs / m.times.length / 1000,
    waitMicros: m.waitNs / m.times.length / 1000,
  };
}

/** A metadata of about `bytes`: tables with select permissions, the shape that makes metadata big. */
function bigMetadata(bytes: number) {
  const table = (i: number) => ({
    table: { schema: 'public', name: `table_${i}` },
    select_permissions: [{ role: 'user', permission: { columns: ['id', 'name', 'created_at', 'owner_id'], filter: { owner_id: { _eq: 'X-Hasura-User-Id' } } } }],
  });
  const one = JSON.stringify(table(0)).length + 1;
  const tables = Array.from({ length: Math.ceil(bytes / one) }, (_, i) => table(i));
  return { version: 3, sources: [{ name: 'default', kind: 'postgres', tables }] };
}

const status = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function rssWhileInspecting(current: 'empty' | 'the same'): Promise<{ bodyMb: number; beforeMb: number; peakMb: number; status: number; ms: number }> {
  const metadata = bigMetadata(50 * 1024 * 1024);
  const body = Buffer.from(JSON.stringify({ type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: true, metadata } }));
  const dir = mkdtempSync(join(tmpdir(), 'guard-bench-export-'));
  const exportFile = join(dir, 'export.json');
  if (current === 'the same') writeFileSync(exportFile, JSON.stringify({ resource_version: 1, metadata }));
  const upstream = await startUpstream(current === 'the same' ? { EXPORT_FILE: exportFile } : {});
  const guard = await startGuard(upstream.url);
  try {
    const pid = guard.child.pid!;
    await fetch(`${guard.url}/v1/metadata`, { method: 'POST', headers: ADMIN, body: '{"type":"get_inconsistent_metadata","args":{}}' }); // load the door's code
    const beforeMb = status(pid, 'VmRSS');
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // reset the peak (VmHWM) to the current RSS
    const { hostname, port } = new URL(guard.url);
    const started = performance.now();
    const code = await new Promise<number>((resolve, reject) => {
      const req = request({ host: hostname, port, method: 'POST', path: '/v1/metadata', headers: { ...ADMIN, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
    return { bodyMb: body.length / 1024 / 1024, beforeMb, peakMb: status(pid, 'VmHWM'), status: code, ms: performance.now() - started };
  } finally {
    guard.stop();
    upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (f: Figures) => `p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms  ${Math.round(f.rps)} req/s`;

execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' }); // part 0 runs what the image runs
const upstream = await startUpstream();
const guard = await startGuard(upstream.url);
const imageGuard = await startImageGuard(upstream.url);
// BENCH_GUARD_NODE_ARGS: a second image guard with these node flags added, measured beside the first (part 0), to
// weigh a flag before it goes into the Dockerfile's CMD.
const flaggedArgs = nodeFlags(process.env.BENCH_GUARD_NODE_ARGS);
const flaggedGuard = flaggedArgs.length ? await startImageGuard(upstream.url, flaggedArgs) : undefined;
const bare = await startBare(upstream.url);
const nginx = await startNginx(upstream.url);
try {
  console.log(`node ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s per run, load average ${loadAverage()}${nginx ? `, ${spawnSync('nginx', ['-v']).stderr.toString().trim()}` : ''}`);
  if (!nginx) console.log('nginx is not installed here (apt-get install -y nginx-light): no nginx column.');
  const pidOf = (p: Proc) => ({ url: p.url, pid: p.child.pid });
  await personPace({ direct: { url: upstream.url }, guard: pidOf(imageGuard), ...(flaggedGuard ? { [`guard ${flaggedArgs.join(' ')}`]: pidOf(flaggedGuard) } : {}), 'http-proxy-3 alone': pidOf(bare), ...(nginx ? { nginx: pidOf(nginx) } : {}) });
  const onlyLatency = process.env.BENCH_PROXY === 'latency';
  for (const scenario of onlyLatency ? [] : SCENARIOS) {
    const direct = await load(upstream.url, scenario.path, scenario.body);
    const through = await load(guard.url, scenario.path, scenario.body);
    const viaBare = await load(bare.url, scenario.path, scenario.body);
    const viaNginx = nginx ? await load(nginx.url, scenario.path, scenario.body) : undefined;
    console.log(`\n${scenario.name}`);
    console.log(`  direct        ${fmt(direct)}`);
    console.log(`  guard         ${fmt(through)}   added p50 ${(through.p50 - direct.p50).toFixed(2)} ms, p99 ${(through.p99 - direct.p99).toFixed(2)} ms`);
    console.log(`  http-proxy-3  ${fmt(viaBare)}   added p50 ${(viaBare.p50 - direct.p50).toFixed(2)} ms, p99 ${(viaBare.p99 - direct.p99).toFixed(2)} ms (the library alone, no inspection)`);
    if (viaNginx) console.log(`  nginx         ${fmt(viaNginx)}   added p50 ${(viaNginx.p50 - direct.p50).toFixed(2)} ms, p99 ${(viaNginx.p99 - direct.p99).toFixed(2)} ms`);
  }
  for (const current of onlyLatency ? [] : (['empty', 'the same'] as const)) {
    const rss = await rssWhileInspecting(current);
    const growth = rss.peakMb - rss.beforeMb;
    console.log(
      `\n50 MB replace_metadata over ${current === 'empty' ? 'an empty metadata' : 'the same 50 MB metadata'}, inspected and diffed in ${(rss.ms / 1000).toFixed(1)} s (answer ${rss.status}: 200 forwarded, 400 held): body ${rss.bodyMb.toFixed(1)} MB, RSS ${rss.beforeMb.toFixed(0)} MB before, peak ${rss.peakMb.toFixed(0)} MB: growth ${growth.toFixed(0)} MB = ${(growth / rss.bodyMb).toFixed(2)}x the body (target <= 3x)`,
    );
  }
} finally {
  nginx?.stop();
  imageGuard.stop();
  flaggedGuard?.stop();
  guard.stop();
  bare.stop();
  upstream.stop();
}
