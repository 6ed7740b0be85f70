// The shared store: used token ids and approvals in PostgreSQL, so replicas with one TOKEN_SECRET refuse each
// other's used tokens and a restart forgets nothing. Client: node-postgres (pg), the most used PostgreSQL client
// for Node, pure JavaScript (so it bundles), with a pool that replaces broken connections by itself and the
// connect, statement and query timeouts that make a dead database fail fast instead of hanging a request.
//
// Every time is the guard's clock, passed in as seconds (expires_at is a bigint of epoch seconds), never the
// database's now(): the guard decides when a token expires, and tests control that clock.
import pg from 'pg';
import { systemClock, type Clock } from '../vocabulary/clock.js';
import { StoreUnavailableError, type GuardStore, type Remembered, type StoreHealth } from '../core/store.js';

export const SCHEMA = 'hasura_guard';

/**
 * Run at start inside one transaction that holds an advisory lock: concurrent CREATE ... IF NOT EXISTS can still
 * collide on the catalog's unique indexes when several replicas start at once, so they take turns.
 */
const SCHEMA_STATEMENTS = [
  `CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`,
  // A used token's id (a random UUID) until the last second a verifier could accept the token.
  `CREATE TABLE IF NOT EXISTS ${SCHEMA}.used_tokens (
     jti text PRIMARY KEY,
     expires_at bigint NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS used_tokens_expires_at ON ${SCHEMA}.used_tokens (expires_at)`,
  // One row per pass granted: a confirmed change (fingerprint) from the same credentials, both hex hashes.
  `CREATE TABLE IF NOT EXISTS ${SCHEMA}.approvals (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     fingerprint text NOT NULL,
     credentials text NOT NULL,
     expires_at bigint NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS approvals_change ON ${SCHEMA}.approvals (fingerprint, credentials, expires_at)`,
  `CREATE INDEX IF NOT EXISTS approvals_expires_at ON ${SCHEMA}.approvals (expires_at)`,
];
/** The advisory lock the schema creation holds: "hguard" in ASCII, a number no other program is likely to use. */
const SCHEMA_LOCK = 0x686775617264;

// ON CONFLICT DO NOTHING makes the insert the whole decision, atomically: one caller inserts, every other one
// sees the row. A row left over from an expired token with the same id would also count as used, but ids are
// random UUIDs (122 random bits), so a new token never meets an old one's id.
const USE_TOKEN = `INSERT INTO ${SCHEMA}.used_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING RETURNING jti`;
const APPROVE = `INSERT INTO ${SCHEMA}.approvals (fingerprint, credentials, expires_at) VALUES ($1, $2, $3)`;
// One statement: the row is locked by the caller that found it, and SKIP LOCKED lets a concurrent caller take
// another live approval for the same change, if there is one, instead of waiting for the first to delete it.
const TAKE_APPROVAL = `DELETE FROM ${SCHEMA}.approvals WHERE id = (
  SELECT id FROM ${SCHEMA}.approvals
   WHERE fingerprint = $1 AND credentials = $2 AND expires_at >= $3
   ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id`;
// Bounded work per sweep: at most $2 rows per table, found through the expires_at indexes.
const SWEEP_TOKENS = `DELETE FROM ${SCHEMA}.used_tokens WHERE jti IN (SELECT jti FROM ${SCHEMA}.used_tokens WHERE expires_at < $1 LIMIT $2)`;
const SWEEP_APPROVALS = `DELETE FROM ${SCHEMA}.approvals WHERE id IN (SELECT id FROM ${SCHEMA}.approvals WHERE expires_at < $1 LIMIT $2)`;

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL (config.ts checked it). Never put into a message or a log line. */
  url: string;
  clock?: Clock;
  /** How long connecting, and then each statement, may take before the database counts as unreachable. */
  timeoutMs?: number;
  /** How often expired rows are deleted; the same round also notices a database that went away or came back. */
  sweepIntervalMs?: number;
  /** At most this many rows per table per sweep. */
  sweepBatch?: number;
  poolSize?: number;
  /** Called when health() changes, to log it. */
  onHealthChange?: (health: StoreHealth) => void;
}

export interface PostgresStore extends GuardStore {
  readonly kind: 'postgres';
  /** Resolves once the schema exists (or rejects with StoreUnavailableError); operations wait for it too. */
  ready(): Promise<void>;
  /** Deletes rows expired before nowSeconds, at most sweepBatch per table; resolves with how many it deleted. */
  sweep(nowSeconds: number): Promise<number>;
}

