// What a request to Hasura (/v1/metadata, /v1/query, /v2/query) does, as effects. One small interpreter over the
// catalogue in hasura-catalogue.ts; bulks are walked, SQL goes to the SQL analyser the caller passes, and
// replacements are diffed against the metadata in force. Pure: no I/O. Never throws: what it cannot read is an
// `unknown` effect, so the policy fails closed on it.
import { BULK_TYPES } from '../vocabulary/bulk.js';
import { isObject } from '../vocabulary/json.js';
import { unknownEffect, type Effect } from '../vocabulary/effects.js';
import { CATALOGUE, knownWithoutArgs, type Call, type CatalogueRow, type EffectRow } from './hasura-catalogue.js';
import { connectionOf, databaseOf, inlineConnection, inSource, maskCredentials, objectPath, sourceInForce, sourceOf, text } from './hasura-names.js';
import { diffCustomTypes, diffReplacement } from './metadata-diff.js';

export interface HasuraAnalysisContext {
  /** Analyses one SQL string (the real analyser parses PostgreSQL; tests pass a small fake). */
  analyzeSql: (sql: string, options: { readOnly: boolean; at: string }) => Effect[];
  /** The metadata in force (export_metadata's `metadata` object, v3 format), when known. */
  currentMetadata?: unknown;
}


/** Bulks nest; past this depth the request is not understood rather than walked (a stack is finite). */
export const MAX_BULK_DEPTH = 32;

const BARE_TYPES = new Map<string, CatalogueRow>();
const BACKEND_COMMANDS = new Map<string, CatalogueRow>();
for (const row of CATALOGUE) {
  for (const type of row.types) {
    BARE_TYPES.set(type, row);
    if (row.backendScoped) BACKEND_COMMANDS.set(type, row);
  }
}
// Hasura splits `pg_track_table` at the first underscore: the prefix is a backend kind or a data connector's name.
const BACKEND_PREFIX = /^[A-Za-z][A-Za-z0-9]*$/;
// ...except for /v2/query's `<data connector>_run_sql`, where the name is what precedes `_run_sql`.
const CONNECTOR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function resolve(type: string): { row: CatalogueRow; call: Call } | undefined {
  const bare = BARE_TYPES.get(type);
  if (bare) return { row: bare, call: { command: type, backend: '' } };
  const cut = type.indexOf('_');
  const backend = type.slice(0, cut);
  const command = type.slice(cut + 1);
  const scoped = cut > 0 ? BACKEND_COMMANDS.get(command) : undefined;
  if (scoped && BACKEND_PREFIX.test(backend)) return { row: scoped, call: { command, backend } };
  const connector = type.endsWith('_run_sql') ? type.slice(0, -'_run_sql'.length) : '';
  if (CONNECTOR_NAME.test(connector)) return { row: BARE_TYPES.get('run_sql')!, call: { command: 'run_sql', backend: connector } };
  return undefined;
}

/** For the `operation` field: is this word a Hasura metadata or query type (with any backend prefix)? */
export function isHasuraType(type: string): boolean {
  return resolve(type) !== undefined;
}

/**
 * A type named without its body (the `operation` field alone) may still do what only its arguments say: its effects
 * as if they said it (`pg_create_event_trigger` → replaces an event trigger). Other types' effects are returned as they are.
 */
export function withoutBody(type: string, effects: Effect[]): Effect[] {
  const worst = resolve(type)?.row.withoutBody;
  if (!worst) return effects;
  return effects.map((found) => (found.verb === 'unknown' ? found : effect({ ...found, verb: worst.verb, detail: [found.detail, worst.detail].filter(Boolean).join(', ') })));
}

export function analyzeHasuraRequest(body: unknown, context: HasuraAnalysisContext): Effect[] {
  try {
    return analyzeRequest(body, '', 0, context).map(withoutCredentials);
  } catch {
    // Only a bug (or a throwing SQL analyser) gets here; the request is then simply not understood.
    return [unknownEffect('the request could not be analysed')];
  }
}

