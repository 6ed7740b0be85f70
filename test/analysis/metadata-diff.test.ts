import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Effect } from '../../src/vocabulary/effects.js';
import { analyzeHasuraRequest } from '../../src/analysis/hasura.js';
import { parseLeavingTables, tablesUnder } from '../../src/big-json/lazy-tables.js';
import { elementText } from '../../src/vocabulary/json.js';
import { diffCustomTypes, diffMetadata, MAX_LISTED_EFFECTS } from '../../src/analysis/metadata-diff.js';
import { DEFAULT_POLICY_FILE, loadPolicy } from '../../src/core/policy.js';
import { metadataApply } from '../fixtures/hasura-console-bodies.js';

const line = (effect: Effect): string =>
  `${effect.verb}:${effect.object}${effect.name === undefined ? '' : ` ${effect.name}`}${effect.detail === undefined ? '' : ` (${effect.detail})`}`;

/** A small v3 metadata (export_metadata's `metadata`), built afresh each time so tests can change it. */
function metadata() {
  return {
    version: 3,
    sources: [
      {
        name: 'default',
        kind: 'postgres',
        configuration: { connection_info: { database_url: { from_env: 'DB' } } },
        tables: [
          {
            table: { schema: 'public', name: 'patients' },
            object_relationships: [{ name: 'doctor', using: { foreign_key_constraint_on: 'doctor_id' } }],
            select_permissions: [{ role: 'user', permission: { columns: ['id', 'name'], filter: { id: { _eq: 'X-Hasura-User-Id' } } } }],
            event_triggers: [{ name: 'notify', definition: { insert: { columns: '*' } }, webhook: 'http://hook' }],
          },
          { table: { schema: 'public', name: 'doctors' }, array_relationships: [{ name: 'patients', using: {} }] },
        ],
      },
    ],
    actions: [{ name: 'login', definition: { handler: 'http://auth' }, permissions: [{ role: 'anonymous' }] }],
    remote_schemas: [{ name: 'countries', definition: { url: 'http://countries' } }],
    cron_triggers: [{ name: 'nightly', webhook: 'http://x', schedule: '0 0 * * *' }],
    custom_types: {
      objects: [{ name: 'LoginOutput', fields: [{ name: 'token', type: 'String!' }, { name: 'expires', type: 'Int' }] }],
      enums: [{ name: 'Color', values: [{ value: 'RED' }, { value: 'BLUE' }] }],
    },
  };
}
type Metadata = ReturnType<typeof metadata>;
const changed = (edit: (m: Metadata) => void): Metadata => {
  const m = metadata();
  edit(m);
  return m;
};
const diff = (current: unknown, next: unknown): string[] => diffMetadata(current, next).map(line);
const CRITICAL = /^(drop|untrack|revoke|clear|replace|unknown|modify|rename|delete|rewrite)/;

