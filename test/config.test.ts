import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { ACTION_SECRET, TEST_SECRET } from './helpers.js';

/** What a production start needs at least. */
const PRODUCTION = { NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET, ACTION_SECRET, GUARD_ENVIRONMENT: 'production' };

const run = promisify(execFile);

describe('configuration', () => {
  it('has safe development defaults', () => {
    const c = loadConfig({});
    expect(c.host).toBeUndefined(); // every address, IPv6 and IPv4
    expect(c).toMatchObject({ port: 3000, tokenTtlSeconds: 300, production: false, graphiqlEnabled: true, metricsEnabled: true, fourEyes: false, actionSecretHeader: 'action_secret', replayCacheMax: 50_000, maxBodyBytes: 65_536 });
    expect(c.warnings.join('\n')).toMatch(/TOKEN_SECRET is not set: using a random key/);
    expect(c.warnings.join('\n')).toMatch(/ACTION_SECRET is not set/);
  });

  it('turns GraphiQL off by default in production, unless asked for', () => {
    expect(loadConfig({ ...PRODUCTION }).graphiqlEnabled).toBe(false);
    expect(loadConfig({ ...PRODUCTION, GRAPHIQL_ENABLED: 'true' }).graphiqlEnabled).toBe(true);
  });

  it('production needs ACTION_SECRET and GUARD_ENVIRONMENT, and starts without warnings once both are set', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({ production: true, guardEnvironment: 'production', actionSecret: ACTION_SECRET, warnings: [] });
  });

  it('ALLOW_INSECURE_PRODUCTION=true starts production without them, with a warning naming each thing that is off', () => {
    const c = loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET, ALLOW_INSECURE_PRODUCTION: 'true' });
    expect(c.production).toBe(true);
    expect(c.warnings).toEqual([
      expect.stringMatching(/^ALLOW_INSECURE_PRODUCTION=true: production runs without ACTION_SECRET \(anyone who reaches the port can call the guard as any user\) and without GUARD_ENVIRONMENT \(a request naming staging is answered with staging's levels\)\. Set both and remove ALLOW_INSECURE_PRODUCTION\.$/),
    ]);
    const onlyOne = loadConfig({ ...PRODUCTION, GUARD_ENVIRONMENT: '', ALLOW_INSECURE_PRODUCTION: 'true' });
    expect(onlyOne.warnings).toEqual([expect.stringMatching(/^ALLOW_INSECURE_PRODUCTION=true: production runs without GUARD_ENVIRONMENT /)]);
  });

  it('the deployment id, rate limits, connection limit and HTTP timeouts have documented defaults and bounds', () => {
    expect(loadConfig({})).toMatchObject({
      deploymentId: 'default',
      limits: { validationsPerMinute: 120, confirmationsPerMinute: 30 },
      http: { maxConnections: 1000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 },
    });
    expect(loadConfig({ GUARD_DEPLOYMENT_ID: 'eu-1', MAX_CONNECTIONS: '5', HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' })).toMatchObject({
      deploymentId: 'eu-1',
      http: { maxConnections: 5, headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
    });
  });

  it('resolves GUARD_ENVIRONMENT through the policy aliases', () => {
    expect(loadConfig({ GUARD_ENVIRONMENT: 'PROD' }).guardEnvironment).toBe('production');
  });

  const dir = mkdtempSync(join(tmpdir(), 'guard-config-'));
  const badPolicy = join(dir, 'policy.yaml');
  writeFileSync(badPolicy, 'unknown_operations: nope\noperation_classes: {a: {operations: [x]}}\nenvironments: {e: {levels: {a: deny}}}\n');

  const refused: [string, Record<string, string>, RegExp][] = [
    ['no TOKEN_SECRET in production', { NODE_ENV: 'production' }, /^TOKEN_SECRET is required when NODE_ENV=production; set it to a random value of at least 32 bytes/],
    ['no ACTION_SECRET in production', { ...PRODUCTION, ACTION_SECRET: '' }, /^ACTION_SECRET is required when NODE_ENV=production; set it to a random value \(e\.g\. openssl rand -hex 32\) and configure Hasura to send it, or set ALLOW_INSECURE_PRODUCTION=true if you know why not$/],
    ['no GUARD_ENVIRONMENT in production', { ...PRODUCTION, GUARD_ENVIRONMENT: '' }, /^GUARD_ENVIRONMENT is required when NODE_ENV=production; set it to the environment this instance guards \(one of staging, production\), or set ALLOW_INSECURE_PRODUCTION=true if you know why not$/],
    ['a deployment id with spaces', { GUARD_DEPLOYMENT_ID: 'eu 1' }, /^GUARD_DEPLOYMENT_ID must be 1 to 64 letters, digits, "\.", "_" or "-"$/],
    ['no rate limit at all', { RATE_LIMIT_VALIDATIONS_PER_MINUTE: '0' }, /^RATE_LIMIT_VALIDATIONS_PER_MINUTE must be a whole number from 1 to/],
    ['a header timeout longer than the request timeout', { HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '2000' }, /^HEADERS_TIMEOUT_MS \(5000\) must not exceed REQUEST_TIMEOUT_MS \(2000\)/],
    ['MAX_CONNECTIONS of 0', { MAX_CONNECTIONS: '0' }, /^MAX_CONNECTIONS must be a whole number from 1 to/],
    ['a short TOKEN_SECRET', { TOKEN_SECRET: 'short' }, /^TOKEN_SECRET must be at least 32 bytes \(it has 5\); set it to a random value/],
    ['a short TOKEN_SECRET in production', { NODE_ENV: 'production', TOKEN_SECRET: 'x'.repeat(31) }, /^TOKEN_SECRET must be at least 32 bytes/],
    ['a PORT that is not a number', { PORT: 'eighty' }, /^PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/],
    ['a PORT out of range', { PORT: '70000' }, /^PORT must be a whole number from 0 to 65535 \(got "70000"\)$/],
    ['a TTL out of range', { TOKEN_TTL_SECONDS: '5' }, /^TOKEN_TTL_SECONDS must be a whole number from 10 to 3600 seconds \(got "5"\)$/],
    ['a TTL that is not a number', { TOKEN_TTL_SECONDS: '5m' }, /^TOKEN_TTL_SECONDS must be a whole number from 10 to 3600 seconds \(got "5m"\)$/],
    ['a REPLAY_CACHE_MAX out of range', { REPLAY_CACHE_MAX: '10' }, /^REPLAY_CACHE_MAX must be a whole number from 1000 to 10000000 \(got "10"\)$/],
    ['an unknown NODE_ENV', { NODE_ENV: 'prod' }, /^NODE_ENV must be production, development or test \(got "prod"\); spell it out in lower case, e\.g\. NODE_ENV=production$/],
    ['a NODE_ENV in capitals', { NODE_ENV: 'Production' }, /^NODE_ENV must be production, development or test \(got "Production"\)/],
    ['a policy file that does not exist', { POLICY_FILE: '/nonexistent/policy.yaml' }, /^POLICY_FILE: \/nonexistent\/policy\.yaml: cannot read the file \(ENOENT\)$/],
    ['an invalid policy file', { POLICY_FILE: badPolicy }, /^POLICY_FILE: .*policy\.yaml: unknown_operations: "nope" is not a class/],
    ['an unknown GUARD_ENVIRONMENT', { GUARD_ENVIRONMENT: 'moon' }, /^GUARD_ENVIRONMENT: "moon" is not an environment of the policy; use one of staging, production$/],
    ['a short ACTION_SECRET', { ACTION_SECRET: 'abc' }, /^ACTION_SECRET must be at least 16 characters/],
    ['a bad boolean', { FOUR_EYES: 'maybe' }, /^FOUR_EYES must be true or false \(or 1\/0, yes\/no, on\/off, in any case\) \(got "maybe"\)$/],
    ['a bad LOG_LEVEL', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    ['a bad header name', { ACTION_SECRET_HEADER: 'bad header' }, /^ACTION_SECRET_HEADER must be a header name/],
    ['a GUARD_DATABASE_URL that is not a URL', { GUARD_DATABASE_URL: 'db:5432' }, /^GUARD_DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    ['a GUARD_DATABASE_URL of another kind', { GUARD_DATABASE_URL: 'mysql://u:p@db/guard' }, /^GUARD_DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    ['a GUARD_DATABASE_URL with no host', { GUARD_DATABASE_URL: 'postgres:///guard' }, /^GUARD_DATABASE_URL names no host/],
    ['a GUARD_DATABASE_URL that does not parse', { GUARD_DATABASE_URL: 'postgres://u:p@[bad/guard' }, /^GUARD_DATABASE_URL is not a URL; set it to a postgres:\/\/ or postgresql:\/\/ URL/],
  ];
  it.each(refused)('refuses %s, naming the variable and the fix', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes a postgres:// or postgresql:// GUARD_DATABASE_URL as it is; without one, the store is memory', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ GUARD_DATABASE_URL: 'postgres://guard:pw@db:5432/guard' }).databaseUrl).toBe('postgres://guard:pw@db:5432/guard');
    expect(loadConfig({ GUARD_DATABASE_URL: 'postgresql://db/guard?sslmode=require' }).databaseUrl).toBe('postgresql://db/guard?sslmode=require');
    expect(loadConfig({ GUARD_DATABASE_URL: 'postgres:///guard?host=/var/run/postgresql' }).databaseUrl).toBe('postgres:///guard?host=/var/run/postgresql');
  });

  it.each(['postgres://guard:hunter2-pw@[bad/guard', 'mysql://guard:hunter2-pw@db/guard', 'postgres://guard:hunter2-pw@/guard'])(
    'never echoes the database password in a GUARD_DATABASE_URL error (%#)',
    (url) => {
      expect(() => loadConfig({ GUARD_DATABASE_URL: url })).toThrow(ConfigError);
      expect(() => loadConfig({ GUARD_DATABASE_URL: url })).toThrow(/^(?!.*hunter2).*$/);
    },
  );

  it.each([
    ['True', true], ['TRUE', true], ['yes', true], ['On', true], ['1', true],
    ['False', false], ['NO', false], ['off', false], ['0', false],
  ])('reads the boolean %j as %s, in any case', (word, value) => {
    expect(loadConfig({ FOUR_EYES: word, METRICS_ENABLED: word, GRAPHIQL_ENABLED: word })).toMatchObject({ fourEyes: value, metricsEnabled: value, graphiqlEnabled: value });
  });

  it('accepts the three NODE_ENV values libraries know', () => {
    expect(loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET, ACTION_SECRET: 'a'.repeat(32), GUARD_ENVIRONMENT: 'production' }).production).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).production).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).production).toBe(false);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', TOKEN_TTL_SECONDS: '' })).toMatchObject({ port: 3000, tokenTtlSeconds: 300 });
  });

  it('never echoes a secret in a configuration error', () => {
    const secret = 'hunter2-short';
    expect(() => loadConfig({ TOKEN_SECRET: secret })).toThrow(/^(?!.*hunter2).*$/);
  });

  it('the server refuses to start with one line on stderr and exit code 1', async () => {
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const err = await run(tsx, ['src/index.ts'], { cwd: join(import.meta.dirname, '..'), env: { ...process.env, NODE_ENV: 'production', TOKEN_SECRET: '' } }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Configuration error: TOKEN_SECRET is required when NODE_ENV=production/)]);
  });

  it.each(['ACTION_SECRET', 'GUARD_ENVIRONMENT'])('the server refuses a production start without %s in one line', async (variable) => {
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const err = await run(tsx, ['src/index.ts'], { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ...PRODUCTION, [variable]: '', PORT: '0', HOST: '127.0.0.1' }, timeout: 15_000 }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^Configuration error: ${variable} is required when NODE_ENV=production; .* or set ALLOW_INSECURE_PRODUCTION=true if you know why not$`))]);
  });

  it('a port already in use is one line too, not a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = String((blocker.address() as { port: number }).port);
    try {
      const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
      const err = await run(tsx, ['src/index.ts'], { cwd: join(import.meta.dirname, '..'), env: { ...process.env, PORT: port, HOST: '127.0.0.1', LOG_LEVEL: 'silent' } }).catch((e) => e);
      expect(err.code).toBe(1);
      expect(err.stderr.trim()).toBe(`Cannot listen on 127.0.0.1:${port}: the address is in use; set PORT to a free port`);
    } finally {
      blocker.close();
    }
  });
});