/** Names and details come from the request: a source's URL with its password must not reach a message or a log. */
function withoutCredentials(found: Effect): Effect {
  const name = found.name === undefined ? undefined : maskCredentials(found.name);
  const detail = found.detail === undefined ? undefined : maskCredentials(found.detail);
  return name === found.name && detail === found.detail ? found : effect({ ...found, name, detail });
}

function analyzeRequest(body: unknown, path: string, depth: number, context: HasuraAnalysisContext): Effect[] {
  const at = path === '' ? undefined : path;
  if (!isObject(body)) return [unknownEffect('the request is not a JSON object', at)];
  const type = body.type;
  if (typeof type !== 'string') return [unknownEffect('the request has no "type"', at)];
  const resolved = resolve(type);
  if (!resolved) return [unknownEffect(`unknown Hasura type "${type}"`, at)];
  const { row, call } = resolved;
  const args = body.args;
  if (!('handler' in row)) return effectsOfRow(row, call, type, args, at);
  switch (row.handler) {
    case 'bulk':
      return analyzeBulk(type, args, path, depth, context);
    case 'sql':
      return analyzeSqlCall(type, call, args, path, context);
    case 'rows':
      return analyzeRows(call, args, at);
    case 'replace_metadata':
      return analyzeReplacement(body.version, args, at, context);
    case 'custom_types':
      return analyzeCustomTypes(args, at, context);
    case 'source':
      return analyzeSource(type, call, args, at, context);
  }
}

// ---- catalogue rows -------------------------------------------------------------------------------------------

function effectsOfRow(row: EffectRow, call: Call, type: string, given: unknown, at: string | undefined): Effect[] {
  if (row.anyArgs) return [effectOf(row, call, type, {}, {}, at)];
  const args = row.bareName && call.backend === '' ? namedByArgs(row.bareName, given) : given;
  if (!isObject(args)) {
    if (args !== undefined && args !== null) return [unknownEffect(`"${type}" args is not an object`, at)];
    return knownWithoutArgs(row) ? [effectOf(row, call, type, {}, {}, at)] : [unknownEffect(`"${type}" has no args`, at)];
  }
  if (row.each === undefined) return [effectOf(row, call, type, args, args, at)];
  const list = args[row.each];
  if (!Array.isArray(list)) return [unknownEffect(`"${row.each}" of "${type}" is not a list`, at)];
  return list.map((element) =>
    isObject(element) ? effectOf(row, call, type, element, args, at) : unknownEffect(`an element of "${row.each}" of "${type}" is not an object`, at),
  );
}

/**
 * /v1/query's legacy forms: `"users"` or `{"schema": "public", "name": "users"}` as args is the table (or the
 * function) itself, in the default source. An object that holds the key (or, for a function, a "source") is read as usual.
 */
function namedByArgs(key: 'table' | 'function', args: unknown): unknown {
  if (typeof args === 'string') return { [key]: args };
  if (!isObject(args) || Object.hasOwn(args, key) || (key === 'function' && Object.hasOwn(args, 'source'))) return args;
  return typeof args.name === 'string' ? { [key]: args } : args;
}

/** `named` names the object (an element of a list, for `each` rows); `args` holds the arguments that change the meaning. */
function effectOf(row: EffectRow, call: Call, type: string, named: Record<string, unknown>, args: Record<string, unknown>, at: string | undefined): Effect {
  let verb = row.verb;
  const details = [row.detail?.(named, call)];
  for (const meaning of row.meaning ?? []) {
    const value = args[meaning.arg];
    if (typeof meaning.when === 'boolean') {
      if (value !== undefined && typeof value !== 'boolean') return unknownEffect(`"${meaning.arg}" of "${type}" is not a boolean`, at);
      if (value !== meaning.when) continue;
    } else if (!meaning.when(value)) continue;
    if (meaning.verb === 'unknown') return unknownEffect(meaning.detail ?? `"${meaning.arg}" of "${type}" is not understood`, at);
    if (meaning.verb) verb = meaning.verb;
    details.push(meaning.detail);
  }
  const detail = details.filter((part) => part !== undefined && part !== '').join(', ');
  return effect({ verb, object: row.object, name: row.name?.(named, call), detail: detail || undefined, at });
}

