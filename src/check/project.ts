// A Hasura CLI project (config v3) read the way the CLI reads it for `hasura metadata apply` and `hasura migrate
// apply`: config.yaml, the metadata directory assembled into the object export_metadata returns, and the migrations.
// Where the CLI does it (hasura/graphql-engine at 5a67e3e6):
//   cli/cli.go                                      metadata_directory / migrations_directory and their defaults
//   cli/internal/projectmetadata/objects.go         which files make up the metadata in config v3
//   cli/internal/metadataobject/<object>/*.go       each file's name and key (Filename(), Key())
//   cli/internal/metadataobject/sources/sources.go  databases.yaml: includes followed in `tables` and `functions` only,
//                                                   relative to metadata/databases
//   cli/migrate/source/parse.go                     migration names: <version>_<name>, version digits only
//   cli/migrate/source/file/file.go                 Scan: migration files and directories in a database's directory
//   cli/commands/root.go, cli/cli.go                .env in the project, and HASURA_GRAPHQL_* variables over config.yaml
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseEnv } from 'node:util';
import { isObject } from '../vocabulary/json.js';
import { objectPath } from '../analysis/hasura-names.js';
import { buildActions } from './actions.js';
import { CheckError } from './errors.js';
import { assertInside, assertNoIncludeTag, fileOf, readYamlFile, resolveIncludes } from './include-yaml.js';

type Json = Record<string, unknown>;

export interface Migration {
  /** The database (source) it applies to: the directory under migrations/. */
  database: string;
  /** `1622047079431_chinook`, the migration's directory (or file) name without `.up.sql`: what it is listed as. */
  id: string;
  /** Its up SQL file, absolute: `<id>/up.sql`, `<id>/<name>.up.sql` or `<id>.up.sql`. */
  file: string;
}

export interface Project {
  dir: string;
  metadataDir: string;
  /** The metadata object export_metadata returns (version 3), as `hasura metadata apply` would send it. */
  metadata: Json;
  migrations: Migration[];
  /** The file holding each table or function, by the name effects give it: `pg.public.albums` → …/public_albums.yaml. */
  filesByObject: Map<string, string>;
}

/** Files whose whole content is one key of the metadata: cli/internal/metadataobject/<object>/*.go. */
const FILES_BY_KEY: Record<string, string> = {
  remote_schemas: 'remote_schemas.yaml',
  query_collections: 'query_collections.yaml',
  allowlist: 'allow_list.yaml',
  cron_triggers: 'cron_triggers.yaml',
  network: 'network.yaml',
  rest_endpoints: 'rest_endpoints.yaml',
  inherited_roles: 'inherited_roles.yaml',
  opentelemetry: 'opentelemetry.yaml',
  backend_configs: 'backend_configs.yaml',
  api_limits: 'api_limits.yaml',
  graphql_schema_introspection: 'graphql_schema_introspection.yaml',
  metrics_config: 'metrics_config.yaml',
};
export const DATABASES_FILE = join('databases', 'databases.yaml');
export const ACTIONS_FILE = 'actions.yaml';

/** Reads the project in `dir`; `root` is what paths in messages are relative to (the repository's root). */
export function readProject(dir: string, root: string): Project {
  const config = readYamlFile(join(dir, 'config.yaml'), root);
  if (config === undefined) throw new CheckError('NO_PROJECT', `no Hasura CLI project in ${relative(root, dir) || '.'}: config.yaml is not there`);
  if (!isObject(config) || config.version !== 3) {
    throw new CheckError('NOT_CONFIG_V3', `${relative(root, join(dir, 'config.yaml'))}: only config version 3 projects can be checked`);
  }
  const settings = projectSettings(config, dir, root);
  if (settings.metadataFile !== undefined) {
    throw new CheckError('UNSUPPORTED_PROJECT', `${settings.metadataFile.from} sets the metadata file (${settings.metadataFile.value}): hasura metadata apply then sends that file, and check reads the metadata directory only`);
  }
  const metadataDir = join(dir, directoryOption(settings.metadataDirectory?.value, 'metadata'));
  const migrationsDir = join(dir, directoryOption(settings.migrationsDirectory?.value, 'migrations'));
  const filesByObject = new Map<string, string>();
  const metadata = readMetadata(metadataDir, root, filesByObject);
  return { dir, metadataDir, metadata, migrations: readMigrations(migrationsDir, root), filesByObject };
}

