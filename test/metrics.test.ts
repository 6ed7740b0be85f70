// A scrape sees every request and decision recorded before it, once.
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics.js';

describe('request and decision metrics', () => {
  it('a scrape counts every request and decision exactly once', async () => {
    const metrics = createMetrics({ replayEntries: () => 7, storeAvailable: () => true });
    for (let i = 0; i < 2500; i++) metrics.recordRequest('/actions', 'POST', 200, i % 2 ? 0.0004 : 0.003);
    for (let i = 0; i < 3; i++) metrics.recordDecision({ action: 'validate', outcome: 'allowed', reason: 'ALLOWED' });
    const first = await metrics.registry.metrics();
    expect(first).toMatch(/guard_http_request_duration_seconds_count\{route="\/actions",method="POST",status="200"\} 2500\n/);
    expect(first).toMatch(/guard_http_request_duration_seconds_bucket\{le="0.0005",route="\/actions",method="POST",status="200"\} 1250\n/);
    expect(first).toMatch(/guard_decisions_total\{action="validate",outcome="allowed"\} 3\n/);
    expect(first).toMatch(/guard_replay_cache_entries 7\n/);
    expect(first).toMatch(/guard_store_available 1\n/);

    metrics.recordRequest('/actions', 'POST', 200, 0.003);
    metrics.recordDecision({ action: 'validate', outcome: 'allowed', reason: 'ALLOWED' });
    const second = await metrics.registry.metrics();
    expect(second).toMatch(/guard_http_request_duration_seconds_count\{route="\/actions",method="POST",status="200"\} 2501\n/);
    expect(second).toMatch(/guard_decisions_total\{action="validate",outcome="allowed"\} 4\n/);
  });
});

describe('store metrics', () => {
  it('report whether the store is available, and count no replay entries for a store that does not count them', async () => {
    let available = false;
    const metrics = createMetrics({ storeAvailable: () => available });
    const down = await metrics.registry.metrics();
    expect(down).toMatch(/guard_store_available 0\n/);
    expect(down).not.toMatch(/guard_replay_cache_entries/);
    available = true;
    expect(await metrics.registry.metrics()).toMatch(/guard_store_available 1\n/);
  });
});
