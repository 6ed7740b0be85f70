// The README's five-minute tour, run as a reader would paste it: every command of the block between
// <!-- tour --> and <!-- /tour --> runs in one bash session against a started server (development defaults, as
// `npm start`), and the line `# → …` under a command is text its output must contain.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

interface Step {
  command: string;
  expected: string[];
}

function tourSteps(): Step[] {
  const tour = /<!-- tour -->\s*```sh\n([\s\S]*?)```\s*<!-- \/tour -->/.exec(README)?.[1];
  if (!tour) throw new Error('README.md has no <!-- tour --> block');
  return tour
    .split(/\n\s*\n/)
    .map((chunk) => {
      const lines = chunk.split('\n');
      return {
        command: lines.filter((l) => !l.trimStart().startsWith('#')).join('\n').trim(),
        expected: lines.filter((l) => l.trimStart().startsWith('# →')).map((l) => l.trimStart().slice('# →'.length).trim()),
      };
    })
    .filter((step) => step.command !== '');
}

/** curl if the machine has it, else the stand-in on PATH. */
function pathWithCurl(): string {
  if (spawnSync('curl', ['--version']).status === 0) return process.env.PATH!;
  const bin = mkdtempSync(join(tmpdir(), 'tour-bin-'));
  copyFileSync(new URL('./support/curl-shim.mjs', import.meta.url), join(bin, 'curl'));
  chmodSync(join(bin, 'curl'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

function runBash(script: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let server: TestServer;
beforeAll(async () => {
  // What `npm start` gives a newcomer: development defaults, no secret, no pinned environment.
  server = await startTestServer({ TOKEN_SECRET: 'tour-secret-that-is-long-enough-0123456789' });
  await server.app.warmUp();
});
afterAll(() => server.close());

describe("the README's tour", () => {
  it('has steps, each saying what to expect', () => {
    const steps = tourSteps();
    expect(steps.length).toBeGreaterThanOrEqual(5);
    for (const step of steps) expect(step.expected.length, step.command).toBeGreaterThan(0);
  });

  it('runs as written: every command succeeds and prints what the README says', async () => {
    const steps = tourSteps();
    const address = server.url.replace(/^http:\/\//, '');
    const separator = '@@@ step done @@@';
    const script = ['set -euo pipefail', ...steps.map((s) => `${s.command.replaceAll('localhost:3000', address)}\necho; echo '${separator}'`)].join('\n');
    // Asynchronously: the server answering these commands runs in this very process.
    const run = await runBash(script, { PATH: pathWithCurl(), HOME: process.env.HOME ?? '/tmp' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const outputs = run.stdout.split(separator);
    steps.forEach((step, i) => {
      for (const text of step.expected) expect(outputs[i], `step ${i + 1}: ${step.command}`).toContain(text);
    });
  });
});
