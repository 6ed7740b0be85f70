// npm run perf -- <rest|graphql>: where the CPU of one request goes, kernel included, for the compiled server
// and the reference, measured the same way: Linux `perf record` (cpu-clock samples, call graphs) on each server
// process under the same autocannon load, node started with --perf-basic-prof-only-functions so JIT frames have
// names. Prints µs per request in user space and in the kernel, and the kernel functions whose share differs
// most. Needs `perf` (Debian: linux-perf) and permission to attach to a process (root, or perf_event_paranoid ≤ 1).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_ENV, freePort, graphqlValidate, REST_VALIDATE, ROOT, SECRET } from './lib.js';

const which = process.argv[2] ?? 'rest';
const dir = mkdtempSync(join(tmpdir(), 'guard-perf-'));
execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

type Profile = { requests: number; rps: number; user: number; kernel: number; kernelSymbols: Map<string, number> };

async function record(name: string, file: string, forReference: boolean): Promise<Profile> {
  const scenario = which === 'graphql' ? graphqlValidate(forReference) : REST_VALIDATE;
  const port = await freePort();
  const child = spawn(process.execPath, ['--perf-basic-prof-only-functions', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', TOKEN_SECRET: SECRET, NODE_ENV: 'production', ...BENCH_ENV },
    stdio: ['ignore', 'pipe', 'inherit'], // the audit log drained by this process, as in npm run bench
  });
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  while (!(await fetch(`${url}/health`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 10));
  await autocannon({ url, connections: 32, duration: 2, requests: scenario.requests }); // warm up
  const data = join(dir, `${name}.data`);
  const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '4999', '-g', '-p', String(child.pid), '-o', data], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const result = await autocannon({ url, connections: 32, duration: 4, requests: scenario.requests });
  perf.kill('SIGINT');
  await new Promise((r) => perf.once('exit', r));
  child.kill('SIGKILL');

  const report = execFileSync('perf', ['report', '-i', data, '--no-children', '--sort', 'dso,sym', '--stdio', '-g', 'none', '-n'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const totalNs = Number(/# Event count \(approx\.\): (\d+)/.exec(report)![1]);
  const perRequest = (percent: number) => (percent / 100) * (totalNs / 1000 / result.requests.total);
  let user = 0;
  let kernel = 0;
  const kernelSymbols = new Map<string, number>();
  for (const line of report.split('\n')) {
    const m = /^\s+([\d.]+)%\s+\d+\s+(\S+)\s+\[(.)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const us = perRequest(Number(m[1]));
    if (m[3] === 'k') {
      kernel += us;
      kernelSymbols.set(m[4]!.trim(), us);
    } else user += us;
  }
  return { requests: result.requests.total, rps: result.requests.average, user, kernel, kernelSymbols };
}

const project = await record('project', 'dist/index.js', false);
const reference = await record('reference', 'bench/reference-server.mjs', true);
const f = (n: number) => n.toFixed(1).padStart(6);
console.log(`\n${which}: CPU µs per request (perf samples; sampling itself adds a little to both)`);
console.log(`             user   kernel   req/s`);
console.log(`project    ${f(project.user)}  ${f(project.kernel)}   ${Math.round(project.rps)}`);
console.log(`reference  ${f(reference.user)}  ${f(reference.kernel)}   ${Math.round(reference.rps)}`);
console.log('\nkernel functions, project − reference (µs per request):');
const names = new Set([...project.kernelSymbols.keys(), ...reference.kernelSymbols.keys()]);
const diffs = [...names].map((n) => [n, (project.kernelSymbols.get(n) ?? 0) - (reference.kernelSymbols.get(n) ?? 0)] as const);
for (const [n, d] of diffs.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 6)) console.log(`${f(d)}  ${n}`);
console.log(`\nperf data in ${dir}: perf report -i ${dir}/project.data -G shows who calls them.`);
