// Names and kinds of database objects, read from libpg-query's tree. Names are qualified as the SQL wrote them
// (`public.patients`; unqualified stays unqualified) and joined with dots, without quotes: the parser has already
// removed the quotes and kept a quoted name's exact case, so `"public"."Order Items"` is `public.Order Items`.

import type { Node, ObjectType, RangeVar, RoleSpec } from 'libpg-query';
import type { ObjectKind } from '../vocabulary/effects.js';

/** `public.patients` from a table reference. */
export function relationName(relation: RangeVar | undefined): string {
  if (!relation) return '?';
  const { catalogname, schemaname, relname } = relation;
  if (!catalogname) return schemaname ? (relname ? `${schemaname}.${relname}` : schemaname) : (relname ?? '');
  return [catalogname, schemaname, relname].filter(Boolean).join('.');
}

/** The words of a list of String nodes (a qualified name, a column list). */
export function strings(nodes: readonly Node[] | undefined): string[] {
  const words: string[] = [];
  if (nodes) for (const node of nodes) if ('String' in node) words.push(node.String.sval ?? '');
  return words;
}

/** A role as written; PUBLIC and CURRENT_USER are keywords, not names. */
export function roleName(role: RoleSpec | undefined): string {
  switch (role?.roletype) {
    case 'ROLESPEC_PUBLIC':
      return 'PUBLIC';
    case 'ROLESPEC_CURRENT_USER':
      return 'CURRENT_USER';
    case 'ROLESPEC_CURRENT_ROLE':
      return 'CURRENT_ROLE';
    case 'ROLESPEC_SESSION_USER':
      return 'SESSION_USER';
    default:
      return role?.rolename ?? '?';
  }
}

export function roleNames(nodes: readonly Node[] | undefined): string {
  // GRANT role TO role: the granted roles come as privileges named after them.
  return (nodes ?? [])
    .map((node) => ('RoleSpec' in node ? roleName(node.RoleSpec) : 'AccessPriv' in node ? (node.AccessPriv.priv_name ?? '?') : objectName(node)))
    .join(', ');
}

/** Objects that live on a table and are named `trigger on table` rather than `table.trigger`. */
const ON_TABLE: ReadonlySet<ObjectType> = new Set(['OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE', 'OBJECT_TABCONSTRAINT']);

/** The name of the object a DROP, COMMENT, ALTER ... OWNER names, whatever node form the grammar gives it. */
export function objectName(node: Node | undefined, type?: ObjectType): string {
  if (!node) return '?';
  if ('String' in node) return node.String.sval ?? '?';
  if ('Integer' in node) return String(node.Integer.ival ?? 0); // a large object's number
  if ('RangeVar' in node) return relationName(node.RangeVar);
  if ('RoleSpec' in node) return roleName(node.RoleSpec);
  if ('ObjectWithArgs' in node) return strings(node.ObjectWithArgs.objname).join('.');
  if ('TypeName' in node) return typeName(node.TypeName.names);
  if ('List' in node) {
    const items = node.List.items ?? [];
    const words = items.map((item) => objectName(item));
    if (type && ON_TABLE.has(type) && words.length > 1) return `${words.at(-1)} on ${words.slice(0, -1).join('.')}`;
    // A cast is a pair of types: (int AS text).
    return items.some((item) => 'TypeName' in item) ? words.join(' AS ') : words.join('.');
  }
  return '?';
}

/** A type's name without the pg_catalog the grammar adds to built-in types (`int` is `pg_catalog.int4`). */
export function typeName(names: readonly Node[] | undefined): string {
  const words = strings(names);
  return (words[0] === 'pg_catalog' ? words.slice(1) : words).join('.');
}

const KINDS: Partial<Record<ObjectType, ObjectKind>> = {
  OBJECT_TABLE: 'table',
  OBJECT_FOREIGN_TABLE: 'table',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized_view',
  OBJECT_COLUMN: 'column',
  OBJECT_ATTRIBUTE: 'column',
  OBJECT_TABCONSTRAINT: 'constraint',
  OBJECT_DOMCONSTRAINT: 'constraint',
  OBJECT_INDEX: 'index',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'function',
  OBJECT_ROUTINE: 'function',
  OBJECT_AGGREGATE: 'function',
  OBJECT_TRIGGER: 'trigger',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'type',
  OBJECT_EXTENSION: 'extension',
  OBJECT_SCHEMA: 'schema',
  OBJECT_DATABASE: 'database',
  OBJECT_POLICY: 'policy',
  OBJECT_ROLE: 'role',
};

/**
 * The effect model's word for a PostgreSQL object type. Kinds the model has no word for (rule, cast, operator,
 * publication, event trigger, ...) become object `unknown` with the kind in words as detail, so `drop:*` still
 * matches them and the message still says what they are.
 */
export function kindOf(type: ObjectType | undefined): { object: ObjectKind; kindWords?: string } {
  const object = type ? KINDS[type] : undefined;
  if (object) return { object };
  return { object: 'unknown', kindWords: (type ?? 'OBJECT_UNKNOWN').replace(/^OBJECT_/, '').toLowerCase().replace(/_/g, ' ') };
}
