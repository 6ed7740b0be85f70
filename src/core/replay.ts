// Remembers confirmed token ids until they expire, so a token confirms once.
// In memory: a restart forgets, and replicas do not share it (see README, "Tokens and their limits").

export type Remembered = 'remembered' | 'already-used' | 'full';

export interface ReplayCache {
  /** true when the id was new and is now remembered; false when it was already used. */
  remember(jti: string, expiresAtSeconds: number, nowSeconds: number): Remembered | Promise<Remembered>;
  readonly size: number;
}

export function createReplayCache(maxEntries: number): ReplayCache {
  // A Map iterates in insertion order. Every token lives the same TTL, so insertion order is (almost) expiry
  // order and expired ids are dropped from the front in amortised O(1). An id that expires "early" behind a
  // later one only lingers until the entries before it expire; it is never forgotten before its own expiry.
  const expiries = new Map<string, number>();

  function evictExpired(nowSeconds: number) {
    for (const [jti, exp] of expiries) {
      if (exp >= nowSeconds) break;
      expiries.delete(jti);
    }
  }

  return {
    remember(jti, expiresAtSeconds, nowSeconds): Remembered {
      evictExpired(nowSeconds);
      if (expiries.has(jti)) return 'already-used';
      // Forgetting a live id would let its token be replayed, so a full cache refuses instead (fails closed).
      if (expiries.size >= maxEntries) return 'full';
      expiries.set(jti, expiresAtSeconds);
      return 'remembered';
    },
    get size() {
      return expiries.size;
    },
  };
}