describe('diffMetadata', () => {
  it('identical metadata: nothing, whatever the key order', () => {
    const reordered = JSON.parse(JSON.stringify(metadata(), (_key, value) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value)));
    expect(diff(metadata(), metadata())).toEqual([]);
    expect(diff(metadata(), reordered)).toEqual([]);
  });

  it('additions only: only add effects, nothing critical', () => {
    const next = changed((m) => {
      m.sources[0]!.tables.push({ table: { schema: 'public', name: 'visits' }, array_relationships: [] });
    });
    expect(diff(metadata(), next)).toEqual(['add:table default.public.visits']);
    expect(diff(metadata(), next).filter((said) => CRITICAL.test(said))).toEqual([]);
  });

  it('a new remote schema is a grant: without remote schema permissions every role may query it', () => {
    const next = changed((m) => {
      m.remote_schemas.push({ name: 'weather', definition: { url: 'http://w' } });
    });
    expect(diff(metadata(), next)).toEqual(['grant:remote_schema weather']);
  });

  it('a new permission is a grant: it widens access', () => {
    const next = changed((m) => {
      (m.sources[0]!.tables[1] as Record<string, unknown>).select_permissions = [{ role: 'anonymous', permission: { columns: '*', filter: {} } }];
    });
    expect(diff(metadata(), next)).toEqual(['grant:permission default.public.doctors select for anonymous (select for role anonymous)']);
  });

  it('removals: each object that goes, with its dependents', () => {
    const next = changed((m) => {
      m.sources[0]!.tables.shift();
      m.actions = [];
    });
    expect(diff(metadata(), next)).toEqual([
      'untrack:table default.public.patients',
      'drop:relationship default.public.patients.doctor',
      'revoke:permission default.public.patients select for user (select for role user)',
      'drop:event_trigger notify',
      'drop:action login',
      'revoke:action_permission login for anonymous (role anonymous)',
    ]);
  });

  it('two tables whose dotted names read the same are two tables: a permission moved between them is revoked and granted', () => {
    const permission = { role: 'user', permission: { columns: ['id'], filter: {} } };
    const others = ['x', 'y', 'z'].map((name) => ({ table: { schema: 'public', name }, select_permissions: [permission] }));
    const source = (schema: string, name: string) => ({
      version: 3,
      sources: [{ name: 'default', kind: 'postgres', configuration: {}, tables: [{ table: { schema, name }, select_permissions: [permission] }, ...others] }],
    });
    // Schema `a.b` with table `c`, then schema `a` with table `b.c`: both read default.a.b.c.
    expect(diff(source('a.b', 'c'), source('a', 'b.c'))).toEqual([
      'untrack:table default.a.b.c',
      'revoke:permission default.a.b.c select for user (select for role user)',
      'add:table default.a.b.c',
      'grant:permission default.a.b.c select for user (select for role user)',
    ]);
    expect(diff(source('a.b', 'c'), source('a.b', 'c'))).toEqual([]);
  });

  it('a permission whose definition differs is modified', () => {
    const next = changed((m) => {
      (m.sources[0]!.tables[0]!.select_permissions![0]!.permission as { filter: unknown }).filter = {};
    });
    expect(diff(metadata(), next)).toEqual(['modify:permission default.public.patients select for user (select for role user)']);
  });

  it('custom types: a removed field is named, a removed type dropped', () => {
    const next = changed((m) => {
      m.custom_types.objects[0]!.fields.pop();
      m.custom_types.enums = [];
    });
    expect(diff(metadata(), next)).toEqual(['drop:custom_types Color (enum)', 'modify:custom_types LoginOutput (removes field expires)']);
  });

  it('a source emptied of its tables is cleared; a source dropped too', () => {
    const emptied = changed((m) => (m.sources[0]!.tables = []));
    // 6 of the 12 objects go with the tables: half, so the metadata as a whole is not cleared, the source is.
    expect(diff(metadata(), emptied)[0]).toBe('clear:source default (removes its 2 tables)');
    expect(diff(metadata(), emptied).some((said) => said.startsWith('clear:metadata'))).toBe(false);
    const dropped = changed((m) => (m.sources = []));
    expect(diff(metadata(), dropped)).toEqual(expect.arrayContaining(['clear:source default (removes its 2 tables)', 'drop:source default (database from env DB)']));
  });

  it('removing more than half of the objects clears the metadata; half does not', () => {
    // 12 objects: 2 tables, 2 relationships, 1 permission, 1 event trigger, 1 action, 1 action permission,
    // 1 remote schema, 1 cron trigger, 2 custom types (the source itself is not counted).
    const most = changed((m) => {
      m.actions = [];
      m.remote_schemas = [];
      m.cron_triggers = [];
      m.custom_types = { objects: [], enums: [] };
      m.sources[0]!.tables[1]!.array_relationships = [];
      m.sources[0]!.tables[0]!.event_triggers = [];
    });
    expect(diff(metadata(), most)[0]).toBe('clear:metadata (removes 8 of 12 objects)');
    const half = changed((m) => {
      m.actions = [];
      m.remote_schemas = [];
      m.cron_triggers = [];
      m.custom_types = { objects: [], enums: [] };
    });
    expect(diff(metadata(), half).some((said) => said.startsWith('clear:'))).toBe(false);
  });

  it('an empty replacement over a non-empty metadata clears it', () => {
    expect(diff(metadata(), { version: 3, sources: [] }).slice(0, 2)).toEqual(['clear:metadata (removes 12 of 12 objects)', 'clear:source default (removes its 2 tables)']);
  });

  it('reads v1/v2 metadata (tables at the top) as the default source', () => {
    const v2 = { version: 2, tables: [{ table: { schema: 'public', name: 'patients' } }] };
    expect(diff(v2, v2)).toEqual([]);
    expect(diff(v2, { version: 2, tables: [] })).toEqual(['clear:metadata (removes 1 of 1 objects)', 'clear:source default (removes its 1 tables)', 'untrack:table default.public.patients']);
  });

  it('malformed metadata is not understood', () => {
    expect(diff(metadata(), 'x')).toEqual(['unknown:unknown (metadata not understood: it is not an object)']);
    expect(diff(metadata(), { sources: {} })).toEqual(['unknown:unknown (metadata not understood: sources is not a list)']);
    expect(diff(metadata(), { sources: [{ name: 'd', tables: [1] }] })).toEqual(['unknown:unknown (metadata not understood: an element of source d: tables is not an object)']);
    expect(diff(null, metadata())).toEqual(['unknown:unknown (metadata not understood: it is not an object)']);
  });
});

