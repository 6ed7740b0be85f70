// npm run bench:ab -- '{"ENV":"a"}' '{"ENV":"b"}': alternates two configurations of the compiled server under the REST load
// (AB_ROUNDS rounds, 3 s each) and prints the median server CPU per request of each: an A/B that survives a noisy
// machine better than req/s. Used to weigh the audit log and metrics (docs/performance.md).
import { load, median, PROJECT, REST_VALIDATE, startNode } from './lib.js';
const [a, b] = [JSON.parse(process.argv[2] ?? '{}'), JSON.parse(process.argv[3] ?? '{}')];
const cpu: Record<'a' | 'b', number[]> = { a: [], b: [] };
const rps: Record<'a' | 'b', number[]> = { a: [], b: [] };
for (let i = 0; i < Number(process.env.AB_ROUNDS ?? 4); i++) {
  for (const which of i % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) {
    const s = await startNode(PROJECT, { NODE_ENV: 'production', ...(which === 'a' ? a : b) });
    await load(s, REST_VALIDATE, 1, 32);
    const r = await load(s, REST_VALIDATE, 3, 32);
    cpu[which].push(r.cpuPerRequest);
    rps[which].push(r.rps);
    await s.stop();
  }
}
console.log('A', JSON.stringify(a), 'cpu µs/req', median(cpu.a).toFixed(1), 'rps', median(rps.a).toFixed(0));
console.log('B', JSON.stringify(b), 'cpu µs/req', median(cpu.b).toFixed(1), 'rps', median(rps.b).toFixed(0));
