// Settings that would quietly weaken the guard, and answers a cache could keep, found by a review of deployment and
// configuration: each test asserts the safe behaviour through the real door, and failed before its fix.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createApp } from '../../src/app.js';
import { startServer } from '../../src/server.js';
import { ACTION_SECRET, TEST_SECRET, hasuraPayload, logCapture, postJson, startTestServer, VALIDATE, type TestServer } from '../helpers.js';

const PRODUCTION = { NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET, ACTION_SECRET, GUARD_ENVIRONMENT: 'production' };
const dir = mkdtempSync(join(tmpdir(), 'review4-deploy-'));

/** Either the start is refused naming the variable, or a warning names it. */
function refusedOrWarned(env: Record<string, string>, variable: RegExp): void {
  let warnings: string[];
  try {
    warnings = loadConfig(env).warnings;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(variable);
    return;
  }
  expect(warnings.join('\n')).toMatch(variable);
}

describe('configuration accepted silently', () => {
  it("a policy file's own start-up warnings (an old-format policy without effects) reach the start log", () => {
    const old = join(dir, 'old-policy.json');
    writeFileSync(
      old,
      JSON.stringify({
        unknown_operations: 'risky',
        operation_classes: { safe: { operations: ['add'] }, risky: { operations: ['drop', 'delete'] } },
        environments: { production: { levels: { safe: 'allow', risky: 'confirm' } } },
      }),
    );
    const config = loadConfig({ ...PRODUCTION, POLICY_FILE: old });
    expect(config.policy.warnings).toHaveLength(1); // the policy knows…
    expect(config.warnings.join('\n')).toMatch(/defines no "effects"/); // …and the start log should say it
  });

  it('GUARD_TRUSTED_PROXIES=0.0.0.0/0 (or ::/0) — every address a trusted auth proxy — is refused or warned about', () => {
    for (const everyone of ['0.0.0.0/0', '::/0', '10.0.0.0/8, 0.0.0.0/0']) {
      refusedOrWarned({ ...PRODUCTION, GUARD_IDENTITY_HEADER: 'X-Forwarded-Email', GUARD_TRUSTED_PROXIES: everyone }, /GUARD_TRUSTED_PROXIES/);
    }
  });

  it('ACTION_SECRET equal to TOKEN_SECRET (Hasura and every GraphiQL user then hold the token key) is refused', () => {
    const same = 'the-same-secret-for-both-0123456789abcdef';
    expect(() => loadConfig({ ...PRODUCTION, TOKEN_SECRET: same, ACTION_SECRET: same })).toThrow(/ACTION_SECRET.*TOKEN_SECRET|TOKEN_SECRET.*ACTION_SECRET/);
  });

  it('GUARD_PUBLIC_URL over plain http to a non-local host in production (the confirm page takes the admin secret) is refused or warned about', () => {
    refusedOrWarned({ ...PRODUCTION, HASURA_URL: 'http://hasura:8080', GUARD_PUBLIC_URL: 'http://hasura-admin.example.com' }, /GUARD_PUBLIC_URL/);
  });

  it('a policy under which the guarded production environment allows everything, the not-understood included, is warned about', () => {
    const open = join(dir, 'open-policy.json');
    const defaults = JSON.parse(readFileSync(new URL('../../policies/default.json', import.meta.url), 'utf8'));
    defaults.environments.production.levels = { routine: 'allow', critical: 'allow', catastrophic: 'allow' };
    writeFileSync(open, JSON.stringify(defaults));
    const config = loadConfig({ ...PRODUCTION, POLICY_FILE: open });
    expect(config.warnings.join('\n')).toMatch(/production/);
  });
});

describe('Kubernetes without surprises', () => {
  it("the default HOST (and the image's HOST) also accepts IPv6 clients: single-stack IPv6 clusters probe and route to the pod's IPv6 address", async () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const imageHost = /ENV .*\bHOST=(\S+)/.exec(dockerfile)?.[1];
    const config = loadConfig({ TOKEN_SECRET: TEST_SECRET, ...(imageHost ? { HOST: imageHost } : {}), LOG_LEVEL: 'silent' });
    const app = createApp(config, { logDestination: logCapture().stream });
    const running = await startServer(app.listener, { port: 0, host: config.host, shutdownTimeoutMs: 500 });
    try {
      const { port } = running.server.address() as { port: number };
      const status = await fetch(`http://[::1]:${port}/health`).then(
        (r) => r.status,
        (err: Error) => `${(err.cause as NodeJS.ErrnoException)?.code ?? err.message}`,
      );
      expect(status).toBe(200);
    } finally {
      await running.shutdown();
      await app.close();
    }
  });
});

describe('answers that carry a confirmation token are not stored by caches', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ACTION_SECRET });
  });
  afterAll(() => server.close());
  const drop = { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' };

  it('the validate webhook answer with a confirmation_token says Cache-Control: no-store', async () => {
    const r = await postJson(`${server.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', drop), { action_secret: ACTION_SECRET });
    expect(r.json.confirmation_token).toEqual(expect.any(String));
    expect(r.headers.get('cache-control') ?? '(no cache-control header)').toMatch(/no-store/);
  });

  it('the validateMetadataChange GraphQL answer with a confirmation_token says Cache-Control: no-store', async () => {
    const r = await postJson(`${server.url}/graphql`, { query: VALIDATE, variables: { input: drop } }, { action_secret: ACTION_SECRET, 'x-hasura-user-id': '42', 'x-hasura-role': 'developer' });
    expect(r.json.data.validateMetadataChange.confirmation_token).toEqual(expect.any(String));
    expect(r.headers.get('cache-control') ?? '(no cache-control header)').toMatch(/no-store/);
  });
});