/** The variables the CLI reads over config.yaml's keys (viper's AutomaticEnv, prefix HASURA_GRAPHQL). */
const SETTING_VARIABLES = {
  metadataDirectory: ['HASURA_GRAPHQL_METADATA_DIRECTORY', 'metadata_directory'],
  migrationsDirectory: ['HASURA_GRAPHQL_MIGRATIONS_DIRECTORY', 'migrations_directory'],
  metadataFile: ['HASURA_GRAPHQL_METADATA_FILE', 'metadata_file'],
} as const;

/**
 * Where the CLI finds the metadata and the migrations: config.yaml's keys, overridden by the environment, which the
 * CLI fills from the project's `.env` too (without replacing a variable already set). A check that read
 * config.yaml alone would review one directory while `migrate apply` ran another.
 */
function projectSettings(config: Json, dir: string, root: string): Record<keyof typeof SETTING_VARIABLES, { value: string; from: string } | undefined> {
  const envFile = join(dir, '.env');
  const fromFile = existsSync(envFile) ? readEnvFile(envFile, root) : {};
  const setting = ([variable, key]: readonly [string, string]) => {
    const fromEnvironment = process.env[variable] || fromFile[variable];
    if (fromEnvironment) return { value: fromEnvironment, from: process.env[variable] ? variable : `${relative(root, envFile)} (${variable})` };
    const value = config[key];
    return typeof value === 'string' && value !== '' ? { value, from: `${relative(root, join(dir, 'config.yaml'))} (${key})` } : undefined;
  };
  return {
    metadataDirectory: setting(SETTING_VARIABLES.metadataDirectory),
    migrationsDirectory: setting(SETTING_VARIABLES.migrationsDirectory),
    metadataFile: setting(SETTING_VARIABLES.metadataFile),
  };
}

const PLAIN_LINE = /^\s*(?:#.*)?$|^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*(?:"[^"$]*"|'[^'$]*'|[^"'$#\s][^$#]*?)?\s*(?:#.*)?$/;

/**
 * The project's `.env`, when it sets what check reads. The CLI reads it with gotenv, which also takes `KEY: value`,
 * expands `$VAR`, and ignores the whole file when one line does not parse; node's parseEnv differs on each. Rather
 * than guess, only the plainest file is read (every line blank, a comment or `KEY=value` without `$`); any other
 * stops the check (exit 3) instead of reviewing a directory the CLI might not apply.
 */
function readEnvFile(envFile: string, root: string): NodeJS.Dict<string> {
  assertInside(envFile, root);
  const text = readFileSync(envFile, 'utf8');
  if (!Object.values(SETTING_VARIABLES).some(([variable]) => text.includes(variable))) return {};
  if (!text.split(/\r?\n/).every((line) => PLAIN_LINE.test(line))) {
    throw new CheckError('UNSUPPORTED_PROJECT', `${relative(root, envFile)} names a HASURA_GRAPHQL_ directory or file, and has a line check does not read as the Hasura CLI does (KEY: value, $VAR, or one that does not parse): write every line as KEY=value`);
  }
  return parseEnv(text);
}

const directoryOption = (value: unknown, fallback: string): string => (typeof value === 'string' && value !== '' ? value : fallback);

function readMetadata(metadataDir: string, root: string, filesByObject: Map<string, string>): Json {
  const version = readYamlFile(join(metadataDir, 'version.yaml'), root);
  const metadata: Json = { version: isObject(version) && typeof version.version === 'number' ? version.version : 3 };
  const sources = readSources(metadataDir, root, filesByObject);
  if (sources !== undefined) metadata.sources = sources;
  for (const [key, name] of Object.entries(FILES_BY_KEY)) {
    const file = join(metadataDir, name);
    const value = readYamlFile(file, root);
    if (value === undefined || value === null) continue;
    assertNoIncludeTag(value, file, root);
    metadata[key] = value;
  }
  Object.assign(metadata, readActions(metadataDir, root));
  return metadata;
}

function readSources(metadataDir: string, root: string, filesByObject: Map<string, string>): Json[] | undefined {
  const file = join(metadataDir, DATABASES_FILE);
  const sources = readYamlFile(file, root);
  if (sources === undefined || sources === null) return undefined;
  if (!Array.isArray(sources)) throw new CheckError('BAD_YAML', `${relative(root, file)}: expected a list of databases`);
  const base = join(metadataDir, 'databases');
  return sources.map((source: unknown) => {
    if (!isObject(source)) throw new CheckError('BAD_YAML', `${relative(root, file)}: each database must be a mapping`);
    const { tables, functions, ...rest } = source;
    assertNoIncludeTag(rest, file, root);
    const resolved: Json = { ...rest };
    if (tables !== undefined) resolved.tables = resolveIncludes(tables, base, root);
    if (functions !== undefined) resolved.functions = resolveIncludes(functions, base, root);
    rememberFiles(resolved, file, filesByObject);
    return resolved;
  });
}

/** Each table's and function's file, under the name the metadata diff gives it. */
function rememberFiles(source: Json, databasesFile: string, filesByObject: Map<string, string>): void {
  const kind = typeof source.kind === 'string' ? source.kind : 'postgres';
  for (const [list, key] of [[source.tables, 'table'], [source.functions, 'function']] as const) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item)) continue;
      const path = objectPath(item[key], kind);
      if (path !== undefined) filesByObject.set(`${String(source.name)}.${path}`, fileOf.get(item) ?? databasesFile);
    }
  }
}

