// npx tsx bench/proxy-profile.ts <pass|track|sql> [cpu|alloc|gc]: where the guard's work goes for one request of the
// latency bench (bench/proxy.ts, part 0), per request. The guard runs as the image runs it (the bundle, the
// Dockerfile's CMD and ENV) in front of the stand-in Hasura; one connection sends the request 1,000 times to warm up,
// then 4,000 times measured, one after another.
//   cpu:   a V8 CPU profile (100 µs sampling); the busy time per request and the functions by self time.
//   alloc: V8's sampling heap profiler, objects already collected included (bench/heap-sampler.mjs): the bytes
//          allocated per request and where. Fewer bytes per request means young collections come less often.
//   gc:    V8's own trace of each collection (--trace-gc) during the measured requests: how often and how long.
// PROFILE_NODE_ARGS='--flag …' adds node flags to the guard's command, to see what one changes.
// Writes its profile into ./profiles. Everything on 127.0.0.1; the processes stop when it ends.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, functionKey, nodeFlags, PROJECT_IMAGE_ENV, projectArgs, ROOT, SECRET, selfTimeByFunction, type CallFrame } from './lib.js';
import { ONE_CONNECTION_SCENARIOS, oneAfterAnother } from './proxy-scenarios.js';

const WARM_UP = 1000;
const MEASURED = 4000;
const SCENARIO_BY_NAME = { pass: ONE_CONNECTION_SCENARIOS[0]!, track: ONE_CONNECTION_SCENARIOS[1]!, sql: ONE_CONNECTION_SCENARIOS[2]! };

const which = (process.argv[2] ?? 'sql') as keyof typeof SCENARIO_BY_NAME;
const mode = process.argv[3] ?? 'cpu';
const scenario = SCENARIO_BY_NAME[which];
if (!scenario || !['cpu', 'alloc', 'gc'].includes(mode)) throw new Error('usage: npx tsx bench/proxy-profile.ts <pass|track|sql> [cpu|alloc|gc]');
const dir = join(ROOT, 'profiles');
mkdirSync(dir, { recursive: true });
const samplesFile = join(dir, `heap-${which}-${Date.now()}.heapprofile`);
execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

/** Spawns `node ARGS` on a free port and resolves once `path` answers. */
async function start(args: string[], env: Record<string, string>, path: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; !(await fetch(`${url}${path}`).then((r) => r.status < 500, () => false)); attempt++) {
    if (attempt > 500) throw new Error(`${args.join(' ')} did not answer ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url, child };
}

const stopped = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });

const upstream = await start(['bench/proxy-upstream.mjs'], {}, '/');
const PROFILING: Record<string, string[]> = {
  cpu: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'],
  alloc: ['--import', './bench/heap-sampler.mjs'],
  gc: ['--trace-gc'],
};
const profiling = PROFILING[mode]!;
const guard = await start(
  projectArgs([...profiling, ...nodeFlags(process.env.PROFILE_NODE_ARGS)]),
  { ...PROJECT_IMAGE_ENV, HASURA_URL: upstream.url, ACTION_SECRET: SECRET, GUARD_ENVIRONMENT: 'production', TOKEN_SECRET: SECRET, HEAP_SAMPLES_FILE: samplesFile },
  '/ready',
);
const cpuProfilesBefore = new Set(readdirSync(dir));
let output = '';
try {
  await oneAfterAnother(guard.url, scenario.path, scenario.body, WARM_UP);
  if (mode === 'alloc') await signalAndWaitFor(guard.child, `${samplesFile}.started`);
  // --trace-gc writes one line per collection to stdout, among the audit lines.
  if (mode === 'gc') guard.child.stdout!.on('data', (chunk: Buffer) => (output += String(chunk)));
  await oneAfterAnother(guard.url, scenario.path, scenario.body, MEASURED);
  if (mode === 'alloc') await signalAndWaitFor(guard.child, samplesFile);
} finally {
  await stopped(guard.child, 'SIGINT'); // the guard's graceful exit writes the CPU profile
  upstream.child.kill();
  rmSync(`${samplesFile}.started`, { force: true });
}

console.log(`${scenario.name}, ${MEASURED} requests, node ${process.version}`);
if (mode === 'cpu') summariseCpu(join(dir, readdirSync(dir).find((f) => !cpuProfilesBefore.has(f) && f.endsWith('.cpuprofile'))!));
else if (mode === 'alloc') summariseAllocations(samplesFile);
else summariseCollections(output.split('\n').filter((line) => / ms: (Scavenge|Minor|Mark-Compact)/.test(line)));

/** Sends SIGUSR2 to the sampler in the guard and waits until it has written `file` (bench/heap-sampler.mjs). */
async function signalAndWaitFor(child: ChildProcess, file: string): Promise<void> {
  child.kill('SIGUSR2');
  for (let attempt = 0; !existsSync(file); attempt++) {
    if (attempt > 200) throw new Error(`the heap sampler did not write ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The 25 largest totals, each per measured request. */
function top(totals: Map<string, number>, unit: string): void {
  for (const [key, value] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(value / MEASURED).toFixed(1).padStart(8)} ${unit}  ${key}`);
}

function summariseCpu(file: string): void {
  // The profile spans the whole process, start-up and warm-up included: a ceiling for the measured requests.
  const self = selfTimeByFunction(file);
  self.delete('(idle) :-1');
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`busy ${(busy / (MEASURED + WARM_UP)).toFixed(0)} µs per request over the warm-up and the measured requests; profile: ${file}`);
  top(new Map([...self].map(([key, us]) => [key, (us * MEASURED) / (MEASURED + WARM_UP)])), 'µs');
}

function summariseAllocations(file: string): void {
  type HeapNode = { callFrame: CallFrame; selfSize: number; children: HeapNode[] };
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const self = new Map<string, number>();
  const walk = (node: HeapNode) => {
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + node.selfSize / 1024);
    node.children.forEach(walk);
  };
  walk(head);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`allocated ${(total / MEASURED).toFixed(1)} kB per request; profile: ${file}`);
  top(self, 'kB');
}

/** `[pid:0x…]  1234 ms: Scavenge 9.1 (12.3) -> 8.2 (12.3) MB, pooled: 0 MB, 0.85 / 0.00 ms  (average mu = …` */
function summariseCollections(lines: string[]): void {
  const byKind = new Map<string, number[]>();
  for (const line of lines) {
    const kind = /\] +[\d.]+ ms: ([A-Za-z-]+)/.exec(line)?.[1] ?? 'other';
    const ms = Number(/MB,(?: pooled: [\d.]+ MB,)? ([\d.]+) \/ [\d.]+ ms/.exec(line)?.[1] ?? NaN);
    byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
  }
  console.log(`collections during ${MEASURED} measured requests (the guard's main-thread pause of each; the last: ${lines.at(-1)?.replace(/^\[[^\]]*\] */, '').replace(/ \(average mu.*$/, '')}):`);
  for (const [kind, pauses] of byKind) {
    const sorted = pauses.filter((ms) => !Number.isNaN(ms)).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(2) ?? '–';
    console.log(`  ${kind}: ${pauses.length} (one per ${Math.round(MEASURED / pauses.length)} requests), pause median ${at(0.5)} ms, max ${at(1)} ms`);
  }
}
