// npm run profile -- <rest|graphql|confirm>: a CPU profile of the compiled server under one benchmark scenario.
// Writes a .cpuprofile into ./profiles (open it in Chrome DevTools) and prints the top functions by self time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BENCH_ENV, confirmPair, freePort, graphqlValidate, REST_VALIDATE, ROOT, SECRET, selfTimeByFunction } from './lib.js';
import autocannon from 'autocannon';

const which = process.argv[2] ?? 'rest';
const scenario = which === 'graphql' ? graphqlValidate(false) : which === 'confirm' ? confirmPair('/validate-metadata-change', '/confirm-metadata-change') : REST_VALIDATE;
const dir = join(ROOT, 'profiles');
mkdirSync(dir, { recursive: true });
execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

const port = await freePort();
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/index.js'], {
  cwd: ROOT,
  env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', TOKEN_SECRET: SECRET, NODE_ENV: 'production', ...BENCH_ENV, ...JSON.parse(process.env.PROFILE_ENV ?? '{}') },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
while (!(await fetch(`${url}/ready`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 10));
await autocannon({ url, connections: 32, duration: 2, requests: scenario.requests }); // warm up
const before = new Set(readdirSync(dir));
const result = { rps: (await autocannon({ url, connections: 32, duration: 5, requests: scenario.requests })).requests.average };
await new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGINT');
});
const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.cpuprofile'))!;
console.log(`${scenario.name}: ${Math.round(result.rps)} req/s; profile: profiles/${file}`);

const self = selfTimeByFunction(join(dir, file));
const total = [...self.values()].reduce((a, b) => a + b, 0);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
