// What replacing Hasura's metadata (replace_metadata, set_custom_types) would remove, change and add. Both sides are
// flattened into maps of objects keyed by kind and name (the names hasura-names.ts gives), then compared key by
// key: linear in the size of the metadata, whatever its shape.
//
// Tables, which make most of a big metadata, are compared whole first: a table whose JSON is the same on both sides
// is not taken apart, and each table is taken apart on its own, so that a 50 MB metadata (whose tables may still be
// in the request's bytes, see src/big-json/lazy-tables.ts) is never held as one map of every object. A diff lists at most
// MAX_LISTED_EFFECTS effects one by one; past that, one effect per verb and object counts the rest. The policy
// decides on verbs and objects, so the decision is the same as on the full list.
import { elementText, isObject } from '../vocabulary/json.js';
import { unknownEffect, type Effect, type ObjectKind, type Verb } from '../vocabulary/effects.js';
import { connectionOf, databaseOf, DEFAULT_SOURCE, forRole, inlineConnection, inSource, member, objectPath, objectPathParts, permissionDetail, permissionName, text } from './hasura-names.js';

interface Entry {
  object: ObjectKind;
  name: string;
  detail?: string;
  definition: unknown;
  /** Custom types only: the definition itself, to name the fields a change removes. */
  raw?: Record<string, unknown>;
  /** Sources only: the connection setting as given (hasura-names.ts connectionOf), and why it is written inline. */
  connection?: { setting: unknown; inline?: string };
}

/**
 * A table, named by its place in its source's list and read only when needed: the list may keep its tables in the
 * request's bytes, parsing one each time it is read.
 */
interface TableRef {
  source: string;
  kind: string;
  list: readonly unknown[];
  index: number;
}

/** One source's tables. */
interface SourceTables {
  source: string;
  kind: string;
  list: readonly unknown[];
}

interface Inventory {
  /** Every object but the tables and what hangs on them (relationships, permissions, event triggers...). */
  entries: Map<string, Entry>;
  tables: SourceTables[];
  /** How many tables each source has (a source that loses them all is cleared). */
  tablesBySource: Map<string, number>;
}

/** How many effects a diff lists one by one (a first apply of a big project adds hundreds of thousands). */
export const MAX_LISTED_EFFECTS = 10_000;

/** What losing or gaining each kind of object means. */
const VERBS: Partial<Record<ObjectKind, { removed: Verb; added: Verb }>> = {
  table: { removed: 'untrack', added: 'add' },
  function: { removed: 'untrack', added: 'add' },
  // A native query is a root field over SQL the guard does not read, open at once to the roles its model lets select.
  native_query: { removed: 'untrack', added: 'grant' },
  logical_model: { removed: 'untrack', added: 'add' },
  stored_procedure: { removed: 'untrack', added: 'add' },
  permission: { removed: 'revoke', added: 'grant' },
  // A collection on the allow list: its queries may run (add_collection_to_allowlist, hasura-catalogue.ts).
  allowlist: { removed: 'drop', added: 'grant' },
  function_permission: { removed: 'revoke', added: 'grant' },
  action_permission: { removed: 'revoke', added: 'grant' },
  remote_schema_permission: { removed: 'revoke', added: 'grant' },
  role: { removed: 'revoke', added: 'grant' },
  tls_allowlist: { removed: 'revoke', added: 'grant' },
  // Without remote schema permissions (Hasura's default), every role may query a new remote schema, called with its
  // configured headers (Hasura/GraphQL/Schema.hs: "Permissions are disabled, unauthenticated users have access").
  remote_schema: { removed: 'drop', added: 'grant' },
  // From then on every row written to the table is sent, old and new, to the trigger's webhook.
  event_trigger: { removed: 'drop', added: 'grant' },
  // An agent serves every query of its sources, with their configuration: a new or another one is a new destination.
  data_connector: { removed: 'drop', added: 'grant' },
  // Hasura leaves a setting out of its export while it has its default value, so one that appears is one set, as
  // set_api_limits or update_source set it: a change, never an addition.
  api_limits: { removed: 'drop', added: 'modify' },
  introspection: { removed: 'drop', added: 'modify' },
  metrics_config: { removed: 'drop', added: 'modify' },
  opentelemetry: { removed: 'drop', added: 'modify' },
  customization: { removed: 'drop', added: 'modify' },
};
const DROP_OR_ADD = { removed: 'drop', added: 'add' } as const;

