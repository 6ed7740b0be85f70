import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy, PolicyError } from '../../src/core/policy.js';

const policy = loadPolicy();
const production = policy.findEnvironment('production')!;
const staging = policy.findEnvironment('staging')!;

function decide(operation: string, env = production) {
  const d = policy.decide(operation, env);
  return `${d.operationClass.name}:${d.level}`;
}

describe('default policy', () => {
  it('resolves environments and aliases case-insensitively', () => {
    for (const alias of ['prod', 'PROD', ' Live ', 'production']) expect(policy.findEnvironment(alias)?.name).toBe('production');
    for (const alias of ['stage', 'dev', 'Development', 'staging']) expect(policy.findEnvironment(alias)?.name).toBe('staging');
    expect(policy.findEnvironment('prodd')).toBeUndefined();
    expect(policy.findEnvironment('')).toBeUndefined();
  });

  it.each([
    'DROP', 'drop table', 'DELETE', 'Truncate', 'ALTER TABLE', 'RENAME', 'pg_drop_relationship', 'drop_relationship',
    'pg_untrack_table', 'untrack_table', 'delete_remote_schema', 'replace_metadata', 'run_sql', 'mssql_run_sql', 'bulk',
  ])('%s is critical and needs confirmation in production', (op) => {
    expect(decide(op)).toBe('critical:confirm');
    expect(decide(op, staging)).toBe('critical:allow');
  });

  it.each(['track_table', 'pg_track_table', 'create_remote_schema', 'pg_create_select_permission', 'SELECT', 'insert'])(
    '%s is routine everywhere',
    (op) => {
      expect(decide(op)).toBe('routine:allow');
      expect(decide(op, staging)).toBe('routine:allow');
    },
  );

  it('fails closed: an operation the policy does not know is critical', () => {
    expect(decide('frobnicate_everything')).toBe('critical:confirm');
    expect(decide('set_custom_types')).toBe('critical:confirm');
  });

  it('the strictest class wins, whichever word it is in', () => {
    expect(decide('ALTER TABLE patients DROP COLUMN ssn')).toBe('critical:confirm');
    expect(decide('SELECT 1 then DROP')).toBe('critical:confirm');
    expect(decide('DROP SCHEMA public CASCADE')).toBe('catastrophic:deny');
    expect(decide('clear_metadata')).toBe('catastrophic:deny');
    expect(decide('clear_metadata', staging)).toBe('catastrophic:allow');
  });

  it('remembers operations without mixing them up, also once its memory has been emptied', () => {
    const fresh = loadPolicy();
    const env = fresh.findEnvironment('production')!;
    const answer = (op: string) => `${fresh.decide(op, env).operationClass.name}:${fresh.decide(op, env).level}`;
    expect(answer('DROP')).toBe('critical:confirm');
    expect(answer('track_table')).toBe('routine:allow');
    // 2,500 distinct operations: the remembered set is emptied twice on the way.
    for (let i = 0; i < 2500; i++) expect(answer(i % 2 ? `track_table ${i}` : `op_${i}`)).toBe(i % 2 ? 'routine:allow' : 'critical:confirm');
    expect(answer('DROP')).toBe('critical:confirm');
    expect(answer('clear_metadata')).toBe('catastrophic:deny');
    expect(answer('track_table')).toBe('routine:allow');
  });
});

describe('policy files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guard-policy-'));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const valid = {
    unknown_operations: 'risky',
    operation_classes: { risky: { operations: ['drop*'] }, safe: { operations: ['select'] } },
    environments: {
      qa: { aliases: ['test'], levels: { risky: 'confirm', safe: 'allow' } },
      prod: { levels: { risky: 'deny', safe: 'confirm' } },
    },
  };

  it('loads JSON and YAML alike and replaces the default', () => {
    const fromJson = loadPolicy(write('p.json', JSON.stringify(valid)));
    expect(fromJson.findEnvironment('test')?.name).toBe('qa');
    expect(fromJson.findEnvironment('production')).toBeUndefined();
    expect(fromJson.decide('select', fromJson.findEnvironment('prod')!).level).toBe('confirm');
    expect(fromJson.decide('whatever', fromJson.findEnvironment('prod')!)).toMatchObject({ level: 'deny', operationClass: { name: 'risky' } });
    const fromYaml = loadPolicy(write('p.yaml', 'unknown_operations: a\noperation_classes: {a: {operations: [x]}}\nenvironments: {e: {levels: {a: deny}}}\n'));
    expect(fromYaml.decide('anything', fromYaml.findEnvironment('e')!).level).toBe('deny');
  });

  const broken: [string, unknown, RegExp][] = [
    ['a level missing for a class', { ...valid, environments: { prod: { levels: { risky: 'deny' } } } }, /environments\.prod\.levels: no level for class "safe"/],
    ['an unknown level', { ...valid, environments: { prod: { levels: { risky: 'maybe', safe: 'allow' } } } }, /environments\.prod\.levels\.risky: /],
    ['unknown_operations naming no class', { ...valid, unknown_operations: 'nope' }, /unknown_operations: "nope" is not a class/],
    ['an alias used twice', { ...valid, environments: { a: { aliases: ['x'], levels: { risky: 'deny', safe: 'allow' } }, b: { aliases: ['x'], levels: { risky: 'deny', safe: 'allow' } } } }, /environments\.b\.aliases: "x" already names environment "a"/],
    ['an unknown key', { ...valid, extra: 1 }, /\(top level\): .*extra/i],
    ['an empty pattern list', { ...valid, operation_classes: { risky: { operations: [] }, safe: { operations: ['x'] } } }, /operation_classes\.risky\.operations: must list at least one pattern/],
  ];
  it.each(broken)('names the file, the key and the problem: %s', (_name, doc, message) => {
    const file = write(`bad-${Math.random()}.json`, JSON.stringify(doc));
    expect(() => loadPolicy(file)).toThrow(PolicyError);
    expect(() => loadPolicy(file)).toThrow(new RegExp(`^${file.replace(/[.]/g, '\\.')}: `));
    expect(() => loadPolicy(file)).toThrow(message);
  });

  it('refuses a file that is not YAML or cannot be read', () => {
    expect(() => loadPolicy(write('bad.yaml', 'environments: [unclosed'))).toThrow(/bad\.yaml: not valid YAML or JSON/);
    expect(() => loadPolicy(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read the file \(ENOENT\)/);
    expect(() => loadPolicy(write('bad.json', '{'))).toThrow(/bad\.json: not valid JSON: /);
  });
});
