// diffMetadata over a 1,000-table metadata (3 relationships, 4 permissions and an event trigger per table, plus
// actions and remote schemas), against a copy with a tenth of the tables gone and a tenth of the permissions
// changed. Prints the median of 10 runs. Target: ≤ 200 ms. Then the time to read a deeply nested 1 MB body.
// Run: npx tsx bench/analysis-diff.ts
import { performance } from 'node:perf_hooks';
import { parseHasuraJson, TABLES_IN_BYTES_FROM } from '../src/big-json/lazy-tables.js';
import { diffMetadata } from '../src/analysis/metadata-diff.js';

const TABLES = 1000;
const RUNS = 10;

function metadata(edited: boolean) {
  const tables = [];
  for (let index = 0; index < TABLES; index += 1) {
    if (edited && index % 10 === 0) continue;
    const table = { schema: 'public', name: `table_${index}` };
    const permission = (role: string) => ({
      role,
      permission: { columns: ['id', 'name', 'owner_id'], filter: { owner_id: { _eq: edited && index % 10 === 1 ? 'X-Hasura-Org-Id' : 'X-Hasura-User-Id' } } },
    });
    tables.push({
      table,
      object_relationships: [{ name: 'owner', using: { foreign_key_constraint_on: 'owner_id' } }],
      array_relationships: [
        { name: 'children', using: { foreign_key_constraint_on: { table: { schema: 'public', name: `table_${index + 1}` }, column: 'parent_id' } } },
        { name: 'events', using: { foreign_key_constraint_on: { table: { schema: 'public', name: 'events' }, column: 'table_id' } } },
      ],
      select_permissions: [permission('user'), permission('manager')],
      insert_permissions: [{ role: 'user', permission: { check: {}, columns: ['name'] } }],
      update_permissions: [{ role: 'user', permission: { filter: {}, columns: ['name'] } }],
      event_triggers: [{ name: `notify_${index}`, definition: { insert: { columns: '*' } }, webhook: 'http://hook' }],
    });
  }
  return {
    version: 3,
    sources: [{ name: 'default', kind: 'postgres', configuration: {}, tables }],
    actions: Array.from({ length: 50 }, (_, index) => ({ name: `action_${index}`, definition: { handler: 'http://a' }, permissions: [{ role: 'user' }] })),
    remote_schemas: Array.from({ length: 10 }, (_, index) => ({ name: `remote_${index}`, definition: { url: 'http://r' } })),
  };
}

const current = metadata(false);
const next = metadata(true);
// Wall time, and CPU time too: on a shared machine the wall clock also counts the time spent waiting for a CPU.
const wall: number[] = [];
const cpu: number[] = [];
let effects = 0;
for (let run = 0; run < RUNS; run += 1) {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  effects = diffMetadata(current, next).length;
  const used = process.cpuUsage(cpuStarted);
  cpu.push((used.user + used.system) / 1000);
  wall.push(performance.now() - started);
}
const median = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return ((sorted[RUNS / 2 - 1]! + sorted[RUNS / 2]!) / 2).toFixed(1);
};
console.log(`diffMetadata, ${TABLES} tables (${effects} effects), median of ${RUNS} runs: ${median(wall)} ms wall, ${median(cpu)} ms CPU`);

// The reader of big bodies (src/big-json/lazy-tables.ts) scans every request of 1 MB or more before its type is known,
// so its cost must grow with the size of the body only. A 1 MB body nested 30,000 and 60,000 deep: read in one pass,
// doubling the depth about doubles the time (a path copied at every value made it 7.9 s and four times that).
for (const depth of [30_000, 60_000]) {
  const deep = Buffer.from(`{"type":"replace_metadata","version":2,"args":{"metadata":${'['.repeat(depth)}${']'.repeat(depth)},"note":"${'x'.repeat(TABLES_IN_BYTES_FROM)}"}}`);
  const started = performance.now();
  parseHasuraJson(deep, 'request');
  console.log(`a ${(deep.length / 1e6).toFixed(1)} MB body nested ${depth} deep, read: ${(performance.now() - started).toFixed(1)} ms`);
}
