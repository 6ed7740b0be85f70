// Enforcing mode through the real doors: the console's and CLI's bodies sent to the guard's port, a stand-in Hasura
// behind it that records what reaches it. Destructive changes are held in Hasura's error shape; a confirmation lets
// the same request through once. The analysis and policy are test doubles (test/support/analysis-double.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { doubleWiring } from '../support/analysis-double.js';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';
import { ADMIN_BEARER } from '../support/stand-in-hasura.js';

let guard: EnforcingServer;
beforeEach(async () => {
  guard = await startEnforcingServer(doubleWiring());
});
afterEach(() => guard.close());

const FORBIDDEN_KEYS = ['internal', 'message', 'info', 'custom', 'action'];
const FORBIDDEN_CODES = ['access-denied', 'conflict', 'dependency-error', 'postgres-error', 'data_api_error'];

/** What the console and the CLI can read: Hasura's shape, nothing that changes their behaviour. */
function expectHasuraShape(json: any, code: string) {
  expect(Object.keys(json).sort()).toEqual(['code', 'error', 'guard', 'path']);
  expect(json.path).toBe('$');
  expect(json.code).toBe(code);
  expect(typeof json.error).toBe('string');
  for (const key of FORBIDDEN_KEYS) expect(json).not.toHaveProperty(key);
  expect(FORBIDDEN_CODES).not.toContain(json.code);
  // One line for the CLI's `[code] error (path)` and the console's toast.
  expect(json.error).not.toContain('\n');
}

async function confirm(token: string, secret: string | null = ADMIN_SECRET) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== null) headers['x-hasura-admin-secret'] = secret;
  return rawRequest(guard.url, 'POST', '/guard/confirm', headers, JSON.stringify({ token }));
}

