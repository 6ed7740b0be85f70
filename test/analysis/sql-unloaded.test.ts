import { describe, expect, it } from 'vitest';
import { analyzeSql, loadSqlParser } from '../../src/analysis/sql.js';

// A file of its own: each test file gets fresh modules, so here the parser has not been loaded yet.
describe('the SQL parser, loaded lazily', () => {
  it('refuses to analyse before it is loaded, instead of guessing', () => {
    expect(() => analyzeSql('DROP TABLE patients')).toThrow('The SQL parser is not loaded: await loadSqlParser() first');
  });

  it('loads once: every caller gets the same promise, and analysis works after it', async () => {
    const first = loadSqlParser();
    expect(loadSqlParser()).toBe(first);
    await first;
    expect(analyzeSql('DROP TABLE patients').map((effect) => `${effect.verb}:${effect.object}`)).toEqual(['drop:table']);
  });
});
