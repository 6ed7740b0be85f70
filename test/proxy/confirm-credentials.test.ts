// Confirming a held change asks Hasura whether the credential is an admin's (src/http/hasura-admin.ts): it must ask as
// the held request was sent. A JWT admin selects the admin role with x-hasura-role, and a change held with an
// Authorization header is confirmed on the page by pasting that value. Both were refused when the check first landed
// (a second adversarial review).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { logCapture, manualClock, TEST_SECRET } from '../helpers.js';
import { doubleWiring } from '../support/analysis-double.js';
import { rawRequest, startEnforcingServer } from '../support/enforcing-server.js';
import { ADMIN_BEARER } from '../support/stand-in-hasura.js';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const json = { 'content-type': 'application/json' };

/**
 * A Hasura in JWT mode as Hasura is (server/src-lib/Hasura/Server/Auth/JWT.hs, processJwt: the role is the
 * x-hasura-role header when it is one of the token's allowed roles, else the token's default role): this user's JWT has
 * default role `user` and allowed roles [user, admin], so she is an admin only with `x-hasura-role: admin`, which is
 * how she sent the held request (and how the guard's own export_metadata read forwards it, src/doors/proxy.ts).
 */
const OPS_JWT = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJkZWZhdWx0Ijoi dXNlciJ9.ops-signature';
async function startJwtHasura(): Promise<{ url: string; forwarded: string[]; close(): Promise<void> }> {
  const forwarded: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const role = req.headers.authorization === OPS_JWT ? (req.headers['x-hasura-role'] === 'admin' ? 'admin' : 'user') : undefined;
      res.setHeader('content-type', 'application/json');
      if (role === undefined) return res.writeHead(401).end(JSON.stringify({ code: 'invalid-jwt', error: 'Could not verify JWT' }));
      if (req.url === '/v1/metadata' && role !== 'admin') return res.writeHead(400).end(JSON.stringify({ code: 'access-denied', error: 'restricted access : admin only' }));
      if (body.includes('"get_catalog_state"')) return res.writeHead(200).end(JSON.stringify({ id: 'x', cli_state: {}, console_state: {} }));
      if (body.includes('"export_metadata"')) return res.writeHead(200).end(JSON.stringify({ resource_version: 1, metadata: { version: 3, sources: [] } }));
      if (req.headers['user-agent'] !== 'hasura-metadata-guard') forwarded.push(body);
      res.writeHead(200).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('confirming a held change: the admin check asks Hasura differently from the held request', () => {
  it('a JWT admin who selects the admin role with x-hasura-role can confirm her held change ', async () => {
    const hasura = await startJwtHasura();
    servers.push(hasura);
    const config = loadConfig({ TOKEN_SECRET: TEST_SECRET, LOG_LEVEL: 'info', GUARD_ENVIRONMENT: 'production', HASURA_URL: hasura.url });
    const app = createApp(config, { clock: manualClock(), logDestination: logCapture().stream, enforcement: doubleWiring() });
    const running = await startServer(app.listener, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 500, onUpgrade: app.upgrade });
    servers.push({ close: async () => (await running.shutdown(), await app.close()) });
    const hers = { ...json, authorization: OPS_JWT, 'x-hasura-role': 'admin' };

    const held = await rawRequest(running.url, 'POST', '/v1/metadata', hers, JSON.stringify(bodies.untrackTable));
    expect(held.status).toBe(400);
    const token = held.json.guard.confirmation_token as string;
    expect(token).toBeTypeOf('string');
    // The same headers she sent the held request with.
    const confirmed = await rawRequest(running.url, 'POST', '/guard/confirm', hers, JSON.stringify({ token }));
    expect(confirmed.json).toMatchObject({ success: true, code: 'CONFIRMED' });
  });

  it('a change held with Authorization is confirmed on the confirm page (which sends a Bearer value as Authorization)', async () => {
    const guard = await startEnforcingServer(doubleWiring());
    servers.push(guard);
    const held = await rawRequest(guard.url, 'POST', '/v1/metadata', { ...json, authorization: ADMIN_BEARER }, JSON.stringify(bodies.untrackTable));
    expect(held.status).toBe(400);
    // The held message says: open the page and enter the credential the request was sent with. The page sends a
    // `Bearer …` value as Authorization, asking for the admin role, as Hasura reads a JWT
    // (test/proxy/confirm-page.browser.test.ts types one in); sent as an admin secret, Hasura refuses it.
    const token = held.json.guard.confirmation_token;
    const asSecret = await rawRequest(guard.url, 'POST', '/guard/confirm', { ...json, 'x-hasura-admin-secret': ADMIN_BEARER }, JSON.stringify({ token }));
    expect(asSecret.json).toMatchObject({ success: false, code: 'CREDENTIALS_NOT_ADMIN' });
    const asThePageSendsIt = await rawRequest(guard.url, 'POST', '/guard/confirm', { ...json, authorization: ADMIN_BEARER, 'x-hasura-role': 'admin' }, JSON.stringify({ token }));
    expect(asThePageSendsIt.json).toMatchObject({ success: true, code: 'CONFIRMED' });
  });
});