/** Settings are not counted as objects when judging whether a replacement removes most of the metadata. */
const SETTINGS = new Set<ObjectKind>(['source', 'api_limits', 'introspection', 'metrics_config', 'opentelemetry', 'customization']);

class MalformedMetadata extends Error {}

/** Test knobs: a shorter list to hold to the whole one; pairing tables by a map of names only (the plain way). */
export interface DiffOptions {
  maxListed?: number;
  pairInStep?: boolean;
}

export function diffMetadata(current: unknown, next: unknown, options: DiffOptions = {}): Effect[] {
  try {
    return diffInventories(inventoryOf(current), inventoryOf(next), true, options);
  } catch (error) {
    const reason = error instanceof MalformedMetadata ? error.message : 'it could not be read';
    return [unknownEffect(`metadata not understood: ${reason}`)];
  }
}

/**
 * What a replace_metadata's `metadata` does to the metadata in force, read as Hasura reads it. The metadata's own
 * `version` (1 when absent) decides which of its keys count: ReplaceMetadataV1's parser (graphql-engine,
 * server/src-lib/Hasura/RQL/DDL/Metadata/Types.hs) reads version 3 as `Metadata` (its `sources`) and 1 or 2 as
 * `MetadataNoSources` (Hasura/RQL/Types/Metadata.hs: the top-level `tables` and `functions`, whatever `sources` says).
 */
export function diffReplacement(current: unknown, next: Record<string, unknown>): Effect[] {
  try {
    return diffInventories(inventoryOf(current), inventoryOf(metadataAsStored(current, next)), true);
  } catch (error) {
    const reason = error instanceof MalformedMetadata ? error.message : 'it could not be read';
    return [unknownEffect(`metadata not understood: ${reason}`)];
  }
}

/** Version 3: the metadata itself. 1 and 2: the v3 metadata Hasura makes of them (see fromMetadataWithoutSources). */
function metadataAsStored(current: unknown, next: Record<string, unknown>): Record<string, unknown> {
  const version = next.version ?? 1; // `.:? "version" .!= MVVersion1`: absent or null is 1
  if (version === 3) {
    // Metadata's parser: `o .: "sources"`, required.
    if (!Array.isArray(next.sources)) throw new MalformedMetadata('a version 3 metadata without a "sources" list (Hasura refuses it)');
    return next;
  }
  if (version !== 1 && version !== 2) throw new MalformedMetadata('its "version" is not 1, 2 or 3 (Hasura refuses it)');
  return fromMetadataWithoutSources(current, next, version);
}

/**
 * What runReplaceMetadataV2' (Hasura/RQL/DDL/Metadata.hs, `RMWithoutSources`) stores for a version 1 or 2 metadata:
 * the default source in force with these tables and functions, and no other source; the remote schemas, query
 * collections, allow list, custom types, actions and cron triggers given; the REST endpoints in force; no API
 * limits, metrics settings, inherited roles, introspection settings, network settings or OpenTelemetry. Hasura refuses
 * it when no default source is in force, or without `tables` (`o .: "tables"`).
 */
function fromMetadataWithoutSources(current: unknown, next: Record<string, unknown>, version: 1 | 2): Record<string, unknown> {
  if (!Array.isArray(next.tables)) throw new MalformedMetadata(`a version ${version} metadata without a "tables" list (Hasura refuses it)`);
  const inForce = isObject(current) ? sourcesOf(current).find((source) => (text(source.name) ?? DEFAULT_SOURCE) === DEFAULT_SOURCE) : undefined;
  if (inForce === undefined) throw new MalformedMetadata(`a version ${version} metadata replaces the default source's tables, and no default source is in force (Hasura refuses it)`);
  // Version 1 lists functions by name only; Hasura gives each an empty configuration.
  const functions = version === 1 && Array.isArray(next.functions) ? next.functions.map((name: unknown) => ({ function: name })) : next.functions;
  const stored: Record<string, unknown> = { version: 3, sources: [{ ...inForce, name: DEFAULT_SOURCE, tables: next.tables, functions }] };
  for (const key of ['remote_schemas', 'query_collections', 'allowlist', 'custom_types', 'actions', 'cron_triggers']) stored[key] = next[key];
  if (isObject(current)) stored.rest_endpoints = current.rest_endpoints;
  return stored;
}