/** An effect without the keys that have no value, so that effects compare and print cleanly. */
function effect(parts: Effect): Effect {
  return Object.fromEntries(Object.entries(parts).filter(([, value]) => value !== undefined)) as unknown as Effect;
}

// ---- bulks ----------------------------------------------------------------------------------------------------

function analyzeBulk(type: string, args: unknown, path: string, depth: number, context: HasuraAnalysisContext): Effect[] {
  const at = path === '' ? undefined : path;
  if (!Array.isArray(args)) return [unknownEffect(`"${type}" args is not a list`, at)];
  if (depth >= MAX_BULK_DEPTH) return [unknownEffect(`bulks nested deeper than ${MAX_BULK_DEPTH}`, at)];
  const parts = args.map((child, index) => ({
    effects: analyzeRequest(child, `${path === '' ? '' : `${path}.`}args[${index}]`, depth + 1, context),
    isBulk: isObject(child) && typeof child.type === 'string' && BULK_TYPES.has(child.type),
  }));
  return mergePermissionEdits(parts);
}

/**
 * The console edits a permission by dropping and re-creating it in one bulk. Said as a revoke and a grant it
 * would read as two changes; it is one: `modify:permission`. Only a drop followed by a create of the same
 * permission (same source, table, permission type and role — they are all in the name), both direct members of
 * the same bulk, merges.
 */
function mergePermissionEdits(parts: { effects: Effect[]; isBulk: boolean }[]): Effect[] {
  const openDrops = new Map<string, number>();
  const merged = parts.map((part) => part.effects);
  parts.forEach((part, index) => {
    const only = part.effects.length === 1 && !part.isBulk ? part.effects[0] : undefined;
    if (only?.object !== 'permission' || only.name === undefined) return;
    if (only.verb === 'revoke') openDrops.set(only.name, index);
    const dropIndex = only.verb === 'grant' ? openDrops.get(only.name) : undefined;
    if (dropIndex === undefined) return;
    const drop = parts[dropIndex]!.effects[0]!;
    merged[dropIndex] = [effect({ verb: 'modify', object: 'permission', name: only.name, detail: only.detail, at: drop.at })];
    merged[index] = [];
    openDrops.delete(only.name);
  });
  return merged.flat();
}

// ---- SQL and rows ---------------------------------------------------------------------------------------------

/**
 * The run_sql types whose SQL is PostgreSQL's: `run_sql` and `pg_run_sql` (vanilla PostgreSQL), `citus_run_sql`,
 * `cockroach_run_sql`. All four parse as Postgres.RunSQL and run through runRunSQL (graphql-engine,
 * server/src-lib/Hasura/Server/API/V2Query.hs and Query.hs; Hasura/Backends/Postgres/DDL/RunSQL.hs). Every other
 * `*_run_sql` is another dialect: `mssql_run_sql` (Backends/MSSQL/DDL/RunSQL.hs), `bigquery_run_sql`
 * (Backends/BigQuery/DDL/RunSQL.hs), and any other prefix a data connector's (Backends/DataConnector/Adapter/RunSQL.hs).
 */
const POSTGRES_FAMILY = new Set(['', 'pg', 'citus', 'cockroach']);

/**
 * Whether Hasura runs this run_sql in a read-only transaction. Postgres.RunSQL's parser turns `read_only` into the
 * transaction's access mode, but with `no_transaction: true` runRunSQL runs the SQL outside any transaction block
 * (NoTxRead: PG.runTx', Hasura/Backends/Postgres/Execute/Types.hs), and nothing is read-only then. MSSQL's and
 * BigQuery's run_sql have no `read_only` at all (their parsers ignore it) and run read-write.
 */
const runsReadOnly = (args: Record<string, unknown>): boolean => args.read_only === true && args.no_transaction !== true;

