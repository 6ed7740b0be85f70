import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/vocabulary/effects.js';
import { loadPolicy, PolicyError } from '../../src/core/policy.js';

const policy = loadPolicy();
const production = policy.findEnvironment('production')!;
const staging = policy.findEnvironment('staging')!;

const fx = (key: string, name = 'public.patients'): Effect => {
  const [verb, object] = key.split(':') as [Effect['verb'], Effect['object']];
  return { verb, object, name };
};

function decide(keys: string[], env = production, operation?: string) {
  const d = policy.decide(keys.map((k) => fx(k)), env, operation);
  return `${d.operationClass.name}:${d.level}`;
}

describe('default policy', () => {
  it('resolves environments and aliases case-insensitively', () => {
    for (const alias of ['prod', 'PROD', ' Live ', 'production']) expect(policy.findEnvironment(alias)?.name).toBe('production');
    for (const alias of ['stage', 'dev', 'Development', 'staging']) expect(policy.findEnvironment(alias)?.name).toBe('staging');
    expect(policy.findEnvironment('prodd')).toBeUndefined();
    expect(policy.findEnvironment('')).toBeUndefined();
  });

  it.each(['drop:table', 'drop:column', 'untrack:table', 'rename:column', 'rewrite:column', 'replace:function', 'modify:permission',
    'grant:permission', 'revoke:privilege', 'grant:role', 'delete:all_rows', 'delete:rows', 'rewrite:all_rows', 'run:function', 'replace:metadata'])(
    '%s is critical: confirmed in production, allowed in staging',
    (key) => {
      expect(decide([key])).toBe('critical:confirm');
      expect(decide([key], staging)).toBe('critical:allow');
    },
  );

  it.each(['read:table', 'add:table', 'add:relationship', 'comment:table', 'read:metadata', 'add:rows'])('%s is routine everywhere', (key) => {
    expect(decide([key])).toBe('routine:allow');
    expect(decide([key], staging)).toBe('routine:allow');
  });

  it.each(['clear:metadata', 'clear:source', 'drop:source', 'drop:schema', 'drop:database', 'drop:owned'])('%s is denied in production', (key) => {
    expect(decide([key])).toBe('catastrophic:deny');
    expect(decide([key], staging)).toMatch(/:allow$/);
  });

  it('fails closed: an effect no class names, an unknown effect, or no effect at all is critical', () => {
    expect(decide(['frobnicate:table'])).toBe('critical:confirm');
    expect(decide(['unknown:unknown'])).toBe('critical:confirm');
    expect(decide(['read:table', 'unknown:sql'])).toBe('critical:confirm');
    expect(decide([])).toBe('critical:confirm');
  });

  it('the strictest effect wins, and it is the one reported', () => {
    expect(decide(['read:table', 'drop:column', 'add:table'])).toBe('critical:confirm');
    expect(decide(['drop:table', 'drop:schema'])).toBe('catastrophic:deny');
    const d = policy.decide([fx('read:table'), fx('drop:schema', 'public'), fx('drop:table')], production);
    expect(d.effect).toMatchObject({ verb: 'drop', object: 'schema', name: 'public' });
  });

  it('defines effects, so it loads without a warning', () => {
    expect(policy.warnings).toEqual([]);
  });

  it('remembers effect classes without mixing them up', () => {
    const fresh = loadPolicy();
    const env = fresh.findEnvironment('production')!;
    for (let i = 0; i < 3; i++) {
      expect(fresh.decide([fx('drop:table')], env).level).toBe('confirm');
      expect(fresh.decide([fx('read:table')], env).level).toBe('allow');
      expect(fresh.decide([fx('drop:source')], env).level).toBe('deny');
    }
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
    operation_classes: { risky: { effects: ['drop:*'], operations: ['nuke*'] }, safe: { effects: ['read:*'] } },
    environments: {
      qa: { aliases: ['test'], levels: { risky: 'confirm', safe: 'allow' } },
      prod: { levels: { risky: 'deny', safe: 'confirm' } },
    },
  };
  const decideIn = (p: ReturnType<typeof loadPolicy>, env: string, keys: string[], operation?: string) =>
    p.decide(keys.map((k) => fx(k)), p.findEnvironment(env)!, operation);

  it('loads JSON and YAML alike and replaces the default', () => {
    const fromJson = loadPolicy(write('p.json', JSON.stringify(valid)));
    expect(fromJson.findEnvironment('test')?.name).toBe('qa');
    expect(fromJson.findEnvironment('production')).toBeUndefined();
    expect(decideIn(fromJson, 'prod', ['read:table']).level).toBe('confirm');
    expect(decideIn(fromJson, 'prod', ['modify:table'])).toMatchObject({ level: 'deny', operationClass: { name: 'risky' } });
    const fromYaml = loadPolicy(write('p.yaml', 'unknown_operations: a\noperation_classes: {a: {effects: ["drop:*"]}}\nenvironments: {e: {levels: {a: deny}}}\n'));
    expect(decideIn(fromYaml, 'e', ['read:table']).level).toBe('deny');
  });

  it('operation patterns can only make a decision stricter', () => {
    const p = loadPolicy(write('ops.json', JSON.stringify(valid)));
    expect(decideIn(p, 'qa', ['read:table'], 'nuke it').operationClass.name).toBe('risky');
    expect(decideIn(p, 'qa', ['drop:table'], 'select').operationClass.name).toBe('risky');
  });

  it('a broad pattern cannot make an unknown effect harmless', () => {
    const p = loadPolicy(write('broad.json', JSON.stringify({ ...valid, operation_classes: { risky: { effects: ['drop:*'] }, safe: { effects: ['*:*'] } } })));
    expect(decideIn(p, 'qa', ['unknown:sql']).operationClass.name).toBe('risky');
    expect(decideIn(p, 'qa', ['read:table']).operationClass.name).toBe('safe');
  });

  it('still loads a policy in the format before effects, and says what to change', () => {
    const old = loadPolicy(write('old.json', JSON.stringify({ ...valid, operation_classes: { risky: { operations: ['drop*'] }, safe: { operations: ['select'] } } })));
    expect(old.warnings).toEqual([expect.stringMatching(/defines no "effects" in any class .* every change falls in "risky" .* Add effect patterns such as "effects": \["drop:\*"\]/)]);
    // Fails closed: with no effect classes, every effect is the unknown class.
    expect(decideIn(old, 'qa', ['read:table'], 'select').operationClass.name).toBe('risky');
  });

  const broken: [string, unknown, RegExp][] = [
    ['a level missing for a class', { ...valid, environments: { prod: { levels: { risky: 'deny' } } } }, /environments\.prod\.levels: no level for class "safe"/],
    ['an unknown level', { ...valid, environments: { prod: { levels: { risky: 'maybe', safe: 'allow' } } } }, /environments\.prod\.levels\.risky: /],
    ['unknown_operations naming no class', { ...valid, unknown_operations: 'nope' }, /unknown_operations: "nope" is not a class/],
    ['an alias used twice', { ...valid, environments: { a: { aliases: ['x'], levels: { risky: 'deny', safe: 'allow' } }, b: { aliases: ['x'], levels: { risky: 'deny', safe: 'allow' } } } }, /environments\.b\.aliases: "x" already names environment "a"/],
    ['an unknown key', { ...valid, extra: 1 }, /\(top level\): .*extra/i],
    ['a class with no pattern', { ...valid, operation_classes: { risky: { operations: [] }, safe: { effects: ['read:*'] } } }, /operation_classes\.risky: must list at least one effect pattern or operation pattern/],
    ['an effect pattern without a colon', { ...valid, operation_classes: { risky: { effects: ['drop'] }, safe: { effects: ['read:*'] } } }, /operation_classes\.risky\.effects\.0: must be "verb:object"/],
    ['an effect pattern with an unknown verb', { ...valid, operation_classes: { risky: { effects: ['nuke:table'] }, safe: { effects: ['read:*'] } } }, /operation_classes\.risky\.effects\.0: must start with one of the verbs read, add/],
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
