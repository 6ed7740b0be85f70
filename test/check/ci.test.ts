// The GitHub Actions workflow and the GitLab CI job of docs/check.md: both parse, run on pull requests with the
// history --base needs, and their `check` command lines, run with the variables the CI sets, do what the page says
// on a pull request in a temporary repository.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProjectRepo, type ProjectRepo } from './project-repo.js';

// Each test starts one or two check processes (tsx compiles on start: 2-5 s each on a machine shared with other jobs).
vi.setConfig({ testTimeout: 60_000 });

const WORKTREE = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = readFileSync(join(WORKTREE, 'docs', 'check.md'), 'utf8');

function yamlBlock(marker: string): any {
  const block = new RegExp(`<!-- ${marker} -->\\n\`\`\`yaml\\n([\\s\\S]*?)\`\`\`\\n<!-- /${marker} -->`).exec(DOC);
  if (!block) throw new Error(`docs/check.md has no ${marker} block`);
  return load(block[1]!);
}

/** A CI step's shell line, run as the CI runs it (bash, -e, pipefail) from the guard's clone. */
function runStep(command: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', command], {
      cwd: WORKTREE,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

let repo: ProjectRepo;
beforeEach(() => {
  repo = createProjectRepo();
  repo.git('update-ref', 'refs/remotes/origin/main', 'main'); // what the checkout with fetch-depth 0 has
  repo.git('checkout', '--quiet', '-b', 'pull-request');
});
afterEach(() => repo.dispose());

const dropGenres = () => {
  repo.write('migrations/pg/1700000000000_drop_genres/up.sql', 'DROP TABLE genres;\n');
  repo.commit('drop genres');
};
const dropSchema = () => {
  repo.write('migrations/pg/1700000000000_reset/up.sql', 'DROP SCHEMA public CASCADE;\n');
  repo.commit('reset');
};

describe('the GitHub Actions workflow', () => {
  const workflow = yamlBlock('github-workflow');
  const steps: Array<Record<string, any>> = workflow.jobs['hasura-check'].steps;
  const checkStep = steps.find((step) => String(step.run ?? '').includes('npm run -s check'))!;
  const env = () => ({ GITHUB_WORKSPACE: repo.root, GITHUB_BASE_REF: 'main' });

  it('runs on pull requests, with the whole history checked out', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
    expect(checkStep['working-directory']).toBe('.guard');
  });

  it('passes with warnings at each line when something needs a confirmation', async () => {
    dropGenres();
    const run = await runStep(checkStep.run, env());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^::warning file=hasura\/migrations\/pg\/1700000000000_drop_genres\/up\.sql,line=1,.*drops table pg\.genres/m);
  });

  it('fails when something is denied', async () => {
    dropSchema();
    const run = await runStep(checkStep.run, env());
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^::error file=hasura\/migrations\/pg\/1700000000000_reset\/up\.sql,line=1,/m);
  });
});

describe('the GitLab CI job', () => {
  const job = yamlBlock('gitlab-job')['hasura-check'];
  const checkLine: string = job.script.find((line: string) => line.includes('npm run -s check'));
  const env = () => ({ CI_PROJECT_DIR: repo.root, CI_MERGE_REQUEST_DIFF_BASE_SHA: repo.git('rev-parse', 'main').trim() });

  it('runs on merge requests, with the whole history, and lets "needs a confirmation" through as a warning', () => {
    expect(job.rules[0].if).toBe('$CI_PIPELINE_SOURCE == "merge_request_event"');
    expect(job.variables.GIT_DEPTH).toBe(0);
    expect(job.allow_failure).toEqual({ exit_codes: [1] });
  });

  it('exits 1 with the Markdown table printed and kept as an artifact', async () => {
    dropGenres();
    const run = await runStep(checkLine, env());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('| ⚠️ confirm | drops table pg.genres | `hasura/migrations/pg/1700000000000_drop_genres/up.sql:1` |');
    expect(readFileSync(join(repo.root, job.artifacts.paths[0]), 'utf8')).toBe(run.stdout);
  });

  it('exits 2 when something is denied', async () => {
    dropSchema();
    expect((await runStep(checkLine, env())).code).toBe(2);
  });
});
