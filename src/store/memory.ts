// The store of a single process: used token ids and approvals in bounded maps. A restart forgets them, and
// replicas do not share them (docs/store.md): run one replica, or set GUARD_DATABASE_URL.
import { systemClock, type Clock } from '../vocabulary/clock.js';
import { StoreUnavailableError, type GuardStore, type Remembered } from '../core/store.js';

/**
 * The share of the used-token memory one identity may hold: a tenth. One identity confirming in a loop (50,000
 * validate + confirm pairs took under a minute) would otherwise fill it, and every other user would be refused
 * until its tokens expired. A tenth of the default 50,000 is 5,000 live confirmations per identity and TTL.
 */
const OWNER_SHARE = 0.1;

export interface MemoryStoreOptions {
  /** Bound on used token ids, and separately on approvals, alive at once. */
  maxEntries: number;
  /** The guard's clock: approve() is given no time, and needs one to drop expired approvals when full. */
  clock?: Clock;
}

export function createMemoryStore({ maxEntries, clock = systemClock }: MemoryStoreOptions): GuardStore {
  // A Map iterates in insertion order. Every token lives the same TTL, so insertion order is (almost) expiry
  // order and expired ids are dropped from the front in amortised O(1). An id that expires "early" behind a
  // later one only lingers until the entries before it expire; it is never forgotten before its own expiry.
  const usedTokens = new Map<string, { exp: number; owner?: string }>();
  const heldByOwner = new Map<string, number>();
  const ownerShare = Math.max(1, Math.floor(maxEntries * OWNER_SHARE));
  // Approvals by change and credentials: the expiry of each pass granted and not yet taken.
  const approvals = new Map<string, number[]>();
  let approvalCount = 0;

  function forgetExpiredTokens(nowSeconds: number) {
    for (const [jti, { exp, owner }] of usedTokens) {
      if (exp >= nowSeconds) break;
      usedTokens.delete(jti);
      if (owner !== undefined) {
        const held = heldByOwner.get(owner)! - 1;
        if (held > 0) heldByOwner.set(owner, held);
        else heldByOwner.delete(owner);
      }
    }
  }

  function forgetExpiredApprovals(nowSeconds: number) {
    for (const [key, expiries] of approvals) {
      const live = expiries.filter((exp) => exp >= nowSeconds);
      approvalCount -= expiries.length - live.length;
      if (live.length) approvals.set(key, live);
      else approvals.delete(key);
    }
  }

  return {
    kind: 'memory',

    async useToken(jti, expiresAtSeconds, nowSeconds, owner): Promise<Remembered> {
      forgetExpiredTokens(nowSeconds);
      if (usedTokens.has(jti)) return 'already-used';
      // Forgetting a live id would let its token be replayed, so a full store refuses instead (fails closed).
      if (usedTokens.size >= maxEntries) return 'full';
      const held = owner === undefined ? 0 : (heldByOwner.get(owner) ?? 0);
      if (owner !== undefined && held >= ownerShare) return 'full-for-owner';
      usedTokens.set(jti, { exp: expiresAtSeconds, owner });
      if (owner !== undefined) heldByOwner.set(owner, held + 1);
      return 'remembered';
    },

    async approve(fingerprint, credentials, expiresAtSeconds) {
      // Expired approvals are swept only when the map is full, so approve() is O(1) until then.
      if (approvalCount >= maxEntries) forgetExpiredApprovals(Math.floor(clock() / 1000));
      if (approvalCount >= maxEntries) throw new StoreUnavailableError('the guard holds too many live approvals to record another');
      const key = `${fingerprint} ${credentials}`;
      const expiries = approvals.get(key);
      if (expiries) expiries.push(expiresAtSeconds);
      else approvals.set(key, [expiresAtSeconds]);
      approvalCount++;
    },

    async takeApproval(fingerprint, credentials, nowSeconds) {
      const key = `${fingerprint} ${credentials}`;
      const expiries = approvals.get(key);
      if (!expiries) return false;
      const live = expiries.filter((exp) => exp >= nowSeconds);
      approvalCount -= expiries.length - live.length;
      const taken = live.length > 0;
      if (taken) {
        live.shift();
        approvalCount--;
      }
      if (live.length) approvals.set(key, live);
      else approvals.delete(key);
      return taken;
    },

    health: () => ({ ok: true, entries: usedTokens.size }),
    close: async () => {},
  };
}
