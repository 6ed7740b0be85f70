import { describe, expect, it } from 'vitest';
import { lazyStore } from '../../src/store/lazy.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/core/store.js';

describe('a store loaded in the background', () => {
  it('is not usable until loaded, then passes every call on', async () => {
    let loaded!: () => void;
    const memory = createMemoryStore({ maxEntries: 10 });
    const store = lazyStore('postgres', () => new Promise((resolve) => (loaded = () => resolve(memory))));
    expect(store.health()).toEqual({ ok: false, reason: 'loading the store' });
    const use = store.useToken('a', 100, 0); // waits for the load rather than failing
    loaded();
    expect(await use).toBe('remembered');
    expect(await store.useToken('a', 100, 0)).toBe('already-used');
    await store.approve('f', 'c', 100);
    expect(await store.takeApproval('f', 'c', 0)).toBe(true);
    expect(store.health()).toEqual({ ok: true, entries: 1 });
  });

  it('when loading fails, reports it and refuses every call with StoreUnavailableError', async () => {
    const store = lazyStore('postgres', () => Promise.reject(new Error('Cannot find module')));
    await expect(store.useToken('a', 100, 0)).rejects.toThrow(StoreUnavailableError);
    await expect(store.takeApproval('f', 'c', 0)).rejects.toThrow('the store failed to load');
    expect(store.health()).toEqual({ ok: false, reason: 'the store failed to load' });
  });
});