/** set_custom_types replaces every custom type: what goes, what changes, what comes. */
export function diffCustomTypes(current: unknown, next: unknown): Effect[] {
  try {
    const inventory = (types: unknown): Inventory => {
      const entries = new Map<string, Entry>();
      collectCustomTypes(types, entries);
      return { entries, tables: [], tablesBySource: new Map() };
    };
    return diffInventories(inventory(current), inventory(next), false);
  } catch (error) {
    const reason = error instanceof MalformedMetadata ? error.message : 'they could not be read';
    return [unknownEffect(`custom types not understood: ${reason}`)];
  }
}

function diffInventories(current: Inventory, next: Inventory, judgeWhole: boolean, options: DiffOptions = {}): Effect[] {
  const listing = new Listing(options.maxListed ?? MAX_LISTED_EFFECTS);
  let counted = 0;
  let countedRemoved = 0;

  // Tables: paired by name; each pair that differs is taken apart and compared object by object.
  const currentTables = placesOf(current);
  const objectsAt: number[] = [];
  for (let place = 0; place < currentTables.length; place += 1) {
    const ref = currentTables.at(place);
    const objects = entriesOfTable(ref, readTable(ref)).size;
    objectsAt.push(objects);
    counted += objects;
  }
  const pairing = new Pairing(currentTables, options.pairInStep ?? true);
  const nextTables = placesOf(next);
  for (let place = 0; place < nextTables.length; place += 1) {
    const ref = nextTables.at(place);
    const table = readTable(ref);
    const key = tableKey(ref, table);
    const earlierPlace = pairing.pair(key);
    // Hasura keys a source's tables by name, the later copy winning: read as an addition, a copy after the one
    // paired with the table in force would hide what it takes away.
    if (earlierPlace === 'again') throw listedTwice(`table ${tableNameOf(ref.source, ref.kind, table) ?? '?'}`);
    if (earlierPlace === undefined) {
      compareEntries(NOTHING, entriesOfTable(ref, table), listing);
      continue;
    }
    const earlier = currentTables.at(earlierPlace);
    if (sameTable(earlier, ref)) continue;
    countedRemoved += compareEntries(entriesOfTable(earlier, readTable(earlier)), entriesOfTable(ref, table), listing);
  }
  for (const place of pairing.unpaired()) {
    const ref = currentTables.at(place);
    compareEntries(entriesOfTable(ref, readTable(ref)), NOTHING, listing);
    countedRemoved += objectsAt[place]!;
  }

  for (const entry of current.entries.values()) if (!SETTINGS.has(entry.object)) counted += 1;
  countedRemoved += compareEntries(current.entries, next.entries, listing);

  const clears: Effect[] = [];
  if (judgeWhole) {
    for (const [source, tables] of current.tablesBySource) {
      if (tables > 0 && (next.tablesBySource.get(source) ?? 0) === 0) {
        clears.push({ verb: 'clear', object: 'source', name: source, detail: `removes its ${tables} tables` });
      }
    }
    if (counted > 0 && countedRemoved * 2 > counted) {
      clears.unshift({ verb: 'clear', object: 'metadata', detail: `removes ${countedRemoved} of ${counted} objects` });
    }
  }
  return [...clears, ...listing.effects()];
}

const NOTHING: ReadonlyMap<string, Entry> = new Map();

