// What a change to a Hasura CLI project would do to an environment, judged by the guard's own analysis and policy:
// each new migration is analysed as the run_sql `hasura migrate apply` sends, and the metadata is diffed as the
// replace_metadata `hasura metadata apply` sends would be. Every effect becomes a finding at a file and line.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { analyzeHasuraBody } from '../analysis/index.js';
import { diffMetadata } from '../analysis/metadata-diff.js';
import { describeEffect, type Effect, type ObjectKind } from '../vocabulary/effects.js';
import type { Environment, Level, Policy } from '../core/policy.js';
import { statementLines } from './migration-lines.js';
import { ACTIONS_FILE, DATABASES_FILE, type Migration, type Project } from './project.js';

export interface Finding {
  level: Level;
  /** The policy's class that decided, and what it suggests instead. */
  className: string;
  instead?: string;
  effect: Effect;
  description: string;
  /** Relative to the repository's root, with "/" separators. */
  file: string;
  line?: number;
}

export interface Review {
  level: Level;
  environment: string;
  findings: Finding[];
  /** The migrations analysed (new since the base), as `<database>/<id>`. */
  migrations: string[];
  /** What the project's metadata was compared with, if anything. */
  metadataComparedWith?: string;
}

export interface ReviewInput {
  project: Project;
  /** The project at the base ref; undefined with --base when the project did not exist there. */
  base?: Project;
  /** Whether a base was given at all: without one, every migration is new. */
  hasBase: boolean;
  /** The live metadata, with --endpoint: compared with instead of the base's. */
  liveMetadata?: unknown;
  baseLabel?: string;
  policy: Policy;
  environment: Environment;
  /** The repository's root: every file is reported relative to it. */
  root: string;
}

const RANK: Record<Level, number> = { allow: 0, confirm: 1, deny: 2 };

export async function review(input: ReviewInput): Promise<Review> {
  const { project, base, root } = input;
  const added = migrationsToAnalyse(input);
  const located: Array<{ effect: Effect; file: string; line?: number }> = [];
  for (const migration of added) located.push(...(await migrationEffects(migration, root)));
  const compared = metadataToCompare(input);
  if (compared) {
    for (const effect of diffMetadata(withoutNulls(compared.metadata), withoutNulls(project.metadata))) {
      located.push({ effect, ...metadataPlace(effect, project, base, root) });
    }
  }
  const findings = located.map(({ effect, file, line }) => judge(effect, file, line, input.policy, input.environment));
  const level = findings.reduce<Level>((worst, f) => (RANK[f.level] > RANK[worst] ? f.level : worst), 'allow');
  return { level, environment: input.environment.name, findings, migrations: added.map(migrationKey), metadataComparedWith: compared?.label };
}

/** The live metadata if there is one, else the base's (empty when the project did not exist at the base). */
function metadataToCompare(input: ReviewInput): { metadata: unknown; label: string } | undefined {
  if (input.liveMetadata !== undefined) return { metadata: input.liveMetadata, label: 'the live metadata' };
  if (!input.hasBase) return undefined;
  return { metadata: input.base?.metadata ?? { version: 3, sources: [] }, label: input.baseLabel ?? 'the base' };
}

/**
 * The CLI writes `description: null` for every argument and field without one (its golden file,
 * test/fixtures/hasura-cli-build/actions/want.json); Hasura reads a null optional field as an absent one (Aeson's
 * Maybe fields, e.g. ArgumentDefinition's FromJSON in server/src-lib/Hasura/RQL/Types/Action.hs) and does not export
 * it. Both sides lose their null-valued keys before the diff, so that the same metadata written either way is the same.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) kept[key] = withoutNulls(item);
  return kept;
}

/**
 * With a base: the migrations it does not have. With only an endpoint: none, since which migrations a server has
 * applied is in its database, not its metadata (combine --endpoint with --base for those). With neither: all of
 * them, as a first `hasura migrate apply` would run them.
 */
function migrationsToAnalyse(input: ReviewInput): Migration[] {
  if (input.hasBase) {
    const atBase = new Map((input.base?.migrations ?? []).map((m) => [fileKey(m, input.base!.dir), m.file]));
    return input.project.migrations.filter((m) => {
      const before = atBase.get(fileKey(m, input.project.dir));
      return before === undefined || !sameContent(before, m.file);
    });
  }
  return input.liveMetadata === undefined ? input.project.migrations : [];
}

