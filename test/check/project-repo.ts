// A temporary git repository holding Hasura's own CLI project (test/fixtures/hasura-project) under `hasura/`, as a
// team's repository would, and `check` run on it as a process, the way CI runs it.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKTREE = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(WORKTREE, 'test', 'fixtures', 'hasura-project');

export interface ProjectRepo {
  root: string;
  /** The project's directory, `<root>/hasura`. */
  project: string;
  /** Writes a file of the project (path relative to the project). */
  write(path: string, content: string): void;
  read(path: string): string;
  remove(path: string): void;
  commit(message: string): void;
  git(...args: string[]): string;
  dispose(): void;
}

export function createProjectRepo(): ProjectRepo {
  const root = mkdtempSync(join(tmpdir(), 'check-repo-'));
  const project = join(root, 'hasura');
  cpSync(FIXTURE, project, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'the Chinook project');
  return {
    root,
    project,
    write: (path, content) => {
      mkdirSync(dirname(join(project, path)), { recursive: true });
      writeFileSync(join(project, path), content);
    },
    read: (path) => readFileSync(join(project, path), 'utf8'),
    remove: (path) => rmSync(join(project, path), { recursive: true }),
    commit: (message) => {
      git('add', '-A');
      git('commit', '--quiet', '-m', message);
    },
    git,
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * The image's /app as the Dockerfile's final stage lays it out for `check` (the bundle, package.json, the policies;
 * no node_modules, no sources), in a temporary folder, and the script its `check` command runs there. The bundle is
 * dist/, built once by test/support/build.ts.
 */
export function imageCheckScript(): { script: string; dispose(): void } {
  const dockerfile = readFileSync(join(WORKTREE, 'Dockerfile'), 'utf8');
  const script = /exec node \/app\/(\S+) "\$@"/.exec(dockerfile)?.[1];
  if (!script) throw new Error('the Dockerfile installs no check command');
  const app = mkdtempSync(join(tmpdir(), 'check-image-'));
  cpSync(join(WORKTREE, 'dist'), join(app, 'dist'), { recursive: true });
  cpSync(join(WORKTREE, 'policies'), join(app, 'policies'), { recursive: true });
  cpSync(join(WORKTREE, 'package.json'), join(app, 'package.json'));
  return { script: join(app, script), dispose: () => rmSync(app, { recursive: true, force: true }) };
}

export interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node --import tsx src/cli/check.ts ARGS`, what `npm run check -- ARGS` runs, from the worktree (where tsx is
 * installed): the project is named by --project, and paths are reported relative to its repository either way.
 * With `script`, that script instead (the bundle, in the image's layout).
 */
export function runCheck(args: string[], options: { env?: Record<string, string | undefined>; script?: string } = {}): Promise<CheckRun> {
  const entry = options.script ? [options.script] : ['--import', 'tsx', join(WORKTREE, 'src', 'cli', 'check.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: WORKTREE,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
