// Confirmation re-checks the policy in force, tokens name their deployment and environment, four-eyes needs
// identified users, and each identity has its own rate limits. The guard core, with a controlled clock.
import { createSecretKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { analyzeChange } from '../../src/analysis/index.js';
import type { Effect } from '../../src/vocabulary/effects.js';
import { createEngine, type EngineOptions } from '../../src/core/engine.js';
import { createRateLimits } from '../../src/core/limits.js';
import { DEFAULT_POLICY_FILE, loadPolicy } from '../../src/core/policy.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createTokenService, MAX_TOKEN_EFFECTS, TOKEN_ISSUER, tokenAudience } from '../../src/core/tokens.js';
import { manualClock, TEST_SECRET } from '../helpers.js';

const key = createSecretKey(Buffer.from(TEST_SECRET));
const alice = { userId: 'alice', role: 'developer' };
const bob = { userId: 'bob', role: 'developer' };
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

/** The default policy with production confirming (not denying) catastrophic changes: a laxer replica's. */
function laxPolicy() {
  const document = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
  document.environments.production.levels.catastrophic = 'confirm';
  const file = join(mkdtempSync(join(tmpdir(), 'guard-policy-')), 'lax.json');
  writeFileSync(file, JSON.stringify(document));
  return loadPolicy(file);
}

function guardWith(options: Partial<EngineOptions> & { deploymentId?: string } = {}, clock = manualClock()) {
  const tokens = createTokenService({ key, ttlSeconds: 300, clock, deploymentId: options.deploymentId });
  const guard = createEngine({ policy: loadPolicy(), analyze: analyzeChange, tokens, store: createMemoryStore({ maxEntries: 1000, clock }), clock, fourEyes: false, ...options });
  return { guard, clock, tokens };
}

const change = (operation: string, environment = 'production', table_name = 'public.patients') => ({ operation, table_name, environment });

describe('confirm re-evaluates the change against the policy in force', () => {
  it('a token issued under a laxer policy (another replica, a policy tightened since) is refused for what the policy now denies', async () => {
    const clock = manualClock();
    const lax = guardWith({ policy: laxPolicy() }, clock);
    const strict = guardWith({}, clock);
    const v = await lax.guard.validate(change('clear_metadata'), alice);
    expect(v).toMatchObject({ success: true, level: 'confirm', confirmation_token: expect.any(String) });
    expect(claimsOf(v.confirmation_token!).fx).toEqual(['clear:metadata']);

    const c = await strict.guard.confirm(v.confirmation_token!, alice);
    expect(c).toEqual({
      success: false,
      code: 'DENIED_BY_POLICY',
      message: expect.stringMatching(/^Not confirmed: the policy in force does not allow this change in production: it clears metadata\. .*ship it as a reviewed migration/),
    });
    // the laxer guard itself still confirms it: nothing else changed
    expect((await lax.guard.confirm(v.confirmation_token!, alice)).success).toBe(true);
  });

  it('a token without effects (an older replica) is re-analysed from its operation and table', async () => {
    const clock = manualClock();
    const { guard } = guardWith({}, clock);
    const now = Math.floor(clock() / 1000);
    const claims = { op: 'clear_metadata', tbl: 'public.patients', env: 'production', sub: 'user:alice', jti: 'a-jti', iat: now, exp: now + 300 };
    const signed = (c: object) => jwt.sign(c, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: tokenAudience('default', 'production') });
    expect((await guard.confirm(signed(claims), alice)).message).toMatch(/^Not confirmed: the policy in force does not allow this change in production/);
    expect(await guard.confirm(signed({ ...claims, op: 'DROP TABLE', jti: 'b-jti' }), alice)).toMatchObject({ success: true });
  });

  it('effects in the token are deduplicated; a change with more kinds than a token carries is refused, not truncated', async () => {
    const repeated: Effect[] = [
      { verb: 'drop', object: 'table', name: 'a' },
      { verb: 'drop', object: 'table', name: 'b' },
      { verb: 'drop', object: 'column', name: 'a.c' },
    ];
    const { guard } = guardWith({ analyze: async () => repeated });
    const v = await guard.validate(change('DROP TABLE'), alice);
    expect(claimsOf(v.confirmation_token!).fx).toEqual(['drop:table', 'drop:column']);

    const objects = ['table', 'view', 'column', 'constraint', 'index', 'function', 'trigger', 'sequence', 'type', 'extension', 'policy', 'relationship', 'permission'] as const;
    const many: Effect[] = objects.flatMap((object) => (['drop', 'modify', 'rename'] as const).map((verb) => ({ verb, object })));
    expect(many.length).toBeGreaterThan(MAX_TOKEN_EFFECTS);
    const tooMany = await guardWith({ analyze: async () => many }).guard.validate(change('DROP TABLE'), alice);
    expect(tooMany).toMatchObject({
      success: false,
      confirmation_token: null,
      message: `Refused: the change has ${many.length} kinds of effect, more than the ${MAX_TOKEN_EFFECTS} a confirmation token can carry. Split it into smaller changes.`,
    });
  });
});

