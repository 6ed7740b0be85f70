// The engine's enforcing side without HTTP: fingerprints, the default "needs the current metadata" rule, and the verdicts.
import { createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import { needsCurrentMetadata } from '../../src/core/enforcement.js';
import { createEngine, type DecisionStore, type EnforcingOptions } from '../../src/core/engine.js';
import type { Decision } from '../../src/core/advisory.js';
import { loadPolicy } from '../../src/core/policy.js';
import { fingerprintOf, sha256Hex } from '../../src/core/fingerprint.js';
import { createTokenService } from '../../src/core/tokens.js';
import { analyzeByType, decideLikeProduction } from '../support/analysis-double.js';
import { memoryApprovalStore } from '../support/memory-approval-store.js';
import { manualClock, TEST_SECRET } from '../helpers.js';

describe('fingerprintOf', () => {
  it('ignores key order and the resource_version of the body and of every request in a bulk', () => {
    const a = { type: 'bulk', resource_version: 1, args: [{ type: 'bulk_atomic', resource_version: 4, args: [{ type: 'x', args: { b: 1, a: [1, { d: 2, c: 3 }] } }] }] };
    const b = { args: [{ args: [{ args: { a: [1, { c: 3, d: 2 }], b: 1 }, type: 'x' }], type: 'bulk_atomic' }], resource_version: 9, type: 'bulk' };
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    expect(fingerprintOf(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps a resource_version that is part of the change (a column in a permission filter)', () => {
    const filter = (v: number) => ({ type: 'pg_create_select_permission', args: { permission: { filter: { resource_version: { _eq: v } } } } });
    expect(fingerprintOf(filter(1))).not.toBe(fingerprintOf(filter(2)));
  });

  it('differs for any other change, e.g. cascade', () => {
    const drop = (cascade: boolean) => ({ type: 'bulk', args: [{ type: 'run_sql', args: { sql: 'DROP TABLE t', cascade } }] });
    expect(fingerprintOf(drop(false))).not.toBe(fingerprintOf(drop(true)));
  });

  it('is the sha256 of the canonical JSON', () => {
    expect(fingerprintOf({ b: [1, 'x', null, true], a: 'é' })).toBe(sha256Hex('{"a":"é","b":[1,"x",null,true]}'));
  });
});

describe('needsCurrentMetadata', () => {
  it.each([
    [{ type: 'replace_metadata', args: {} }, true],
    [{ type: 'set_custom_types', args: {} }, true],
    [{ type: 'bulk', args: [{ type: 'pg_track_table' }, { type: 'bulk_atomic', args: [{ type: 'set_custom_types' }] }] }, true],
    [{ type: 'concurrent_bulk', args: [{ type: 'REPLACE_METADATA' }] }, true],
    [{ type: 'bulk', args: [{ type: 'pg_untrack_table' }] }, false],
    [{ type: 'export_metadata' }, false],
    ['replace_metadata', false],
    [null, false],
  ])('%j → %s', (body, expected) => {
    expect(needsCurrentMetadata(body)).toBe(expected);
  });
});

function setup(
  overrides: { analyze?: EnforcingOptions['analyzeBody']; store?: DecisionStore; credentialsKey?: EnforcingOptions['credentialsKey']; credentialCheck?: EnforcingOptions['credentialCheck'] } = {},
) {
  const clock = manualClock();
  const decisions: Decision[] = [];
  const tokens = createTokenService({ key: createSecretKey(Buffer.from(TEST_SECRET)), ttlSeconds: 300, clock });
  const engine = createEngine({
    policy: loadPolicy(),
    analyze: analyzeChange,
    guardEnvironment: 'production',
    fourEyes: false,
    tokens,
    store: overrides.store ?? memoryApprovalStore(),
    clock,
    onDecision: (d) => decisions.push(d),
    enforcing: { analyzeBody: overrides.analyze ?? analyzeByType, decide: decideLikeProduction, credentialsKey: overrides.credentialsKey, credentialCheck: overrides.credentialCheck },
  });
  // As the proxy and the confirm page call it.
  const enforcement = { judge: engine.judge, confirm: (token: string, credentials: string) => engine.confirm(token, { credentials }, 'confirm-page') };
  return { enforcement, decisions, tokens, clock };
}

const untrack = { type: 'pg_untrack_table', args: { table: { schema: 'public', name: 'patients' } } };
const request = (body: unknown, credentials: string | undefined = 'secret') => ({
  endpoint: '/v1/metadata' as const,
  body,
  credentials,
  fetchCurrentMetadata: async () => ({}),
  guardUrl: 'https://guard.example',
});

describe('judge and confirm', () => {
  it('a held request carries a token bound to the body and the credentials hash, never the credentials', async () => {
    const { enforcement, tokens } = setup();
    const verdict = await enforcement.judge(request(untrack));
    expect(verdict).toMatchObject({ action: 'hold', code: 'CONFIRMATION_REQUIRED' });
    const token = (verdict as { token: string }).token;
    const verified = tokens.verify(token);
    expect(verified.ok && verified.claims).toMatchObject({
      op: 'untrack:table',
      tbl: 'default.public.patients',
      env: 'production',
      sub: `credentials:${sha256Hex('secret').slice(0, 12)}`,
      fp: fingerprintOf(untrack),
      crd: sha256Hex('secret'),
    });
  });

  it('refuses an advisory token (no fp/crd) and a token of another environment', async () => {
    const { enforcement, tokens } = setup();
    const advisory = tokens.issue({ op: 'DROP TABLE', tbl: 't', env: 'production', sub: 'user:1' }).token;
    expect(await enforcement.confirm(advisory, 'secret')).toEqual({
      success: false,
      code: 'TOKEN_ADVISORY',
      message: 'Not confirmed: this token confirms an advisory check (validateMetadataChange), not a request held by the proxy.',
    });
    const staging = tokens.issue({ op: 'x', tbl: 't', env: 'staging', sub: 's', fp: 'a'.repeat(64), crd: sha256Hex('secret') }).token;
    expect((await enforcement.confirm(staging, 'secret')).message).toBe('Not confirmed: the token was issued for staging, and this guard guards production.');
  });

  it('a token with a fingerprint but no credentials hash is never taken for an advisory one', async () => {
    const { enforcement, tokens } = setup();
    const odd = tokens.issue({ op: 'untrack:table', tbl: 't', env: 'production', sub: 'user:1', fp: 'a'.repeat(64) }).token;
    expect(await enforcement.confirm(odd, 'secret')).toMatchObject({ success: false, code: 'TOKEN_MALFORMED' });
  });

  it('an approval expires with its token', async () => {
    const { enforcement, clock } = setup();
    const held = await enforcement.judge(request(untrack));
    await enforcement.confirm((held as { token: string }).token, 'secret');
    clock.advance(301);
    expect(await enforcement.judge(request(untrack))).toMatchObject({ action: 'hold' });
  });

  it('fails closed when the analysis throws, without its message reaching the client', async () => {
    const { enforcement, decisions } = setup({
      analyze: async () => {
        throw new Error('parser exploded at /internal/path');
      },
    });
    const verdict = await enforcement.judge(request(untrack));
    expect(verdict).toEqual({
      action: 'hold',
      code: 'ANALYSIS_FAILED',
      message: 'Not sent to Hasura by the metadata guard (production): the guard could not analyse this request, so it does not pass. Nothing was changed.',
      token: null,
      effects: [],
      objects: [],
    });
    expect(decisions).toMatchObject([{ outcome: 'refused', reason: 'ANALYSIS_FAILED' }]);
    expect(JSON.stringify(decisions)).not.toContain('parser exploded');
  });

  it('a full store refuses the confirmation (fails closed)', async () => {
    const { enforcement } = setup({ store: memoryApprovalStore(0) });
    const held = await enforcement.judge(request(untrack));
    expect(await enforcement.confirm((held as { token: string }).token, 'secret')).toEqual({
      success: false,
      code: 'REPLAY_CACHE_FULL',
      message: 'Not confirmed: too many confirmations are in flight to track them safely.',
    });
  });
});

describe('credentials hash', () => {
  it('is keyed when a key is given: the token carries nothing a guess of the secret can be checked against', async () => {
    const key = createSecretKey(Buffer.from(TEST_SECRET));
    const { enforcement, tokens } = setup({ credentialsKey: key });
    const held = (await enforcement.judge(request(untrack))) as { token: string };
    const verified = tokens.verify(held.token);
    expect(verified.ok && verified.claims.crd).toBe(createHmac('sha256', key).update('secret').digest('hex'));
    expect(verified.ok && verified.claims.crd).not.toBe(sha256Hex('secret'));
    expect(await enforcement.confirm(held.token, 'secret')).toMatchObject({ success: true });
  });
});

describe("asking Hasura whether a confirmation's credentials are an admin's", () => {
  it('asks only once the credentials match the held request, and spends the token only when Hasura says admin', async () => {
    const asked: string[] = [];
    let answer: 'admin' | 'not-admin' | 'unreachable' = 'admin';
    const { enforcement, decisions } = setup({
      credentialCheck: async (credentials, header) => {
        asked.push(`${header}=${credentials}`);
        return answer;
      },
    });
    const held = (await enforcement.judge(request(untrack))) as { token: string };
    expect(asked).toEqual(['x-hasura-admin-secret=secret']); // asked once when held

    answer = 'not-admin';
    expect(await enforcement.confirm(held.token, 'another')).toMatchObject({ success: false, code: 'TOKEN_WRONG_CREDENTIALS' });
    expect(asked).toHaveLength(1);
    expect(await enforcement.confirm(held.token, 'secret')).toMatchObject({ success: false, code: 'CREDENTIALS_NOT_ADMIN' });
    answer = 'unreachable';
    expect(await enforcement.confirm(held.token, 'secret')).toMatchObject({ success: false, code: 'HASURA_UNREACHABLE', message: expect.stringContaining('try again shortly') });
    answer = 'admin';
    expect(await enforcement.confirm(held.token, 'secret')).toMatchObject({ success: true, code: 'CONFIRMED' });
    expect(asked).toEqual(Array(4).fill('x-hasura-admin-secret=secret'));
    // The refusals spent nothing: the token confirmed once, and only once.
    expect(await enforcement.confirm(held.token, 'secret')).toMatchObject({ success: false, code: 'TOKEN_ALREADY_USED' });
    expect(decisions.filter((d) => d.action === 'confirm').map((d) => d.reason)).toEqual([
      'TOKEN_WRONG_CREDENTIALS', 'CREDENTIALS_NOT_ADMIN', 'HASURA_UNREACHABLE', 'CONFIRMED', 'TOKEN_ALREADY_USED',
    ]);
  });
});

describe("a change judged for credentials Hasura refuses", () => {
  it('is refused without a token (CREDENTIALS_NOT_ADMIN), or when Hasura cannot be asked (HASURA_UNREACHABLE); routine requests are not asked about', async () => {
    let answer: 'admin' | 'not-admin' | 'unreachable' = 'not-admin';
    let asked = 0;
    const { enforcement, decisions } = setup({ credentialCheck: async () => (asked++, answer) });
    expect(await enforcement.judge(request(untrack))).toMatchObject({ action: 'hold', code: 'CREDENTIALS_NOT_ADMIN', token: null });
    answer = 'unreachable';
    expect(await enforcement.judge(request(untrack))).toMatchObject({ action: 'hold', code: 'HASURA_UNREACHABLE', token: null });
    expect(await enforcement.judge(request({ type: 'export_metadata', args: {} }))).toEqual({ action: 'forward', reason: 'allowed' });
    expect(asked).toBe(2);
    // Refused, not held: nothing the history or the team hears of (src/history/changes.ts records held and denied).
    expect(decisions.map((d) => `${d.outcome} ${d.reason}`)).toEqual(['refused CREDENTIALS_NOT_ADMIN', 'refused HASURA_UNREACHABLE', 'forwarded ALLOWED']);
  });
});
