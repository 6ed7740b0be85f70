// What SQL really does, read with PostgreSQL's own parser (libpg-query: the server's grammar compiled to
// WebAssembly), so comments, case, quoting and whitespace cannot hide a statement: `drop /* x */ TABLE public .
// patients` is a DropStmt like any other. Every statement gives its effects (effects.ts); calls of functions not
// known to be free of side effects give `run:function`, wherever they sit. Pure: no I/O once the parser is loaded.

import type { Node } from 'libpg-query';
import type { Effect } from './effects.js';
import { CLASSIFIERS, NOT_RUN, RUNS_CODE, type Context } from './sql-statements.js';
import { collectFacts, NO_FACTS, type StatementFacts } from './sql-walk.js';

export interface SqlAnalysisOptions {
  /**
   * Hasura's `run_sql` with `read_only: true` runs the SQL in a READ ONLY transaction, where PostgreSQL itself
   * refuses DDL and DML: such statements become `read:sql` (`refused by a read-only transaction`). Function calls
   * still count: pg_terminate_backend, set_config or dblink_exec work in a read-only transaction.
   */
  readOnly?: boolean;
  /** Where the SQL came from (`args[2]`), put before `statement N` in each effect's `at`. */
  at?: string;
}

let loading: Promise<void> | undefined;
let parseSync: typeof import('libpg-query').parseSync | undefined;

/**
 * Loads the WebAssembly parser once; later calls return the same promise. Even the module's import costs ~200 ms, so
 * it is imported here rather than at the top: a cold start does not pay for it (the server warms it up after listening).
 */
export function loadSqlParser(): Promise<void> {
  loading ??= import('libpg-query').then(
    async (parser) => {
      await parser.loadModule();
      parseSync = parser.parseSync;
    },
    (error: unknown) => {
      loading = undefined; // let a later call try again rather than fail forever
      throw error;
    },
  );
  return loading;
}

/** Convenience for tests and callers: loads the parser, then analyses. */
export async function analyzeSqlAsync(sql: string, options: SqlAnalysisOptions = {}): Promise<Effect[]> {
  await loadSqlParser();
  return analyzeSql(sql, options);
}

/** Every statement of `sql` → effects. Throws if the parser is not loaded yet (await loadSqlParser() first). */
export function analyzeSql(sql: string, options: SqlAnalysisOptions = {}): Effect[] {
  return placeEffects(wholeAnalysis(analyzePiece(sql, options.readOnly === true)), options.at);
}

/**
 * What one piece of SQL gives, before `at` is set: the effects of each statement in order, computed as if `readOnly`
 * held unless a statement of the piece leaves the read-only transaction (`leaves`). sql-parallel.ts analyses a
 * large text as two such pieces, one in a worker thread: hence plain data, with the statements only on request.
 */
export type Piece =
  | { parsed: false; message: string }
  | { parsed: true; byStatement: Effect[][]; leaves: boolean; statements?: Node[] };

/** The analysis of a whole text, before `at` is set: each statement's effects, or why there are none. */
export type SqlAnalysis = { byStatement: Effect[][] } | { failure: string };

export function analyzePiece(sql: string, readOnly: boolean, keepStatements = false): Piece {
  if (!parseSync) throw new Error('The SQL parser is not loaded: await loadSqlParser() first');
  const statements = parse(sql);
  if (typeof statements === 'string') return { parsed: false, message: statements };
  const leaves = readOnly && statements.some(leavesReadOnlyTransaction);
  const byStatement = effectsByStatement(statements, readOnly && !leaves);
  return keepStatements ? { parsed: true, byStatement, leaves, statements } : { parsed: true, byStatement, leaves };
}

/** A piece that is the whole text, as an analysis. */
export function wholeAnalysis(piece: Piece): SqlAnalysis {
  if (!piece.parsed) return { failure: `does not parse: ${piece.message}` };
  // Nothing to run is still not a harmless change to wave through: a body that is empty or only comments is most
  // likely a mistake or a probe, and the guard says so rather than guessing.
  if (piece.byStatement.length === 0) return { failure: 'no statement' };
  return { byStatement: piece.byStatement };
}

/** The effects in order, each with `at`: `args[2], statement 7`. */
export function placeEffects(analysis: SqlAnalysis, at: string | undefined): Effect[] {
  if ('failure' in analysis) return [{ verb: 'unknown', object: 'sql', detail: analysis.failure, at: at || undefined }];
  const placed: Effect[] = [];
  analysis.byStatement.forEach((effects, index) => {
    const where = at ? `${at}, statement ${index + 1}` : `statement ${index + 1}`;
    for (const effect of effects) placed.push({ ...effect, at: where });
  });
  return placed;
}

/** Each statement's effects, without `at`. */
export function effectsByStatement(statements: readonly Node[], readOnly: boolean): Effect[][] {
  return statements.map((statement) => {
    try {
      return statementEffects(statement, readOnly);
    } catch {
      // A tree too deep for the walk (thousands of nested parentheses): fail closed on that statement.
      return [{ verb: 'unknown', object: 'sql', detail: 'too complex to analyse' }];
    }
  });
}