describe('a destructive change from the console', () => {
  it('is held: 400 in Hasura\'s shape, saying what it does, why, and how to confirm; Hasura never sees it', async () => {
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable());

    expect(held.status).toBe(400);
    expectHasuraShape(held.json, 'guard-confirmation-required');
    const token = held.json.guard.confirmation_token as string;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(held.json.guard.changes).toEqual([{ verb: 'drop', object: 'table', name: 'public.patients' }]);
    expect(held.json.error).toContain('drops table public.patients');
    expect(held.json.error).toContain('"critical"');
    expect(held.json.error).toContain('within 300 seconds');
    expect(held.json.error).toContain(`${guard.url}/guard/confirm?token=${token}`);
    expect(held.json.error).toContain(`curl -X POST ${guard.url}/guard/confirm`);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('after a confirmation, the same request passes once; a third try is held again', async () => {
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    const confirmed = await confirm(held.json.guard.confirmation_token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toEqual({ success: true, code: 'CONFIRMED', message: 'Confirmed: send the same request again within 300 seconds; it passes once.' });

    const retry = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    expect(retry.status).toBe(200);
    expect(guard.hasura.forwarded()).toHaveLength(1);
    expect(JSON.parse(guard.hasura.forwarded()[0]!.body.toString())).toEqual(bodies.dropTable());

    const third = await postMetadata(guard.url, '/v2/query', bodies.dropTable());
    expect(third.status).toBe(400);
    expect(third.json.code).toBe('guard-confirmation-required');
    expect(guard.hasura.forwarded()).toHaveLength(1);
  });

  it('a retry with another resource_version still matches (the console sends the current one)', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await confirm(held.json.guard.confirmation_token);
    const retry = await postMetadata(guard.url, '/v1/metadata', { ...bodies.untrackTable, resource_version: 18 });
    expect(retry.status).toBe(200);
  });

  it('the console\'s "Continue" with cascade: true is a new change, held again', async () => {
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(false));
    await confirm(held.json.guard.confirmation_token);
    const cascade = await postMetadata(guard.url, '/v2/query', bodies.dropTable(true));
    expect(cascade.status).toBe(400);
    expect(cascade.json.error).toContain('drops table public.patients (CASCADE)');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('the same body with other credentials does not pass on someone else\'s confirmation', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await confirm(held.json.guard.confirmation_token);
    guard.hasura.noAdminSecret = true; // so that Hasura takes the other credentials as an admin's too
    try {
      const other = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable, 'another-admin-secret');
      expect(other.status).toBe(400);
      expect(other.json.code).toBe('guard-confirmation-required');
      expect(guard.hasura.forwarded()).toEqual([]);
    } finally {
      guard.hasura.noAdminSecret = false;
    }
  });

  it('only the credentials the held request carried can confirm it, and a token confirms once', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    const token = held.json.guard.confirmation_token;

    const wrong = await confirm(token, 'not-the-admin-secret');
    expect(wrong.status).toBe(400);
    expect(wrong.json).toEqual({ success: false, code: 'TOKEN_WRONG_CREDENTIALS', message: 'Not confirmed: only someone holding the credentials the held request carried can confirm it.' });
    const none = await confirm(token, null);
    expect(none.json.success).toBe(false);
    expect((await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable)).status).toBe(400);

    expect((await confirm(token)).json.success).toBe(true);
    expect((await confirm(token)).json).toEqual({ success: false, code: 'TOKEN_ALREADY_USED', message: 'Not confirmed: this token was already used.' });
  });

  it('an expired token does not confirm', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    guard.clock.advance(301 + 5);
    const late = await confirm(held.json.guard.confirmation_token);
    expect(late.json).toEqual({ success: false, code: 'TOKEN_EXPIRED', message: 'Not confirmed: the token has expired.' });
  });

  it('a denied change is held without a token and says what to do instead', async () => {
    const denied = await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} });
    expect(denied.status).toBe(400);
    expectHasuraShape(denied.json, 'guard-denied');
    expect(denied.json.guard).toEqual({ confirmation_token: null, changes: [{ verb: 'clear', object: 'metadata' }], objects: [] });
    expect(denied.json.error).toContain('clears metadata');
    expect(denied.json.error).toContain('Ship it as a reviewed migration instead.');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('a destructive change without credentials is held without a token (a confirmation binds to credentials)', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable, null);
    expect(held.status).toBe(400);
    expectHasuraShape(held.json, 'guard-denied');
    expect(held.json.guard.confirmation_token).toBeNull();
    expect(held.json.error).toContain('none that Hasura would accept (x-hasura-admin-secret, x-hasura-access-key or Authorization)');
  });

  it('an Authorization header counts as the credentials when there is no admin secret', async () => {
    const bearer = ADMIN_BEARER;
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable, null, { authorization: bearer });
    const token = held.json.guard.confirmation_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ op: 'untrack:table', tbl: 'default.public.patients', env: 'production' });
    expect(claims.sub).toMatch(/^credentials:[0-9a-f]{12}$/);
    expect(JSON.stringify(claims)).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    const viaHeader = await rawRequest(guard.url, 'POST', '/guard/confirm', { 'content-type': 'application/json', authorization: bearer }, JSON.stringify({ token }));
    expect(viaHeader.json.success).toBe(true);
  });

  it('the audit log records held, confirmed and forwarded, without the token or the secret', async () => {
    const held = await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await confirm(held.json.guard.confirmation_token);
    await postMetadata(guard.url, '/v1/metadata', bodies.untrackTable);
    await postMetadata(guard.url, '/v1/metadata', bodies.getInconsistentMetadata);

    expect(guard.logs.audits().map((a) => `${a.action} ${a.outcome}`)).toEqual(['judge held', 'confirm confirmed', 'judge forwarded-approved', 'judge forwarded']);
    const log = guard.logs.raw.join('\n');
    expect(log).not.toContain(held.json.guard.confirmation_token);
    expect(log).not.toContain(ADMIN_SECRET);
  });
});

