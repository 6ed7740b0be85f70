// The `operation` field of validateMetadataChange, in any of the forms callers type: a Hasura metadata type
// (`pg_drop_relationship`, also spelled `clear metadata` or `Clear-Metadata.`), a SQL statement
// (`DROP TABLE public.patients CASCADE`), the start of one that the table completes (`DROP TABLE` + `public.patients`),
// or plain words (`delete`, `alter table`). Every form ends as effects; a word the guard does not know becomes an
// unknown effect, so one routine word can never carry an unknown one through.
import { printable } from '../vocabulary/text.js';
import { unknownEffect, type Effect, type ObjectKind, type Verb } from '../vocabulary/effects.js';
import { withoutBody } from './hasura.js';

export interface OperationAnalysers {
  isHasuraType(type: string): boolean;
  analyzeHasuraType(type: string, table: string): Effect[];
  /** Effects of SQL, or undefined when it does not parse (the caller then tries the other forms). */
  analyzeSqlIfParses(sql: string): Effect[] | undefined;
}

export function analyzeOperation(operation: string, table: string, analysers: OperationAnalysers): Effect[] {
  const asType = operation
    .trim()
    .toLowerCase()
    .replace(/[.;:!]+$/, '')
    .replace(/[\s-]+/g, '_');
  // Named without its body, a type that may replace or repoint something (`replace: true`) is taken to do so.
  if (analysers.isHasuraType(asType)) return withoutBody(asType, analysers.analyzeHasuraType(asType, table));

  const sql = analysers.analyzeSqlIfParses(operation) ?? (table ? analysers.analyzeSqlIfParses(`${operation} ${table}`) : undefined);
  if (sql) return sql;

  return analyzeWords(operation, table);
}

/** Words that say what happens. `delete` means the object goes, as on the console's "Delete table" button. */
const VERB_WORDS: Record<string, Verb> = {
  select: 'read', get: 'read', read: 'read', list: 'read', show: 'read', describe: 'read', export: 'read', count: 'read',
  explain: 'read', introspect: 'read',
  insert: 'add', create: 'add', add: 'add', track: 'add',
  comment: 'comment',
  alter: 'modify', modify: 'modify', update: 'modify', change: 'modify', set: 'modify', edit: 'modify',
  rename: 'rename',
  replace: 'replace',
  rewrite: 'rewrite',
  truncate: 'delete',
  untrack: 'untrack',
  drop: 'drop', delete: 'drop', remove: 'drop',
  grant: 'grant',
  revoke: 'revoke',
  clear: 'clear', wipe: 'clear',
  run: 'run', execute: 'run', call: 'run',
};

/** Words that say what it happens to. `remote schema` is read as one object, never as a database schema. */
const OBJECT_WORDS: Record<string, ObjectKind> = {
  table: 'table', tables: 'table', column: 'column', columns: 'column', schema: 'schema', database: 'database',
  source: 'source', view: 'view', function: 'function', trigger: 'trigger', index: 'index', sequence: 'sequence',
  type: 'type', extension: 'extension', constraint: 'constraint', relationship: 'relationship',
  relationships: 'relationship', permission: 'permission', permissions: 'permission', role: 'role', roles: 'role',
  metadata: 'metadata', action: 'action', owned: 'owned', rows: 'rows', data: 'all_rows', sql: 'sql',
};
const PAIRED_OBJECTS: Record<string, ObjectKind> = {
  'remote schema': 'remote_schema',
  'remote relationship': 'remote_relationship',
  'event trigger': 'event_trigger',
  'cron trigger': 'cron_trigger',
  'custom types': 'custom_types',
};
/** Words that change nothing about what happens. Deliberately few: every other word is not understood. */
const FILLER = new Set(['if', 'exists', 'not', 'the', 'a', 'an', 'on', 'from', 'to', 'in', 'of', 'for', 'by', 'with', 'all']);

/** A name as SQL writes one: `x`, `public.patients`, `"My Table"`. */
const NAME = /^(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))*$/;

/**
 * The word right after an object word, when it is a name and no word the guard knows: the object's name
 * (`COMMENT ON TABLE patients`, which is not SQL without its `IS '...'`). Taken out before the words are read.
 * A name with a verb among its parts (`drop_everything`, `then_clear`) is not taken: its words still count.
 */
function takeNames(operation: string): { rest: string; name?: string } {
  const tokens = operation.trim().split(/\s+/);
  const isKnown = (word: string) =>
    word in OBJECT_WORDS || FILLER.has(word) || word === 'cascade' || word.split(/[_.$"-]+/).some((part) => part in VERB_WORDS);
  for (let i = 1; i < tokens.length; i++) {
    const before = tokens[i - 1]!.toLowerCase();
    const token = tokens[i]!.replace(/[;:,!]+$/, '');
    const pairEnd = Object.keys(PAIRED_OBJECTS).some((pair) => pair.endsWith(` ${before}`));
    if (!(before in OBJECT_WORDS || pairEnd) || !NAME.test(token) || isKnown(token.toLowerCase())) continue;
    return { rest: [...tokens.slice(0, i), ...tokens.slice(i + 1)].join(' '), name: token };
  }
  return { rest: operation };
}

function analyzeWords(operation: string, table: string): Effect[] {
  const { rest, name } = takeNames(operation);
  const words = rest.toLowerCase().split(/[\s_.;:,!-]+/).filter(Boolean);
  const targetName = table || name;
  const verbs: Verb[] = [];
  const unknown: string[] = [];
  let object: ObjectKind | undefined;
  let cascade = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const pair = PAIRED_OBJECTS[`${word} ${words[i + 1]}`];
    if (pair) {
      object = pair;
      i++;
    } else if (word in VERB_WORDS) verbs.push(VERB_WORDS[word]!);
    else if (word in OBJECT_WORDS) object = OBJECT_WORDS[word];
    else if (word === 'cascade') cascade = true;
    else if (!FILLER.has(word)) unknown.push(word);
  }
  const target: ObjectKind = object ?? (verbs.includes('clear') ? 'metadata' : 'table');
  const effects: Effect[] = verbs.map((verb) => ({
    verb,
    // TRUNCATE deletes every row; a table-level `delete` above means the table goes.
    object: verb === 'delete' ? 'all_rows' : target,
    ...(targetName ? { name: targetName } : {}),
    ...(cascade ? { detail: 'CASCADE' } : {}),
  }));
  if (verbs.length === 0) effects.push(unknownEffect(`"${printable(operation)}" names no known operation`));
  if (unknown.length > 0) effects.push(unknownEffect(`unknown word${unknown.length > 1 ? 's' : ''} ${unknown.map((w) => `"${printable(w)}"`).join(', ')}`));
  return effects;
}
