// How long the SQL analyser takes: loading the WebAssembly parser (once per process, on first use) and analysing
// a generated 1 MB migration (median of 10 runs after one warm-up). Run: npx tsx bench/analysis-sql.ts
import { performance } from 'node:perf_hooks';
import { parseSync } from 'libpg-query';
import { analyzeSql, loadSqlParser } from '../src/analysis/sql.js';
import { generateMigration } from '../test/fixtures/sql-migration.js';

const loadStart = performance.now();
await loadSqlParser();
const loadMs = performance.now() - loadStart;

const migration = generateMigration(1_000_000);
analyzeSql(migration.sql); // warm-up: the first run also compiles the hot paths

// Wall time suffers when other processes share the CPUs; CPU time (user + system) of this process is steadier.
async function measure(work: () => unknown): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let run = 0; run < 10; run += 1) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await work();
    walls.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return (sorted[4]! + sorted[5]!) / 2;
  };
  return { wall: median(walls), cpu: median(cpus) };
}

const effects = analyzeSql(migration.sql).length;
const analysis = await measure(() => analyzeSql(migration.sql));
const parseOnly = await measure(() => parseSync(migration.sql));

const rss = process.memoryUsage().rss;

console.log(`parser load:              ${loadMs.toFixed(1)} ms`);
console.log(`1 MB migration:           ${(migration.sql.length / 1e6).toFixed(2)} MB, ${migration.statements} statements, ${effects} effects`);
console.log(`analysis, median of 10:   ${analysis.wall.toFixed(1)} ms wall, ${analysis.cpu.toFixed(1)} ms CPU`);
console.log(`of which parsing (libpg-query parseSync alone): ${parseOnly.wall.toFixed(1)} ms wall, ${parseOnly.cpu.toFixed(1)} ms CPU`);
console.log(`process RSS after the runs: ${(rss / 1e6).toFixed(0)} MB (node ${process.version})`);
