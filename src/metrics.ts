import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from './core/guard.js';

export interface Metrics {
  registry: Registry;
  recordDecision(decision: Decision): void;
  recordRequest(route: string, method: string, status: number, seconds: number): void;
}

/** A registry of our own (not prom-client's global one), so several servers can live in one test process. */
export function createMetrics(options: { replayEntries: () => number }): Metrics {
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
  new Gauge({
    name: 'guard_replay_cache_entries',
    help: 'Confirmed token ids remembered until they expire (bounded by REPLAY_CACHE_MAX).',
    registers: [registry],
    collect() {
      this.set(options.replayEntries());
    },
  });
  // prom-client hashes the label values on every call; the label sets here are few, so keep each child.
  const decisionChildren = new Map<string, ReturnType<typeof decisions.labels>>();
  const latencyChildren = new Map<string, ReturnType<typeof latency.labels>>();
  return {
    registry,
    recordDecision(d) {
      const key = `${d.action} ${d.outcome}`;
      let child = decisionChildren.get(key);
      if (!child) decisionChildren.set(key, (child = decisions.labels(d.action, d.outcome)));
      child.inc();
    },
    recordRequest(route, method, status, seconds) {
      const key = `${route} ${method} ${status}`;
      let child = latencyChildren.get(key);
      if (!child) latencyChildren.set(key, (child = latency.labels(route, method, String(status))));
      child.observe(seconds);
    },
  };
}
