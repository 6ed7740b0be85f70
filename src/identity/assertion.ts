// The auth proxy's signed assertion (Cloudflare Access, Google IAP, Pomerium...): a JWT verified with jose against
// the proxy's published key set. jose's remote key set caches the keys, fetches them again when a token names an
// unknown kid, and not more often than once per cooldown, so a flood of made-up kids costs one fetch.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../vocabulary/clock.js';
import { groupsFrom, normalEmail, type Person } from '../vocabulary/person.js';

export interface AssertionSettings {
  /** Lower-case header name, e.g. cf-access-jwt-assertion. */
  header: string;
  jwksUrl: string;
  issuer: string;
  audience: string;
  emailClaim: string;
  groupsClaim: string;
}

/** The signatures auth proxies use: Cloudflare Access and Pomerium sign RS256 or ES256, Google IAP ES256. */
const ASSERTION_ALGORITHMS = ['RS256', 'ES256'];
/** Seconds of clock skew accepted between the auth proxy and the guard for exp, nbf and iat. */
const ASSERTION_CLOCK_TOLERANCE_SECONDS = 5;
/** At most one key set fetch per this many milliseconds for unknown kids (jose's default, named here). */
const JWKS_COOLDOWN_MS = 30_000;
/** Keys are fetched again after this long even when every kid is known, so a revoked key leaves. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_TIMEOUT_MS = 5_000;
/** Assertions are a few hundred bytes to a couple of KB; far longer is refused before any parsing. */
const MAX_ASSERTION_LENGTH = 16 * 1024;

export type AssertionFailure = 'ASSERTION_EXPIRED' | 'ASSERTION_WRONG_ISSUER' | 'ASSERTION_WRONG_AUDIENCE' | 'ASSERTION_UNKNOWN_KEY' | 'ASSERTION_BAD_SIGNATURE' | 'ASSERTION_MALFORMED' | 'ASSERTION_NO_EMAIL' | 'KEY_SET_UNAVAILABLE';

export type AssertionResult = { ok: true; person: Person } | { ok: false; code: AssertionFailure; message: string };

export function createAssertionVerifier(settings: AssertionSettings, clock: Clock): (token: string) => Promise<AssertionResult> {
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS, timeoutDuration: JWKS_TIMEOUT_MS });
  return async (token) => {
    if (token.length > MAX_ASSERTION_LENGTH) return { ok: false, code: 'ASSERTION_MALFORMED', message: `the identity assertion is longer than ${MAX_ASSERTION_LENGTH} characters` };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ASSERTION_ALGORITHMS,
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: ASSERTION_CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(clock()),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      return failureOf(err);
    }
    const email = normalEmail(payload[settings.emailClaim]);
    if (email === undefined) return { ok: false, code: 'ASSERTION_NO_EMAIL', message: `the identity assertion carries no usable "${settings.emailClaim}" claim` };
    return { ok: true, person: { email, groups: groupsFrom(payload[settings.groupsClaim]), via: 'assertion' } };
  };
}

/** What went wrong, in words safe for the client: never jose's message, which may quote the token's claims. */
function failureOf(err: unknown): Extract<AssertionResult, { ok: false }> {
  if (err instanceof errors.JWTExpired) return { ok: false, code: 'ASSERTION_EXPIRED', message: 'the identity assertion has expired' };
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return { ok: false, code: 'ASSERTION_WRONG_ISSUER', message: 'the identity assertion was issued by someone else' };
    if (err.claim === 'aud') return { ok: false, code: 'ASSERTION_WRONG_AUDIENCE', message: 'the identity assertion is for another application' };
    return { ok: false, code: 'ASSERTION_MALFORMED', message: `the identity assertion's "${err.claim.slice(0, 20)}" claim is not valid now` };
  }
  if (err instanceof errors.JWKSNoMatchingKey) return { ok: false, code: 'ASSERTION_UNKNOWN_KEY', message: "the identity assertion is signed with a key not in the auth proxy's key set" };
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JOSEAlgNotAllowed) {
    return { ok: false, code: 'ASSERTION_BAD_SIGNATURE', message: "the identity assertion's signature does not verify" };
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported || err instanceof errors.JWKSMultipleMatchingKeys) {
    return { ok: false, code: 'ASSERTION_MALFORMED', message: 'the identity assertion is not a well-formed signed JWT' };
  }
  // The key set could not be fetched or read (timeout, not 200, not JSON, network): nothing verified, so refused.
  return { ok: false, code: 'KEY_SET_UNAVAILABLE', message: "the identity assertion could not be verified: the auth proxy's key set is unavailable" };
}
