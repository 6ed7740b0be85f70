// How Hasura objects are named in effects, shared by the request catalogue and the metadata diff so that the
// same object has the same name whichever way it is changed:
//   source                 default
//   table, function        default.public.patients          (source.schema.name; BigQuery: source.dataset.name)
//   table member           default.public.patients.author   (relationship, computed field, remote relationship)
//   permission             default.public.patients select for anonymous
//   role-scoped object     my_action for manager           (function, action and remote schema permissions)
//   source-scoped object   default.my_native_query          (native query, logical model, stored procedure)
import { isObject } from '../core/json.js';

export const DEFAULT_SOURCE = 'default';

export const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

/** The source a source-scoped call works on: Hasura's default when it names none. */
export const sourceOf = (args: Record<string, unknown>): string => text(args.source) ?? DEFAULT_SOURCE;

/**
 * The schema Hasura assumes when a table is given by its bare name: `public` on the Postgres family, `dbo` on
 * SQL Server. `backend` is a request's prefix (`pg`, `mssql`, '' when unprefixed) or a source's kind.
 */
function defaultSchema(backend: string): string | undefined {
  if (['', 'pg', 'postgres', 'citus', 'cockroach'].includes(backend)) return 'public';
  if (backend === 'mssql') return 'dbo';
  return undefined;
}

/** `public.patients` from `{schema, name}`, `{dataset, name}`, `["db", "t"]` (data connectors) or `"patients"`. */
export function objectPath(value: unknown, backend: string): string | undefined {
  if (typeof value === 'string') {
    const schema = defaultSchema(backend);
    return schema ? `${schema}.${value}` : value;
  }
  if (Array.isArray(value)) {
    const parts = value.map(text);
    return parts.length > 0 && parts.every((part) => part !== undefined) ? parts.join('.') : undefined;
  }
  if (!isObject(value)) return undefined;
  const name = text(value.name);
  if (name === undefined) return undefined;
  const schema = text(value.schema) ?? text(value.dataset) ?? text(value.database) ?? defaultSchema(backend);
  return schema ? `${schema}.${name}` : name;
}

export const inSource = (source: string, path: string | undefined): string | undefined =>
  path === undefined ? undefined : `${source}.${path}`;

export const member = (owner: string | undefined, name: string | undefined): string | undefined =>
  owner === undefined || name === undefined ? owner ?? name : `${owner}.${name}`;

export const forRole = (owner: string | undefined, role: string | undefined): string | undefined =>
  owner === undefined ? undefined : role === undefined ? owner : `${owner} for ${role}`;

export const permissionName = (owner: string | undefined, kind: string, role: string | undefined): string | undefined =>
  owner === undefined ? undefined : `${owner} ${kind} for ${role ?? '?'}`;

export const permissionDetail = (kind: string, role: string | undefined): string => `${kind} for role ${role ?? '?'}`;
