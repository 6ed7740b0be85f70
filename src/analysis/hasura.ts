// PLACEHOLDER until the Hasura request analyser lands (branch `hasura`). Never merged to main as is.
import { unknownEffect, type Effect } from './effects.js';

export interface HasuraAnalysisContext {
  analyzeSql: (sql: string, options: { readOnly: boolean; at: string }) => Effect[];
  currentMetadata?: unknown;
}
export const isHasuraType = (type: string): boolean => type === 'clear_metadata';
export const analyzeHasuraRequest = (body: unknown, _context: HasuraAnalysisContext): Effect[] =>
  (body as { type?: string })?.type === 'clear_metadata' ? [{ verb: 'clear', object: 'metadata' }] : [unknownEffect('placeholder')];
