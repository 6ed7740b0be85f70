// Issue 23's crash bodies against the guard in enforcing mode: `npx tsx bench/crash-bodies.ts`.
// For each load, the guard's peak RSS growth (VmHWM, reset just before, minus RSS before) and the latency of /health
// polled one request at a time while the bodies are judged (p50, max), next to /health with no load in the same run.
// The bodies: 42 MB of `{"type":"bulk","args":[{},{},…]}` gzipped to 41 kB, the 5 MB one gzipped to 5 kB, the 42 MB
// one uncompressed, four at once, each with a made-up admin secret (which gets the full bounds) and without; then
// bodies at the default bounds (judged), to show what the bounds still allow. Also the compression ratios of a
// repetitive metadata, which MAX_COMPRESSION_RATIO must stay above. 127.0.0.1 only; stops by itself.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { freePort, ROOT, SECRET } from './lib.js';

const crashBody = (requests: number) => Buffer.from(`{"type":"bulk","args":[${'{},'.repeat(requests - 1)}{}]}`);
const status = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function send(url: string, path: string, method: string, headers: Record<string, string | number>, body?: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts `node args…` on a free port of 127.0.0.1, once it prints "listening". */
async function startProcess(args: string[], env: Record<string, string>): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill() };
}

interface Sample {
  statuses: number[];
  ms: number;
  growthMb: number;
  healthP50: number;
  healthMax: number;
  healthCount: number;
}

/** Sends the bodies at once while /health is polled back to back; the guard's peak RSS growth and /health latencies. */
async function measure(guard: { url: string; pid: number }, bodies: { headers: Record<string, string | number>; body: Buffer; path?: string }[]): Promise<Sample> {
  const beforeMb = status(guard.pid, 'VmRSS');
  writeFileSync(`/proc/${guard.pid}/clear_refs`, '5'); // reset the peak (VmHWM) to the current RSS
  const latencies: number[] = [];
  let done = false;
  const poll = (async () => {
    do {
      const started = performance.now();
      await send(guard.url, '/health', 'GET', {});
      latencies.push(performance.now() - started);
    } while (!done);
  })();
  const started = performance.now();
  const statuses = await Promise.all(bodies.map(({ headers, body, path }) => send(guard.url, path ?? '/v1/metadata', 'POST', { ...headers, 'content-length': body.length }, body)));
  const ms = performance.now() - started;
  done = true;
  await poll;
  const sorted = [...latencies].sort((a, b) => a - b);
  return { statuses, ms, growthMb: status(guard.pid, 'VmHWM') - beforeMb, healthP50: sorted[Math.floor(sorted.length / 2)]!, healthMax: sorted.at(-1)!, healthCount: sorted.length };
}

async function healthAlone(guard: { url: string }, count: number): Promise<{ p50: number; max: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await send(guard.url, '/health', 'GET', {});
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(count / 2)]!, max: latencies.at(-1)! };
}

const json = { 'content-type': 'application/json' };
const madeUp = { ...json, 'x-hasura-admin-secret': 'made-up' };
const gzipped = { 'content-encoding': 'gzip' };
const big = crashBody(14_000_000);
const bigGzip = gzipSync(big, { level: 9 });
const smallGzip = gzipSync(crashBody(1_700_000), { level: 9 });
// Bodies at the default bounds, judged: what one request may still cost. 100,000 requests in a bulk (tracking a
// table each: about 700,000 values), and a million values that are no request (a read-only run_sql carrying them).
const atRequests = Buffer.from(
  JSON.stringify({ type: 'bulk', args: Array.from({ length: 100_000 }, (_, i) => ({ type: 'pg_track_table', args: { source: 'default', table: { schema: 'public', name: `t${i}` } } })) }),
);
const atValues = Buffer.from(JSON.stringify({ type: 'run_sql', args: { sql: 'select 1', read_only: true, x: Array(999_990).fill(0) } }));