function readActions(metadataDir: string, root: string): Json {
  const file = join(metadataDir, ACTIONS_FILE);
  const yaml = readYamlFile(file, root);
  const sdlFile = join(metadataDir, 'actions.graphql');
  if (existsSync(sdlFile)) assertInside(sdlFile, root);
  const sdl = existsSync(sdlFile) ? readFileSync(sdlFile, 'utf8') : undefined;
  if (yaml === undefined && sdl === undefined) return {};
  assertNoIncludeTag(yaml, file, root);
  const { actions, custom_types } = buildActions(sdl ?? '', yaml, relative(root, file));
  return { actions, custom_types };
}

/**
 * The up migrations of each database, as `hasura migrate apply` finds them (file.go's Scan, parse.go's Parsev2): a
 * directory `<version>_<name>` holding `up.sql` or any `<name>.up.sql`, or a file `<version>_<name>.up.sql` right in the
 * database's directory (the CLI's older layout, which it still reads). In the order the CLI runs them (by version).
 */
function readMigrations(migrationsDir: string, root: string): Migration[] {
  const migrations: Migration[] = [];
  for (const database of subdirectories(migrationsDir)) {
    const databaseDir = join(migrationsDir, database);
    for (const entry of readdirSync(databaseDir).sort()) {
      const path = join(databaseDir, entry);
      if (!VERSIONED.test(entry)) continue; // the CLI skips names it cannot parse (a README, a dangling link)
      const files = isDirectory(path, root)
        ? readdirSync(path).sort().filter((file) => file === 'up.sql' || file.endsWith('.up.sql')).map((file) => join(path, file))
        : UP_FILE.test(entry) ? [path] : [];
      const id = entry.replace(/\.up\.sql$/, '');
      for (const file of files.filter((f) => !isDirectory(f, root))) {
        assertInside(file, root);
        migrations.push({ database, id, file });
      }
    }
  }
  const version = (m: Migration) => BigInt(m.id.split('_', 1)[0]!);
  return migrations.sort((a, b) => (version(a) < version(b) ? -1 : version(a) > version(b) ? 1 : a.database.localeCompare(b.database)));
}

const VERSIONED = /^[0-9]+_/;

/** Whether a migration's entry or file is a directory; one that cannot be read (a dangling link) stops the check. */
function isDirectory(path: string, root: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new CheckError('UNREADABLE_FILE', `${relative(root, path)} cannot be read`);
  }
}
const UP_FILE = /^[0-9]+_.*\.up\.sql$/;

function subdirectories(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort();
}