/** Lists what goes, what changes and what comes between two maps of objects; answers how many counted objects go. */
function compareEntries(current: ReadonlyMap<string, Entry>, next: ReadonlyMap<string, Entry>, listing: Listing): number {
  let countedRemoved = 0;
  for (const [key, before] of current) {
    const after = next.get(key);
    if (after === undefined) {
      if (!SETTINGS.has(before.object)) countedRemoved += 1;
      listing.add('removed', (VERBS[before.object] ?? DROP_OR_ADD).removed, before, before.detail);
    } else if (!sameDefinition(before, after)) {
      const repointed = before.connection !== undefined && after.connection !== undefined && canonical(before.connection.setting) !== canonical(after.connection.setting);
      if (repointed) listing.add('changed', 'replace', after, `repoints it from ${before.detail ?? 'a database not said'} to ${after.detail ?? 'a database not said'}`);
      else listing.add('changed', 'modify', after, changeDetail(before, after));
      if (repointed) inlineCredentials(after, listing);
    }
  }
  for (const [key, after] of next) {
    if (current.has(key)) continue;
    listing.add('added', (VERBS[after.object] ?? DROP_OR_ADD).added, after, after.detail);
    inlineCredentials(after, listing);
  }
  return countedRemoved;
}

/**
 * A source that comes, or comes with a new connection, written in the metadata rather than from the environment:
 * `grant:credentials`, with why (hasura-names.ts inlineConnection). One already in force, unchanged, says nothing.
 */
function inlineCredentials(source: Entry, listing: Listing): void {
  const why = source.connection?.inline;
  if (why !== undefined) listing.add('added', 'grant', { object: 'credentials', name: source.name, definition: null }, why);
}

/**
 * Removed, changed and added effects, each in the order found, up to MAX_LISTED_EFFECTS in all; past that, one
 * effect per verb and object says how many more there are. The first effect of each verb and object is always
 * there, itself or as that count, so the policy (which matches verbs and objects) decides as on the whole list.
 */
class Listing {
  private readonly lists = { removed: [] as Effect[], changed: [] as Effect[], added: [] as Effect[] };
  private readonly unlisted = { removed: new Map<string, Effect & { count: number }>(), changed: new Map<string, Effect & { count: number }>(), added: new Map<string, Effect & { count: number }>() };
  private listed = 0;

  constructor(private readonly maxListed: number) {}

  // The effect itself is made only when it is listed: past the limit only its verb and object are counted. (Made
  // and dropped, hundreds of thousands of them would land in V8's old space, which the first listed ones, kept, teach
  // it to allocate them in: the peak memory of a 50 MB apply was twice what it is.)
  add(kind: 'removed' | 'changed' | 'added', verb: Verb, entry: Entry, detail: string | undefined): void {
    if (this.listed < this.maxListed) {
      this.listed += 1;
      this.lists[kind].push(effectOf(verb, entry, detail));
      return;
    }
    const key = `${verb}:${entry.object}`;
    const counted = this.unlisted[kind].get(key);
    if (counted) counted.count += 1;
    else this.unlisted[kind].set(key, { verb, object: entry.object, count: 1 });
  }

  effects(): Effect[] {
    const said = (kind: 'removed' | 'changed' | 'added') => [
      ...this.lists[kind],
      ...[...this.unlisted[kind].values()].map(({ verb, object, count }): Effect => ({ verb, object, detail: `${count} more not listed` })),
    ];
    return [...said('removed'), ...said('changed'), ...said('added')];
  }
}

function sameDefinition(before: Entry, after: Entry): boolean {
  // Plain JSON first (native, fast); key order only matters when it differs.
  return JSON.stringify(before.definition) === JSON.stringify(after.definition) || canonical(before.definition) === canonical(after.definition);
}

/** The same table on both sides, as the bytes' text or as JSON text; otherwise its objects are compared one by one. */
function sameTable(before: TableRef, after: TableRef): boolean {
  const beforeText = elementText(before.list, before.index);
  const afterText = elementText(after.list, after.index);
  if (beforeText !== undefined && afterText !== undefined) return beforeText === afterText;
  return JSON.stringify(before.list[before.index]) === JSON.stringify(after.list[after.index]);
}

function effectOf(verb: Verb, entry: Entry, detail: string | undefined): Effect {
  return detail === undefined ? { verb, object: entry.object, name: entry.name } : { verb, object: entry.object, name: entry.name, detail };
}

