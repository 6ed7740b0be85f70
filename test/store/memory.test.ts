import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/core/store.js';
import { manualClock } from '../helpers.js';

describe('memory store: used tokens', () => {
  it('remembers an id until it expires, then forgets it', async () => {
    const store = createMemoryStore({ maxEntries: 10 });
    expect(await store.useToken('a', 100, 50)).toBe('remembered');
    expect(await store.useToken('a', 100, 60)).toBe('already-used');
    expect(await store.useToken('a', 100, 100)).toBe('already-used'); // still valid at its expiry second
    expect(await store.useToken('b', 200, 101)).toBe('remembered'); // this call evicts 'a'
    expect(store.health()).toEqual({ ok: true, entries: 1 });
  });

  it('stays bounded: a full store refuses rather than forgetting a live id', async () => {
    const store = createMemoryStore({ maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) expect(await store.useToken(`id${i}`, 500, 0)).toBe('remembered');
    expect(await store.useToken('one-more', 500, 0)).toBe('full');
    expect(await store.useToken('id0', 500, 0)).toBe('already-used');
    expect(store.health().entries).toBe(1000);
    // once they expire, the space comes back
    expect(await store.useToken('later', 900, 501)).toBe('remembered');
    expect(store.health().entries).toBe(1);
  });

  it('gives exactly one of many concurrent callers the id', async () => {
    const store = createMemoryStore({ maxEntries: 10 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => store.useToken('same', 100, 0)));
    expect(answers.filter((a) => a === 'remembered')).toHaveLength(1);
    expect(answers.filter((a) => a === 'already-used')).toHaveLength(19);
  });
});

describe('memory store: approvals', () => {
  it('lets an approved change pass once, for the same credentials only', async () => {
    const store = createMemoryStore({ maxEntries: 10 });
    await store.approve('f1', 'c1', 100);
    expect(await store.takeApproval('f1', 'c2', 50)).toBe(false);
    expect(await store.takeApproval('f2', 'c1', 50)).toBe(false);
    const takers = await Promise.all(Array.from({ length: 20 }, () => store.takeApproval('f1', 'c1', 50)));
    expect(takers.filter(Boolean)).toHaveLength(1);
  });

  it('grants one pass per approval, and none after it expires', async () => {
    const store = createMemoryStore({ maxEntries: 10 });
    await store.approve('f', 'c', 100);
    await store.approve('f', 'c', 200);
    expect(await store.takeApproval('f', 'c', 150)).toBe(true); // the first has expired; the second is taken
    expect(await store.takeApproval('f', 'c', 150)).toBe(false);
    await store.approve('f', 'c', 100);
    expect(await store.takeApproval('f', 'c', 100)).toBe(true); // still valid at its expiry second
    await store.approve('f', 'c', 100);
    expect(await store.takeApproval('f', 'c', 101)).toBe(false);
  });

  it('stays bounded: when full of live approvals it refuses to record another, and makes room as they expire', async () => {
    const clock = manualClock(1_000_000);
    const store = createMemoryStore({ maxEntries: 1000, clock });
    for (let i = 0; i < 1000; i++) await store.approve(`f${i}`, 'c', 1000 + 60);
    await expect(store.approve('one-more', 'c', 1000 + 60)).rejects.toThrow(StoreUnavailableError);
    expect(await store.takeApproval('f0', 'c', 1000)).toBe(true); // the refusal forgot none of them
    await store.approve('now-fits', 'c', 1000 + 60);
    await expect(store.approve('again-full', 'c', 1000 + 60)).rejects.toThrow(/too many live approvals/);
    clock.advance(61);
    await store.approve('after-expiry', 'c', 1061 + 60);
    expect(await store.takeApproval('after-expiry', 'c', 1061)).toBe(true);
    expect(await store.takeApproval('f1', 'c', 1061)).toBe(false);
  });
});

describe("each identity's share of the used-token memory", () => {
  it('one identity cannot fill it: past its tenth it is refused, others still confirm, and its share frees as its tokens expire', async () => {
    const store = createMemoryStore({ maxEntries: 1000 });
    for (let i = 0; i < 100; i++) expect(await store.useToken(`alice-${i}`, 2000, 1000, 'user:alice')).toBe('remembered');
    expect(await store.useToken('alice-100', 2000, 1000, 'user:alice')).toBe('full-for-owner');
    expect(await store.useToken('bob-0', 2000, 1000, 'user:bob')).toBe('remembered');
    expect(await store.useToken('alice-100', 3000, 2001, 'user:alice')).toBe('remembered');
  });
});
