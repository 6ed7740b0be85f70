// A stand-in for an auth proxy's published key set (Cloudflare Access's /cdn-cgi/access/certs, Google IAP's
// public_key-jwk): a real HTTP server on 127.0.0.1 serving a JWKS made with jose's generateKeyPair, counting how
// often it is fetched, and signing assertions as the proxy would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const ISSUER = 'https://team.stand-in-access.example';
export const AUDIENCE = 'guard-audience-0123';

interface Key {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

export interface StandInKeySet {
  url: string;
  /** How many times the key set was fetched. */
  fetches(): number;
  /** A new key pair; published at once unless `publish` is false (a key the proxy never announced, or a forger's). */
  addKey(alg: 'RS256' | 'ES256', kid: string, publish?: boolean): Promise<void>;
  /** A signed assertion: `exp` defaults to five minutes after `now` (seconds), iss and aud to the stand-in's. */
  sign(kid: string, claims: JWTPayload, now: number, header?: { iss?: string; aud?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startStandInKeySet(): Promise<StandInKeySet> {
  const keys = new Map<string, Key>();
  const published = new Set<string>();
  let fetched = 0;
  const server: Server = createServer((req, res) => {
    fetched++;
    const body = JSON.stringify({ keys: [...published].map((kid) => keys.get(kid)!.jwk) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  return {
    url,
    fetches: () => fetched,
    async addKey(alg, kid, publish = true) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      keys.set(kid, { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
      if (publish) published.add(kid);
    },
    sign(kid, claims, now, header = {}) {
      const key = keys.get(kid)!;
      return new SignJWT({ exp: now + 300, ...claims })
        .setProtectedHeader({ alg: key.alg, kid })
        .setIssuer(header.iss ?? ISSUER)
        .setAudience(header.aud ?? AUDIENCE)
        .setIssuedAt(now)
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The variables that point the guard at the stand-in key set, with Cloudflare Access's header name. */
export function assertionEnv(keySet: StandInKeySet): Record<string, string> {
  return {
    GUARD_IDENTITY_JWT_HEADER: 'Cf-Access-Jwt-Assertion',
    GUARD_IDENTITY_JWKS_URL: keySet.url,
    GUARD_IDENTITY_ISSUER: ISSUER,
    GUARD_IDENTITY_AUDIENCE: AUDIENCE,
  };
}
