import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import { createEngine, type EngineOptions } from '../../src/core/engine.js';
import { identityOf, type Decision } from '../../src/core/advisory.js';
import { loadPolicy } from '../../src/core/policy.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError, type GuardStore } from '../../src/core/store.js';
import { createTokenService } from '../../src/core/tokens.js';
import { manualClock, TEST_SECRET } from '../helpers.js';

const policy = loadPolicy();
const alice = { userId: 'alice', role: 'developer' };
const bob = { userId: 'bob', role: 'developer' };

function setup(options: Partial<EngineOptions> = {}) {
  const clock = manualClock();
  const decisions: Decision[] = [];
  const tokens = createTokenService({ key: createSecretKey(Buffer.from(TEST_SECRET)), ttlSeconds: 300, clock });
  const guard = createEngine({ policy, analyze: analyzeChange, tokens, store: createMemoryStore({ maxEntries: 1000, clock }), clock, fourEyes: false, onDecision: (d) => decisions.push(d), ...options });
  return { guard, clock, decisions, tokens };
}

const change = (operation: string, environment: string, table_name = 'public.patients') => ({ operation, table_name, environment });

describe('validate', () => {
  it('staging: a critical change is validated automatically, with no token', async () => {
    const { guard, decisions } = setup();
    const r = await guard.validate(change('DROP TABLE', 'staging'), alice);
    expect(r).toMatchObject({
      success: true,
      message: 'Validated automatically: DROP TABLE on public.patients is a critical change: it drops table public.patients; staging allows it without confirmation.',
      confirmation_token: null,
      level: 'allow',
      changes: [{ verb: 'drop', object: 'table', name: 'public.patients', detail: null, description: 'drops table public.patients', class: 'critical', level: 'allow' }],
    });
    expect(decisions).toMatchObject([{ action: 'validate', outcome: 'allowed', environment: 'staging', userId: 'alice' }]);
  });

  it('production: a critical change needs confirmation within the TTL, and gets a token', async () => {
    const { guard, decisions } = setup();
    const r = await guard.validate(change('delete', 'prod'), alice);
    expect(r.success).toBe(true);
    expect(r.message).toMatch(/confirmMetadataChange .* within 300 seconds/);
    expect(r.confirmation_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decisions[0]).toMatchObject({ outcome: 'confirmation_required', environment: 'production', tokenId: expect.any(String) });
  });

  it('a non-critical change passes without a token in both', async () => {
    const { guard } = setup();
    for (const env of ['staging', 'production']) {
      expect(await guard.validate(change('track_table', env), alice)).toMatchObject({ success: true, confirmation_token: null });
    }
  });

  it('an operation the policy denies is refused, saying why and what to do instead', async () => {
    const { guard, decisions } = setup();
    const r = await guard.validate(change('clear_metadata', 'production'), alice);
    expect(r.success).toBe(false);
    expect(r.confirmation_token).toBeNull();
    expect(r.message).toMatch(/^Refused: clear_metadata on public\.patients is a catastrophic change: it clears metadata.*; production does not allow it\. Instead, ship it as a reviewed migration/);
    expect(r.level).toBe('deny');
    expect(decisions[0]).toMatchObject({ outcome: 'denied', reason: 'DENIED_BY_POLICY' });
  });

  it('an unknown environment is never waved through, and the message names the known ones', async () => {
    const { guard } = setup();
    const r = await guard.validate(change('DROP', 'prodution'), alice);
    expect(r.success).toBe(false);
    expect(r.message).toBe('Refused: unknown environment "prodution". Known environments: staging (stage, dev, development, test, qa); production (prod, live).');
  });

  it.each([
    ['a.b.c.d', /more than 3 parts/],
    ['public.', /a part is missing after "\."/],
    ['x'.repeat(129), /a part is longer than 128 characters/],
    ['patients; DROP TABLE x', /unexpected ";"/],
  ])('refuses the table name %j, saying what is accepted', async (table, problem) => {
    const { guard, decisions } = setup();
    const r = await guard.validate(change('DROP', 'production', table), alice);
    expect(r).toMatchObject({ success: false, confirmation_token: null });
    expect(r.message).toMatch(problem);
    expect(r.message).toContain('public."Order Items", clinic.dbo.patients, my-project.dataset.table');
    expect(decisions[0]).toMatchObject({ outcome: 'invalid', reason: 'INVALID_TABLE_NAME' });
  });

  it('accepts the table names of every Hasura backend', async () => {
    const { guard } = setup();
    for (const t of ['patients', 'public.patients', 'public."Order Items"', 'clinic.dbo.patients', 'my-project.dataset.table', 'kunden.größe']) {
      expect((await guard.validate(change('track_table', 'production', t), alice)).success).toBe(true);
    }
  });

  it('an operation on no table takes an empty table_name, and its token confirms', async () => {
    const { guard } = setup();
    const validated = await guard.validate(change('DROP TABLE', 'production', ''), alice);
    expect(validated.message).toMatch(/^DROP TABLE is a /);
    expect(validated.confirmation_token).toEqual(expect.any(String));
    const confirmed = await guard.confirm(validated.confirmation_token!, alice);
    expect(confirmed).toEqual({ success: true, code: 'CONFIRMED', message: 'Confirmed: DROP TABLE in production. Go ahead with the change.' });
  });

  it('refuses an empty or unreadable operation', async () => {
    const { guard } = setup();
    for (const op of ['', '  ', 'DROP\u0000TABLE', 'x'.repeat(20_001), 'drop\u001b[2Jtable']) {
      expect(await guard.validate(change(op, 'production'), alice)).toMatchObject({ success: false, message: expect.stringMatching(/operation must be/) });
    }
  });

  it('with GUARD_ENVIRONMENT, a request naming another environment is refused (no skipping confirmation by typing "staging")', async () => {
    const { guard } = setup({ guardEnvironment: 'production' });
    const r = await guard.validate(change('DROP', 'staging'), alice);
    expect(r).toEqual({ success: false, code: 'WRONG_ENVIRONMENT', confirmation_token: null, level: null, changes: null, message: expect.stringMatching(/this guard protects production, and the request names staging/) });
    expect((await guard.validate(change('DROP', 'prod'), alice)).confirmation_token).toBeTruthy();
  });
});