describe('tokens name the deployment and environment they belong to', () => {
  it('the audience is hasura-metadata-guard:<deployment>:<environment>', async () => {
    const { guard } = guardWith({ deploymentId: 'eu-1' });
    const v = await guard.validate(change('DROP TABLE'), alice);
    expect(claimsOf(v.confirmation_token!).aud).toBe('hasura-metadata-guard:eu-1:production');
  });

  it("another deployment's token is refused even with a shared secret", async () => {
    const clock = manualClock();
    const eu = guardWith({ deploymentId: 'eu-1' }, clock);
    const us = guardWith({ deploymentId: 'us-1' }, clock);
    const v = await eu.guard.validate(change('DROP TABLE'), alice);
    expect((await us.guard.confirm(v.confirmation_token!, alice)).message).toMatch(/^Not confirmed: the token was not issued by this deployment \(us-1\)\./);
  });

  it("a staging guard's token is never valid at production, even with a shared secret", async () => {
    const clock = manualClock();
    const production = guardWith({ guardEnvironment: 'production' }, clock);
    // The default policy lets staging DROP without a token; a staging guard with a stricter policy would issue one,
    // signed with the same secret. Sign one as it would.
    const now = Math.floor(clock() / 1000);
    const claims = { op: 'DROP TABLE', tbl: 'public.patients', env: 'staging', sub: 'user:alice', jti: 'c-jti', iat: now, exp: now + 300, fx: ['drop:table'] };
    const stagingToken = jwt.sign(claims, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: tokenAudience('default', 'staging') });
    expect((await production.guard.confirm(stagingToken, alice)).success).toBe(false);
    // relabelled for production but keeping the staging audience: refused too
    const relabelled = jwt.sign({ ...claims, env: 'production' }, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: tokenAudience('default', 'staging') });
    expect((await production.guard.confirm(relabelled, alice)).message).toMatch(/^Not confirmed: the token was not issued by this deployment/);
  });
});

describe('four-eyes needs identified users', () => {
  it.each([
    ['a role-only requester', { role: 'developer' }],
    ['an anonymous requester', {}],
  ])('%s gets no token', async (_name, requester) => {
    const { guard } = guardWith({ fourEyes: true });
    expect(await guard.validate(change('DROP TABLE'), requester)).toMatchObject({
      success: false,
      confirmation_token: null,
      message: 'Refused: four-eyes mode issues confirmation tokens to identified users only; send the change as a signed-in user (x-hasura-user-id).',
    });
  });

  it('a token issued to a role (before four-eyes was on) is not confirmed by anyone', async () => {
    const clock = manualClock();
    const before = guardWith({}, clock);
    const after = guardWith({ fourEyes: true }, clock);
    const v = await before.guard.validate(change('DROP TABLE'), { role: 'developer' });
    expect((await after.guard.confirm(v.confirmation_token!, bob)).message).toMatch(/^Not confirmed: four-eyes mode needs a token requested by an identified user/);
  });
});

describe('rate limits per identity', () => {
  it('validations: the next over the limit is refused with when to retry; other users are not affected', async () => {
    const { guard } = guardWith({ limits: createRateLimits({ validationsPerMinute: 2, confirmationsPerMinute: 1 }) });
    await guard.validate(change('DROP TABLE'), alice);
    await guard.validate(change('DROP TABLE'), alice);
    const refused = await guard.validate(change('DROP TABLE'), alice);
    expect(refused).toMatchObject({ success: false, confirmation_token: null, message: expect.stringMatching(/^Refused: too many validations \(at most 2 a minute for each user\)\. Try again in \d+ seconds\.$/) });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await guard.validate(change('DROP TABLE'), bob)).success).toBe(true);
  });

  it('confirmations have their own limit', async () => {
    const { guard } = guardWith({ limits: createRateLimits({ validationsPerMinute: 10, confirmationsPerMinute: 1 }) });
    const first = (await guard.validate(change('DROP TABLE'), alice)).confirmation_token!;
    const second = (await guard.validate(change('DROP TABLE'), alice)).confirmation_token!;
    expect((await guard.confirm(first, alice)).success).toBe(true);
    const refused = await guard.confirm(second, alice);
    expect(refused).toMatchObject({ success: false, message: expect.stringMatching(/^Not confirmed: too many confirmations \(at most 1 a minute for each user\)\. Try again in \d+ seconds\.$/) });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});
