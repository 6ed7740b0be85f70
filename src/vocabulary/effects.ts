// The effect model: what a change does, independent of how it was asked for. Every analyser (Hasura request
// bodies, SQL, metadata diffs, the words of `operation`) answers with a list of effects; the policy decides on
// effects, and every message names them. Pure data: no I/O here or in any analyser.

/**
 * What happens to the object. The policy matches `verb:object` (e.g. `drop:table`, `grant:*`), so these words are
 * part of the policy file's language. docs/policy.md's verb table is generated from here (`npm run docs:policy`).
 */
export const VERBS = {
  read: 'reads it; nothing changes',
  add: 'creates or tracks something new; nothing existing is lost',
  comment: 'sets a comment or description; nothing else changes',
  modify: 'changes the definition of something that exists, in place',
  rename: 'renames something that exists (everything using the old name breaks)',
  replace: 'overwrites something that exists with a new definition',
  rewrite: 'rewrites stored data: UPDATE, a column type change',
  delete: 'deletes rows (object rows: some, selected by WHERE; object all_rows: every row)',
  untrack: "removes it from Hasura's metadata; the data stays in the database",
  drop: 'deletes it',
  grant: 'widens who may do what: a permission, a role, a privilege, a trusted host',
  revoke: 'narrows who may do what',
  clear: 'empties it as a whole (clear_metadata, a replacement that removes most of the metadata or a whole source)',
  run: 'runs code whose effect cannot be known from the request (a DO block, a function not known to be free of side effects)',
  unknown: 'not understood: the guard cannot tell what it does',
} as const;

export type Verb = keyof typeof VERBS;

/**
 * What the effect applies to. Open-ended on purpose (Hasura keeps adding metadata objects); the analysers use
 * these names, and the policy may name any of them.
 */
export type ObjectKind =
  // database objects (SQL, run_sql)
  | 'database'
  | 'schema'
  | 'table'
  | 'view'
  | 'materialized_view'
  | 'column'
  | 'constraint'
  | 'index'
  | 'function'
  | 'trigger'
  | 'sequence'
  | 'type'
  | 'extension'
  | 'policy' // row-level security policy
  | 'privilege'
  | 'owned' // DROP OWNED / REASSIGN OWNED
  | 'rows'
  | 'all_rows'
  | 'sql' // a statement whose object is not named (e.g. an unknown statement kind)
  | 'setting'
  // Hasura metadata objects
  | 'metadata'
  | 'source'
  | 'relationship'
  | 'remote_relationship'
  | 'permission'
  | 'function_permission'
  | 'computed_field'
  | 'role'
  | 'remote_schema'
  | 'remote_schema_permission'
  | 'action'
  | 'action_permission'
  | 'custom_types'
  | 'event_trigger'
  | 'cron_trigger'
  | 'scheduled_event'
  | 'query_collection'
  | 'allowlist'
  | 'rest_endpoint'
  | 'tls_allowlist'
  | 'network'
  | 'api_limits'
  | 'introspection'
  | 'customization'
  | 'native_query'
  | 'logical_model'
  | 'stored_procedure'
  | 'opentelemetry'
  | 'graphql_schema'
  | 'catalog_state'
  | 'event_logs'
  | 'data_connector' // a data connector agent (dc_add_agent)
  | 'metrics_config'
  | 'query_tags'
  | 'credentials' // a connection (and its password) written into the metadata rather than read from the environment
  | 'unknown';

export interface Effect {
  verb: Verb;
  object: ObjectKind;
  /** The object's name, as qualified as the request makes it: `default.public.patients`, `public.patients.ssn`. */
  name?: string;
  /**
   * What the reader must know beyond verb and object: "CASCADE", "every row", "role anonymous", "replace: true".
   * Short words, no sentence.
   */
  detail?: string;
  /** Where in the request it came from, e.g. `args[2]` of a bulk or `statement 3`; for messages and tests. */
  at?: string;
}

/** What the guard hands the analysers: a change as validateMetadataChange receives it, its JSON already parsed. */
export interface ChangeToAnalyse {
  operation: string;
  table: string;
  /** A whole Hasura request body. */
  request?: unknown;
  /** export_metadata's `metadata`, for diffing replacements. */
  currentMetadata?: unknown;
}

/** `drop:table`, the form the policy matches. */
export const effectKey = (effect: Effect): string => `${effect.verb}:${effect.object}`;

const PHRASES: Record<Verb, string> = {
  read: 'reads',
  add: 'adds',
  comment: 'comments on',
  modify: 'modifies',
  rename: 'renames',
  replace: 'replaces',
  rewrite: 'rewrites',
  delete: 'deletes',
  untrack: 'untracks',
  drop: 'drops',
  grant: 'grants',
  revoke: 'revokes',
  clear: 'clears',
  run: 'runs',
  unknown: 'does something the guard does not understand to',
};

/** One effect in words: `drops table public.patients (CASCADE)`. */
export function describeEffect(effect: Effect): string {
  if (effect.verb === 'unknown' && effect.object === 'unknown') return `is not understood (${effect.detail ?? 'no detail'})`;
  const object = effect.object === 'all_rows' ? 'every row of' : effect.object === 'rows' ? 'rows of' : effect.object.replace(/_/g, ' ');
  const name = effect.name ? ` ${effect.name}` : '';
  // "every row of patients (every row)" says it twice: the object already does.
  const details = (effect.detail ?? '').split(', ').filter((d) => d && !(effect.object === 'all_rows' && d === 'every row'));
  const detail = details.length ? ` (${details.join(', ')})` : '';
  return `${PHRASES[effect.verb]} ${object}${name}${detail}`;
}

/** Several effects in words, in order, the same effect said once: `drops table public.t; untracks table public.t`. */
export function describeEffects(effects: readonly Effect[], max = 8): string {
  const said = [...new Set(effects.map(describeEffect))];
  const shown = said.slice(0, max).join('; ');
  return said.length > max ? `${shown}; and ${said.length - max} more` : shown;
}

export const unknownEffect = (detail: string, at?: string): Effect => ({ verb: 'unknown', object: 'unknown', detail, at });
