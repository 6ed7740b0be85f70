// npm run bench:ab -- '{"ENV":"a"}' '{"ENV":"b"}': alternates two configurations of the compiled server under one
// load (AB_ROUNDS rounds, 3 s each) and prints the median server CPU per request of each: an A/B that survives a
// noisy machine better than req/s. Used to weigh the audit log and metrics (docs/performance.md).
//   AB_A_FILE / AB_B_FILE: two builds instead of one (`cp -r dist dist-a` before a change, then `npm run build`);
//   AB_SCENARIO: rest (default) or graphql.
import { graphqlValidate, load, median, PROJECT, REST_VALIDATE, startNode } from './lib.js';
const [a, b] = [JSON.parse(process.argv[2] ?? '{}'), JSON.parse(process.argv[3] ?? '{}')];
const files = { a: process.env.AB_A_FILE ?? PROJECT, b: process.env.AB_B_FILE ?? PROJECT };
const scenario = process.env.AB_SCENARIO === 'graphql' ? graphqlValidate(false) : REST_VALIDATE;
const cpu: Record<'a' | 'b', number[]> = { a: [], b: [] };
const rps: Record<'a' | 'b', number[]> = { a: [], b: [] };
for (let i = 0; i < Number(process.env.AB_ROUNDS ?? 4); i++) {
  for (const which of i % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) {
    const s = await startNode(files[which], { NODE_ENV: 'production', ...(which === 'a' ? a : b) });
    await load(s, scenario, 1, 32);
    const r = await load(s, scenario, 3, 32);
    cpu[which].push(r.cpuPerRequest);
    rps[which].push(r.rps);
    await s.stop();
  }
}
console.log(`${scenario.name}, node ${process.version}`);
console.log('A', files.a, JSON.stringify(a), 'cpu µs/req', median(cpu.a).toFixed(1), 'rps', median(rps.a).toFixed(0));
console.log('B', files.b, JSON.stringify(b), 'cpu µs/req', median(cpu.b).toFixed(1), 'rps', median(rps.b).toFixed(0));