describe('diffCustomTypes', () => {
  it('names removed fields, values and relationships', () => {
    const before = { objects: [{ name: 'Out', fields: [{ name: 'a' }, { name: 'b' }], relationships: [{ name: 'user' }] }], enums: [{ name: 'E', values: [{ value: 'X' }, { value: 'Y' }] }] };
    const after = { objects: [{ name: 'Out', fields: [{ name: 'a' }] }], enums: [{ name: 'E', values: [{ value: 'X' }] }] };
    expect(diffCustomTypes(before, after).map(line)).toEqual(['modify:custom_types Out (removes field b; relationship user)', 'modify:custom_types E (removes value Y)']);
    expect(diffCustomTypes(after, before).map(line)).toEqual(['modify:custom_types Out (definition changes)', 'modify:custom_types E (definition changes)']);
  });
});

describe('replacements through analyzeHasuraRequest', () => {
  const analyse = (body: unknown, currentMetadata?: unknown) => analyzeHasuraRequest(body, { analyzeSql: () => [], currentMetadata }).map(line);

  it('hasura metadata apply (v2 body) with the same metadata: no change', () => {
    expect(analyse(metadataApply(metadata()), metadata())).toEqual(['read:metadata (no change)']);
  });

  it('replace_metadata v1 (args are the metadata), empty: clears', () => {
    expect(analyse({ type: 'replace_metadata', args: { version: 3, sources: [] } }, metadata())[0]).toBe('clear:metadata (removes 12 of 12 objects)');
  });

  it('set_custom_types against the metadata in force', () => {
    const next = { objects: [{ name: 'LoginOutput', fields: [{ name: 'token', type: 'String!' }] }], enums: [{ name: 'Color', values: [{ value: 'RED' }, { value: 'BLUE' }] }] };
    expect(analyse({ type: 'set_custom_types', args: next }, metadata())).toEqual(['modify:custom_types LoginOutput (removes field expires)']);
    expect(analyse({ type: 'set_custom_types', args: metadata().custom_types }, metadata())).toEqual(['read:custom_types (no change)']);
  });

  it('the at of a replacement inside a bulk', () => {
    const effects = analyzeHasuraRequest({ type: 'bulk', args: [metadataApply({ version: 3, sources: [] })] }, { analyzeSql: () => [], currentMetadata: metadata() });
    expect(effects.every((effect) => effect.at === 'args[0]')).toBe(true);
  });
});