function analyzeSqlCall(type: string, call: Call, args: unknown, path: string, context: HasuraAnalysisContext): Effect[] {
  const at = path === '' ? undefined : path;
  if (!isObject(args) || typeof args.sql !== 'string') return [unknownEffect(`"${type}" has no "sql" string`, at)];
  // Another dialect's SQL, read as PostgreSQL's, can mean something else: T-SQL reads `SELECT (1)['x]; DROP …; --']`
  // as an alias and a DROP, PostgreSQL as one SELECT. No parser of those dialects is at hand, so it is not understood.
  if (!POSTGRES_FAMILY.has(call.backend)) return [unknownEffect(`SQL for ${call.backend} (source ${sourceOf(args)}) is not read by the guard`, at)];
  for (const flag of ['read_only', 'cascade', 'no_transaction']) {
    if (args[flag] !== undefined && typeof args[flag] !== 'boolean') return [unknownEffect(`"${flag}" of "${type}" is not a boolean`, at)];
  }
  const source = sourceOf(args);
  const effects = context.analyzeSql(args.sql, { readOnly: runsReadOnly(args), at: path });
  if (!Array.isArray(effects)) return [unknownEffect(`the SQL of "${type}" could not be analysed`, at)];
  const cascade = args.cascade === true;
  return effects.map((found) =>
    effect({
      ...found,
      // Names carry the source, as metadata names do: `default.public.t` whichever way the table is touched.
      name: found.name === undefined ? undefined : `${source}.${found.name}`,
      detail: cascade && found.verb === 'drop' && !/\bCASCADE\b/.test(found.detail ?? '') ? [found.detail, 'CASCADE'].filter(Boolean).join(', ') : found.detail,
      at: found.at ?? at,
    }),
  );
}

const isEmptyWhere = (where: unknown): boolean => where === undefined || where === null || (isObject(where) && Object.keys(where).length === 0);

function analyzeRows(call: Call, args: unknown, at: string | undefined): Effect[] {
  if (!isObject(args)) return [unknownEffect(`"${call.command}" args is not an object`, at)];
  const name = inSource(sourceOf(args), objectPath(args.table, call.backend));
  const everyRow = isEmptyWhere(args.where);
  switch (call.command) {
    case 'insert':
      return [effect({ verb: 'add', object: 'rows', name, at }), ...upsertEffects(args.on_conflict, name, at)];
    case 'update':
      return [effect({ verb: 'rewrite', object: everyRow ? 'all_rows' : 'rows', name, at })];
    case 'delete':
      return [effect({ verb: 'delete', object: everyRow ? 'all_rows' : 'rows', name, at })];
    default: // select, count
      return [effect({ verb: 'read', object: 'rows', name, at })];
  }
}

/**
 * An insert's `on_conflict`: `"action": "update"` is Hasura's upsert (INSERT … ON CONFLICT DO UPDATE), which
 * overwrites the rows already there, as its SQL spelling says; `"ignore"` adds only. Anything else is not understood.
 */
function upsertEffects(onConflict: unknown, name: string | undefined, at: string | undefined): Effect[] {
  if (onConflict === undefined || onConflict === null) return [];
  const action = isObject(onConflict) ? onConflict.action : undefined;
  if (action === 'ignore') return [];
  if (action === 'update') return [effect({ verb: 'rewrite', object: 'rows', name, at, detail: 'on_conflict update' })];
  return [unknownEffect('"on_conflict" of "insert" is neither an "ignore" nor an "update"', at)];
}

// ---- replacements ---------------------------------------------------------------------------------------------

