// vitest globalSetup: builds dist/ once, before any test file runs. The tests that start the compiled server
// (production, replicas) run in parallel and would otherwise each rebuild dist/ under the others' feet.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export async function setup() {
  await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: join(import.meta.dirname, '..', '..') });
}
