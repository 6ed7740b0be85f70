// YAML files of a Hasura CLI project, with the CLI's `!include`: as a tag (`tables: !include t.yaml`) or in a string
// (`- "!include public_albums.yaml"`), the path taken relative to the directory of the file that includes it, the
// included file read as YAML when it ends in `.yaml` and as plain text otherwise.
// Hasura's CLI: cli/internal/metadatautil/yaml.go (resolveTags, resolver), hasura/graphql-engine at 5a67e3e6.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative } from 'node:path';
import * as jsYaml from 'js-yaml';
import { load, CORE_SCHEMA, Type } from 'js-yaml';
import { CheckError } from './errors.js';

/** What js-yaml builds for a `!include path` tag, resolved afterwards (a tag cannot read files by itself). */
class IncludeTag {
  constructor(readonly path: string) {}
}

const INCLUDE_TAG = new Type('!include', { kind: 'scalar', construct: (data: string | null) => new IncludeTag(String(data ?? '')) });
/**
 * YAML 1.2's core schema, as the CLI's yaml.v3 reads a file: an unquoted `2024-01-01` stays a string (js-yaml's
 * default schema builds a Date, which compares as `{}`, so a permission filter's date could change unseen), merge
 * keys (`<<: *base`) are resolved, and the rarer tags (`!!binary`, `!!set`, `!!timestamp`) fail the check rather than
 * be read differently from yaml.v3.
 */
const SCHEMA = CORE_SCHEMA.extend([(jsYaml as unknown as { types: { merge: Type } }).types.merge, INCLUDE_TAG]); // `types` is js-yaml 4's, not in @types/js-yaml

/** Every object or array read from a file remembers the file: a table's effects are reported at its own file. */
export const fileOf = new WeakMap<object, string>();

/**
 * Refuses a file whose real path (symbolic links followed) is outside the repository: in CI a pull request writes the
 * project, and an include or a link pointing at the runner's files (`!include ../../../home/runner/.docker/config.yaml`)
 * would put their content into names and messages the check prints. The Hasura CLI has no such limit; no project
 * needs to reach outside its repository.
 */
export function assertInside(file: string, root: string): void {
  let real: string;
  let realRoot: string;
  try {
    real = realpathSync(file);
    realRoot = realpathSync(root);
  } catch {
    return; // not there: the caller says so
  }
  const path = relative(realRoot, real);
  if (path.startsWith('..') || isAbsolute(path)) throw new CheckError('OUTSIDE_REPOSITORY', `${relative(root, file)} is outside the repository`);
}

/** Reads and parses one YAML file (no includes followed); a file that is not there gives `undefined`. */
export function readYamlFile(file: string, root: string): unknown {
  assertInside(file, root);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckError('UNREADABLE_FILE', `cannot read ${relative(root, file)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = load(text, { schema: SCHEMA, filename: file });
  } catch (error) {
    const firstLine = String((error as Error).message).split('\n')[0];
    throw new CheckError('BAD_YAML', `${relative(root, file)} is not valid YAML: ${firstLine}`);
  }
  markFile(value, file);
  return value;
}

function markFile(value: unknown, file: string): void {
  if (typeof value !== 'object' || value === null || value instanceof IncludeTag) return;
  fileOf.set(value, file);
  for (const child of Array.isArray(value) ? value : Object.values(value)) markFile(child, file);
}

/**
 * `value` with every include inside it replaced by what it includes, `baseDir` being the directory paths are relative
 * to. As in the CLI, a string counts as an include when it contains "!include": what follows the first space, quotes
 * trimmed, is the path. A chain of includes that comes back to a file fails rather than loops.
 */
export function resolveIncludes(value: unknown, baseDir: string, root: string, chain: readonly string[] = []): unknown {
  const path = includePath(value);
  if (path !== undefined) return resolveInclude(path, baseDir, root, chain);
  if (Array.isArray(value)) return keepFile(value, value.map((item) => resolveIncludes(item, baseDir, root, chain)));
  if (typeof value === 'object' && value !== null) {
    const resolved = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveIncludes(item, baseDir, root, chain)]));
    return keepFile(value, resolved);
  }
  return value;
}

function includePath(value: unknown): string | undefined {
  if (value instanceof IncludeTag) return value.path;
  if (typeof value === 'string' && value.includes('!include')) return value.split(' ').slice(1).join(' ').replace(/^"+|"+$/g, '');
  return undefined;
}

function resolveInclude(path: string, baseDir: string, root: string, chain: readonly string[]): unknown {
  const file = join(baseDir, path);
  const shown = relative(root, file);
  if (chain.includes(file)) throw new CheckError('BAD_YAML', `${shown} includes itself (through ${chain.map((f) => relative(root, f)).join(' → ')})`);
  if (extname(file) !== '.yaml') {
    assertInside(file, root);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new CheckError('MISSING_INCLUDE', `${shown} is included but cannot be read`);
    }
  }
  const included = readYamlFile(file, root);
  if (included === undefined) throw new CheckError('MISSING_INCLUDE', `${shown} is included but is not there`);
  return resolveIncludes(included, dirname(file), root, [...chain, file]);
}

function keepFile<T extends object>(from: object, to: T): T {
  const file = fileOf.get(from);
  if (file !== undefined) fileOf.set(to, file);
  return to;
}

/** An include tag left where the CLI follows none: the CLI would not read it either, so the check cannot. */
export function assertNoIncludeTag(value: unknown, file: string, root: string): void {
  if (value instanceof IncludeTag) throw new CheckError('BAD_YAML', `${relative(root, file)}: "!include ${value.path}" where the Hasura CLI follows no include`);
  if (typeof value === 'object' && value !== null) for (const child of Object.values(value)) assertNoIncludeTag(child, file, root);
}