function analyzeReplacement(version: unknown, args: unknown, at: string | undefined, context: HasuraAnalysisContext): Effect[] {
  // v1 (CLI config v2): args is the metadata. v2 (CLI config v3): args is {metadata, allow_inconsistent_metadata}.
  // Without version 2, Hasura still reads args as {metadata, ...} whenever it has a "metadata" key (ReplaceMetadata's
  // parser checks for the key), so the guard must too: else args could pass for the metadata in force while its
  // "metadata" replaces it.
  if (version !== undefined && version !== 1 && version !== 2) return [unknownEffect('replace_metadata has an unknown "version"', at)];
  const wrapped = version === 2 || (isObject(args) && Object.hasOwn(args, 'metadata'));
  const next = wrapped ? (isObject(args) ? args.metadata : undefined) : args;
  if (!isObject(next)) return [unknownEffect('replace_metadata has no metadata object', at)];
  if (context.currentMetadata === undefined) return [effect({ verb: 'replace', object: 'metadata', detail: 'nothing to compare with', at })];
  const effects = diffReplacement(context.currentMetadata, next);
  if (effects.length === 0) return [effect({ verb: 'read', object: 'metadata', detail: 'no change', at })];
  return effects.map((found) => effect({ ...found, at }));
}

// ---- sources --------------------------------------------------------------------------------------------------

/**
 * add_source and update_source. A source given a new connection is repointed: every query, permission and event
 * trigger on it now reaches another database (a test database in production, hasura/graphql-engine#8199). Said with
 * where it pointed and where it will point, never with a password (databaseOf masks them).
 */
function analyzeSource(type: string, call: Call, args: unknown, at: string | undefined, context: HasuraAnalysisContext): Effect[] {
  if (!isObject(args)) return [unknownEffect(`"${type}" args is not an object`, at)];
  if (args.replace_configuration !== undefined && typeof args.replace_configuration !== 'boolean') return [unknownEffect(`"replace_configuration" of "${type}" is not a boolean`, at)];
  const name = text(args.name);
  const after = databaseOf(args.configuration);
  const inForce = context.currentMetadata === undefined ? undefined : { source: sourceInForce(context.currentMetadata, name ?? '') };
  const effects: Effect[] = [repointing(call.command, name, args, after, inForce, at)];
  const inline = inlineConnection(args.configuration);
  if (inline) effects.push(effect({ verb: 'grant', object: 'credentials', name, detail: inline, at }));
  return effects;
}

/** `inForce` is undefined when the metadata in force is not known; its `source` undefined when it has no such source. */
function repointing(command: string, name: string | undefined, args: Record<string, unknown>, after: string | undefined, inForce: { source?: Record<string, unknown> } | undefined, at: string | undefined): Effect {
  const exists = inForce === undefined || inForce.source !== undefined;
  const replaces = command === 'add_source' ? args.replace_configuration === true && exists : connectionOf(args.configuration) !== undefined;
  if (!replaces) {
    const verb = command === 'add_source' ? 'add' : 'modify';
    return effect({ verb, object: 'source', name, detail: after, at });
  }
  const before = inForce?.source === undefined ? undefined : inForce.source.configuration;
  if (before !== undefined && JSON.stringify(connectionOf(before)) === JSON.stringify(connectionOf(args.configuration))) {
    return effect({ verb: 'modify', object: 'source', name, detail: [after, 'same connection'].filter(Boolean).join(', '), at });
  }
  const from = inForce === undefined ? 'from where it points now, which the guard was not shown' : `from ${databaseOf(before) ?? 'a database not said'}`;
  return effect({ verb: 'replace', object: 'source', name, detail: `repoints it to ${after ?? 'a database not said'}, ${from}`, at });
}

function analyzeCustomTypes(args: unknown, at: string | undefined, context: HasuraAnalysisContext): Effect[] {
  if (!isObject(args)) return [unknownEffect('"set_custom_types" args is not an object', at)];
  const current = context.currentMetadata;
  if (current === undefined) return [effect({ verb: 'replace', object: 'custom_types', detail: 'nothing to compare with', at })];
  if (!isObject(current)) return [unknownEffect('the current metadata is not an object', at)];
  const effects = diffCustomTypes(current.custom_types ?? {}, args);
  if (effects.length === 0) return [effect({ verb: 'read', object: 'custom_types', detail: 'no change', at })];
  return effects.map((found) => effect({ ...found, at }));
}
