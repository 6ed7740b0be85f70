// The fast path (large SQL cut in two, one half analysed in a worker thread) held to the plain one (analyzeSql):
// the same effects, in the same order, with the same `at`, wherever the cut falls.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeHasuraRequest } from '../../src/analysis/hasura.js';
import { analyzeHasuraBody } from '../../src/analysis/index.js';
import { analyzeSql, loadSqlParser, placeEffects } from '../../src/analysis/sql.js';
import { analysisCutAt, analyzeSqlFast, cutPoint, PARALLEL_MIN_LENGTH, sqlAnalysisPaths } from '../../src/analysis/sql-parallel.js';
import { generateMigration } from '../fixtures/sql-migration.js';

beforeAll(async () => {
  await loadSqlParser();
});

const AT = 'args[1]';

/** Every position just after a `;`, wherever it is (in strings and comments too). */
const semicolons = (sql: string) => [...sql.matchAll(/;/g)].map((match) => match.index + 1);

async function cutAt(sql: string, cut: number, readOnly: boolean) {
  return placeEffects(await analysisCutAt(sql, cut, readOnly), AT);
}

/** Cut at each `;` in turn: the answer is the plain one every time. Returns how many cuts were analysed in two. */
async function expectSameAtEveryCut(sql: string, readOnly = false): Promise<number> {
  const plain = analyzeSql(sql, { readOnly, at: AT });
  const before = sqlAnalysisPaths.inTwo;
  for (const cut of semicolons(sql)) {
    expect(await cutAt(sql, cut, readOnly), `cut after position ${cut - 1}`).toStrictEqual(plain);
  }
  return sqlAnalysisPaths.inTwo - before;
}

describe('analyzeSqlFast on the 1 MB migration', () => {
  it('cuts it in two and gives exactly the plain effects', async () => {
    const { sql } = generateMigration(1_000_000);
    const before = { ...sqlAnalysisPaths };
    const fast = await analyzeSqlFast(sql, { at: AT });
    expect(sqlAnalysisPaths.inTwo).toBe(before.inTwo + 1);
    expect(sqlAnalysisPaths.inOne).toBe(before.inOne);
    expect(fast).toStrictEqual(analyzeSql(sql, { at: AT }));
    expect(fast.at(-1)?.at).toMatch(/^args\[1\], statement 7786$/);
  });

  it('leaves SQL under the threshold to one piece', async () => {
    const sql = 'DROP TABLE a; DROP TABLE b;';
    const before = { ...sqlAnalysisPaths };
    expect(await analyzeSqlFast(sql)).toStrictEqual(analyzeSql(sql));
    expect(sqlAnalysisPaths).toStrictEqual(before);
  });
});

describe('cut points the argument does not cover are analysed in one piece', () => {
  const cases: Array<[name: string, sql: string]> = [
    ['dollar-quoted function bodies', "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; RETURN 1; END $$; DROP TABLE a;\nCREATE FUNCTION g() RETURNS void AS $body$ TRUNCATE u; $ ; $body$ LANGUAGE sql; SELECT 1;"],
    ['strings, identifiers, E strings, U& strings', "SELECT ';' AS semi; DROP TABLE \"x;y\"; SELECT E'\\';' ; SELECT U&'\\0041;'; SELECT 'a'\n';b'; DELETE FROM t;"],
    ['block comments, nested', '/* ; */ DELETE FROM t WHERE id = 1; /* a /* ; */ ; */ TRUNCATE u; SELECT 2;'],
    ['line comments', 'SELECT 1; -- a ; comment\nDROP TABLE a; SELECT 1 -- trailing ; comment\n; -- ; ;\r TRUNCATE t;'],
    ['BEGIN ATOMIC bodies', 'DROP TABLE a; CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM t; SELECT 1; END; TRUNCATE u;'],
    ['CREATE RULE with several actions', 'CREATE RULE r AS ON INSERT TO t DO ALSO (DELETE FROM u; INSERT INTO v VALUES (1); UPDATE w SET a = 1); DROP TABLE a;'],
    ['DO blocks and empty statements', ';; DO $$ BEGIN PERFORM 1; END $$; ; DROP TABLE a;;'],
  ];
  it.each(cases)('%s: the same effects at every `;`', async (_name, sql) => {
    await expectSameAtEveryCut(sql);
  });

  it('a `;` in a line comment ends the first half silently: never cut there', async () => {
    // `first` would be `SELECT 1; -- x;` and parse; `rest` would be a DROP that the whole text comments out.
    const sql = 'SELECT 1; -- x; DROP TABLE patients\n;';
    expect(analyzeSql(sql).map((effect) => effect.verb)).toStrictEqual(['read']);
    const before = sqlAnalysisPaths.inTwo;
    expect(await cutAt(sql, sql.indexOf('x;') + 2, false)).toStrictEqual(analyzeSql(sql, { at: AT }));
    expect(sqlAnalysisPaths.inTwo).toBe(before);
  });

  it('cuts at true statement ends are analysed in two', async () => {
    expect(await expectSameAtEveryCut('DROP TABLE a; TRUNCATE b; SELECT 1;')).toBe(3);
  });
});