/** For a custom type, the fields, values and relationships it loses; for a permission, whose it is. */
function changeDetail(before: Entry, after: Entry): string | undefined {
  if (before.raw === undefined || after.raw === undefined) return after.detail;
  const lost: string[] = [];
  for (const [key, word] of [['fields', 'field'], ['values', 'value'], ['relationships', 'relationship']] as const) {
    const remaining = new Set(namesIn(after.raw[key], key === 'values' ? 'value' : 'name'));
    const gone = namesIn(before.raw[key], key === 'values' ? 'value' : 'name').filter((name) => !remaining.has(name));
    if (gone.length > 0) lost.push(`${word}${gone.length > 1 ? 's' : ''} ${gone.join(', ')}`);
  }
  return lost.length > 0 ? `removes ${lost.join('; ')}` : 'definition changes';
}

const namesIn = (list: unknown, key: string): string[] =>
  Array.isArray(list) ? list.flatMap((item) => (isObject(item) && text(item[key]) !== undefined ? [text(item[key])!] : [])) : [];

// ---- flattening ---------------------------------------------------------------------------------------------

/** JSON with sorted keys, so that two definitions differing only in key order are equal. Slow: only for definitions
 * whose plain JSON differs. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function listAt(owner: Record<string, unknown>, key: string, where: string): Record<string, unknown>[] {
  const value = owner[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MalformedMetadata(`${where}${key} is not a list`);
  for (const item of value) if (!isObject(item)) throw new MalformedMetadata(`an element of ${where}${key} is not an object`);
  return value as Record<string, unknown>[];
}

const without = (value: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).filter(([key]) => !keys.has(key)));

/**
 * One object, under its kind and name. Hasura reads each of these lists into a map by name: most refuse a name given
 * twice (parseListAsMap: remote schemas, actions, query collections, the allow list, cron triggers, inherited roles,
 * and every list of a table: relationships, computed fields, permissions, event triggers; Hasura/RQL/Types/Metadata/
 * Common.hs and Hasura/Table/Metadata.hs), the others keep the later copy without a word (oMapFromL, which is
 * InsOrdHashMap.fromList, server/lib/hasura-prelude/src/Hasura/Prelude.hs: sources, tables, functions, native
 * queries, logical models, stored procedures, REST endpoints). Export never writes a name twice: a metadata that does
 * was merged by hand, and which copy its author meant cannot be known. Read as the later copy, a diff would still
 * have to trust that the earlier one was a mistake; so a name given twice is not understood, and a person decides.
 */
function add(entries: Map<string, Entry>, object: ObjectKind, name: string | undefined, definition: unknown, detail?: string): void {
  const shown = name ?? '?';
  const key = `${object}\u0000${shown}`;
  if (entries.has(key)) throw listedTwice(`${object.replace(/_/g, ' ')} ${shown}`);
  const entry: Entry = { object, name: shown, definition };
  if (detail !== undefined) entry.detail = detail;
  entries.set(key, entry);
}

const listedTwice = (what: string) => new MalformedMetadata(`${what} is listed twice (Hasura keeps one copy, or refuses the whole)`);

function inventoryOf(metadata: unknown): Inventory {
  if (!isObject(metadata)) throw new MalformedMetadata('it is not an object');
  const entries = new Map<string, Entry>();
  const tables: SourceTables[] = [];
  const tablesBySource = new Map<string, number>();
  for (const source of sourcesOf(metadata)) {
    const name = text(source.name) ?? DEFAULT_SOURCE;
    const kind = text(source.kind) ?? 'postgres';
    add(entries, 'source', name, without(source, SOURCE_CHILDREN), databaseOf(source.configuration));
    const inline = inlineConnection(source.configuration);
    entries.get(`source\u0000${name}`)!.connection = { setting: connectionOf(source.configuration) ?? null, ...(inline ? { inline } : {}) };
    const list = tablesOf(source, name);
    tablesBySource.set(name, list.length);
    tables.push({ source: name, kind, list });
    collectSourceObjects(entries, name, kind, source);
  }
  collectGlobalObjects(entries, metadata);
  return { entries, tables, tablesBySource };
}

