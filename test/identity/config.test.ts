// The identity variables: the start stops with one line naming what is missing or wrong.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isTrusted } from '../../src/identity/trusted-proxies.js';
import { TEST_SECRET } from '../helpers.js';

const assertion = {
  GUARD_IDENTITY_JWT_HEADER: 'Cf-Access-Jwt-Assertion',
  GUARD_IDENTITY_JWKS_URL: 'https://team.cloudflareaccess.com/cdn-cgi/access/certs',
  GUARD_IDENTITY_ISSUER: 'https://team.cloudflareaccess.com',
  GUARD_IDENTITY_AUDIENCE: 'aud-tag',
};
const load = (env: Record<string, string>) => loadConfig({ TOKEN_SECRET: TEST_SECRET, ...env });

function refusal(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('the configuration was accepted');
}

describe('identity configuration', () => {
  it('the assertion needs its four variables together: each one left out is named', () => {
    for (const name of Object.keys(assertion)) {
      const partial = { ...assertion } as Record<string, string>;
      delete partial[name];
      expect(refusal(partial)).toMatch(new RegExp(`^${name} must be set with `));
    }
    const config = load(assertion);
    expect(config.identity?.assertion).toEqual({
      header: 'cf-access-jwt-assertion',
      jwksUrl: assertion.GUARD_IDENTITY_JWKS_URL,
      issuer: assertion.GUARD_IDENTITY_ISSUER,
      audience: 'aud-tag',
      emailClaim: 'email',
      groupsClaim: 'groups',
    });
  });

  it('the header needs GUARD_TRUSTED_PROXIES, a list of addresses and CIDR ranges', () => {
    expect(refusal({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email' })).toMatch(/^GUARD_IDENTITY_HEADER needs GUARD_TRUSTED_PROXIES/);
    expect(refusal({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: '10.0.0.0/33' })).toMatch(/^GUARD_TRUSTED_PROXIES: "10.0.0.0\/33" is not/);
    expect(refusal({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: 'proxy.internal' })).toMatch(/^GUARD_TRUSTED_PROXIES: "proxy.internal" is not/);
    expect(refusal({ GUARD_IDENTITY_GROUPS_HEADER: 'X-Forwarded-Groups' })).toMatch(/^GUARD_IDENTITY_GROUPS_HEADER needs GUARD_IDENTITY_HEADER/);
    const { trustedHeader } = load({ GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7, fd00::/8' }).identity!;
    expect(['10.2.3.4', '::ffff:10.2.3.4', '192.168.1.7', 'fd00::1'].map((a) => isTrusted(trustedHeader!.trustedProxies, a))).toEqual([true, true, true, true]);
    expect(['11.0.0.1', '192.168.1.8', 'fe80::1', undefined].map((a) => isTrusted(trustedHeader!.trustedProxies, a))).toEqual([false, false, false, false]);
  });

  it('GUARD_APPROVERS: emails and group:<name>, and only with an identity source; FOUR_EYES in enforcing mode needs one too', () => {
    expect(refusal({ GUARD_APPROVERS: 'alice@example.com' })).toMatch(/^GUARD_APPROVERS needs an identity source/);
    expect(refusal({ ...assertion, GUARD_APPROVERS: 'alice, group:ops' })).toMatch(/^GUARD_APPROVERS: "alice" is neither an email nor group:<name>/);
    expect(refusal({ ...assertion, GUARD_APPROVERS: 'group:' })).toMatch(/^GUARD_APPROVERS: "group:" names no group/);
    const { approvers } = load({ ...assertion, GUARD_APPROVERS: 'Alice@Example.com, group:platform-admins' });
    expect([...approvers!.emails, ...approvers!.groups]).toEqual(['alice@example.com', 'platform-admins']);
    expect(refusal({ FOUR_EYES: 'true', HASURA_URL: 'http://hasura:8080', GUARD_ENVIRONMENT: 'production' })).toMatch(/^FOUR_EYES=true in enforcing mode \(HASURA_URL\) needs an identity source/);
    expect(load({ ...assertion, FOUR_EYES: 'true', HASURA_URL: 'http://hasura:8080', GUARD_ENVIRONMENT: 'production' }).fourEyes).toBe(true);
  });
});
