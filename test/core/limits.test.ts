// The per-identity rate limits on their own, with the timers the limiter uses under test control.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimits } from '../../src/core/limits.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('rate limits', () => {
  it('allows the limit within a minute, refuses the next with the seconds left in the window, and allows again after it', async () => {
    const limits = createRateLimits({ validationsPerMinute: 3, confirmationsPerMinute: 1 });
    for (let i = 0; i < 3; i++) expect(await limits.take('validate', 'user:alice')).toEqual({ ok: true });
    vi.advanceTimersByTime(20_000);
    expect(await limits.take('validate', 'user:alice')).toEqual({ ok: false, limitPerMinute: 3, retryAfterSeconds: 40 });
    vi.advanceTimersByTime(39_000);
    expect(await limits.take('validate', 'user:alice')).toEqual({ ok: false, limitPerMinute: 3, retryAfterSeconds: 1 });
    vi.advanceTimersByTime(1_000);
    expect(await limits.take('validate', 'user:alice')).toEqual({ ok: true });
  });

  it('counts each identity and each action on its own', async () => {
    const limits = createRateLimits({ validationsPerMinute: 1, confirmationsPerMinute: 1 });
    expect(await limits.take('validate', 'user:alice')).toEqual({ ok: true });
    expect(await limits.take('validate', 'user:alice')).toMatchObject({ ok: false });
    expect(await limits.take('validate', 'user:bob')).toEqual({ ok: true });
    expect(await limits.take('confirm', 'user:alice')).toEqual({ ok: true });
    expect(await limits.take('confirm', 'user:alice')).toMatchObject({ ok: false, limitPerMinute: 1 });
  });
});
