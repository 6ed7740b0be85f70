// What /metrics shows (Prometheus): the engine's decisions from its audit records, HTTP requests by route, notification
// tries, history failures, the store's state, and the process's own metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from './core/advisory.js';

export interface Metrics {
  registry: Registry;
  recordDecision(decision: Decision): void;
  recordRequest(route: string, method: string, status: number, seconds: number): void;
  /** One notification try: delivered, failed (each failed try counts), or dropped (too many waiting). */
  recordNotification(channel: string, outcome: 'delivered' | 'failed' | 'dropped'): void;
  /** The change history could not record a step. */
  recordHistoryFailure(): void;
}

/** A registry of our own (not prom-client's global one), so several servers can live in one test process. */
export function createMetrics(options: {
  /** Used token ids remembered in memory; absent for the shared store, whose rows are not counted. */
  replayEntries?: () => number;
  /** Whether the store can record confirmations right now. */
  storeAvailable: () => boolean;
}): Metrics {
  const registry = new Registry();
  // Process metrics (memory, CPU, event loop, GC) are only read on a scrape; setting them up is left until the
  // server listens, so it does not delay the first answer.
  setImmediate(() => collectDefaultMetrics({ register: registry }));
  const decisions = new Counter({
    name: 'guard_decisions_total',
    help: 'Decisions taken by the guard, by action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'guard_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const { replayEntries } = options;
  if (replayEntries) {
    new Gauge({
      name: 'guard_replay_cache_entries',
      help: 'Confirmed token ids remembered until they expire (bounded by REPLAY_CACHE_MAX).',
      registers: [registry],
      collect() {
        this.set(replayEntries());
      },
    });
  }
  new Gauge({
    name: 'guard_store_available',
    help: 'Whether the store of used tokens can record confirmations now (1) or not (0): confirmations are refused while it is 0.',
    registers: [registry],
    collect() {
      this.set(options.storeAvailable() ? 1 : 0);
    },
  });
  const notifications = new Counter({
    name: 'guard_notifications_total',
    help: 'Notification tries by receiver (webhook, slack, teams) and outcome: delivered, failed (every failed try, retries included), dropped.',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  const historyFailures = new Counter({
    name: 'guard_history_failures_total',
    help: 'Steps of production changes the change history could not record (its store did not answer).',
    registers: [registry],
  });
  return {
    registry,
    recordNotification: (channel, outcome) => notifications.labels(channel, outcome).inc(),
    recordHistoryFailure: () => historyFailures.inc(),
    recordDecision: (d) => decisions.inc({ action: d.action, outcome: d.outcome }),
    recordRequest: (route, method, status, seconds) => latency.observe({ route, method, status }, seconds),
  };
}
