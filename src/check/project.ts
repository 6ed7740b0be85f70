// A Hasura CLI project (config v3) read the way the CLI reads it for `hasura metadata apply` and `hasura migrate
// apply`: config.yaml, the metadata directory assembled into the object export_metadata returns, and the migrations.
// Where the CLI does it (hasura/graphql-engine at 5a67e3e6):
//   cli/cli.go                                      metadata_directory / migrations_directory and their defaults
//   cli/internal/projectmetadata/objects.go         which files make up the metadata in config v3
//   cli/internal/metadataobject/<object>/*.go       each file's name and key (Filename(), Key())
//   cli/internal/metadataobject/sources/sources.go  databases.yaml: includes followed in `tables` and `functions` only,
//                                                   relative to metadata/databases
//   cli/migrate/source/parse.go                     migration names: <version>_<name>, version digits only
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isObject } from '../vocabulary/json.js';
import { objectPath } from '../analysis/hasura-names.js';
import { buildActions } from './actions.js';
import { CheckError } from './errors.js';
import { assertInside, assertNoIncludeTag, fileOf, readYamlFile, resolveIncludes } from './include-yaml.js';

type Json = Record<string, unknown>;

export interface Migration {
  /** The database (source) it applies to: the directory under migrations/. */
  database: string;
  /** `1622047079431_chinook`, the migration's directory name and identity. */
  id: string;
  /** Its up.sql, absolute. */
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
  const metadataDir = join(dir, directoryOption(config.metadata_directory, 'metadata'));
  const migrationsDir = join(dir, directoryOption(config.migrations_directory, 'migrations'));
  const filesByObject = new Map<string, string>();
  const metadata = readMetadata(metadataDir, root, filesByObject);
  return { dir, metadataDir, metadata, migrations: readMigrations(migrationsDir, root), filesByObject };
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

/** migrations/<database>/<version>_<name>/up.sql, in the order `hasura migrate apply` runs them (by version). */
function readMigrations(migrationsDir: string, root: string): Migration[] {
  const migrations: Migration[] = [];
  for (const database of subdirectories(migrationsDir)) {
    for (const id of subdirectories(join(migrationsDir, database))) {
      const file = join(migrationsDir, database, id, 'up.sql');
      if (!/^[0-9]+_/.test(id) || !existsSync(file)) continue;
      assertInside(file, root);
      migrations.push({ database, id, file });
    }
  }
  const version = (m: Migration) => BigInt(m.id.split('_', 1)[0]!);
  return migrations.sort((a, b) => (version(a) < version(b) ? -1 : version(a) > version(b) ? 1 : a.database.localeCompare(b.database)));
}

function subdirectories(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort();
}
