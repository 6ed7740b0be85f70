// The one entry to change analysis: what the guard's doors hand over (the operation and table a caller typed, a
// whole Hasura request body, the metadata in force) in, effects out. Pure but for loading the SQL parser, which
// happens on first use (or by warmUpAnalysis) so that a cold start does not pay for the WebAssembly module.
import type { ChangeToAnalyse, Effect } from '../vocabulary/effects.js';
import { analyzeHasuraRequest, isHasuraType, type HasuraAnalysisContext } from './hasura.js';
import { analyzeOperation } from './operation.js';
import { analyzeSql, loadSqlParser } from './sql.js';

/** The Hasura endpoints the enforcing proxy inspects; the rest pass untouched (src/http/inspected-path.ts). */
export type InspectedEndpoint = '/v1/metadata' | '/v2/query' | '/v1/query';

/** Loads what analysis needs (the SQL parser) ahead of the first request; safe to call any number of times. */
export const warmUpAnalysis = (): Promise<void> => loadSqlParser();

/** The effects of a change as validateMetadataChange receives it. */
export async function analyzeChange(change: ChangeToAnalyse): Promise<Effect[]> {
  await loadSqlParser();
  const context: HasuraAnalysisContext = { analyzeSql, currentMetadata: change.currentMetadata };
  const effects: Effect[] = [];
  const requestType = typeof change.request === 'object' && change.request !== null ? (change.request as { type?: unknown }).type : undefined;
  // With a request body, the operation is usually its label (its type, or a word such as "request"): analyse it too
  // unless it is the body's own type, so a caller cannot hide a destructive body behind a harmless word or the reverse.
  if (change.request === undefined || change.operation !== requestType) {
    effects.push(
      ...analyzeOperation(change.operation, change.table, {
        isHasuraType,
        analyzeHasuraType: (type, table) => namedAfter(table, analyzeHasuraRequest({ type, args: argsNaming(table) }, context)),
        analyzeSqlIfParses: (sql) => {
          const found = analyzeSql(sql);
          return found.some(isParseFailure) ? undefined : found;
        },
      }),
    );
  }
  if (change.request !== undefined) effects.push(...analyzeHasuraRequest(change.request, context));
  return effects;
}

/**
 * The effects of a request body the enforcing proxy intercepted on its way to Hasura. The endpoint it was sent to
 * (in `context` for the audit record) does not change the reading: every request type is read the same wherever it
 * is sent, which is never less strict than Hasura, who refuses some types on some endpoints.
 */
export async function analyzeHasuraBody(body: unknown, context: { endpoint: InspectedEndpoint; currentMetadata?: unknown }): Promise<Effect[]> {
  await loadSqlParser();
  return analyzeHasuraRequest(body, { analyzeSql, currentMetadata: context.currentMetadata });
}

const isParseFailure = (effect: Effect) => effect.verb === 'unknown' && effect.object === 'sql' && (effect.detail ?? '').startsWith('does not parse');

/** A metadata type typed as `operation` comes with a table name only: the arguments Hasura would see for it. */
function argsNaming(table: string): Record<string, unknown> {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table];
  const qualified = { schema, name };
  return { source: 'default', table: qualified, tables: [{ table: qualified, source: 'default' }], name: table };
}

/** The caller named the target in table_name; the effects say so rather than the placeholder arguments'. */
function namedAfter(table: string, effects: Effect[]): Effect[] {
  return table ? effects.map((effect) => ({ ...effect, name: table })) : effects;
}
