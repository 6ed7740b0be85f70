// The line of each statement of a migration, and of a parse error, whatever characters come before it.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../src/analysis/sql.js';
import { statementLines } from '../../src/check/migration-lines.js';

beforeAll(() => loadSqlParser());

describe('statementLines', () => {
  it('gives the line of the first token of each statement, past comments and multi-byte characters', () => {
    const sql = "-- créé par l'équipe\nSELECT 'ééé';\n\n  /* drop\n next */ DROP TABLE x;\nCREATE TABLE y (a int); CREATE TABLE z (b int);\n";
    expect(statementLines(sql)).toEqual({ lines: [2, 5, 6, 6] });
  });

  it('gives the line where the parser stopped, counted in characters', () => {
    expect(statementLines("SELECT 'ééééé';\n\nDROP TABLEX tracks;")).toEqual({ failedAtLine: 3 });
  });

  it('an empty migration has no statement', () => {
    expect(statementLines('  \n-- nothing\n')).toEqual({ lines: [] });
  });
});
