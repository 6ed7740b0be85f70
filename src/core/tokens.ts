// Confirmation tokens: HS256 JWTs bound to one operation, table, environment and requester (and, for a request the
// proxy held, to its body's fingerprint and its credentials' hash), and to the deployment and environment that
// issued them (the audience).
// Stateless on purpose: any replica holding TOKEN_SECRET can verify them; only single use needs memory.
import { randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import * as z from '../vocabulary/zod.js';
import type { Clock } from '../vocabulary/clock.js';

export const TOKEN_ISSUER = 'hasura-metadata-guard';
/**
 * Whom a token is for: one guarded environment of one deployment. Two installations that share TOKEN_SECRET (or a
 * staging and a production guard that do) cannot confirm each other's tokens.
 */
export const tokenAudience = (deploymentId: string, environment: string) => `${TOKEN_ISSUER}:${deploymentId}:${environment}`;
/**
 * Most distinct effect keys (`drop:table`) a token carries. A change with more kinds of effect is refused rather
 * than carried in part: confirmation re-decides on them, and a missing one could be the one the policy denies.
 */
export const MAX_TOKEN_EFFECTS = 32;
/** Seconds of clock skew accepted between replicas for exp / nbf / iat: a token expires 5 s after its exp, not before. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** Our tokens are ~350 characters; anything far longer is refused before any decoding work. */
export const MAX_TOKEN_LENGTH = 2048;

export interface ChangeClaims {
  /** operation as the requester wrote it */
  op: string;
  /** table name */
  tbl: string;
  /** canonical environment name */
  env: string;
  /** requester identity, see identityOf() */
  sub: string;
  /**
   * The requester's Hasura user id as well, when `sub` names the person the auth proxy vouched for: the same user
   * confirming without the auth proxy is seen as `user:<id>`, and under four-eyes is no second person.
   */
  uid?: string;
  /**
   * Enforcing mode only: the fingerprint of the held request body (sha256 hex of its canonical JSON). Optional,
   * so advisory tokens, and tokens issued before these claims existed, keep verifying.
   */
  fp?: string;
  /** Enforcing mode only: sha256 hex of the credentials the held request carried (never the credentials). */
  crd?: string;
  /** Enforcing mode only: the email of the person who sent the held request, as the auth proxy named them (four-eyes). */
  by?: string;
  /** the change's effect keys (`verb:object`), distinct: confirmation decides on them again under the policy in force */
  fx?: string[];
}

export interface VerifiedClaims extends ChangeClaims {
  aud: string;
  jti: string;
  iat: number;
  exp: number;
}

export type TokenFailure = 'TOKEN_MALFORMED' | 'TOKEN_BAD_SIGNATURE' | 'TOKEN_WRONG_AUDIENCE' | 'TOKEN_EXPIRED' | 'TOKEN_NOT_YET_VALID';

export type VerifyResult = { ok: true; claims: VerifiedClaims } | { ok: false; code: TokenFailure; message: string };

const text = z.string().check(z.minLength(1));
// tbl may be empty: an operation on no table (reload_metadata).
const sha256Hex = z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/)));
const effectKeys = z.array(z.string().check(z.regex(/^[a-z_]{1,32}:[a-z_]{1,32}$/))).check(z.maxLength(MAX_TOKEN_EFFECTS));
const claimsSchema = z.object({
  op: text,
  tbl: z.string(),
  env: text,
  sub: text,
  jti: text,
  iat: z.int(),
  exp: z.int(),
  aud: text,
  fx: z.optional(effectKeys),
  fp: sha256Hex,
  crd: sha256Hex,
  by: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  uid: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});

export interface TokenService {
  ttlSeconds: number;
  issue(claims: ChangeClaims): { token: string; jti: string; expiresAt: number };
  verify(token: string): VerifyResult;
}

