// How Hasura objects are named in effects, shared by the request catalogue and the metadata diff so that the
// same object has the same name whichever way it is changed:
//   source                 default
//   table, function        default.public.patients          (source.schema.name; BigQuery: source.dataset.name)
//   table member           default.public.patients.author   (relationship, computed field, remote relationship)
//   permission             default.public.patients select for anonymous
//   role-scoped object     my_action for manager           (function, action and remote schema permissions)
//   source-scoped object   default.my_native_query          (native query, logical model, stored procedure)
import { isObject } from '../vocabulary/json.js';

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
  return objectPathParts(value, backend)?.join('.');
}

/**
 * The parts of an object's name, `["public", "patients"]`: what objectPath joins with dots for people to read. Joined,
 * two names can read the same (schema `a.b` and table `c`, schema `a` and table `b.c`); the parts never do.
 */
export function objectPathParts(value: unknown, backend: string): string[] | undefined {
  if (typeof value === 'string') {
    const schema = defaultSchema(backend);
    return schema ? [schema, value] : [value];
  }
  if (Array.isArray(value)) {
    const parts = value.map(text);
    return parts.length > 0 && parts.every((part) => part !== undefined) ? (parts as string[]) : undefined;
  }
  if (!isObject(value)) return undefined;
  const name = text(value.name);
  if (name === undefined) return undefined;
  const schema = text(value.schema) ?? text(value.dataset) ?? text(value.database) ?? defaultSchema(backend);
  return schema ? [schema, name] : [name];
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

// ---- connection strings ---------------------------------------------------------------------------------------
// A source's configuration holds credentials: a database URL with its password, an ODBC string with `Pwd=`, a
// service account's key. Effects name the database a source points to (an approver must see where a change goes)
// but never a credential; and every name and detail the Hasura analysis gives passes maskCredentials, so a
// password that reaches one some other way (a source named after its URL) is not printed either.

// Up to the last `@` of the word: a password may hold an unescaped `@`, `/` or `:` (over-masking a path is harmless).
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)(\S*)@/gi;
const SECRET_PAIRS = /\b(password|passwd|pwd|sslpassword|secret|token|private_key|api_key|apikey)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;&,]*)/gi;

/**
 * `postgres://app:***@db/app`: a URL's password and every `password=…`, `Pwd=…`-like value, masked. A URL with a
 * user and no password loses the user too (`https://<token>@host` carries a token there). Masking twice changes nothing.
 */
