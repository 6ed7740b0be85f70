// How often one identity may validate and confirm. One identity (a runaway script, a leaked session) must not be
// able to crowd out everyone else: without a limit, one user could fill the replay memory in under a minute and
// every other confirmation would then be refused.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export type LimitedAction = 'validate' | 'confirm';

export type LimitAnswer = { ok: true } | { ok: false; limitPerMinute: number; retryAfterSeconds: number };

export interface RateLimits {
  /** Counts one `action` by `identity`; refuses it, saying when to retry, once the identity is over its limit. */
  take(action: LimitedAction, identity: string): Promise<LimitAnswer>;
}

/** For tests and tools that exercise the guard as one identity; the server always builds real limits. */
export const NO_LIMITS: RateLimits = { take: async () => ({ ok: true }) };

/** Per-minute limits per identity, in memory (each replica counts its own requests). */
export function createRateLimits(perMinute: { validationsPerMinute: number; confirmationsPerMinute: number }): RateLimits {
  const limiters: Record<LimitedAction, { limiter: RateLimiterMemory; points: number }> = {
    validate: { limiter: new RateLimiterMemory({ keyPrefix: 'validate', points: perMinute.validationsPerMinute, duration: 60 }), points: perMinute.validationsPerMinute },
    confirm: { limiter: new RateLimiterMemory({ keyPrefix: 'confirm', points: perMinute.confirmationsPerMinute, duration: 60 }), points: perMinute.confirmationsPerMinute },
  };
  return {
    async take(action, identity) {
      const { limiter, points } = limiters[action];
      try {
        await limiter.consume(identity, 1);
        return { ok: true };
      } catch (refusal) {
        // The memory limiter rejects with a RateLimiterRes when over the limit, and never otherwise; anything
        // else is a bug, and a bug must not count as "allowed".
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        return { ok: false, limitPerMinute: points, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
      }
    },
  };
}
