// The pre-scan that bounds an inspected body's cost (src/http/body-bounds.ts), held to a walk of what JSON.parse
// gives for the same text: the same values, depth, requests in bulks and values in a replace_metadata's table lists.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, measureJson, type JsonMeasure } from '../../src/big-json/measure.js';
import { checkBounds, withoutCredentials, type BodyBounds } from '../../src/http/body-bounds.js';

type Step = string | number;
const TABLE_LISTS: Step[][] = [
  ['args', 'metadata', 'sources', '*', 'tables'],
  ['args', 'sources', '*', 'tables'],
];
const isTableList = (path: Step[]) =>
  TABLE_LISTS.some((list) => list.length === path.length && list.every((step, i) => (step === '*' ? typeof path[i] === 'number' : step === path[i])));

/**
 * The plain twin: the measure read off the parsed value. Table values are the values inside the tables of the table
 * lists (a table itself is not one), less those inside the largest table: one table is built at a time.
 */
function measureParsed(value: unknown): JsonMeasure {
  const found = { values: 0, tableValues: 0, bulkRequests: 0, depth: 0 };
  /** Per table of every table list, how many values are inside it. */
  const tables: { inside: number }[] = [];
  /** `table`: the table this item is inside, if any; `tableOfChildren`: the one its children are inside. */
  const walk = (item: unknown, path: Step[], table: { inside: number } | undefined, tableOfChildren: { inside: number } | undefined, depth: number) => {
    found.values += 1;
    if (table) table.inside += 1;
    const listedIn = typeof path.at(-1) === 'number' ? path.at(-2) : undefined;
    if (listedIn === 'args' || (listedIn === 'tables' && path.at(-3) === 'args')) found.bulkRequests += 1;
    if (item === null || typeof item !== 'object') return;
    found.depth = Math.max(found.depth, depth + 1);
    const tableList = tableOfChildren === undefined && Array.isArray(item) && isTableList(path);
    const entries: [Step, unknown][] = Array.isArray(item) ? item.map((x, i) => [i, x]) : Object.entries(item);
    for (const [step, child] of entries) {
      if (!tableList) walk(child, [...path, step], tableOfChildren, tableOfChildren, depth + 1);
      else {
        const itself = { inside: 0 };
        tables.push(itself);
        walk(child, [...path, step], undefined, itself, depth + 1);
      }
    }
  };
  walk(value, [], undefined, undefined, 0);
  const inside = tables.map((table) => table.inside);
  found.tableValues = inside.reduce((sum, n) => sum + n, 0) - Math.max(0, ...inside);
  return found;
}

const measure = (text: string) => measureJson(Buffer.from(text));