describe('errors and read-only transactions across the cut', () => {
  it('a syntax error in either half is reported as the plain path reports it', async () => {
    for (const sql of ['DROP TABLE a; SELEC 1; TRUNCATE b; SELECT 2;', 'DROP TABLE a; TRUNCATE b; SELECT 2; SELEC 1;', "DROP TABLE a; SELECT 'open ;"]) {
      await expectSameAtEveryCut(sql);
      expect(analyzeSql(sql)[0]!.detail).toMatch(/^does not parse: /);
    }
  });

  it('read_only: a COMMIT in the other half makes both halves writable', async () => {
    for (const sql of ['COMMIT; DROP TABLE a; TRUNCATE b;', 'DROP TABLE a; TRUNCATE b; COMMIT;', 'DROP TABLE a; SET TRANSACTION READ WRITE; TRUNCATE b;']) {
      expect(await expectSameAtEveryCut(sql, true)).toBe(3);
      expect(analyzeSql(sql, { readOnly: true }).map((effect) => effect.verb)).toContain('drop');
    }
  });

  it('read_only without a way out: every half stays read-only', async () => {
    const sql = 'DROP TABLE a; SELECT 1; TRUNCATE b; EXPLAIN ANALYZE DELETE FROM c;';
    await expectSameAtEveryCut(sql, true);
    expect(analyzeSql(sql, { readOnly: true }).map((effect) => effect.detail)).toContain('refused by a read-only transaction');
  });

  it('only comments on either side of the cut', async () => {
    await expectSameAtEveryCut('/* a */ ; -- b\n ;');
    await expectSameAtEveryCut(';DROP TABLE a;');
  });
});

describe('property: random texts from tricky statements, cut at every `;`', () => {
  const POOL = [
    'SELECT 1;',
    'DROP TABLE a;',
    'UPDATE t SET a = 1;',
    'DELETE FROM t WHERE id = 1;',
    "SELECT ';' AS semi;",
    "SELECT E'\\';' ;",
    'SELECT $$;$$;',
    'SELECT $tag$ ; $ $tag$;',
    'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; RETURN 1; END $$;',
    'CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM t; SELECT 1; END;',
    'CREATE RULE r AS ON INSERT TO t DO ALSO (DELETE FROM u; INSERT INTO v VALUES (1));',
    '/* ; */ TRUNCATE t;',
    '/* a /* ; */ ; */ SELECT 2;',
    '-- comment ;\nTRUNCATE t;',
    'SELECT 1 -- trailing ; comment\n;',
    'SELECT "semi;colon" FROM t;',
    "SELECT 'a'\n';b';",
    "SELECT U&'\\0041;';",
    'DO $$ BEGIN PERFORM 1; END $$;',
    'COMMIT;',
    'BEGIN;',
    'SET TRANSACTION READ WRITE;',
    'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d;',
    ';',
    'SELEC 1;',
    "SELECT 'unterminated ;",
    '/* unterminated ; ',
    '-- last line ;',
  ];
  const text = fc
    .array(fc.tuple(fc.constantFrom(...POOL), fc.constantFrom('', ' ', '\n', '\r\n')), { minLength: 1, maxLength: 8 })
    .map((parts) => parts.map(([statement, separator]) => statement + separator).join(''));

  it('gives the plain effects', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.boolean(), async (sql, readOnly) => {
        await expectSameAtEveryCut(sql, readOnly);
      }),
      { numRuns: 150 },
    );
  });
});

describe('cutPoint', () => {
  it('takes the `;` nearest the middle whose line has no `--`', () => {
    expect(cutPoint('aaaaa;bbbbbbb;c')).toBe(6);
    expect(cutPoint('a;bbbbb -- x;\nccccc')).toBe(2);
    expect(cutPoint('no semicolon')).toBeUndefined();
    expect(cutPoint('-- only ; commented ;')).toBeUndefined();
  });
});

describe('Hasura requests with large run_sql (src/analysis/index.ts)', () => {
  it('gives the effects of the plain walk, large SQL analysed in two', async () => {
    const large = generateMigration(PARALLEL_MIN_LENGTH + 10_000).sql;
    const withCommit = `${large}\nCOMMIT;`;
    const body = {
      type: 'bulk',
      args: [
        { type: 'run_sql', args: { sql: 'DROP TABLE small' } },
        { type: 'run_sql', args: { sql: large, read_only: true } },
        { type: 'bulk', args: [{ type: 'citus_run_sql', args: { sql: large, cascade: true } }, { type: 'run_sql', args: { sql: withCommit, read_only: true } }] },
      ],
    };
    const before = sqlAnalysisPaths.inTwo;
    const fast = await analyzeHasuraBody(body, { endpoint: '/v2/query' });
    expect(sqlAnalysisPaths.inTwo).toBe(before + 3);
    expect(fast).toStrictEqual(analyzeHasuraRequest(body, { analyzeSql }));
    expect(fast.filter((effect) => effect.detail === 'refused by a read-only transaction').length).toBeGreaterThan(1000);
  });
});