export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const { url, clock = systemClock, timeoutMs = 2500, sweepIntervalMs = 10_000, sweepBatch = 5000, poolSize = 10, onHealthChange } = options;
  const pool = createPool(url, poolSize, timeoutMs);

  let health: StoreHealth = { ok: false, reason: 'connecting to the database' };
  let closed = false;
  const setHealth = (next: StoreHealth) => {
    // Work still in flight when close() was called must not make a closed store look usable again.
    if (closed && health.reason === 'closed') return;
    if (next.ok === health.ok && next.reason === health.reason) return;
    health = next;
    onHealthChange?.(health);
  };
  // An idle connection that breaks (the database restarted) is reported here; unhandled, it would end the process.
  pool.on('error', (err) => setHealth({ ok: false, reason: describeFailure(err) }));

  let schema: Promise<void> | undefined;
  function ensureSchema(): Promise<void> {
    // Remembered once created; forgotten on failure, so the next operation tries again.
    schema ??= createSchema(pool, SCHEMA_STATEMENTS).catch((err: unknown) => {
      schema = undefined;
      throw err;
    });
    return schema;
  }

  /** Runs one piece of work against the database; any failure becomes a StoreUnavailableError and bad health. */
  async function run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (closed) throw new StoreUnavailableError(`the guard's store is closed and cannot ${what}`);
    try {
      await ensureSchema();
      const result = await work();
      setHealth({ ok: true });
      return result;
    } catch (err) {
      const reason = describeFailure(err);
      setHealth({ ok: false, reason });
      throw new StoreUnavailableError(`the guard's database cannot ${what} right now: ${reason}`);
    }
  }

  async function sweep(nowSeconds: number): Promise<number> {
    return run('delete expired rows', async () => {
      const tokens = await pool.query(SWEEP_TOKENS, [nowSeconds, sweepBatch]);
      const approvals = await pool.query(SWEEP_APPROVALS, [nowSeconds, sweepBatch]);
      return (tokens.rowCount ?? 0) + (approvals.rowCount ?? 0);
    });
  }

  const timer = sweepEvery(sweepIntervalMs, () => sweep(Math.floor(clock() / 1000)));

  const ready = () => run('create its tables', async () => {});
  ready().catch(() => {});

  return {
    kind: 'postgres',
    ready,
    sweep,

    useToken: (jti, expiresAtSeconds): Promise<Remembered> =>
      run('record a used token', async () => ((await pool.query(USE_TOKEN, [jti, expiresAtSeconds])).rowCount === 1 ? 'remembered' : 'already-used')),

    approve: (fingerprint, credentials, expiresAtSeconds) =>
      run('record an approval', async () => void (await pool.query(APPROVE, [fingerprint, credentials, expiresAtSeconds]))),

    takeApproval: (fingerprint, credentials, nowSeconds) =>
      run('look up an approval', async () => (await pool.query(TAKE_APPROVAL, [fingerprint, credentials, nowSeconds])).rowCount === 1),

    health: () => health,

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      setHealth({ ok: false, reason: 'closed' });
      await pool.end();
    },
  };
}

/** The pool every query goes through, each step bounded by timeoutMs. */
function createPool(url: string, poolSize: number, timeoutMs: number): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Also bounds the wait for a free connection when all are busy.
    connectionTimeoutMillis: timeoutMs,
    // Server side, so the database stops the work too; and client side, for a database that stops answering.
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 500,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'hasura-metadata-guard',
  });
}

/** Deletes expired rows every intervalMs, one sweep at a time; a timer that does not keep the process alive. */
function sweepEvery(intervalMs: number, sweep: () => Promise<number>): NodeJS.Timeout {
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    // A failure has already set the store's health; there is nobody else to tell.
    void sweep()
      .catch(() => {})
      .finally(() => (sweeping = false));
  }, intervalMs);
  timer.unref();
  return timer;
}

/**
 * Runs the statements that create a part of the guard's schema in one transaction, under the lock every part shares:
 * two replicas (or the store and the history) starting at once would otherwise collide on CREATE SCHEMA.
 */
export async function createSchema(pool: pg.Pool, statements: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    // A connection that failed mid-transaction is not handed out again.
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}

/** PostgreSQL error classes a reader can act on; anything else is named by its code. */
const SQLSTATE_REASONS: Record<string, string> = {
  '28P01': 'the database refused the login (wrong user or password)',
  '28000': 'the database refused the login',
  '3D000': 'the database named in GUARD_DATABASE_URL does not exist',
  '42501': 'the database user lacks a privilege the guard needs (CREATE on the database, or on schema hasura_guard)',
  '57014': 'the database took too long to answer (statement timeout)',
  '57P01': 'the database is shutting down',
  '57P02': 'the database is restarting',
  '57P03': 'the database is starting up',
  '53300': 'the database has no free connections',
};

/**
 * Why an operation failed, in words safe for a client-facing log or /ready: a code and a fixed phrase, never the
 * driver's message (which may carry a host name) and never the connection string.
 */
function describeFailure(err: unknown): string {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
  if (code && SQLSTATE_REASONS[code]) return `${SQLSTATE_REASONS[code]} (${code})`;
  if (code && /^E[A-Z]+$/.test(code)) return `the database is unreachable (${code})`;
  if (code) return `the database answered with an error (SQLSTATE ${code})`;
  const message = err instanceof Error ? err.message : '';
  if (/timeout/i.test(message)) return 'the database is unreachable (timed out)';
  if (/terminated|closed|ended/i.test(message)) return 'the database is unreachable (connection lost)';
  return 'the database is unreachable';
}
