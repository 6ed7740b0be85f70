// The history in PostgreSQL (GUARD_DATABASE_URL), so every replica writes to and shows one history. The same client
// and the same habits as the token store (src/store/postgres.ts): schema hasura_guard, created at start inside a
// transaction holding an advisory lock, every time the guard's clock (epoch milliseconds), never the database's now().
import pg from 'pg';
import type { ChangeOutcome, ChangeRecord } from './changes.js';
import type { HistoryStore } from './history.js';
// The token store's lock too: both create schema hasura_guard at start, and two CREATE SCHEMA IF NOT EXISTS at once
// collide on the catalog's unique index.
import { createSchema, SCHEMA } from '../store/postgres.js';

const SCHEMA_STATEMENTS = [
  `CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${SCHEMA}.changes (
     id text PRIMARY KEY,
     environment text NOT NULL,
     outcome text NOT NULL,
     requester text,
     confirmer text,
     summary text NOT NULL,
     changes jsonb NOT NULL,
     fingerprint text,
     subject text,
     held_at bigint NOT NULL,
     confirmed_at bigint,
     finished_at bigint,
     hasura_status integer)`,
  `CREATE INDEX IF NOT EXISTS changes_newest ON ${SCHEMA}.changes (held_at DESC, id DESC)`,
  `CREATE INDEX IF NOT EXISTS changes_confirmed ON ${SCHEMA}.changes (fingerprint, subject) WHERE outcome = 'confirmed'`,
];

const COLUMNS = 'id, environment, outcome, requester, confirmer, summary, changes, fingerprint, subject, held_at, confirmed_at, finished_at, hasura_status';
const PUT = `INSERT INTO ${SCHEMA}.changes (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
  ON CONFLICT (id) DO UPDATE SET outcome = EXCLUDED.outcome, requester = EXCLUDED.requester, confirmer = EXCLUDED.confirmer,
    summary = EXCLUDED.summary, changes = EXCLUDED.changes, fingerprint = EXCLUDED.fingerprint, subject = EXCLUDED.subject,
    confirmed_at = EXCLUDED.confirmed_at, finished_at = EXCLUDED.finished_at, hasura_status = EXCLUDED.hasura_status`;
const GET = `SELECT ${COLUMNS} FROM ${SCHEMA}.changes WHERE id = $1`;
const FIND_CONFIRMED = `SELECT ${COLUMNS} FROM ${SCHEMA}.changes
  WHERE outcome = 'confirmed' AND environment = $1 AND fingerprint = $2 AND subject = $3 ORDER BY held_at, id LIMIT 1`;
const LIST = `SELECT ${COLUMNS} FROM ${SCHEMA}.changes ORDER BY held_at DESC, id DESC LIMIT $1`;
const LIST_BEFORE = `SELECT ${COLUMNS} FROM ${SCHEMA}.changes WHERE (held_at, id) < ($2, $3) ORDER BY held_at DESC, id DESC LIMIT $1`;
const PRUNE = `DELETE FROM ${SCHEMA}.changes WHERE held_at < $1`;

export interface PostgresHistoryStore extends HistoryStore {
  readonly kind: 'postgres';
  /** Resolves once the table exists. */
  ready(): Promise<void>;
}

export function createPostgresHistoryStore(options: { url: string; timeoutMs?: number }): PostgresHistoryStore {
  const timeoutMs = options.timeoutMs ?? 2500;
  // A small pool of its own: the history is written after answers and read by people, never on a request's path.
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 2,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 500,
    idleTimeoutMillis: 30_000,
    application_name: 'hasura-metadata-guard history',
  });
  // The caller logs failed writes and reads; an idle connection that breaks must not end the process.
  pool.on('error', () => {});

  let schema: Promise<void> | undefined;
  const ready = () =>
    (schema ??= createSchema(pool, SCHEMA_STATEMENTS).catch((err: unknown) => {
      schema = undefined;
      throw err;
    }));
  const query = async (sql: string, params: unknown[]) => {
    await ready();
    return pool.query(sql, params);
  };
  const rows = async (sql: string, params: unknown[]) => (await query(sql, params)).rows.map(fromRow);

  return {
    kind: 'postgres',
    ready,
    async put(r) {
      const values = [r.id, r.environment, r.outcome, r.requester, r.confirmer, r.summary, JSON.stringify(r.changes), r.fingerprint, r.subject, r.heldAt, r.confirmedAt, r.finishedAt, r.hasuraStatus];
      await query(PUT, values);
    },
    get: async (id) => (await rows(GET, [id]))[0],
    findConfirmed: async (environment, fingerprint, subject) => (await rows(FIND_CONFIRMED, [environment, fingerprint, subject]))[0],
    list: (limit, before) => (before ? rows(LIST_BEFORE, [limit, before.heldAt, before.id]) : rows(LIST, [limit])),
    prune: async (olderThan) => (await query(PRUNE, [olderThan])).rowCount ?? 0,
    close: () => pool.end(),
  };
}

/** bigint columns arrive as strings (pg keeps them exact); these times fit a JavaScript number. */
function fromRow(row: Record<string, unknown>): ChangeRecord {
  const time = (value: unknown) => (value === null ? null : Number(value));
  return {
    id: row.id as string,
    environment: row.environment as string,
    outcome: row.outcome as ChangeOutcome,
    requester: row.requester as string | null,
    confirmer: row.confirmer as string | null,
    summary: row.summary as string,
    changes: row.changes as string[],
    fingerprint: row.fingerprint as string | null,
    subject: row.subject as string | null,
    heldAt: Number(row.held_at),
    confirmedAt: time(row.confirmed_at),
    finishedAt: time(row.finished_at),
    hasuraStatus: row.hasura_status as number | null,
  };
}
