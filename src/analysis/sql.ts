// PLACEHOLDER until the SQL analyser lands (branch `sql`): every SQL string "does not parse", so the operation
// words path answers. Never merged to main as is.
import { unknownEffect, type Effect } from './effects.js';

export const loadSqlParser = async (): Promise<void> => {};
export const analyzeSql = (_sql: string, _options?: { readOnly?: boolean; at?: string }): Effect[] => [
  { ...unknownEffect('does not parse: placeholder'), object: 'sql' },
];
