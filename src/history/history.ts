// The history of production changes: every held, confirmed, passed, failed and denied one, for GUARD_HISTORY_DAYS.
// One record per change, moved along as its steps arrive (held → confirmed → passed or failed); a denied change is
// one step. Kept in PostgreSQL when replicas share GUARD_DATABASE_URL (postgres.ts), else in memory.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../vocabulary/clock.js';
import type { ChangeRecord, ChangeSignal } from './changes.js';

/** Where records live. Every time is epoch milliseconds by the guard's clock. */
export interface HistoryStore {
  readonly kind: 'memory' | 'postgres';
  /** Inserts the record, or replaces the one with its id. */
  put(record: ChangeRecord): Promise<void>;
  get(id: string): Promise<ChangeRecord | undefined>;
  /**
   * The oldest confirmed change with this fingerprint and subject, still waiting for Hasura's answer (the approval
   * that expires first is the one a retry takes: src/store/).
   */
  findConfirmed(environment: string, fingerprint: string, subject: string): Promise<ChangeRecord | undefined>;
  /** Newest first (heldAt, then id, descending), strictly before the cursor when one is given. */
  list(limit: number, before?: HistoryCursor): Promise<ChangeRecord[]>;
  /** Forgets records held before the time; resolves with how many. */
  prune(olderThan: number): Promise<number>;
  close(): Promise<void>;
}

export interface HistoryCursor {
  heldAt: number;
  id: string;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface History {
  /** Places one step: the change's record as it now stands. */
  record(signal: ChangeSignal): Promise<ChangeRecord>;
  list(limit: number, before?: HistoryCursor): Promise<ChangeRecord[]>;
  get(id: string): Promise<ChangeRecord | undefined>;
  /** Forgets what is older than GUARD_HISTORY_DAYS; the app calls it on a timer, tests with their clock. */
  prune(): Promise<number>;
  readonly store: HistoryStore;
}

export function createHistory(options: { store: HistoryStore; clock: Clock; days: number }): History {
  const { store, clock, days } = options;

  async function record(signal: ChangeSignal): Promise<ChangeRecord> {
    const known = await existing(signal);
    const next = known ? advance(known, signal) : fresh(signal);
    await store.put(next);
    return next;
  }

  function existing(signal: ChangeSignal): Promise<ChangeRecord | undefined> {
    if (signal.type === 'held' || signal.type === 'confirmed') return signal.tokenId ? store.get(signal.tokenId) : Promise.resolve(undefined);
    if (signal.type === 'denied' || !signal.fingerprint || !signal.subject) return Promise.resolve(undefined);
    return store.findConfirmed(signal.environment, signal.fingerprint, signal.subject);
  }

  return {
    record,
    list: (limit, before) => store.list(limit, before),
    get: (id) => store.get(id),
    prune: () => store.prune(clock() - days * DAY_MS),
    store,
  };
}

/** A change first seen at this step: held and confirmed ones are named by their token's id, others get an id of their own. */
function fresh(signal: ChangeSignal): ChangeRecord {
  const named = signal.type === 'held' || signal.type === 'confirmed';
  return advance(
    {
      id: (named && signal.tokenId) || randomUUID(),
      environment: signal.environment,
      outcome: signal.type,
      requester: signal.requester ?? signal.subject ?? null,
      confirmer: null,
      summary: signal.summary ?? 'a change whose earlier steps the history does not hold',
      changes: signal.changes ?? [],
      fingerprint: signal.fingerprint ?? null,
      subject: signal.subject ?? null,
      heldAt: signal.at,
      confirmedAt: null,
      finishedAt: null,
      hasuraStatus: null,
    },
    signal,
  );
}

function advance(record: ChangeRecord, signal: ChangeSignal): ChangeRecord {
  const next: ChangeRecord = { ...record, outcome: signal.type };
  if (signal.type === 'confirmed') {
    next.confirmer = signal.confirmer ?? null;
    next.confirmedAt = signal.at;
  }
  if (signal.type === 'passed' || signal.type === 'failed' || signal.type === 'unanswered' || signal.type === 'denied') {
    next.finishedAt = signal.at;
    next.hasuraStatus = signal.hasuraStatus ?? null;
  }
  return next;
}

/** Encodes a cursor for the API (opaque to clients). */
export function encodeCursor(record: Pick<ChangeRecord, 'heldAt' | 'id'>): string {
  return Buffer.from(`${record.heldAt}.${record.id}`, 'utf8').toString('base64url');
}

/** The cursor a client sent back, or undefined when it is not one this guard gave. */
export function decodeCursor(text: string): HistoryCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) return undefined;
  const match = /^(\d{1,16})\.([A-Za-z0-9-]{1,64})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return match ? { heldAt: Number(match[1]), id: match[2]! } : undefined;
}

/** Newest first, as every store lists. */
function newestFirst(a: ChangeRecord, b: ChangeRecord): number {
  return b.heldAt - a.heldAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

const isBefore = (record: ChangeRecord, cursor: HistoryCursor) =>
  record.heldAt < cursor.heldAt || (record.heldAt === cursor.heldAt && record.id < cursor.id);

/** In memory, for one process; at most maxRecords (the oldest are forgotten first). */
export function createMemoryHistoryStore(maxRecords = 10_000): HistoryStore {
  const records = new Map<string, ChangeRecord>();
  return {
    kind: 'memory',
    async put(record) {
      records.delete(record.id);
      records.set(record.id, record);
      if (records.size > maxRecords) {
        const oldest = [...records.values()].sort(newestFirst).at(-1)!;
        records.delete(oldest.id);
      }
    },
    get: async (id) => records.get(id),
    async findConfirmed(environment, fingerprint, subject) {
      return [...records.values()]
        .filter((r) => r.outcome === 'confirmed' && r.environment === environment && r.fingerprint === fingerprint && r.subject === subject)
        .sort(newestFirst)
        .at(-1);
    },
    async list(limit, before) {
      return [...records.values()].filter((r) => !before || isBefore(r, before)).sort(newestFirst).slice(0, limit);
    },
    async prune(olderThan) {
      let pruned = 0;
      for (const record of records.values()) if (record.heldAt < olderThan && records.delete(record.id)) pruned++;
      return pruned;
    },
    close: async () => {},
  };
}

/** A store that loads in the background (the PostgreSQL client loads only for a guard that has GUARD_DATABASE_URL). */
export function lazyHistoryStore(kind: HistoryStore['kind'], load: () => Promise<HistoryStore>): HistoryStore {
  const store = load();
  store.catch(() => {});
  return {
    kind,
    put: async (record) => (await store).put(record),
    get: async (id) => (await store).get(id),
    findConfirmed: async (...args) => (await store).findConfirmed(...args),
    list: async (...args) => (await store).list(...args),
    prune: async (olderThan) => (await store).prune(olderThan),
    close: async () => (await store).close(),
  };
}

/**
 * Why the history's store failed, for the log: the error's code (a SQLSTATE or a socket error), never the driver's
 * message, which may name the database's host.
 */
export function failureReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return 'the store did not answer';
  return /^E[A-Z]+$/.test(code) ? `the database is unreachable (${code})` : `the database answered with an error (SQLSTATE ${code})`;
}