// Random pairs of metadata drawn from a small pool of tables, so that pairs share tables, change them and drop them.
const tableFrom = fc.record({
  name: fc.constantFrom('patients', 'doctors', 'visits', 'bills'),
  relationships: fc.subarray(['doctor', 'visits', 'bills']),
  roles: fc.subarray(['user', 'anonymous', 'nurse']),
  filter: fc.constantFrom({}, { id: { _eq: 'X-Hasura-User-Id' } }),
  trigger: fc.option(fc.constantFrom('notify', 'audit'), { nil: undefined }),
  reversed: fc.boolean(),
});
const tableOf = (t: typeof tableFrom extends fc.Arbitrary<infer T> ? T : never) => {
  const value: Record<string, unknown> = {
    table: { schema: 'public', name: t.name },
    object_relationships: t.relationships.map((name) => ({ name, using: { foreign_key_constraint_on: `${name}_id` } })),
    select_permissions: t.roles.map((role) => ({ role, permission: { columns: ['id'], filter: t.filter } })),
    ...(t.trigger ? { event_triggers: [{ name: t.trigger, definition: { insert: { columns: '*' } }, webhook: 'http://hook' }] } : {}),
  };
  return t.reversed ? Object.fromEntries(Object.entries(value).reverse()) : value;
};
const metadataFrom = fc.array(tableFrom, { maxLength: 5 }).map((tables) => ({ version: 3, sources: [{ name: 'default', kind: 'postgres', tables: tables.map(tableOf) }] }));
/** The metadata as export_metadata's answer read by the proxy: every table left in the bytes. */
const sliced = (metadata: unknown) => (parseLeavingTables(Buffer.from(JSON.stringify({ metadata })), tablesUnder('metadata')) as { metadata: unknown }).metadata;

