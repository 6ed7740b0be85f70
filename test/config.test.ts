import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { TEST_SECRET } from './helpers.js';

const run = promisify(execFile);

describe('configuration', () => {
  it('has safe development defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: '0.0.0.0', tokenTtlSeconds: 300, production: false, graphiqlEnabled: true, metricsEnabled: true, fourEyes: false, actionSecretHeader: 'action_secret', replayCacheMax: 50_000, maxBodyBytes: 65_536 });
    expect(c.warnings.join('\n')).toMatch(/TOKEN_SECRET is not set: using a random key/);
    expect(c.warnings.join('\n')).toMatch(/ACTION_SECRET is not set/);
  });

  it('turns GraphiQL off by default in production, unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET }).graphiqlEnabled).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET, GRAPHIQL_ENABLED: 'true' }).graphiqlEnabled).toBe(true);
  });

  it('resolves GUARD_ENVIRONMENT through the policy aliases', () => {
    expect(loadConfig({ GUARD_ENVIRONMENT: 'PROD' }).guardEnvironment).toBe('production');
  });

  const dir = mkdtempSync(join(tmpdir(), 'guard-config-'));
  const badPolicy = join(dir, 'policy.yaml');
  writeFileSync(badPolicy, 'unknown_operations: nope\noperation_classes: {a: {operations: [x]}}\nenvironments: {e: {levels: {a: deny}}}\n');

  const refused: [string, Record<string, string>, RegExp][] = [
    ['no TOKEN_SECRET in production', { NODE_ENV: 'production' }, /^TOKEN_SECRET is required when NODE_ENV=production; set it to a random value of at least 32 bytes/],
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
  ];
  it.each(refused)('refuses %s, naming the variable and the fix', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each([
    ['True', true], ['TRUE', true], ['yes', true], ['On', true], ['1', true],
    ['False', false], ['NO', false], ['off', false], ['0', false],
  ])('reads the boolean %j as %s, in any case', (word, value) => {
    expect(loadConfig({ FOUR_EYES: word, METRICS_ENABLED: word, GRAPHIQL_ENABLED: word })).toMatchObject({ fourEyes: value, metricsEnabled: value, graphiqlEnabled: value });
  });

  it('accepts the three NODE_ENV values libraries know', () => {
    expect(loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: TEST_SECRET }).production).toBe(true);
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