export function maskCredentials(value: string): string {
  // Both patterns need a `:` or a `=`; most names have neither (a diff may list 10,000 of them).
  if (!value.includes(':') && !value.includes('=')) return value;
  return value
    .replace(URL_CREDENTIALS, (_all, scheme: string, credentials: string) => {
      const user = /^[^:/?#]+(?=:)/.exec(credentials)?.[0];
      return `${scheme}${user === undefined ? '***' : `${user}:***`}@`;
    })
    .replace(SECRET_PAIRS, '$1$2***');
}

/** `host=db dbname=app` (libpq), `Server=tcp:db,1433;Database=app;Pwd=…` (ODBC): the host and the database. */
function hostAndDatabase(value: string): string | undefined {
  const pairs = new Map<string, string>();
  for (const [, key, raw] of value.matchAll(/([A-Za-z][A-Za-z ]*?)\s*=\s*("[^"]*"|'[^']*'|\{[^}]*\}|[^;\s]*)/g)) {
    pairs.set(key!.trim().toLowerCase(), raw!.replace(/^["'{]|["'}]$/g, ''));
  }
  const host = pairs.get('host') ?? pairs.get('hostaddr') ?? pairs.get('server') ?? pairs.get('data source') ?? pairs.get('address');
  const database = pairs.get('dbname') ?? pairs.get('database') ?? pairs.get('initial catalog');
  if (host === undefined && database === undefined) return undefined;
  return [host ?? '?', database].filter((part) => part !== undefined).join('/');
}

/** A connection string said without its credentials: `postgres://app:***@db:5432/app`, or its host and database. */
function describeConnectionString(value: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      const user = url.username ? `${url.username}:***@` : url.password ? '***@' : '';
      // No query: libpq reads `?password=…` there too.
      return `${url.protocol}//${user}${url.host}${url.pathname}`;
    } catch {
      // not a URL after all: read as key=value pairs below
    }
  }
  return hostAndDatabase(value) ?? 'a connection string (not shown)';
}

/** Where a value of a source's configuration comes from: masked text, or the environment variable that holds it. */
function describeSetting(value: unknown): string | undefined {
  if (typeof value === 'string') return describeConnectionString(value);
  if (!isObject(value)) return undefined;
  if (typeof value.from_env === 'string') return `from env ${value.from_env}`;
  const parameters = value.connection_parameters;
  if (isObject(parameters)) {
    const host = text(parameters.host) ?? '?';
    const port = text(parameters.port);
    return `${host}${port === undefined ? '' : `:${port}`}/${text(parameters.database) ?? '?'}`;
  }
  return undefined;
}

/**
 * The database a source's configuration points to, without credentials: PostgreSQL, Citus and CockroachDB keep it in
 * `connection_info.database_url` (a URL, {from_env} or {connection_parameters}), SQL Server in
 * `connection_info.connection_string`, BigQuery in `project_id`. Data connectors' configurations are their own:
 * nothing is said of them.
 */
export function databaseOf(configuration: unknown): string | undefined {
  if (!isObject(configuration)) return undefined;
  const info = configuration.connection_info;
  if (isObject(info)) {
    const said = describeSetting(info.database_url ?? info.connection_string);
    if (said !== undefined) return `database ${said}`;
  }
  const project = configuration.project_id;
  if (typeof project === 'string' || isObject(project)) {
    const said = typeof project === 'string' ? project : describeSetting(project);
    if (said !== undefined) return `project ${said}`;
  }
  return undefined;
}

/**
 * What decides which database a source reaches: its connection setting (PostgreSQL's `database_url`, SQL Server's
 * `connection_string`, BigQuery's `project_id`), as given. Undefined when the configuration names none.
 */
export function connectionOf(configuration: unknown): unknown {
  if (!isObject(configuration)) return undefined;
  const info = configuration.connection_info;
  if (isObject(info) && (info.database_url ?? info.connection_string) !== undefined) return info.database_url ?? info.connection_string;
  return configuration.project_id;
}

/**
 * Why a configuration's connection is written in the metadata rather than read from the environment, or undefined.
 * A URL (or ODBC string, or connection parameters with a password) in the metadata travels with it: every export
 * holds it, password included, and a metadata applied to another environment (`hasura metadata apply` from
 * staging to production) points that environment's source at this database. `{"from_env": "PG_DATABASE_URL"}`
 * keeps it in each environment's own settings. Read replicas count too.
 */
export function inlineConnection(configuration: unknown): string | undefined {
  if (!isObject(configuration)) return undefined;
  const replicas = Array.isArray(configuration.read_replicas) ? configuration.read_replicas : [];
  for (const info of [configuration.connection_info, ...replicas]) {
    if (!isObject(info)) continue;
    const setting = info.database_url ?? info.connection_string;
    const parameters = isObject(setting) ? setting.connection_parameters : undefined;
    if (typeof setting === 'string' || (isObject(parameters) && typeof parameters.password === 'string')) {
      return 'database URL written in the metadata, not from_env: every export holds it, with any password, and an apply to another environment repoints that one';
    }
  }
  return undefined;
}

/** The source of that name in a metadata (export_metadata's v3 `metadata`), if any. */
export function sourceInForce(metadata: unknown, name: string): Record<string, unknown> | undefined {
  if (!isObject(metadata) || !Array.isArray(metadata.sources)) return undefined;
  return metadata.sources.find((source): source is Record<string, unknown> => isObject(source) && (text(source.name) ?? DEFAULT_SOURCE) === name);
}