/** A source's tables: objects, or still in the request's bytes (checked as objects when read). */
function tablesOf(source: Record<string, unknown>, name: string): readonly unknown[] {
  const value = source.tables;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MalformedMetadata(`source ${name}: tables is not a list`);
  // Tables kept in the request's bytes are checked when read (readTable), so as not to parse each one more time.
  const keptAsText = value.length > 0 && elementText(value, 0) !== undefined;
  if (!keptAsText) for (const item of value) if (!isObject(item)) throw notAnObject(name);
  return value;
}

/**
 * Every table of an inventory, numbered across its sources. A table is made when asked for and let go after: a big
 * metadata has hundreds of thousands, and what is kept of them is numbers, not objects.
 */
function placesOf(inventory: Inventory): { length: number; at(place: number): TableRef } {
  const sourceAt: number[] = [];
  const indexAt: number[] = [];
  inventory.tables.forEach((tables, source) => {
    for (let index = 0; index < tables.list.length; index += 1) {
      sourceAt.push(source);
      indexAt.push(index);
    }
  });
  return {
    length: sourceAt.length,
    at(place) {
      const { source, kind, list } = inventory.tables[sourceAt[place]!]!;
      const index = indexAt[place]!;
      return { source, kind, list, index };
    },
  };
}

/**
 * Finds, for each table of the new metadata by name, its place among the current tables. A metadata applied again
 * lists its tables in the same order as the one in force (the CLI writes them as export_metadata gave them), so
 * the two are first walked side by side; only at the first table out of step is a map of the current tables' names
 * built, for the rest. The map is the plain way; the walk only spares a big metadata a map of every table name.
 */
class Pairing {
  private cursor = 0;
  private byName: Map<string, number[]> | undefined;
  private readonly paired: Uint8Array;

  constructor(
    private readonly current: { length: number; at(place: number): TableRef },
    inStep: boolean,
  ) {
    this.paired = new Uint8Array(current.length);
    if (!inStep) this.byName = this.namesFromCursor();
  }

  /** The place of the current table this one pairs with; undefined when none has its name; 'again' when every
   * current table of its name is paired already (the new metadata lists it twice). */
  pair(key: string): number | 'again' | undefined {
    if (this.byName === undefined && this.cursor < this.current.length && this.keyAt(this.cursor) === key) {
      this.paired[this.cursor] = 1;
      return this.cursor++;
    }
    this.byName ??= this.namesFromCursor();
    const places = this.byName.get(key);
    if (places === undefined) return undefined;
    const place = places.shift();
    if (place === undefined) return 'again';
    this.paired[place] = 1;
    return place;
  }

  *unpaired(): Generator<number> {
    for (let place = 0; place < this.paired.length; place += 1) if (!this.paired[place]) yield place;
  }

  private keyAt(place: number): string {
    const ref = this.current.at(place);
    return tableKey(ref, readTable(ref));
  }

  /**
   * The places of the tables not yet walked, by name; two tables of one name (invalid, but sent) pair in order. The
   * names already walked are there too, with no place left, so that a second copy of one is seen as such.
   */
  private namesFromCursor(): Map<string, number[]> {
    const byName = new Map<string, number[]>();
    for (let place = 0; place < this.cursor; place += 1) byName.set(this.keyAt(place), []);
    for (let place = this.cursor; place < this.current.length; place += 1) {
      const key = this.keyAt(place);
      const places = byName.get(key);
      if (places) places.push(place);
      else byName.set(key, [place]);
    }
    return byName;
  }
}

const notAnObject = (source: string) => new MalformedMetadata(`an element of source ${source}: tables is not an object`);

function readTable(ref: TableRef): Record<string, unknown> {
  const table = ref.list[ref.index];
  if (!isObject(table)) throw notAnObject(ref.source);
  return table;
}

/** `default.public.patients`: a table's name within its source, as its objects are named after it. */
const tableNameOf = (source: string, kind: string, table: Record<string, unknown>): string | undefined => inSource(source, objectPath(table.table, kind));

