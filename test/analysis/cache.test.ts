// analyzeChange remembers the effects of recent (operation, table) pairs; these tests hold every remembered answer
// to the one analysed afresh, for the operations people type and for random ones, across the map being emptied.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeChange, analyzeChangeAfresh } from '../../src/analysis/index.js';

const TYPED = [
  'DROP TABLE', 'drop table', 'delete', 'TRUNCATE', 'track_table', 'pg_untrack_table', 'clear metadata', 'Clear_Metadata.',
  'DROP TABLE public.patients CASCADE', 'select 1; drop /* x */ table t', 'SELECT truncate_all_tables', 'GRANT SELECT ON t TO anonymous',
  'frobnicate', 'SELECT 1 then DROP', 'pg_create_select_permission', 'replace_metadata', 'drop owned by app',
];
const TABLES = ['public.patients', 'patients', '', 'dbo.patients'];

describe('the remembered analysis', () => {
  it('answers exactly what a fresh analysis answers, asked twice', async () => {
    for (const operation of TYPED) {
      for (const table of TABLES) {
        const fresh = await analyzeChangeAfresh({ operation, table });
        expect(await analyzeChange({ operation, table })).toEqual(fresh);
        expect(await analyzeChange({ operation, table })).toEqual(fresh);
      }
    }
  });

  it('does so for random operations, also once its memory has been emptied (fast-check, 1,500 pairs)', async () => {
    const word = fc.constantFrom('drop', 'table', 'select', 'x', 'pg_track_table', ';', 'cascade', 'truncate', 't', '1', 'from', 'delete');
    const operation = fc.array(word, { minLength: 1, maxLength: 5 }).map((words) => words.join(' '));
    await fc.assert(
      fc.asyncProperty(operation, fc.constantFrom(...TABLES), async (op, table) => {
        const fresh = await analyzeChangeAfresh({ operation: op, table });
        expect(await analyzeChange({ operation: op, table })).toEqual(fresh);
        expect(await analyzeChange({ operation: op, table })).toEqual(fresh);
      }),
      { numRuns: 1500 },
    );
  });

  it('hands out effects no caller can change', async () => {
    const effects = await analyzeChange({ operation: 'DROP TABLE', table: 'public.patients' });
    expect(() => (effects as { verb: string }[])[0]!.verb = 'read').toThrow(TypeError);
    expect((await analyzeChange({ operation: 'DROP TABLE', table: 'public.patients' }))[0]!.verb).toBe('drop');
  });
});