describe('a wholesale replacement (replace_metadata, set_custom_types)', () => {
  it('is compared with the current metadata, read with the request\'s own credentials', async () => {
    const seen: unknown[] = [];
    await guard.close();
    guard = await startEnforcingServer(
      doubleWiring({
        analyze: async (_body, ctx) => {
          seen.push(ctx.currentMetadata);
          return [{ verb: 'replace', object: 'metadata' }];
        },
      }),
    );
    await postMetadata(guard.url, '/v1/metadata', bodies.metadataApply());
    expect(seen).toEqual([guard.hasura.metadata]);
    const exportCall = guard.hasura.requests.find((r) => r.headers['user-agent'] === 'hasura-metadata-guard')!;
    expect(JSON.parse(exportCall.body.toString())).toEqual({ type: 'export_metadata', version: 2, args: {} });
    expect(exportCall.headers['x-hasura-admin-secret']).toBe(ADMIN_SECRET);
  });

  it('fails closed when export_metadata fails: not forwarded, and the error says why', async () => {
    guard.hasura.exportFails = true;
    const refused = await postMetadata(guard.url, '/v1/metadata', { type: 'bulk', args: [bodies.setCustomTypes] });
    expect(refused.status).toBe(400);
    expectHasuraShape(refused.json, 'guard-denied');
    expect(refused.json.error).toContain('could not read the current metadata to compare (export_metadata answered 500: unexpected)');
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('GUARD_PUBLIC_URL', () => {
  it('is the base of the links a held answer gives and of rewritten redirects, whatever Host the request carried', async () => {
    await guard.close();
    guard = await startEnforcingServer(doubleWiring(), { GUARD_PUBLIC_URL: 'https://guard.example.com/hasura/' });
    const held = await postMetadata(guard.url, '/v2/query', bodies.dropTable(), ADMIN_SECRET, { host: 'attacker.example' });
    const token = held.json.guard.confirmation_token as string;
    expect(held.json.error).toContain(`open https://guard.example.com/hasura/guard/confirm?token=${token} `);
    expect(held.json.error).toContain('curl -X POST https://guard.example.com/hasura/guard/confirm');
    expect(held.json.error).not.toContain('attacker.example');
    const redirect = await rawRequest(guard.url, 'GET', '/');
    expect(redirect.headers.location).toBe('https://guard.example.com/hasura/console');
  });
});

describe('an export_metadata larger than the guard reads', () => {
  it('is not read: the replacement is refused, and the error says why', async () => {
    await guard.close();
    guard = await startEnforcingServer(doubleWiring(), { PROXY_MAX_BODY_BYTES: '1024' });
    // Over 4x the 1 KB body limit: a metadata grown past any one request.
    guard.hasura.metadata = { version: 3, sources: [{ name: 'default', kind: 'postgres', tables: Array.from({ length: 100 }, (_, i) => ({ table: { schema: 'public', name: `t${i}` } })) }] };
    const refused = await postMetadata(guard.url, '/v1/metadata', bodies.metadataApply());
    expect(refused.status).toBe(400);
    expectHasuraShape(refused.json, 'guard-denied');
    expect(refused.json.error).toContain('could not read the current metadata to compare (export_metadata answered more than 4096 bytes, 4x PROXY_MAX_BODY_BYTES)');
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('staging (the policy allows everything)', () => {
  it('forwards every change and still audits each', async () => {
    await guard.close();
    guard = await startEnforcingServer(doubleWiring({ decide: () => ({ level: 'allow', className: 'critical' }) }), { GUARD_ENVIRONMENT: 'staging' });
    expect((await postMetadata(guard.url, '/v2/query', bodies.dropTable())).status).toBe(200);
    expect((await postMetadata(guard.url, '/v1/metadata', { type: 'clear_metadata', args: {} })).status).toBe(200);
    expect(guard.hasura.forwarded()).toHaveLength(2);
    expect(guard.logs.audits()).toMatchObject([
      { action: 'judge', outcome: 'forwarded', environment: 'staging', effects: 'drops table public.patients' },
      { action: 'judge', outcome: 'forwarded', environment: 'staging', effects: 'clears metadata' },
    ]);
  });
});
