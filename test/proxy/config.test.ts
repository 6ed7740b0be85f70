// The enforcing-mode settings: HASURA_URL, PROXY_MAX_BODY_BYTES and GUARD_PUBLIC_URL, validated at start-up.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('enforcing-mode configuration', () => {
  it('is off by default, with a 100 MB body limit ready', () => {
    const config = loadConfig({});
    expect(config.hasuraUrl).toBeUndefined();
    expect(config.proxyMaxBodyBytes).toBe(100 * 1024 * 1024);
  });

  it('takes an http(s) URL, without its trailing slash', () => {
    expect(loadConfig({ HASURA_URL: 'https://hasura.internal:8080/prefix/', GUARD_ENVIRONMENT: 'production' }).hasuraUrl).toBe('https://hasura.internal:8080/prefix');
  });

  it('takes the public URL links are built on, without its trailing slash', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ GUARD_PUBLIC_URL: 'https://guard.example.com/hasura/' }).publicUrl).toBe('https://guard.example.com/hasura');
  });

  it.each([
    [{ GUARD_PUBLIC_URL: 'guard.example.com' }, /^GUARD_PUBLIC_URL must be an http:\/\/ or https:\/\/ URL/],
    [{ GUARD_PUBLIC_URL: 'https://guard.example.com/#x' }, /^GUARD_PUBLIC_URL must be/],
    [{ HASURA_URL: 'ftp://hasura', GUARD_ENVIRONMENT: 'production' }, /^HASURA_URL must be an http:\/\/ or https:\/\/ URL/],
    [{ HASURA_URL: 'hasura:8080', GUARD_ENVIRONMENT: 'production' }, /^HASURA_URL must be/],
    [{ HASURA_URL: 'http://hasura?x=1', GUARD_ENVIRONMENT: 'production' }, /^HASURA_URL must be/],
    [{ HASURA_URL: 'http://hasura:8080' }, /^HASURA_URL needs GUARD_ENVIRONMENT/],
    [{ PROXY_MAX_BODY_BYTES: '10' }, /^PROXY_MAX_BODY_BYTES must be a whole number from 1024/],
  ])('%j is refused with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