export function createTokenService(options: { key: KeyObject; ttlSeconds: number; clock: Clock; deploymentId?: string }): TokenService {
  const { key, ttlSeconds, clock, deploymentId = 'default' } = options;
  const nowSeconds = () => Math.floor(clock() / 1000);
  // Any environment of this deployment; that the audience names the token's own environment is checked below.
  const ourAudiences = new RegExp(`^${escapeRegExp(tokenAudience(deploymentId, ''))}[a-z][a-z0-9_-]*$`);

  return {
    ttlSeconds,

    issue(claims) {
      const iat = nowSeconds();
      const exp = iat + ttlSeconds;
      // 122 random bits; randomUUID draws them from a buffer it refills in bulk, which under load is several
      // times cheaper than asking the system for 16 bytes per token.
      const jti = randomUUID();
      // iat/exp come from our clock (jsonwebtoken keeps a given iat), so a controlled clock governs both ends.
      // The claims are spelled out rather than spread: jsonwebtoken signs a literal object ~30% faster.
      const payload =
        claims.fx === undefined && claims.fp === undefined && claims.crd === undefined
          ? { op: claims.op, tbl: claims.tbl, env: claims.env, sub: claims.sub, uid: claims.uid, jti, iat, exp }
          : { op: claims.op, tbl: claims.tbl, env: claims.env, sub: claims.sub, uid: claims.uid, fx: claims.fx, fp: claims.fp, crd: claims.crd, by: claims.by, jti, iat, exp };
      const token = jwt.sign(payload, key, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: tokenAudience(deploymentId, claims.env) });
      return { token, jti, expiresAt: exp };
    },

    verify(token) {
      if (token.length === 0) return { ok: false, code: 'TOKEN_MALFORMED', message: 'the token is empty' };
      if (token.length > MAX_TOKEN_LENGTH) {
        return { ok: false, code: 'TOKEN_MALFORMED', message: `the token is longer than ${MAX_TOKEN_LENGTH} characters` };
      }
      const now = nowSeconds();
      let payload: unknown;
      try {
        payload = jwt.verify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: ourAudiences,
          clockTimestamp: now,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          maxAge: ttlSeconds, // jsonwebtoken adds clockTolerance to this too
        });
      } catch (err) {
        return classifyVerifyError(err, token, deploymentId);
      }
      const parsed = claimsSchema.safeParse(payload);
      if (!parsed.success) {
        return { ok: false, code: 'TOKEN_MALFORMED', message: 'the token does not carry the claims of a confirmation token' };
      }
      if (parsed.data.aud !== tokenAudience(deploymentId, parsed.data.env)) {
        return { ok: false, code: 'TOKEN_WRONG_AUDIENCE', message: `the token was not issued by this deployment (${deploymentId}) for ${parsed.data.env}` };
      }
      // jsonwebtoken does not look at iat on its own; a token "issued" in the future was not issued by a sane clock.
      if (parsed.data.iat > now + CLOCK_TOLERANCE_SECONDS) {
        return { ok: false, code: 'TOKEN_NOT_YET_VALID', message: 'the token is not valid yet (issued in the future)' };
      }
      return { ok: true, claims: parsed.data };
    },
  };
}

function classifyVerifyError(err: unknown, token: string, deploymentId: string): VerifyResult {
  if (err instanceof jwt.TokenExpiredError) {
    return { ok: false, code: 'TOKEN_EXPIRED', message: 'the token has expired' };
  }
  if (err instanceof jwt.NotBeforeError) {
    return { ok: false, code: 'TOKEN_NOT_YET_VALID', message: 'the token is not valid yet' };
  }
  const message = err instanceof Error ? err.message : '';
  // Only a token that decodes to a JWT (object header and payload) can be "signed by someone else"; the rest is
  // malformed. Decoding again costs nothing on the success path: it only happens here.
  const decoded = jwt.decode(token, { complete: true });
  const isJwt = decoded !== null && typeof decoded.header === 'object' && typeof decoded.payload === 'object';
  if (
    isJwt &&
    (message === 'invalid signature' ||
      message === 'jwt signature is required' ||
      message === 'invalid algorithm' ||
      message.startsWith('jwt issuer invalid'))
  ) {
    return { ok: false, code: 'TOKEN_BAD_SIGNATURE', message: 'the token was not signed by this guard' };
  }
  // Signed with our key and issuer, so it is ours, but for another deployment (or a format before audiences).
  if (isJwt && message.startsWith('jwt audience invalid')) {
    return { ok: false, code: 'TOKEN_WRONG_AUDIENCE', message: `the token was not issued by this deployment (${deploymentId})` };
  }
  return { ok: false, code: 'TOKEN_MALFORMED', message: 'the token is not a well-formed confirmation token' };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
