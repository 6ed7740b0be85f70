// The one entry to change analysis: what the guard's doors hand over (the operation and table a caller typed, a
// whole Hasura request body, the metadata in force) in, effects out. Pure but for loading the SQL parser, which
// happens on first use (or by warmUpAnalysis) so that a cold start does not pay for the WebAssembly module.
import type { ChangeToAnalyse, Effect } from './effects.js';
import { analyzeHasuraRequest, isHasuraType, sqlCallsOf, type HasuraAnalysisContext } from './hasura.js';
import { analyzeOperation } from './operation.js';
import { analyzeSql, loadSqlParser, placeEffects, type SqlAnalysis } from './sql.js';
import { onSqlWorkerFailure, PARALLEL_MIN_LENGTH, sqlAnalysisFast } from './sql-parallel.js';

export type InspectedEndpoint = '/v1/metadata' | '/v2/query' | '/v1/query';

/**
 * Loads what analysis needs ahead of the first request; safe to call any number of times. The worker thread that
 * shares the analysis of large SQL (sql-parallel.ts) is not started here: it costs about 25 MB, and most guards never
 * see a run_sql of 256 KB. The first such SQL starts it (and waits for its parser, once). If it fails, large SQL is
 * analysed on one thread (slower, same answer) and `onWorkerFailure` is told.
 */
export const warmUpAnalysis = (onWorkerFailure?: (error: Error) => void): Promise<void> =>
  loadSqlParser().then(() => onSqlWorkerFailure(onWorkerFailure));

// The same few operations arrive again and again (a console, a CI job), and analysing one can mean parsing SQL twice
// ("DROP TABLE" alone, then completed by the table): the effects of recent (operation, table) pairs are remembered,
// in a map emptied whenever it reaches 1,000 pairs. Only for changes without a request body or a metadata to diff,
// which are rare and large. test/analysis/cache.test.ts holds the remembered answers to fresh ones.
const remembered = new Map<string, readonly Effect[]>();
const REMEMBERED_MAX = 1000;

/** The effects of a change as validateMetadataChange receives it. Callers must not change the array or its effects. */
export async function analyzeChange(change: ChangeToAnalyse): Promise<Effect[]> {
  if (change.request !== undefined || change.currentMetadata !== undefined) return analyzeChangeAfresh(change);
  const key = `${change.operation}\u0000${change.table}`;
  const known = remembered.get(key);
  if (known) return known as Effect[];
  const effects = Object.freeze((await analyzeChangeAfresh(change)).map((effect) => Object.freeze(effect)));
  if (remembered.size >= REMEMBERED_MAX) remembered.clear();
  remembered.set(key, effects);
  return effects as Effect[];
}

/** The same, never remembered: the slow twin the cache is tested against. */
export async function analyzeChangeAfresh(change: ChangeToAnalyse): Promise<Effect[]> {
  await loadSqlParser();
  const context: HasuraAnalysisContext = { analyzeSql: await sqlAnalyser(change.request), currentMetadata: change.currentMetadata };
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

/** The effects of a request body the enforcing proxy intercepted on its way to Hasura. */
export async function analyzeHasuraBody(body: unknown, context: { endpoint: InspectedEndpoint; currentMetadata?: unknown }): Promise<Effect[]> {
  await loadSqlParser();
  return analyzeHasuraRequest(body, { analyzeSql: await sqlAnalyser(body), currentMetadata: context.currentMetadata });
}

/**
 * The request walk (hasura.ts) is synchronous and asks for one SQL string at a time. The large ones are analysed
 * before it, two halves at once (sql-parallel.ts), and the walk is handed their analyses; the others, and any it
 * asks for that were not foreseen, go to the plain analyzeSql. Same effects either way.
 */
async function sqlAnalyser(request: unknown): Promise<HasuraAnalysisContext['analyzeSql']> {
  const large = sqlCallsOf(request).filter(({ sql }) => sql.length >= PARALLEL_MIN_LENGTH);
  if (large.length === 0) return analyzeSql;
  const ahead = { readOnly: new Map<string, SqlAnalysis>(), writable: new Map<string, SqlAnalysis>() };
  try {
    await Promise.all(
      large.map(async ({ sql, readOnly }) => (readOnly ? ahead.readOnly : ahead.writable).set(sql, await sqlAnalysisFast(sql, readOnly))),
    );
  } catch {
    return analyzeSql; // only a bug gets here; the plain path still gives the answer
  }
  return (sql, options) => {
    const found = (options.readOnly ? ahead.readOnly : ahead.writable).get(sql);
    return found ? placeEffects(found, options.at) : analyzeSql(sql, options);
  };
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