describe('confirm', () => {
  it("refuses, with where to go, the token of a change an enforcing guard held, when this guard is not one", async () => {
    const { guard, tokens, decisions } = setup();
    const { token } = tokens.issue({ op: 'drop:table', tbl: 'default.public.patients', env: 'production', sub: 'credentials:0123456789ab', fp: 'a'.repeat(64), crd: 'b'.repeat(64) });
    expect(await guard.confirm(token, alice)).toEqual({
      success: false,
      code: 'TOKEN_HELD_ELSEWHERE',
      message: 'Not confirmed: the token confirms a change an enforcing guard held. Confirm it at that guard: open the link in its answer, or POST the token to its /guard/confirm with the admin secret.',
    });
    expect(decisions).toMatchObject([{ action: 'confirm', outcome: 'refused', reason: 'TOKEN_HELD_ELSEWHERE' }]);
  });


  async function issued(options: Partial<EngineOptions> = {}, requester = alice) {
    const s = setup(options);
    const token = (await s.guard.validate(change('DROP TABLE', 'production'), requester)).confirmation_token!;
    s.decisions.length = 0;
    return { ...s, token };
  }

  it('confirms once, naming operation, table and environment', async () => {
    const { guard, token, decisions } = await issued();
    expect(await guard.confirm(token, alice)).toEqual({ success: true, code: 'CONFIRMED', message: 'Confirmed: DROP TABLE on public.patients in production. Go ahead with the change.' });
    expect(decisions[0]).toMatchObject({ action: 'confirm', outcome: 'confirmed', operation: 'DROP TABLE', table: 'public.patients', environment: 'production' });
    expect(await guard.confirm(token, alice)).toEqual({ success: false, code: 'TOKEN_ALREADY_USED', message: expect.stringMatching(/^Not confirmed: the token has already been used/) });
  });

  it('refuses, and records nothing, when the store cannot record the confirmation; validation keeps answering', async () => {
    const memory = createMemoryStore({ maxEntries: 1000 });
    let down = true;
    const flaky: GuardStore = {
      ...memory,
      useToken: (...args) => (down ? Promise.reject(new StoreUnavailableError('the database is unreachable (ECONNREFUSED)')) : memory.useToken(...args)),
    };
    const { guard, token, decisions } = await issued({ store: flaky });
    expect(await guard.confirm(token, alice)).toEqual({
      success: false,
      code: 'STORE_UNAVAILABLE',
      message: 'Not confirmed: the guard cannot record the confirmation right now (its database is unreachable). Try again shortly.',
    });
    expect(decisions).toMatchObject([{ action: 'confirm', outcome: 'refused', reason: 'STORE_UNAVAILABLE', tokenId: expect.any(String) }]);
    expect((await guard.validate(change('DROP TABLE', 'production'), alice)).confirmation_token).toEqual(expect.any(String));
    down = false;
    expect((await guard.confirm(token, alice)).success).toBe(true); // the refused attempt did not use the token up
  });

  it('a store failure other than unavailability is not mistaken for an answer', async () => {
    const broken: GuardStore = { ...createMemoryStore({ maxEntries: 10 }), useToken: () => Promise.reject(new Error('bug')) };
    const { guard, token } = await issued({ store: broken });
    await expect(guard.confirm(token, alice)).rejects.toThrow('bug');
  });

  it('refuses an expired token (controlled clock, 5 s tolerance)', async () => {
    const { guard, token, clock } = await issued();
    clock.advance(300 + 4);
    expect((await guard.confirm(token, alice)).success).toBe(true);
    const again = await issued();
    again.clock.advance(300 + 5);
    expect(await again.guard.confirm(again.token, alice)).toEqual({ success: false, code: 'TOKEN_EXPIRED', message: 'Not confirmed: the token has expired. Validate the change again to get a new token.' });
  });

  it('refuses a token issued to someone else', async () => {
    const { guard, token } = await issued();
    expect((await guard.confirm(token, bob)).message).toMatch(/^Not confirmed: the token was issued to someone else/);
    expect((await guard.confirm(token, { role: 'developer' })).success).toBe(false);
    expect((await guard.confirm(token, {})).success).toBe(false);
    // the refusals did not use the token up
    expect((await guard.confirm(token, alice)).success).toBe(true);
  });

  it('refuses a token for an environment this guard does not protect', async () => {
    const shared = setup();
    const token = (await shared.guard.validate(change('DROP', 'production'), alice)).confirmation_token!;
    const stagingGuard = setup({ guardEnvironment: 'staging' });
    expect((await stagingGuard.guard.confirm(token, alice)).message).toMatch(/^Not confirmed: the token is for production, and this guard protects staging/);
  });

  it('four-eyes: the requester cannot confirm; another identified user can', async () => {
    const { guard, token, decisions } = await issued({ fourEyes: true });
    expect((await guard.confirm(token, alice)).message).toMatch(/four-eyes mode needs a second person/);
    expect((await guard.confirm(token, { role: 'admin' })).message).toMatch(/needs a confirming user/);
    expect((await guard.confirm(token, bob)).success).toBe(true);
    expect(decisions.map((d) => d.reason)).toEqual(['TOKEN_SAME_USER', 'TOKEN_CONFIRMER_UNKNOWN', 'CONFIRMED']);
  });

  it('distinguishes malformed from badly signed tokens', async () => {
    const { guard, token } = await issued();
    expect((await guard.confirm('garbage', alice)).message).toMatch(/not a well-formed confirmation token/);
    const [h, p, s] = token.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await guard.confirm(flipped, alice)).message).toMatch(/not signed by this guard/);
  });

  it('binds tokens to the requester identity: user id, else role, else anonymous', async () => {
    expect(identityOf({ userId: '42', role: 'dev' })).toBe('user:42');
    expect(identityOf({ role: 'dev' })).toBe('role:dev');
    expect(identityOf({})).toBe('anonymous');
  });
});

describe('preview', () => {
  it('tells what would happen without issuing a token or writing an audit record', async () => {
    const { guard, decisions } = setup();
    expect(await guard.preview(change('DROP', 'prod'))).toEqual({
      success: true,
      message: 'DROP on public.patients is a critical change: it drops table public.patients. In production it would need a confirmation. Nothing was issued.',
      level: 'confirm',
      operation_class: 'critical',
      environment: 'production',
      changes: [{ verb: 'drop', object: 'table', name: 'public.patients', detail: null, description: 'drops table public.patients', class: 'critical', level: 'confirm' }],
    });
    expect(await guard.preview(change('clear_metadata', 'prod'))).toMatchObject({ success: false, level: 'deny' });
    expect(await guard.preview(change('DROP', 'nowhere'))).toMatchObject({ success: false, level: null });
    expect(decisions).toEqual([]);
  });
});
