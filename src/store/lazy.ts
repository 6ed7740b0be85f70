// The PostgreSQL client takes longer to load than the rest of the server's start, and only a guard with
// GUARD_DATABASE_URL needs it: this stand-in loads the real store in the background and passes every call on.
import { StoreUnavailableError, type GuardStore, type StoreHealth } from '../core/store.js';

export function lazyStore(kind: GuardStore['kind'], load: () => Promise<GuardStore>): GuardStore {
  let loaded: GuardStore | undefined;
  let failed: StoreHealth | undefined;
  const store = load().then(
    (s) => (loaded = s),
    () => {
      // load() logs what went wrong; callers are told only that nothing can be recorded.
      failed = { ok: false, reason: 'the store failed to load' };
      throw new StoreUnavailableError(failed.reason);
    },
  );
  store.catch(() => {});
  return {
    kind,
    useToken: async (...args) => (await store).useToken(...args),
    approve: async (...args) => (await store).approve(...args),
    takeApproval: async (...args) => (await store).takeApproval(...args),
    health: () => loaded?.health() ?? failed ?? { ok: false, reason: 'loading the store' },
    close: async () => (await store).close(),
  };
}