describe('diffMetadata over tables left in their bytes (a big apply, a big export)', () => {
  it('says exactly what it says over parsed tables, whichever side is sliced', () => {
    fc.assert(
      fc.property(metadataFrom, metadataFrom, (current, next) => {
        const expected = diff(current, next);
        expect(diff(sliced(current), sliced(next))).toEqual(expected);
        expect(diff(current, sliced(next))).toEqual(expected);
        expect(diff(sliced(current), next)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('pairing tables by walking both lists side by side says what pairing them by a map of names says', () => {
    // A metadata applied again: the current one with a few tables dropped, added, changed or moved.
    const edited = metadataFrom.chain((current) =>
      fc
        .array(fc.tuple(fc.constantFrom('drop', 'insert', 'change', 'move'), fc.nat(), tableFrom), { maxLength: 3 })
        .map((edits) => {
          const tables = [...current.sources[0]!.tables];
          for (const [edit, at, table] of edits) {
            const i = tables.length === 0 ? 0 : at % tables.length;
            if (edit === 'drop') tables.splice(i, 1);
            if (edit === 'insert') tables.splice(i, 0, tableOf(table));
            if (edit === 'change' && tables.length > 0) tables[i] = { ...tables[i], computed_fields: [{ name: 'age' }] };
            if (edit === 'move' && tables.length > 0) tables.push(...tables.splice(i, 1));
          }
          return [current, { ...current, sources: [{ ...current.sources[0]!, tables }] }] as const;
        }),
    );
    fc.assert(
      fc.property(edited, ([current, next]) => {
        const plain = diffMetadata(current, next, { pairInStep: false });
        expect(diffMetadata(current, next)).toEqual(plain);
        expect(diffMetadata(sliced(current), sliced(next))).toEqual(plain);
      }),
      { numRuns: 500 },
    );
  });

  it('the tables really are left in the bytes there', () => {
    const tables = (sliced(metadata()) as Metadata).sources[0]!.tables as unknown[];
    expect(tables.length).toBeGreaterThan(0);
    expect(elementText(tables, 0)).toMatch(/^\{/);
  });

  it('a slice that is not an object is malformed, as a parsed one is', () => {
    const bad = sliced({ sources: [{ name: 'd', tables: [1] }] });
    expect(diff(metadata(), bad)).toEqual(['unknown:unknown (metadata not understood: an element of source d: tables is not an object)']);
  });
});

describe('a diff too long to list', () => {
  const manyTables = (count: number) => changed((m) => {
    for (let i = 0; i < count; i += 1) m.sources[0]!.tables.push({ table: { schema: 'public', name: `t${i}` }, select_permissions: [{ role: 'anonymous', permission: { columns: ['id'], filter: {} } }] } as never);
  });
  const production = loadPolicy(DEFAULT_POLICY_FILE);
  const decide = (effects: Effect[]) => {
    const decision = production.decide(effects, production.findEnvironment('production')!);
    return { level: decision.level, className: decision.operationClass.name, first: decision.effect && line(decision.effect) };
  };

  it(`lists ${MAX_LISTED_EFFECTS} effects and counts the rest by verb and object`, () => {
    const effects = diffMetadata(metadata(), manyTables(6_000)); // 12,000 additions
    expect(effects).toHaveLength(MAX_LISTED_EFFECTS + 2);
    expect(effects.slice(-2).map(line)).toEqual(['add:table (1000 more not listed)', 'grant:permission (1000 more not listed)']);
  });

  it('the policy decides on the short list exactly as on the whole one', () => {
    fc.assert(
      fc.property(metadataFrom, metadataFrom, fc.integer({ min: 0, max: 6 }), (current, next, max) => {
        const whole = diffMetadata(current, next, { maxListed: Infinity });
        const short = diffMetadata(current, next, { maxListed: max });
        expect(decide(short).level).toBe(decide(whole).level);
        expect(decide(short).className).toBe(decide(whole).className);
        expect(new Set(short.map((e) => `${e.verb}:${e.object}`))).toEqual(new Set(whole.map((e) => `${e.verb}:${e.object}`)));
        // Each effect is listed or counted, never lost: per verb and object, listed + counted = the whole list's.
        const counts = (effects: Effect[]) => {
          const found = new Map<string, number>();
          for (const e of effects) {
            const more = /^(\d+) more not listed$/.exec(e.detail ?? '');
            found.set(`${e.verb}:${e.object}`, (found.get(`${e.verb}:${e.object}`) ?? 0) + (more && e.name === undefined ? Number(more[1]) : 1));
          }
          return found;
        };
        expect(counts(short)).toEqual(counts(whole));
        expect(short.filter((e) => !/more not listed/.test(e.detail ?? '')).length).toBeLessThanOrEqual(max + 2); // + the clears
      }),
      { numRuns: 300 },
    );
  });
});

describe('replacements read as Hasura reads them', () => {
  const analyse = (metadataToApply: unknown, current: unknown = metadata()) =>
    analyzeHasuraRequest(metadataApply(metadataToApply), { analyzeSql: () => [], currentMetadata: current }).map(line);
  const patients = () => metadata().sources[0]!.tables[0]!;
  const doctors = () => metadata().sources[0]!.tables[1]!;

  describe('a name listed twice is not understood (Hasura keeps the later copy, or refuses the whole)', () => {
    it('the source default twice, a table only in the first copy: not "no change"', () => {
      const twice = changed((m) => m.sources.push({ ...m.sources[0]!, tables: [doctors()] }));
      expect(analyse(twice)).toEqual(['unknown:unknown (metadata not understood: source default is listed twice (Hasura keeps one copy, or refuses the whole))']);
    });

    it('a table twice, the later copy without its permission', () => {
      const twice = changed((m) => m.sources[0]!.tables.push({ table: patients().table } as never));
      expect(analyse(twice)).toEqual(['unknown:unknown (metadata not understood: table default.public.patients is listed twice (Hasura keeps one copy, or refuses the whole))']);
    });

    it.each([
      ['a function, its permission only in the first copy', (m: Metadata) => Object.assign(m.sources[0]!, { functions: [{ function: { schema: 'public', name: 'f' }, permissions: [{ role: 'user' }] }, { function: { schema: 'public', name: 'f' } }] }), 'function default.public.f'],
      ['a logical model', (m: Metadata) => Object.assign(m.sources[0]!, { logical_models: [{ name: 'm', fields: [] }, { name: 'm', fields: [] }] }), 'logical model default.m'],
      ['a remote schema', (m: Metadata) => m.remote_schemas.push({ name: 'countries', definition: { url: 'http://elsewhere' } }), 'remote schema countries'],
      ['an action', (m: Metadata) => m.actions.push({ name: 'login', definition: { handler: 'http://auth' }, permissions: [] }), 'action login'],
      ['a cron trigger', (m: Metadata) => m.cron_triggers.push({ name: 'nightly', webhook: 'http://x', schedule: '0 1 * * *' }), 'cron trigger nightly'],
      ['a select permission of one role', (m: Metadata) => m.sources[0]!.tables[0]!.select_permissions!.push({ role: 'user', permission: { columns: ['id'], filter: {} } } as never), 'permission default.public.patients select for user'],
      ['a custom type', (m: Metadata) => m.custom_types.enums.push({ name: 'Color', values: [] }), 'custom type Color'],
    ])('%s', (_label, edit, named) => {
      expect(analyse(changed(edit))).toEqual([`unknown:unknown (metadata not understood: ${named} is listed twice (Hasura keeps one copy, or refuses the whole))`]);
    });
  });

  describe('a metadata of version 1 or 2 is read by its top-level tables, as Hasura reads it', () => {
    // The metadata in force, but for its version: Hasura reads `tables`, not `sources` (MetadataNoSources).
    const withVersion = (version: number | undefined, edit: (m: Record<string, unknown>) => void = () => {}) => {
      const m: Record<string, unknown> = { ...metadata(), version };
      if (version === undefined) delete m.version;
      edit(m);
      return m;
    };

    it.each([1, 2, undefined])('version %s carrying the sources in force and no top-level tables: refused by Hasura, not understood here', (version) => {
      expect(analyse(withVersion(version))).toEqual([`unknown:unknown (metadata not understood: a version ${version ?? 1} metadata without a "tables" list (Hasura refuses it))`]);
    });

    it.each([1, 2, undefined])('version %s carrying the sources in force and top-level tables without patients: untracks patients', (version) => {
      const effects = analyse(withVersion(version, (m) => (m.tables = [doctors()])));
      expect(effects).toContain('untrack:table default.public.patients');
      expect(effects.some((said) => said.startsWith('untrack:table default.public.doctors'))).toBe(false);
    });

    it('version 2 with the tables, functions and other objects in force: no change', () => {
      expect(analyse(withVersion(2, (m) => (m.tables = metadata().sources[0]!.tables)))).toEqual(['read:metadata (no change)']);
    });

    it('version 1 lists functions by name', () => {
      const current = changed((m) => Object.assign(m.sources[0]!, { functions: [{ function: { schema: 'public', name: 'f' } }, { function: { schema: 'public', name: 'g' } }] }));
      const next = withVersion(1, (m) => Object.assign(m, { tables: metadata().sources[0]!.tables, functions: [{ schema: 'public', name: 'f' }] }));
      expect(analyse(next, current)).toEqual(['untrack:function default.public.g']);
    });

    it('every source but the default goes, and the settings with it', () => {
      const current = changed((m) => {
        m.sources.push({ name: 'reports', kind: 'postgres', configuration: { connection_info: { database_url: { from_env: 'REPORTS' } } }, tables: [doctors()] });
        Object.assign(m, { api_limits: { disabled: false }, inherited_roles: [{ role_name: 'staff', role_set: ['user'] }] });
      });
      const effects = analyse(withVersion(2, (m) => (m.tables = metadata().sources[0]!.tables)), current);
      expect(effects).toEqual(
        expect.arrayContaining(['clear:source reports (removes its 1 tables)', 'drop:source reports (database from env REPORTS)', 'revoke:role staff', 'drop:api_limits api_limits']),
      );
    });

    it('with no default source in force Hasura refuses it: not understood', () => {
      const current = changed((m) => (m.sources[0]!.name = 'other'));
      expect(analyse(withVersion(2, (m) => (m.tables = [])), current)).toEqual([
        "unknown:unknown (metadata not understood: a version 2 metadata replaces the default source's tables, and no default source is in force (Hasura refuses it))",
      ]);
    });

    it.each([0, 4, '3', 2.5])('version %j is refused by Hasura: not understood', (version) => {
      expect(analyse(withVersion(version as number))).toEqual(['unknown:unknown (metadata not understood: its "version" is not 1, 2 or 3 (Hasura refuses it))']);
    });

    it('version 3 without sources is refused by Hasura: not understood', () => {
      expect(analyse({ version: 3, tables: [] })).toEqual(['unknown:unknown (metadata not understood: a version 3 metadata without a "sources" list (Hasura refuses it))']);
    });
  });
});
