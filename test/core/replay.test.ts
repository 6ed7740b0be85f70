import { describe, expect, it } from 'vitest';
import { createReplayCache } from '../../src/core/replay.js';

describe('replay cache', () => {
  it('remembers an id until it expires, then forgets it', () => {
    const cache = createReplayCache(10);
    expect(cache.remember('a', 100, 50)).toBe('remembered');
    expect(cache.remember('a', 100, 60)).toBe('already-used');
    expect(cache.remember('a', 100, 100)).toBe('already-used'); // still valid at its expiry second
    expect(cache.remember('b', 200, 101)).toBe('remembered'); // this call evicts 'a'
    expect(cache.size).toBe(1);
  });

  it('stays bounded: a full cache refuses rather than forgetting a live id', () => {
    const cache = createReplayCache(1000);
    for (let i = 0; i < 1000; i++) expect(cache.remember(`id${i}`, 500, 0)).toBe('remembered');
    expect(cache.remember('one-more', 500, 0)).toBe('full');
    expect(cache.remember('id0', 500, 0)).toBe('already-used');
    expect(cache.size).toBe(1000);
    // once they expire, the space comes back
    expect(cache.remember('later', 900, 501)).toBe('remembered');
    expect(cache.size).toBe(1);
  });
});
