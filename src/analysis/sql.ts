// What SQL really does, read with PostgreSQL's own parser (libpg-query: the server's grammar compiled to
// WebAssembly), so comments, case, quoting and whitespace cannot hide a statement: `drop /* x */ TABLE public .
// patients` is a DropStmt like any other. Every statement gives its effects (effects.ts); calls of functions not
// known to be free of side effects give `run:function`, wherever they sit. Pure: no I/O once the parser is loaded.

import type { Node } from 'libpg-query';
import type { Effect } from './effects.js';
import { CLASSIFIERS, NOT_RUN, RUNS_CODE, type Context } from './sql-statements.js';
import { collectFacts, type StatementFacts } from './sql-walk.js';

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
  if (!parseSync) throw new Error('The SQL parser is not loaded: await loadSqlParser() first');
  const where = (statement?: number) =>
    [options.at, statement === undefined ? undefined : `statement ${statement}`].filter(Boolean).join(', ') || undefined;
  const unknownSql = (detail: string, statement?: number): Effect[] => [{ verb: 'unknown', object: 'sql', detail, at: where(statement) }];

  const statements = parse(sql);
  if (typeof statements === 'string') return unknownSql(`does not parse: ${statements}`);
  // Nothing to run is still not a harmless change to wave through: a body that is empty or only comments is most
  // likely a mistake or a probe, and the guard says so rather than guessing.
  if (statements.length === 0) return unknownSql('no statement');

  const readOnly = options.readOnly === true && !statements.some(leavesReadOnlyTransaction);
  return statements.flatMap((statement, index) => {
    try {
      return statementEffects(statement, readOnly).map((effect) => ({ ...effect, at: where(index + 1) }));
    } catch {
      // A tree too deep for the walk (thousands of nested parentheses): fail closed on that statement.
      return unknownSql('too complex to analyse', index + 1);
    }
  });
}

/** The statements, or the parser's message when the SQL does not parse. */
function parse(sql: string): Node[] | string {
  const parseSql = parseSync!;
  if (sql.trim() === '') return []; // libpg-query throws on an empty string instead of returning no statement
  try {
    return (parseSql(sql).stmts ?? []).flatMap((raw) => (raw.stmt ? [raw.stmt] : []));
  } catch (error) {
    const message = error instanceof Error ? error.message : 'parser error';
    return message.length > 100 ? `${message.slice(0, 100)}…` : message;
  }
}

/** One statement's effects: what it does itself, what WITH clauses inside it write, and the code it runs. */
function statementEffects(statement: Node, readOnly: boolean): Effect[] {
  const [type, payload] = Object.entries(statement)[0] as [keyof typeof CLASSIFIERS, object];
  const notRun = NOT_RUN[type];
  const facts: StatementFacts =
    notRun === 'all' ? { calls: new Set(), relations: new Set(), nestedWrites: [] } : collectFacts(payload, notRun);
  const context: Context = { facts, effectsOf: (embedded) => statementEffects(embedded, readOnly) };

  const classify = CLASSIFIERS[type] as ((payload: object, context: Context) => Effect[]) | undefined;
  const own: Effect[] = classify ? classify(payload, context) : [{ verb: 'unknown', object: 'sql', detail: type }];
  const nested = facts.nestedWrites.flatMap((write) => ownEffects(write, context));
  const calls = [...facts.calls].map((name): Effect => ({ verb: 'run', object: 'function', name, detail: RUNS_CODE }));

  const done = readOnly && refusedInReadOnly(type, payload, facts) ? [REFUSED] : [...own, ...nested];
  return unique([...done, ...calls]);
}

/** A nested write's own effect; the walk of the enclosing statement has already seen everything inside it. */
function ownEffects(statement: Node, context: Context): Effect[] {
  const [type, payload] = Object.entries(statement)[0] as [keyof typeof CLASSIFIERS, object];
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
  const seen = new Set<string>();
  return effects.filter((effect) => {
    const key = `${effect.verb}:${effect.object}:${effect.name ?? ''}:${effect.detail ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
