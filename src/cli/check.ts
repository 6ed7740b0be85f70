// `npm run check -- [options]`: what a Hasura CLI project would do to an environment, judged by the guard's own
// analysis and policy, for a pull request before it is merged. Exit codes: 0 allowed, 1 needs a confirmation,
// 2 denied, 3 could not check (one line on stderr). docs/check.md describes it.
import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPolicy, PolicyError, type Policy } from '../core/policy.js';
import { CheckError } from '../check/errors.js';
import { fetchLiveMetadata } from '../check/endpoint.js';
import { projectAtRef, repositoryRoot, type ProjectAtRef } from '../check/git.js';
import { readProject, type Project } from '../check/project.js';
import { EXIT_CODES, FORMATS, markdown, render, type Format } from '../check/report.js';
import { review } from '../check/review.js';

const COULD_NOT_CHECK = 3;

const USAGE = `usage: npm run check -- [--project DIR] [--base REF] [--endpoint URL [--admin-secret S]]
                         [--environment NAME] [--policy FILE] [--format text|json|github|markdown]
exit codes: 0 allowed, 1 needs a confirmation, 2 denied, 3 could not check`;

interface Options {
  project: string;
  base?: string;
  endpoint?: string;
  adminSecret?: string;
  environment: string;
  policy?: string;
  format: Format;
}

function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        project: { type: 'string', default: '.' },
        base: { type: 'string' },
        endpoint: { type: 'string' },
        'admin-secret': { type: 'string' },
        environment: { type: 'string', default: 'production' },
        policy: { type: 'string' },
        format: { type: 'string', default: 'text' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new CheckError('BAD_OPTION', (error as Error).message);
  }
  if (parsed.help) return 'help';
  if (!FORMATS.includes(parsed.format as Format)) throw new CheckError('BAD_OPTION', `--format must be one of ${FORMATS.join(', ')}`);
  const adminSecret = parsed['admin-secret'] ?? env.HASURA_GRAPHQL_ADMIN_SECRET;
  return { ...parsed, adminSecret, format: parsed.format as Format } as Options;
}

function policyOf(file: string | undefined): Policy {
  try {
    return loadPolicy(file ?? undefined);
  } catch (error) {
    if (error instanceof PolicyError) throw new CheckError('BAD_POLICY', error.message);
    throw error;
  }
}

async function check(options: Options, env: NodeJS.ProcessEnv): Promise<number> {
  const policy = policyOf(options.policy);
  const environment = policy.findEnvironment(options.environment);
  if (!environment) throw new CheckError('BAD_OPTION', `--environment ${options.environment} is not in ${policy.source}`);
  const dir = resolve(options.project);
  if (!existsSync(join(dir, 'config.yaml'))) throw new CheckError('NO_PROJECT', `no Hasura CLI project in ${options.project}: config.yaml is not there`);
  const root = repositoryRoot(dir) ?? dir;
  const project: Project = readProject(dir, root);
  let atBase: ProjectAtRef | undefined;
  try {
    if (options.base !== undefined) {
      if (repositoryRoot(dir) === undefined) throw new CheckError('NOT_A_REPOSITORY', `--base needs ${options.project} to be in a git repository`);
      atBase = projectAtRef(root, dir, options.base);
    }
    const base = atBase?.dir === undefined ? undefined : readProject(atBase.dir, atBase.root);
    const liveMetadata = options.endpoint === undefined ? undefined : await fetchLiveMetadata(options.endpoint, options.adminSecret);
    const result = await review({
      project,
      base,
      hasBase: options.base !== undefined,
      baseLabel: options.base === undefined ? undefined : `${options.base} (${atBase!.commit.slice(0, 12)})`,
      liveMetadata,
      policy,
      environment,
      root,
    });
    process.stdout.write(render(result, options.format));
    if (options.format === 'github' && env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, markdown(result));
    return EXIT_CODES[result.level];
  } finally {
    atBase?.remove();
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const options = readOptions(argv, env);
    if (options === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return await check(options, env);
  } catch (error) {
    // One line, never a stack trace: what could not be checked, and why.
    const line = error instanceof CheckError ? `${error.message} [${error.code}]` : `unexpected error (${error instanceof Error ? error.name : 'unknown'}) [INTERNAL]`;
    process.stderr.write(`check: could not check: ${line}\n`);
    return COULD_NOT_CHECK;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