const migrationKey = (migration: Migration) => `${migration.database}/${migration.id}`;
/** A migration's file, relative to its project: what is compared with the base's. */
const fileKey = (migration: Migration, projectDir: string) => relative(projectDir, migration.file);
const sameContent = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

function judge(effect: Effect, file: string, line: number | undefined, policy: Policy, environment: Environment): Finding {
  const decision = policy.decide([effect], environment);
  const finding: Finding = { level: decision.level, className: decision.operationClass.name, effect, description: describeEffect(effect), file, line };
  if (decision.level !== 'allow' && decision.operationClass.instead) finding.instead = decision.operationClass.instead;
  return finding;
}

/** The effects of one migration, as the run_sql on its database that `hasura migrate apply` sends. */
async function migrationEffects(migration: Migration, root: string): Promise<Array<{ effect: Effect; file: string; line?: number }>> {
  const sql = readFileSync(migration.file, 'utf8');
  const effects = await analyzeHasuraBody({ type: 'run_sql', args: { source: migration.database, sql } }, { endpoint: '/v2/query' });
  const lines = statementLines(sql);
  const file = repositoryPath(root, migration.file);
  return effects.map((effect) => {
    if ('failedAtLine' in lines) {
      // The analysis says "does not parse: <parser's message>"; the line is where the parser stopped.
      const where = lines.failedAtLine === undefined ? '' : ` (line ${lines.failedAtLine})`;
      return { effect: { ...effect, detail: `${effect.detail ?? ''}${where}` }, file, line: lines.failedAtLine };
    }
    const statement = /statement (\d+)$/.exec(effect.at ?? '');
    return { effect, file, line: statement ? lines.lines[Number(statement[1]) - 1] : undefined };
  });
}

/** Where a metadata change is written: its table's or function's file, else the file of its kind of object. */
function metadataPlace(effect: Effect, project: Project, base: Project | undefined, root: string): { file: string; line?: number } {
  const name = effect.name ?? '';
  for (const side of [project, base]) {
    if (!side) continue;
    const file = longestOwner(side.filesByObject, name);
    // A file of the base lives in a temporary directory: report it where it is in the repository.
    if (file !== undefined) return { file: repositoryPath(root, join(project.dir, relative(side.dir, file))), line: 1 };
  }
  return { file: repositoryPath(root, join(project.metadataDir, FILE_BY_OBJECT[effect.object] ?? 'version.yaml')) };
}

/** The table or function `name` belongs to: itself (`pg.public.albums`), or a member of it (`pg.public.albums.artist`, `pg.public.albums select for user`). */
function longestOwner(files: Map<string, string>, name: string): string | undefined {
  let best: string | undefined;
  for (const key of files.keys()) {
    const owns = name === key || name.startsWith(`${key}.`) || name.startsWith(`${key} `);
    if (owns && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : files.get(best);
}

const FILE_BY_OBJECT: Partial<Record<ObjectKind, string>> = {
  source: DATABASES_FILE,
  customization: DATABASES_FILE,
  native_query: DATABASES_FILE,
  logical_model: DATABASES_FILE,
  stored_procedure: DATABASES_FILE,
  table: DATABASES_FILE,
  function: DATABASES_FILE,
  action: ACTIONS_FILE,
  action_permission: ACTIONS_FILE,
  custom_types: ACTIONS_FILE,
  remote_schema: 'remote_schemas.yaml',
  remote_schema_permission: 'remote_schemas.yaml',
  query_collection: 'query_collections.yaml',
  allowlist: 'allow_list.yaml',
  cron_trigger: 'cron_triggers.yaml',
  rest_endpoint: 'rest_endpoints.yaml',
  role: 'inherited_roles.yaml',
  tls_allowlist: 'network.yaml',
  network: 'network.yaml',
  api_limits: 'api_limits.yaml',
  introspection: 'graphql_schema_introspection.yaml',
  metrics_config: 'metrics_config.yaml',
  opentelemetry: 'opentelemetry.yaml',
};

const repositoryPath = (root: string, file: string): string => relative(root, file).split('\\').join('/');