/**
 * What pairs a table across the two metadata: its source and the parts of its name. Not its dotted name, which two
 * tables can share (schema `a.b` and table `c`, schema `a` and table `b.c`): paired, moving a permission from one to
 * the other would read as a table modified, not as one untracked and another tracked.
 */
function tableKey(ref: TableRef, table: Record<string, unknown>): string {
  const parts = objectPathParts(table.table, ref.kind);
  return parts === undefined ? '?' : JSON.stringify([ref.source, ...parts]);
}

function entriesOfTable(ref: TableRef, table: Record<string, unknown>): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  collectTable(entries, ref.source, ref.kind, table);
  return entries;
}

const SOURCE_CHILDREN = new Set(['tables', 'functions', 'native_queries', 'logical_models', 'stored_procedures', 'customization']);

/** v3 metadata has `sources`; v1 and v2 (CLI config v2) keep the default source's tables at the top. */
function sourcesOf(metadata: Record<string, unknown>): Record<string, unknown>[] {
  if (metadata.sources !== undefined) return listAt(metadata, 'sources', '');
  if (metadata.tables === undefined && metadata.functions === undefined) return [];
  return [{ name: DEFAULT_SOURCE, kind: 'postgres', tables: metadata.tables, functions: metadata.functions }];
}

const TABLE_CHILDREN = new Set([
  'object_relationships',
  'array_relationships',
  'remote_relationships',
  'computed_fields',
  'insert_permissions',
  'select_permissions',
  'update_permissions',
  'delete_permissions',
  'event_triggers',
]);

function collectTable(entries: Map<string, Entry>, source: string, kind: string, table: Record<string, unknown>): void {
  const tableName = tableNameOf(source, kind, table);
  const where = `table ${tableName ?? '?'}: `;
  add(entries, 'table', tableName, without(table, TABLE_CHILDREN));
  for (const key of ['object_relationships', 'array_relationships']) {
    for (const relationship of listAt(table, key, where)) add(entries, 'relationship', member(tableName, text(relationship.name)), relationship);
  }
  for (const relationship of listAt(table, 'remote_relationships', where)) {
    add(entries, 'remote_relationship', member(tableName, text(relationship.name)), relationship);
  }
  for (const field of listAt(table, 'computed_fields', where)) add(entries, 'computed_field', member(tableName, text(field.name)), field);
  for (const permissionKind of ['insert', 'select', 'update', 'delete']) {
    for (const permission of listAt(table, `${permissionKind}_permissions`, where)) {
      const role = text(permission.role);
      add(entries, 'permission', permissionName(tableName, permissionKind, role), permission, permissionDetail(permissionKind, role));
    }
  }
  for (const trigger of listAt(table, 'event_triggers', where)) add(entries, 'event_trigger', text(trigger.name), trigger);
}

function collectSourceObjects(entries: Map<string, Entry>, source: string, kind: string, from: Record<string, unknown>): void {
  const where = `source ${source}: `;
  for (const entry of listAt(from, 'functions', where)) {
    const functionName = inSource(source, objectPath(entry.function ?? entry, kind));
    add(entries, 'function', functionName, without(entry, new Set(['permissions'])));
    for (const permission of listAt(entry, 'permissions', where)) {
      add(entries, 'function_permission', forRole(functionName, text(permission.role)), permission, `role ${text(permission.role) ?? '?'}`);
    }
  }
  for (const query of listAt(from, 'native_queries', where)) add(entries, 'native_query', inSource(source, text(query.root_field_name)), query);
  for (const procedure of listAt(from, 'stored_procedures', where)) {
    add(entries, 'stored_procedure', inSource(source, objectPath(procedure.stored_procedure, kind)), procedure);
  }
  for (const model of listAt(from, 'logical_models', where)) {
    const modelName = inSource(source, text(model.name));
    add(entries, 'logical_model', modelName, without(model, new Set(['select_permissions'])));
    for (const permission of listAt(model, 'select_permissions', where)) {
      const role = text(permission.role);
      add(entries, 'permission', permissionName(modelName, 'select', role), permission, permissionDetail('select', role));
    }
  }
  if (from.customization !== undefined) add(entries, 'customization', source, from.customization);
}

