// The optional claims enforcing mode adds to confirmation tokens: fp (body fingerprint) and crd (credentials hash).
// Tokens without them, including those signed before the claims existed, keep verifying.
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createTokenService, TOKEN_ISSUER, tokenAudience } from '../../src/core/tokens.js';

const TOKEN_AUDIENCE = tokenAudience('default', 'production');
import { manualClock, TEST_SECRET } from '../helpers.js';

const key = createSecretKey(Buffer.from(TEST_SECRET));
const clock = manualClock();
const tokens = createTokenService({ key, ttlSeconds: 300, clock });
const base = { op: 'drop:table', tbl: 'public.t', env: 'production', sub: 'credentials:0123456789ab' };
const fp = 'a'.repeat(64);
const crd = 'b'.repeat(64);

describe('fp and crd claims', () => {
  it('are signed and verified when given', () => {
    const { token } = tokens.issue({ ...base, fp, crd });
    const verified = tokens.verify(token);
    expect(verified.ok && verified.claims).toMatchObject({ ...base, fp, crd });
  });

  it('are absent from tokens issued without them', () => {
    const { token } = tokens.issue(base);
    expect(Object.keys(jwt.decode(token) as object)).not.toContain('fp');
    const verified = tokens.verify(token);
    expect(verified.ok && verified.claims.fp).toBeUndefined();
    expect(verified.ok && verified.claims.crd).toBeUndefined();
  });

  it('a token signed the old way (no fp, no crd) still verifies', () => {
    const iat = Math.floor(clock() / 1000);
    const old = jwt.sign({ ...base, jti: 'old-1', iat, exp: iat + 300 }, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    expect(tokens.verify(old)).toMatchObject({ ok: true, claims: { ...base, jti: 'old-1' } });
  });

  it('a signed token whose fp is not a sha256 hex is refused as malformed', () => {
    const iat = Math.floor(clock() / 1000);
    const odd = jwt.sign({ ...base, fp: 'not-hex', crd, jti: 'x', iat, exp: iat + 300 }, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    expect(tokens.verify(odd)).toMatchObject({ ok: false, code: 'TOKEN_MALFORMED' });
  });
});
