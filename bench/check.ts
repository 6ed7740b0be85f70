// How long `check` takes on a pull request that adds a 1 MB migration (test/fixtures/sql-migration.ts, 7,786
// statements) to Hasura's CLI test project, end to end as CI runs it: a process started, the project read at the
// branch and at its base (git archive), the migration analysed statement by statement with its lines, the metadata
// diffed, JSON written. Median of 5 runs (wall time, and CPU time, which a busy machine inflates less), from the sources (npm run check) and from the bundle (dist/cli/check.js,
// built first with npm run build). Run: npx tsx bench/check.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateMigration } from '../test/fixtures/sql-migration.js';
import { ROOT } from './lib.js';

const repo = mkdtempSync(join(tmpdir(), 'bench-check-'));
const project = join(repo, 'hasura');
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: repo });
cpSync(join(ROOT, 'test', 'fixtures', 'hasura-project'), project, { recursive: true });
git('init', '--quiet', '--initial-branch=main');
git('add', '-A');
git('commit', '--quiet', '-m', 'base');
const migration = generateMigration(1_000_000);
mkdirSync(join(project, 'migrations', 'pg', '1700000000000_big'), { recursive: true });
writeFileSync(join(project, 'migrations', 'pg', '1700000000000_big', 'up.sql'), migration.sql);
git('checkout', '--quiet', '-b', 'big');
git('add', '-A');
git('commit', '--quiet', '-m', 'a 1 MB migration');

/**
 * CPU time (user + system) of this process's children that have been waited for, from /proc/self/stat (cutime and
 * cstime, in clock ticks of 10 ms): the check process and the git and tar it ran. Steadier than wall time on a
 * shared machine.
 */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function measure(label: string, entry: string[]): void {
  const walls: number[] = [];
  const cpus: number[] = [];
  let changes = 0;
  for (let run = 0; run < 5; run += 1) {
    const cpuStart = childrenCpuMs();
    const start = performance.now();
    const done = spawnSync(process.execPath, [...entry, '--project', project, '--base', 'main', '--format', 'json'], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
    walls.push(performance.now() - start);
    cpus.push(childrenCpuMs() - cpuStart);
    if (done.status === 3 || done.status === null) throw new Error(`check failed: ${done.stderr.toString()}`);
    changes = JSON.parse(done.stdout.toString()).changes.length;
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]! / 1000;
  const runs = walls.map((w) => (w / 1000).toFixed(2)).join(', ');
  console.log(`${label.padEnd(36)} median ${median(walls).toFixed(2)} s wall, ${median(cpus).toFixed(2)} s CPU (wall runs: ${runs} s); ${changes} changes reported`);
}

console.log(`1 MB migration: ${(migration.sql.length / 1e6).toFixed(2)} MB, ${migration.statements} statements (node ${process.version})`);
try {
  measure('from the sources (npm run check)', ['--import', 'tsx', join(ROOT, 'src', 'cli', 'check.ts')]);
  const bundle = join(ROOT, 'dist', 'cli', 'check.js');
  if (existsSync(bundle)) measure('from the bundle (dist/cli/check.js)', [bundle]);
  else console.log('the bundle: not built (npm run build first)');
} finally {
  rmSync(repo, { recursive: true, force: true });
}