function collectGlobalObjects(entries: Map<string, Entry>, metadata: Record<string, unknown>): void {
  for (const action of listAt(metadata, 'actions', '')) {
    const name = text(action.name);
    add(entries, 'action', name, without(action, new Set(['permissions'])));
    for (const permission of listAt(action, 'permissions', `action ${name ?? '?'}: `)) {
      add(entries, 'action_permission', forRole(name, text(permission.role)), permission, `role ${text(permission.role) ?? '?'}`);
    }
  }
  for (const schema of listAt(metadata, 'remote_schemas', '')) {
    const name = text(schema.name);
    const where = `remote schema ${name ?? '?'}: `;
    add(entries, 'remote_schema', name, without(schema, new Set(['permissions', 'remote_relationships'])));
    for (const permission of listAt(schema, 'permissions', where)) {
      add(entries, 'remote_schema_permission', forRole(name, text(permission.role)), permission, `role ${text(permission.role) ?? '?'}`);
    }
    for (const onType of listAt(schema, 'remote_relationships', where)) {
      for (const relationship of listAt(onType, 'relationships', where)) {
        add(entries, 'remote_relationship', member(member(name, text(onType.type_name)), text(relationship.name)), relationship);
      }
    }
  }
  const named: [string, ObjectKind, string][] = [
    ['cron_triggers', 'cron_trigger', 'name'],
    ['query_collections', 'query_collection', 'name'],
    ['allowlist', 'allowlist', 'collection'],
    ['rest_endpoints', 'rest_endpoint', 'name'],
    ['inherited_roles', 'role', 'role_name'],
  ];
  for (const [key, object, nameKey] of named) {
    for (const item of listAt(metadata, key, '')) add(entries, object, text(item[nameKey]), item);
  }
  if (metadata.network !== undefined) {
    if (!isObject(metadata.network)) throw new MalformedMetadata('network is not an object');
    for (const host of listAt(metadata.network, 'tls_allowlist', 'network: ')) {
      const name = text(host.host);
      add(entries, 'tls_allowlist', text(host.suffix) === undefined ? name : `${name}:${text(host.suffix)}`, host);
    }
  }
  collectCustomTypes(metadata.custom_types, entries);
  const settings: [string, ObjectKind][] = [
    ['api_limits', 'api_limits'],
    ['graphql_schema_introspection', 'introspection'],
    ['metrics_config', 'metrics_config'],
    ['opentelemetry', 'opentelemetry'],
  ];
  for (const [key, object] of settings) if (metadata[key] !== undefined) add(entries, object, key, metadata[key]);
  collectAgents(metadata.backend_configs, entries);
}

/** backend_configs.dataconnector.<agent>: each agent (its URI) a data connector of its own. */
function collectAgents(configs: unknown, entries: Map<string, Entry>): void {
  if (configs === undefined || configs === null) return;
  if (!isObject(configs)) throw new MalformedMetadata('backend_configs is not an object');
  for (const [backend, agents] of Object.entries(configs)) {
    if (!isObject(agents)) throw new MalformedMetadata(`backend_configs.${backend} is not an object`);
    for (const [name, agent] of Object.entries(agents)) add(entries, 'data_connector', `${backend}.${name}`, agent);
  }
}

function collectCustomTypes(types: unknown, entries: Map<string, Entry>): void {
  if (types === undefined || types === null) return;
  if (!isObject(types)) throw new MalformedMetadata('custom_types is not an object');
  for (const key of ['objects', 'input_objects', 'scalars', 'enums']) {
    for (const type of listAt(types, key, 'custom_types: ')) {
      const name = text(type.name) ?? '?';
      const detail = key.replace(/s$/, '').replace('_', ' ');
      const entryKey = `custom_types\u0000${name}`;
      if (entries.has(entryKey)) throw listedTwice(`custom type ${name}`);
      entries.set(entryKey, { object: 'custom_types', name, detail, definition: type, raw: type });
    }
  }
}