/** JSON values with the keys the scan knows showing up often, so bulks and table lists are common. */
const keyed = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('args', 'metadata', 'sources', 'tables', 'type', 'x', 'a"rgs', ''), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('measureJson counts what JSON.parse would build', () => {
  it('on any JSON value, compact or indented, with unicode and escapes in strings', () => {
    fc.assert(
      fc.property(fc.oneof(keyed, fc.jsonValue()), fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(measure(text)).toEqual(measureParsed(JSON.parse(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('on replace_metadata bodies of any tables, in one source or several', () => {
    const sources = fc.array(fc.record({ name: fc.string(), tables: fc.array(fc.oneof(keyed, fc.jsonValue()), { maxLength: 5 }) }), { maxLength: 3 });
    const apply = fc.oneof(
      sources.map((list) => ({ type: 'replace_metadata', version: 2, args: { metadata: { version: 3, sources: list } } })),
      sources.map((list) => ({ type: 'replace_metadata', args: { version: 3, sources: list } })),
    );
    fc.assert(
      fc.property(apply, fc.constantFrom(undefined, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(measure(text)).toEqual(measureParsed(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('a replace_metadata: the values inside its tables are table values but for the largest table\'s, everything else is not', () => {
    const metadata = { version: 3, sources: [{ name: 'default', tables: [{ table: { schema: 'public', name: 'a' } }, {}, { table: { schema: 'public', name: 'b' } }] }, { name: 'other', tables: [1] }], functions: [{}] };
    const v2 = measure(JSON.stringify({ type: 'replace_metadata', version: 2, args: { metadata } }));
    const v1 = measure(JSON.stringify({ type: 'replace_metadata', args: metadata }));
    // Inside the first source's 3 tables, 3 + 0 + 3 values; inside the second's, none: all but the largest table's 3.
    expect(v2).toMatchObject({ values: 25, tableValues: 3, bulkRequests: 0 });
    expect(v1).toMatchObject({ values: 23, tableValues: 3, bulkRequests: 0 });
    // Elsewhere a "tables" list is not one: track_tables' is read whole, and each of its tables is a request.
    expect(measure(JSON.stringify({ type: 'pg_track_tables', args: { tables: [{}, {}] } }))).toMatchObject({ tableValues: 0, bulkRequests: 2 });
  });

  it('requests in bulks: every element of an "args" list, nested bulks included, and each table of an args.tables list', () => {
    const bulk = (...args: unknown[]) => ({ type: 'bulk', args });
    expect(measure(JSON.stringify(bulk({}, {}, bulk({}, {}, {}))))).toMatchObject({ bulkRequests: 6 });
    const track = { type: 'pg_untrack_tables', args: { tables: [{ table: 'a' }, { table: 'b' }] } };
    expect(measure(JSON.stringify(bulk(track, track)))).toMatchObject({ bulkRequests: 6 });
    // The crash body of issue 23, small.
    expect(measure(`{"type":"bulk","args":[${Array(1000).fill('{}').join(',')}]}`)).toEqual({ values: 1003, tableValues: 0, bulkRequests: 1000, depth: 3 });
  });

  it('stops one level past MAX_JSON_DEPTH, and as soon as a bound it was given is passed', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(measure(nested(MAX_JSON_DEPTH)).depth).toBe(MAX_JSON_DEPTH);
    expect(measure(nested(MAX_JSON_DEPTH + 1)).depth).toBe(MAX_JSON_DEPTH + 1);
    expect(measure(nested(100_000)).depth).toBe(MAX_JSON_DEPTH + 1);
    const bounds: BodyBounds = { maxBytes: 1e9, maxValues: 10, maxBulkRequests: 5 };
    const crash = `{"type":"bulk","args":[${Array(100_000).fill('{}').join(',')}]}`;
    expect(measureJson(Buffer.from(crash), bounds).bulkRequests).toBe(6);
  });

  it('counts numbers, literals and strings with escaped quotes as one value each', () => {
    expect(measure('[1,-2.5e3,true,false,null,"a\\"b\\\\",""]')).toEqual({ values: 8, tableValues: 0, bulkRequests: 0, depth: 1 });
    expect(measure(' 42 ')).toEqual({ values: 1, tableValues: 0, bulkRequests: 0, depth: 0 });
  });
});

describe('checkBounds names the bound and the variable that sets it', () => {
  const bounds: BodyBounds = { maxBytes: 1e9, maxValues: 100, maxBulkRequests: 10 };
  const at = (measured: Partial<JsonMeasure>) => checkBounds({ values: 0, tableValues: 0, bulkRequests: 0, depth: 1, ...measured }, bounds);

  it('within every bound: nothing to say', () => {
    expect(at({ values: 100, bulkRequests: 10, depth: MAX_JSON_DEPTH })).toBeUndefined();
    // A replace_metadata's tables are read one at a time: they do not count against the values bound.
    expect(at({ values: 5000, tableValues: 4900 })).toBeUndefined();
  });

  it('past one', () => {
    expect(at({ depth: MAX_JSON_DEPTH + 1 })).toEqual({ bound: 'depth', message: `the body nests objects and arrays more than ${MAX_JSON_DEPTH} deep` });
    expect(at({ bulkRequests: 11 })).toEqual({ bound: 'bulk-requests', message: 'the body holds more than 10 requests in bulks and tables to track or untrack (PROXY_MAX_BULK_REQUESTS)' });
    expect(at({ values: 5000, tableValues: 4899 })).toEqual({ bound: 'values', message: 'the body holds more than 100 JSON values (PROXY_MAX_JSON_VALUES)' });
  });

  it('a request without credentials: the lower bounds, said so', () => {
    const lower = withoutCredentials({ maxBytes: 100 * 1024 * 1024, maxValues: 1_000_000, maxBulkRequests: 100_000 });
    expect(lower).toEqual({ maxBytes: 1024 * 1024, maxValues: 100_000, maxBulkRequests: 1000, withoutCredentials: true });
    expect(checkBounds({ values: 10, tableValues: 0, bulkRequests: 1001, depth: 3 }, lower)?.message).toBe(
      'the body holds more than 1000 requests in bulks and tables to track or untrack (for a request without credentials)',
    );
  });
});
