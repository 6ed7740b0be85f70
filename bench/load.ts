// npm run load: hammers validate + confirm on 127.0.0.1 for a bounded time and checks that nothing fails and
// that the replay memory stays bounded. Exits 1 when a check fails. LOAD_SECONDS (30), LOAD_CONNECTIONS (32).
//  1. TTL 10 s: every confirm spends a fresh token; ids must be evicted as they expire, so the cache holds at
//     most about rate × (TTL + 5 s tolerance) ids however long the run.
//  2. REPLAY_CACHE_MAX=1000, TTL 300 s: the cap holds; confirmations past it are refused (200, success:false),
//     never an error, and no id is forgotten early.
import { execFileSync } from 'node:child_process';
import { confirmPair, load, ROOT, startNode, type ServerProcess } from './lib.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 32);
const log = (line: string) => process.stdout.write(`${line}\n`);
let failed = false;
const check = (ok: boolean, what: string) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed = true;
};

async function replayEntries(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^guard_replay_cache_entries (\d+)/m.exec(text)![1]);
}

/** Runs the load while sampling the replay cache and RSS every 500 ms. */
async function run(server: ServerProcess, seconds: number) {
  const counters = { confirmed: 0, refused: 0 };
  const samples: { entries: number; rss: number }[] = [];
  const sampler = setInterval(async () => samples.push({ entries: await replayEntries(server), rss: server.rssMb() }), 500);
  const result = await load(server, confirmPair('/validate-metadata-change', '/confirm-metadata-change', counters), seconds, CONNECTIONS);
  clearInterval(sampler);
  samples.push({ entries: await replayEntries(server), rss: server.rssMb() });
  return { result, counters, samples };
}

execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
log(`# load: ${SECONDS} s of validate + confirm pairs at ${CONNECTIONS} connections, 127.0.0.1\n`);

{
  const ttl = 10;
  const server = await startNode('dist/index.js', { NODE_ENV: 'production', TOKEN_TTL_SECONDS: String(ttl) });
  const { result, counters, samples } = await run(server, SECONDS);
  await server.stop();
  const perSecond = counters.confirmed / SECONDS;
  const bound = Math.ceil(perSecond * (ttl + 5 + 1) * 1.1);
  const peak = Math.max(...samples.map((s) => s.entries));
  log(`phase 1 (TTL ${ttl} s): ${result.requests} requests, ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
  log(`  confirmed ${counters.confirmed} (${Math.round(perSecond)}/s), refused ${counters.refused}; replay cache peak ${peak}, last ${samples.at(-1)!.entries}; RSS peak ${Math.round(Math.max(...samples.map((s) => s.rss)))} MB`);
  check(result.errors === 0 && result.non2xx === 0, `no errors (${result.errors} socket errors/timeouts, ${result.non2xx} non-2xx)`);
  check(counters.refused === 0, 'every fresh token confirmed once');
  check(peak <= bound, `replay cache bounded by expiry: peak ${peak} ≤ rate × (TTL + 6 s) × 1.1 = ${bound}`);
  if (SECONDS > ttl + 10) {
    const late = samples.slice(Math.floor(samples.length / 2));
    check(Math.max(...late.map((s) => s.entries)) <= bound, 'the second half of the run never exceeds the bound either (ids are evicted, not piling up)');
  }
}

{
  const server = await startNode('dist/index.js', { NODE_ENV: 'production', REPLAY_CACHE_MAX: '1000' });
  const { result, counters, samples } = await run(server, Math.min(SECONDS, 5));
  await server.stop();
  const peak = Math.max(...samples.map((s) => s.entries));
  log(`phase 2 (REPLAY_CACHE_MAX 1000, TTL 300 s): ${result.requests} requests; confirmed ${counters.confirmed}, refused ${counters.refused} (cache full); cache peak ${peak}`);
  check(result.errors === 0 && result.non2xx === 0, `no errors once the cap is reached (${result.errors} errors, ${result.non2xx} non-2xx)`);
  check(peak === 1000 && counters.confirmed === 1000, 'the cap holds at exactly 1000 ids, and exactly 1000 confirmations went through');
}

process.exit(failed ? 1 : 0);