const LOADS: [string, { headers: Record<string, string | number>; body: Buffer; path?: string }[]][] = [
  [`41 kB gzip -> 42 MB, made-up secret (${bigGzip.length} B)`, [{ headers: { ...madeUp, ...gzipped }, body: bigGzip }]],
  [`5 kB gzip -> 5 MB, made-up secret (${smallGzip.length} B)`, [{ headers: { ...madeUp, ...gzipped }, body: smallGzip }]],
  ['41 kB gzip -> 42 MB, no credentials', [{ headers: { ...json, ...gzipped }, body: bigGzip }]],
  ['42 MB uncompressed, made-up secret', [{ headers: madeUp, body: big }]],
  ['four at once: 41 kB gzip x2, 5 kB gzip, 42 MB raw', [
    { headers: { ...madeUp, ...gzipped }, body: bigGzip },
    { headers: { ...json, ...gzipped }, body: bigGzip },
    { headers: { ...madeUp, ...gzipped }, body: smallGzip },
    { headers: madeUp, body: big },
  ]],
  [`at the bounds: a bulk of 100,000 pg_track_table, ${(atRequests.length / 1e6).toFixed(1)} MB, judged and forwarded`, [{ headers: madeUp, body: atRequests }]],
  [`at the bounds: a read-only run_sql carrying 1,000,000 values, ${(atValues.length / 1e6).toFixed(1)} MB, judged and forwarded`, [{ headers: madeUp, body: atValues, path: '/v2/query' }]],
];

const upstream = await startProcess(['bench/proxy-upstream.mjs'], {});
const guard = await startProcess(['--import', 'tsx', 'bench/proxy-guard.ts'], { HASURA_URL: upstream.url, GUARD_ENVIRONMENT: 'production', TOKEN_SECRET: SECRET });
try {
  console.log(`node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
  await send(guard.url, '/v1/metadata', 'POST', madeUp, Buffer.from('{"type":"bulk","args":[]}')); // load the door's code
  const baseline = await healthAlone(guard, 200);
  console.log(`/health alone (200 sequential): p50 ${baseline.p50.toFixed(2)} ms, max ${baseline.max.toFixed(2)} ms`);
  for (const [name, bodies] of LOADS) {
    const s = await measure(guard, bodies);
    console.log(
      `${name}: answers ${s.statuses.join(',')} in ${s.ms.toFixed(0)} ms; peak RSS growth ${s.growthMb.toFixed(0)} MB; /health during (${s.healthCount}): p50 ${s.healthP50.toFixed(2)} ms, max ${s.healthMax.toFixed(0)} ms`,
    );
  }
} finally {
  guard.stop();
  upstream.stop();
}

// MAX_COMPRESSION_RATIO (src/http/decode-body.ts) against the most repetitive metadata the proxy bench makes, 10 MB of
// it (brotli at its best quality is slow: minutes on the whole 50 MB).
const table = (i: number) => ({
  table: { schema: 'public', name: `table_${i}` },
  select_permissions: [{ role: 'user', permission: { columns: ['id', 'name', 'created_at', 'owner_id'], filter: { owner_id: { _eq: 'X-Hasura-User-Id' } } } }],
});
const metadata = Buffer.from(JSON.stringify({ type: 'replace_metadata', version: 2, args: { metadata: { version: 3, sources: [{ name: 'default', kind: 'postgres', tables: Array.from({ length: 53_000 }, (_, i) => table(i)) }] } } }));
const ratio = (compressed: Buffer) => (metadata.length / compressed.length).toFixed(0);
console.log(
  `compression of a ${(metadata.length / 1e6).toFixed(0)} MB replace_metadata: gzip -9 ${ratio(gzipSync(metadata, { level: 9 }))}:1, brotli ${ratio(brotliCompressSync(metadata, { params: { [constants.BROTLI_PARAM_SIZE_HINT]: metadata.length } }))}:1; the crash bodies ${(big.length / bigGzip.length).toFixed(0)}:1`,
);
