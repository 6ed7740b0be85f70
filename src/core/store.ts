// What the guard remembers between requests: used confirmation-token ids and, for the enforcing proxy, approvals.
// Tokens need no storage (they are signed); these do. In memory for one process, in PostgreSQL for replicas that
// must share what they remember and survive restarts.

/** `full-for-owner`: this identity holds its whole share of the store; others can still confirm (memory store). */
export type Remembered = 'remembered' | 'already-used' | 'full' | 'full-for-owner';

export interface StoreHealth {
  ok: boolean;
  /** Why it is not usable right now, in words fit for a log line or /ready (never a connection string). */
  reason?: string;
  /** Used token ids remembered, when the store can tell cheaply (memory can; the database is not counted). */
  entries?: number;
}

export interface GuardStore {
  readonly kind: 'memory' | 'postgres';
  /**
   * Records a used token id until expiresAtSeconds, atomically: exactly one caller ever gets 'remembered' for an
   * id. Rejects with StoreUnavailableError when it cannot record (never "accept unrecorded").
   */
  useToken(jti: string, expiresAtSeconds: number, nowSeconds: number, owner?: string): Promise<Remembered>;
  /**
   * After a held change is confirmed, the same change (fingerprint, a hex hash) from the same credentials
   * (credentials, a hex hash) may pass once before expiresAtSeconds. Each call grants one pass.
   * Rejects with StoreUnavailableError when it cannot record.
   */
  approve(fingerprint: string, credentials: string, expiresAtSeconds: number): Promise<void>;
  /** Atomically consumes one live approval: true for exactly one caller per approval. */
  takeApproval(fingerprint: string, credentials: string, nowSeconds: number): Promise<boolean>;
  /** For /ready and metrics: is it usable right now, and why not. */
  health(): StoreHealth;
  close(): Promise<void>;
}

/** The store cannot record or answer right now. Its message is safe to log: it names no host, user or password. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
