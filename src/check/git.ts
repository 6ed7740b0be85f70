// The project as it was at a git ref (a pull request's base), written to a temporary directory with `git archive`:
// git runs as a child process, with its arguments as a list (no shell), and the ref is checked before use.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CheckError } from './errors.js';

function git(cwd: string, args: string[]): { ok: boolean; stdout: string } {
  const run = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new CheckError('GIT_FAILED', `git could not be run (${(run.error as NodeJS.ErrnoException).code ?? 'error'})`);
  return { ok: run.status === 0, stdout: run.stdout };
}

/** The root of the repository `dir` is in, or undefined when it is in none. */
export function repositoryRoot(dir: string): string | undefined {
  const found = git(dir, ['rev-parse', '--show-toplevel']);
  return found.ok ? found.stdout.trim() : undefined;
}

export interface ProjectAtRef {
  /** The project's directory at the ref; undefined when the project did not exist there (everything is new). */
  dir: string | undefined;
  /** The repository at the ref (the temporary directory): what the project's files must stay inside. */
  root: string;
  commit: string;
  remove(): void;
}

/** Writes the project directory `projectDir` (inside `root`) as it was at `ref` to a temporary directory. */
export function projectAtRef(root: string, projectDir: string, ref: string): ProjectAtRef {
  // A ref starting with "-" would be read as an option by git.
  const commit = ref.startsWith('-') ? undefined : git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  if (!commit?.ok) throw new CheckError('UNKNOWN_REF', `unknown git ref "${ref}" in ${root}`);
  const sha = commit.stdout.trim();
  const prefix = relative(root, projectDir).split('\\').join('/') || '.';
  const listed = git(root, ['ls-tree', '--name-only', sha, '--', prefix === '.' ? '.' : `${prefix}/`]);
  if (!listed.ok || listed.stdout.trim() === '') return { dir: undefined, root, commit: sha, remove: () => {} };
  const temporary = mkdtempSync(join(tmpdir(), 'hasura-check-'));
  try {
    const tar = execFileSync('git', ['archive', '--format=tar', sha, '--', prefix], { cwd: root, maxBuffer: 1024 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', temporary], { input: tar });
  } catch {
    rmSync(temporary, { recursive: true, force: true });
    throw new CheckError('GIT_FAILED', `the project at ${ref} could not be extracted (git archive | tar)`);
  }
  return { dir: join(temporary, prefix), root: temporary, commit: sha, remove: () => rmSync(temporary, { recursive: true, force: true }) };
}
