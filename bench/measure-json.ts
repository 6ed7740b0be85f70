// The pre-scan of an inspected body (measureJson, src/big-json/measure.ts), which also looks for a key said twice,
// beside JSON.parse of the same bytes: `npx tsx bench/measure-json.ts`. Two bodies: a replace_metadata of 120,000
// tables (39 MB), and the worst case within the bounds, one object of a million keys (12 MB). Median of 7 each.
import { measureJson } from '../src/big-json/measure.js';

const permission = { role: 'user', permission: { columns: ['id', 'name', 'created_at'], filter: { owner_id: { _eq: 'X-Hasura-User-Id' } } } };
const tables = Array.from({ length: 120_000 }, (_, i) => ({ table: { schema: 'public', name: `t${i}` }, select_permissions: [permission], insert_permissions: [permission] }));
const keys = Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":0`).join(',');
const bodies = {
  'replace_metadata, 120,000 tables': Buffer.from(JSON.stringify({ type: 'replace_metadata', version: 2, args: { metadata: { version: 3, sources: [{ name: 'default', kind: 'postgres', tables }] } } })),
  'one object of a million keys': Buffer.from(`{"type":"run_sql","args":{"sql":"SELECT 1","read_only":true,"x":{${keys}}}}`),
};

const medianMs = (run: () => unknown) => {
  const times = Array.from({ length: 7 }, () => {
    const start = performance.now();
    run();
    return performance.now() - start;
  });
  return times.sort((a, b) => a - b)[3]!;
};

console.log(`node ${process.version}\n\n| body | MB | measureJson ms | JSON.parse ms |\n|---|---:|---:|---:|`);
for (const [name, bytes] of Object.entries(bodies)) {
  const scan = medianMs(() => measureJson(bytes));
  const parse = medianMs(() => JSON.parse(bytes.toString('utf8')));
  console.log(`| ${name} | ${(bytes.length / 1e6).toFixed(1)} | ${scan.toFixed(0)} | ${parse.toFixed(0)} |`);
}