/** The statements, or the parser's message when the SQL does not parse. */
function parse(sql: string): Node[] | string {
  const parseSql = parseSync!;
  if (sql.trim() === '') return []; // libpg-query throws on an empty string instead of returning no statement
  try {
    const statements: Node[] = [];
    for (const raw of parseSql(sql).stmts ?? []) if (raw.stmt) statements.push(raw.stmt);
    return statements;
  } catch (error) {
    const message = error instanceof Error ? error.message : 'parser error';
    return message.length > 100 ? `${message.slice(0, 100)}…` : message;
  }
}

/** A node's only key and its payload: `{ DropStmt: {...} }` → ['DropStmt', {...}]. */
function typeAndPayload(statement: Node): [keyof typeof CLASSIFIERS, object] {
  for (const type in statement) return [type as keyof typeof CLASSIFIERS, (statement as Record<string, object>)[type]!];
  return ['' as keyof typeof CLASSIFIERS, {}];
}

/** One statement's effects: what it does itself, what WITH clauses inside it write, and the code it runs. */
function statementEffects(statement: Node, readOnly: boolean): Effect[] {
  const [type, payload] = typeAndPayload(statement);
  const notRun = NOT_RUN[type];
  const facts: StatementFacts = notRun === 'all' ? NO_FACTS : collectFacts(payload, notRun);
  const context: Context = { facts, effectsOf: (embedded) => statementEffects(embedded, readOnly) };

  const own = ownEffects(type, payload, context);
  const refused = readOnly && refusedInReadOnly(type, payload, facts);
  const effects: Effect[] = refused ? [REFUSED] : [...own];
  if (!refused) for (const write of facts.nestedWrites) effects.push(...ownEffects(...typeAndPayload(write), context));
  for (const name of facts.calls) effects.push({ verb: 'run', object: 'function', name, detail: RUNS_CODE });
  return unique(effects);
}

/** A statement's own effect (for a nested write: the walk of the enclosing statement has seen everything inside it). */
function ownEffects(type: keyof typeof CLASSIFIERS, payload: object, context: Context): Effect[] {
  const classify = CLASSIFIERS[type] as ((payload: object, context: Context) => Effect[]) | undefined;
  return classify ? classify(payload, context) : [{ verb: 'unknown', object: 'sql', detail: type }];
}

const REFUSED: Effect = { verb: 'read', object: 'sql', detail: 'refused by a read-only transaction' };

/**
 * Statement kinds PostgreSQL lets through in a read-only transaction (ClassifyUtilityCommandAsReadOnly in
 * tcop/utility.c, and SELECT without writes or row locks). DO and CALL pass too: the code they run is reported
 * as `run:function` either way. Everything else is refused before it changes anything.
 */
const ALLOWED_IN_READ_ONLY: ReadonlySet<string> = new Set([
  'ExplainStmt', // its query is classified on its own (EXPLAIN ANALYZE of a write is refused there)
  'VariableSetStmt',
  'VariableShowStmt',
  'ConstraintsSetStmt',
  'TransactionStmt',
  'DoStmt',
  'CallStmt',
  'LoadStmt',
  'VacuumStmt',
  'ClusterStmt',
  'ReindexStmt',
  'DeclareCursorStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'DeallocateStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'DiscardStmt',
  'ListenStmt',
  'UnlistenStmt',
  'NotifyStmt',
  'CheckPointStmt',
]);

function refusedInReadOnly(type: string, payload: object, facts: StatementFacts): boolean {
  if (ALLOWED_IN_READ_ONLY.has(type)) return false;
  if (type === 'SelectStmt') {
    const select = payload as { intoClause?: unknown; lockingClause?: unknown[] };
    return Boolean(select.intoClause) || Boolean(select.lockingClause?.length) || facts.nestedWrites.length > 0;
  }
  if (type === 'CopyStmt') return Boolean((payload as { is_from?: boolean }).is_from);
  if (type === 'LockStmt') return ((payload as { mode?: number }).mode ?? 8) > 3; // stronger than ROW EXCLUSIVE
  return true;
}

/**
 * Whether the SQL can leave the read-only transaction Hasura opened: COMMIT or ROLLBACK end it (what follows runs
 * in a new, writable transaction), and SET TRANSACTION READ WRITE may lift it before the first query. Then
 * `readOnly` protects nothing, and the SQL is analysed as if it were not set.
 */
function leavesReadOnlyTransaction(statement: Node): boolean {
  if ('TransactionStmt' in statement) {
    return ['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED'].includes(
      statement.TransactionStmt.kind ?? '',
    );
  }
  if ('VariableSetStmt' in statement) return /transaction|characteristics|read_only/i.test(statement.VariableSetStmt.name ?? '');
  return false;
}

function unique(effects: Effect[]): Effect[] {
  if (effects.length < 2) return effects;
  const seen = new Set<string>();
  return effects.filter((effect) => {
    const key = `${effect.verb}:${effect.object}:${effect.name ?? ''}:${effect.detail ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
