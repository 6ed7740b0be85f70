// The reader that leaves each table of a big metadata in its bytes (src/big-json/lazy-tables.ts) against its
// plain twin, JSON.parse: the same value, or no value when the bytes are not valid JSON.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { materialise, parseHasuraJson, parseLeavingTables, TABLES_IN_BYTES_FROM, tablesUnder } from '../../src/big-json/lazy-tables.js';
import { fingerprintOf } from '../../src/core/fingerprint.js';
import { ELEMENT_TEXT, elementText } from '../../src/vocabulary/json.js';

/** Whether a list is one left in the bytes: it answers ELEMENT_TEXT, which a parsed array does not. */
const keptInBytes = (list: unknown) => Array.isArray(list) && typeof (list as { [ELEMENT_TEXT]?: unknown })[ELEMENT_TEXT] === 'function';

const inReplaceMetadata = tablesUnder('args', 'metadata');
const read = (text: string) => parseLeavingTables(Buffer.from(text, 'utf8'), inReplaceMetadata);

/** What JSON.parse says of `text`: its value, or that it throws. */
function plain(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const table = fc.record({
  table: fc.record({ schema: fc.string(), name: fc.string() }),
  select_permissions: fc.array(fc.record({ role: fc.string(), permission: fc.jsonValue() }), { maxLength: 3 }),
});
const body = fc.record({
  type: fc.constant('replace_metadata'),
  version: fc.constant(2),
  args: fc.record({
    allow_inconsistent_metadata: fc.boolean(),
    metadata: fc.record({ version: fc.constant(3), sources: fc.array(fc.record({ name: fc.string(), tables: fc.array(fc.oneof(table, fc.jsonValue()), { maxLength: 5 }) }), { maxLength: 3 }) }),
  }),
  extra: fc.jsonValue(),
});

describe('parseLeavingTables, held to JSON.parse', () => {
  it('gives back what JSON.parse gives, with the tables of every source left in the bytes', () => {
    fc.assert(
      fc.property(body, fc.constantFrom(undefined, 1, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const found = read(text) as typeof value;
        expect(materialise(found)).toEqual(JSON.parse(text));
        for (const source of found.args.metadata.sources) expect(keptInBytes(source.tables)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never gives a value JSON.parse would refuse, nor a different one, for any text', () => {
    const texts = fc.oneof(
      fc.string(),
      fc.json(),
      // Valid bodies with one byte cut out or doubled: unterminated strings, lost brackets, stray commas.
      fc.tuple(body, fc.nat(), fc.boolean()).map(([value, at, cut]) => {
        const text = JSON.stringify(value);
        const i = at % text.length;
        return cut ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i + 1) + text.slice(i);
      }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const found = read(text);
        const twin = plain(text);
        if (!twin.ok) expect(found).toBeUndefined();
        else if (found !== undefined) expect(materialise(found)).toEqual(twin.value);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the tricky spellings as JSON.parse does', () => {
    const cases = [
      '{"args":{"metadata":{"sources":[{"tables":[{"a":"]}\\"[{"},1,"x",null,true,[],{}]}]}}}',
      ' \n{ "args" : { "metadata" : { "sources" : [ { "tables" : [ { } , [ 1 , 2 ] ] } ] } } } \n',
      '{"\\u0061rgs":{"metadata":{"sources":[{"tables":[{"k":"v"}]}]}}}', // an escaped key is still "args"
      '{"args":{"metadata":{"sources":[{"tables":[{"a":1}]}],"sources":[{"tables":[{"b":2}]}]}}}', // the last key wins
      '{"args":{"metadata":{"sources":[{"tables":[{"é":"日本"}]}]}},"__proto__":{"polluted":true}}',
      '{"args":{"metadata":{"sources":[{"tables":[-1.5e3,0]}]}}}',
      '{"args":{"metadata":{"sources":[{"tables":[]},{"tables":[ ]},{"name":"no tables"}]}}}',
      '[1,2,{"args":3}]',
      '"just a string"',
    ];
    for (const text of cases) expect(materialise(read(text)), text).toEqual(JSON.parse(text));
    // Something other than an array where the tables go: this reader gives up, and JSON.parse reads it whole.
    for (const text of ['{"args":{"metadata":{"sources":[{"tables":5}]}}}', '{"args":{"metadata":{"sources":[{"tables":{"0":{}}}]}}}']) {
      expect(read(text)).toBeUndefined();
      expect(() => parseHasuraJson(Buffer.from(text), 'request')).not.toThrow();
    }
    const withProto = read(cases[4]!) as Record<string, unknown>;
    expect(Object.getPrototypeOf(withProto)).toBe(Object.prototype);
    expect(Object.keys(withProto)).toContain('__proto__');
  });

  it('refuses what JSON.parse refuses, inside a table too', () => {
    for (const text of [
      '',
      '{"args":{"metadata":{"sources":[{"tables":[{"a":1,}]}]}}}', // a trailing comma inside a slice
      '{"args":{"metadata":{"sources":[{"tables":[{"a":"unterminated}]}]}}}',
      '{"args":{"metadata":{"sources":[{"tables":[[1,2}]}]}}}',
      '{"args":{}} trailing',
      '\uFEFF{"args":{}}', // a byte order mark: JSON.parse refuses it, and so does the proxy
    ]) {
      expect(read(text), text).toBeUndefined();
    }
  });

  it('parses an element afresh each time, so a caller cannot change what the next one reads', () => {
    const tables = tablesOf('{"args":{"metadata":{"sources":[{"tables":[{"a":[1]}]}]}}}');
    (tables[0] as { a: number[] }).a.push(2);
    expect(tables[0]).toEqual({ a: [1] });
    expect(tables[0]).not.toBe(tables[0]);
  });
});

/** The first source's tables, as the reader leaves them. */
const tablesOf = (text: string) => (read(text) as { args: { metadata: { sources: { tables: unknown[] }[] } } }).args.metadata.sources[0]!.tables;

describe('a list left in the bytes is an array to everyone else', () => {
  const text = '{"args":{"metadata":{"sources":[{"tables":[ {"n":1} , {"n":2},\n{"n":3}]}]}}}';

  it('has a length, elements by index and nothing past its end', () => {
    const tables = tablesOf(text);
    expect(Array.isArray(tables)).toBe(true);
    expect(tables.length).toBe(3);
    expect([tables[0], tables[2], tables[3], tables[-1 as number]]).toEqual([{ n: 1 }, { n: 3 }, undefined, undefined]);
    expect([0 in tables, 2 in tables, 3 in tables]).toEqual([true, true, false]);
  });

  it('iterates, maps, spreads, lists its keys and stringifies as the parsed array does', () => {
    const tables = tablesOf(text);
    const parsed = [{ n: 1 }, { n: 2 }, { n: 3 }];
    expect([...tables]).toEqual(parsed);
    expect(tables.map((table) => (table as { n: number }).n)).toEqual([1, 2, 3]);
    expect(Object.keys(tables)).toEqual(['0', '1', '2']);
    expect(Object.entries(tables)).toEqual(Object.entries(parsed));
    expect(JSON.stringify(tables)).toBe(JSON.stringify(parsed));
  });

  it('gives the text of an element as it is in the bytes, and a parsed array gives none', () => {
    const tables = tablesOf(text);
    expect([elementText(tables, 0), elementText(tables, 1), elementText(tables, 2)]).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(elementText([{ n: 1 }], 0)).toBeUndefined();
  });

  it('cannot be changed', () => {
    const tables = tablesOf(text);
    expect(() => {
      tables[0] = 'x';
    }).toThrow(TypeError);
    expect(() => tables.push('x')).toThrow(TypeError);
    expect(() => delete tables[1]).toThrow(TypeError);
    expect(materialise(tables)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});

describe('where the guard reads big bodies this way', () => {
  it('a held body fingerprints the same either way, so the confirmed retry matches', () => {
    fc.assert(
      fc.property(body, (value) => {
        const text = JSON.stringify(value);
        expect(fingerprintOf(read(text))).toBe(fingerprintOf(JSON.parse(text)));
      }),
      { numRuns: 200 },
    );
  });

  const big = (type: string) => {
    const tables = Array.from({ length: Math.ceil(TABLES_IN_BYTES_FROM / 30) }, (_, i) => ({ table: { schema: 'public', name: `t${i}` } }));
    return Buffer.from(JSON.stringify({ type, version: 2, args: { metadata: { version: 3, sources: [{ name: 'default', tables }] } } }));
  };

  it('only a big replace_metadata keeps slices; any other big body is parsed whole', () => {
    const apply = parseHasuraJson(big('replace_metadata'), 'request') as { args: { metadata: { sources: { tables: unknown }[] } } };
    expect(keptInBytes(apply.args.metadata.sources[0]!.tables)).toBe(true);
    const other = parseHasuraJson(big('pg_something_else'), 'request') as { args: { metadata: { sources: { tables: unknown[] }[] } } };
    expect(other.args.metadata.sources[0]!.tables[0]).toEqual({ table: { schema: 'public', name: 't0' } });
    expect(() => parseHasuraJson(Buffer.from(`${big('replace_metadata').toString()}x`), 'request')).toThrow(SyntaxError);
  });
});
