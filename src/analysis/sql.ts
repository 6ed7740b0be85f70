// What SQL really does, read with PostgreSQL's own parser (libpg-query: the server's grammar compiled to
// WebAssembly), so comments, case, quoting and whitespace cannot hide a statement: `drop /* x */ TABLE public .
// patients` is a DropStmt like any other. Every statement gives its effects (src/vocabulary/effects.ts); calls of functions not
// known to be free of side effects give `run:function`, wherever they sit. Pure: no I/O once the parser is loaded.

import type { CreateFunctionStmt, Node } from 'libpg-query';
import type { Effect } from '../vocabulary/effects.js';
import type { BodyReader } from './sql-bodies.js';
import { CLASSIFIERS, NOT_RUN, RUNS_CODE, RUNS_LATER, STORED, type Context } from './sql-statements.js';
import { isHarmlessWhenStored } from './sql-functions.js';
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
let parsePlPgSqlSync: typeof import('libpg-query').parsePlPgSQLSync | undefined;
let scanSync: typeof import('libpg-query').scanSync | undefined;

/**
 * Loads the WebAssembly parser once; later calls return the same promise. Even the module's import costs ~200 ms, so
 * it is imported here rather than at the top: a cold start does not pay for it (the server warms it up after listening).
 */
export function loadSqlParser(): Promise<void> {
  loading ??= import('libpg-query').then(
    async (parser) => {
      await parser.loadModule();
      parseSync = parser.parseSync;
      parsePlPgSqlSync = parser.parsePlPgSQLSync;
      scanSync = parser.scanSync;
    },
    (error: unknown) => {
      loading = undefined; // let a later call try again rather than fail forever
      throw error;
    },
  );
  return loading;
}

/** Every statement of `sql` → effects, each with `at` (`args[2], statement 7`). Throws if the parser is not loaded yet. */
export function analyzeSql(sql: string, options: SqlAnalysisOptions = {}): Effect[] {
  if (!parseSync) throw new Error('The SQL parser is not loaded: await loadSqlParser() first');
  const at = options.at || undefined;
  const statements = parse(sql);
  if (typeof statements === 'string') return [{ verb: 'unknown', object: 'sql', detail: `does not parse: ${statements}`, at }];
  // Nothing to run is still not a harmless change to wave through: a body that is empty or only comments is most
  // likely a mistake or a probe, and the guard says so rather than guessing.
  if (statements.length === 0) return [{ verb: 'unknown', object: 'sql', detail: 'no statement', at }];
  const readOnly = options.readOnly === true && !statements.some(leavesReadOnlyTransaction);
  const byStatement = effectsInScope(statements, { readOnly, inBody: false, depth: 0 });
  return byStatement.flatMap((effects, index) => {
    const where = at ? `${at}, statement ${index + 1}` : `statement ${index + 1}`;
    return effects.map((effect) => ({ ...effect, at: where }));
  });
}

/** Where statements are analysed: the transaction they run in, and how many function bodies deep. */
interface Scope {
  readOnly: boolean;
  /** Inside a function body a bare name may be a variable or a parameter, not a column. */
  inBody: boolean;
  depth: number;
}

/** How many function bodies inside function bodies are read before the guard gives up (fails closed). */
const MAX_BODY_DEPTH = 8;

/** A scope with what its statements share: the functions they create, and the reader of function bodies. */
interface Surroundings extends Scope {
  definedHere: ReadonlySet<string>;
  bodies: BodyReader;
}

function effectsInScope(statements: readonly Node[], scope: Scope): Effect[][] {
  const here: Surroundings = { ...scope, definedHere: functionsWithoutParameters(statements), bodies: bodyReader(scope) };
  return statements.map((statement) => {
    try {
      return statementEffects(statement, here);
    } catch {
      // A tree too deep for the walk (thousands of nested parentheses): fail closed on that statement.
      return [{ verb: 'unknown', object: 'sql', detail: 'too complex to analyse' }];
    }
  });
}

/** Functions this SQL creates that take no argument, as a trigger names them: `public.set_updated_at`. */
function functionsWithoutParameters(statements: readonly Node[]): ReadonlySet<string> {
  const names = new Set<string>();
  for (const statement of statements) {
    if (!('CreateFunctionStmt' in statement)) continue;
    const { funcname, parameters } = statement.CreateFunctionStmt;
    const inputs = (parameters ?? []).filter((node) => 'FunctionParameter' in node && !['FUNC_PARAM_OUT', 'FUNC_PARAM_TABLE'].includes(node.FunctionParameter.mode ?? ''));
    if (inputs.length === 0) names.add((funcname ?? []).map((node) => ('String' in node ? node.String.sval : '?')).join('.'));
  }
  return names;
}

/**
 * The text of each CREATE FUNCTION statement parsed, for the PL/pgSQL parser (sql-bodies.ts), computed only when
 * asked. The parser gives statement positions in bytes of the UTF-8 text.
 */
const functionSources = new WeakMap<object, () => string>();

class SourceText {
  private bytes: Uint8Array | undefined;
  constructor(private readonly sql: string) {}

  statement(start: number, length: number): string {
    if (/^[\x00-\x7f]*$/.test(this.sql)) return length ? this.sql.slice(start, start + length) : this.sql.slice(start);
    this.bytes ??= new TextEncoder().encode(this.sql);
    return new TextDecoder().decode(length ? this.bytes.subarray(start, start + length) : this.bytes.subarray(start));
  }
}

/** The statements, or the parser's message when the SQL does not parse. */
function parse(sql: string): Node[] | string {
  const parseSql = parseSync!;
  if (sql.trim() === '') return []; // libpg-query throws on an empty string instead of returning no statement
  try {
    const statements: Node[] = [];
    const text = new SourceText(sql);
    for (const raw of withoutStack(() => parseSql(sql)).stmts ?? []) {
      if (!raw.stmt) continue;
      statements.push(raw.stmt);
      if ('CreateFunctionStmt' in raw.stmt) {
        const { stmt_location: start = 0, stmt_len: length = 0 } = raw;
        functionSources.set(raw.stmt.CreateFunctionStmt, () => text.statement(start, length));
      }
    }
    return statements;
  } catch (error) {
    return parserMessage(error);
  }
}

/**
 * Runs the parser with no stack captured for the error it throws on SQL it refuses. A refusal is an answer here, not
 * a fault, and its stack is never read; capturing one through the WebAssembly frames cost 15 % of a webhook
 * validate's CPU under load, since the operation `DROP TABLE` is refused before it is read completed by the table
 * (docs/performance.md). The limit is put back before anything else runs: the parser is synchronous.
 */
function withoutStack<T>(parse: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return parse();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The parser's message, short, without the literal it may quote: `syntax error at or near "'sk_live_…'"` would put
 * a secret in an effect, hence in a held answer and the audit log. Names stay (`at or near "TABEL"`).
 */
function parserMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : 'parser error';
  message = message.replace(/"[^"]*['$][^"]*("|$)/g, 'a literal');
  if (/['$]/.test(message)) message = `${message.slice(0, message.search(/['$"]/)).trimEnd()} …`;
  return message.length > 100 ? `${message.slice(0, 100)}…` : message;
}

/** A node's only key and its payload: `{ DropStmt: {...} }` → ['DropStmt', {...}]. */
function typeAndPayload(statement: Node): [keyof typeof CLASSIFIERS, object] {
  for (const type in statement) return [type as keyof typeof CLASSIFIERS, (statement as Record<string, object>)[type]!];
  return ['' as keyof typeof CLASSIFIERS, {}];
}

/** One statement's effects: what it does itself, what WITH clauses inside it write, and the code it runs. */
function statementEffects(statement: Node, here: Surroundings): Effect[] {
  const [type, payload] = typeAndPayload(statement);
  const notRun = NOT_RUN[type];
  const facts: StatementFacts = notRun === 'all' ? NO_FACTS : collectFacts(payload, notRun);
  const context: Context = {
    facts,
    inBody: here.inBody,
    definedHere: here.definedHere,
    effectsOf: (embedded) => statementEffects(embedded, here),
    bodies: here.bodies,
  };

  const own = ownEffects(type, payload, context);
  const refused = here.readOnly && refusedInReadOnly(type, payload, facts);
  const effects: Effect[] = refused ? [REFUSED] : [...own];
  if (!refused) for (const write of facts.nestedWrites) effects.push(...ownEffects(...typeAndPayload(write), context));
  for (const name of facts.calls) effects.push({ verb: 'run', object: 'function', name, detail: RUNS_CODE });
  if (!refused) for (const name of storedCalls(type, payload)) effects.push({ verb: 'run', object: 'function', name, detail: RUNS_LATER });
  return unique(effects);
}

/**
 * Functions called by what the statement stores to run later (a view's query, a column default, a check, a
 * trigger's WHEN, a policy's condition): reading the view or inserting a row runs them, in this very request
 * perhaps. Known side-effect-free functions and a sequence's nextval (what every serial column does) are not code
 * of unknown effect.
 */
function storedCalls(type: keyof typeof CLASSIFIERS, payload: object): string[] {
  const names: string[] = [];
  for (const field of STORED[type] ?? []) {
    const part = (payload as Record<string, unknown>)[field];
    if (typeof part !== 'object' || part === null) continue;
    for (const name of collectFacts(part).calls) if (!isHarmlessWhenStored(name.split('.'))) names.push(name);
  }
  return names;
}

/** The SQL analysis, lent to sql-bodies.ts for a function's body one level deeper than `scope`. */
function bodyReader(scope: Scope): BodyReader {
  const inner: Scope = { readOnly: false, inBody: true, depth: scope.depth + 1 };
  const tooDeep: Effect[] = [{ verb: 'unknown', object: 'function', detail: 'function bodies nested too deep to analyse' }];
  const sqlText = (sql: string): Effect[] => {
    if (inner.depth > MAX_BODY_DEPTH) return tooDeep;
    const statements = parse(sql);
    if (typeof statements === 'string') return [{ verb: 'unknown', object: 'sql', detail: `does not parse: ${statements}` }];
    return effectsInScope(statements, inner).flat();
  };
  return {
    sqlText,
    statements: (statements) => (inner.depth > MAX_BODY_DEPTH ? tooDeep : effectsInScope(statements, inner).flat()),
    // `x > 1` or `f(a)`: what evaluating it runs. A bare `SELECT` of it would add read:sql, which says nothing here.
    expression: (sql) => sqlText(`SELECT ${sql}`).filter((effect) => !(effect.verb === 'read' && effect.object === 'sql' && !effect.name)),
    constantString,
    splitAssignment,
    sourceOf: (statement: CreateFunctionStmt) => functionSources.get(statement)?.(),
    parsePlPgSql: (source) => withoutStack(() => parsePlPgSqlSync!(source)),
    messageOf: parserMessage,
  };
}

/** `'DROP TABLE x'` → `DROP TABLE x`; anything but one string constant → undefined. */
function constantString(sql: string): string | undefined {
  const statements = parse(`SELECT ${sql}`);
  if (typeof statements === 'string' || statements.length !== 1) return undefined;
  const select = 'SelectStmt' in statements[0]! ? statements[0].SelectStmt : undefined;
  const targets = select?.fromClause?.length ? [] : (select?.targetList ?? []);
  const value = targets.length === 1 && 'ResTarget' in targets[0]! ? targets[0].ResTarget.val : undefined;
  return value && 'A_Const' in value && value.A_Const.sval ? (value.A_Const.sval.sval ?? '') : undefined;
}

/**
 * The SQL as records and messages may show it: every string constant (quoted, dollar-quoted, bit and Unicode
 * strings) becomes '…' and comments go, by PostgreSQL's own lexer. Effects name objects, never values; an operation
 * typed as SQL is shown the same way, so a password or an API key in a literal (SET app.key = '…', COPY … PROGRAM
 * '…', ALTER ROLE … PASSWORD '…') reaches no log line, token or message. SQL the lexer cannot read (an unclosed
 * quote), or read before the parser has loaded, is cut before its first quote or comment.
 */
export function maskSqlLiterals(sql: string): string {
  // Every string constant has a quote or a dollar sign and every comment starts with -- or /*: without them there is
  // nothing to mask (most operations are words such as "DROP TABLE"), and the lexer need not run.
  if (!MAY_HOLD_LITERALS.test(sql)) return sql;
  let tokens;
  try {
    tokens = scanSync!(sql).tokens;
  } catch {
    return cutBeforeLiterals(sql);
  }
  const bytes = Buffer.from(sql, 'utf8');
  let masked = '';
  let from = 0;
  for (const token of tokens) {
    const comment = token.tokenName.endsWith('COMMENT');
    const literal = token.text.includes("'") || token.text.startsWith('$') || (token.tokenName.endsWith('CONST') && !['ICONST', 'FCONST', 'PARAM'].includes(token.tokenName));
    if (!comment && !literal) continue;
    masked += bytes.subarray(from, token.start).toString('utf8') + (literal ? "'…'" : '');
    from = token.end;
  }
  return masked + bytes.subarray(from).toString('utf8');
}

const MAY_HOLD_LITERALS = /['$]|--|\/\*/;

function cutBeforeLiterals(sql: string): string {
  const first = sql.search(MAY_HOLD_LITERALS);
  return first === -1 ? sql : `${sql.slice(0, first)}…`;
}

/** `arr[f(1)] := g()` → ['arr[f(1)]', 'g()']: split at the first `:=` or `=` outside brackets, by PostgreSQL's lexer. */
function splitAssignment(sql: string): [string, string] | undefined {
  let tokens;
  try {
    tokens = scanSync!(sql).tokens;
  } catch {
    return undefined;
  }
  let depth = 0;
  for (const token of tokens) {
    if (token.text === '(' || token.text === '[') depth += 1;
    else if (token.text === ')' || token.text === ']') depth -= 1;
    else if (depth === 0 && (token.text === ':=' || token.text === '=')) {
      const bytes = new TextEncoder().encode(sql);
      const decode = (part: Uint8Array) => new TextDecoder().decode(part);
      return [decode(bytes.subarray(0, token.start)), decode(bytes.subarray(token.end))];
    }
  }
  return undefined;
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
  if (type === 'CopyStmt') {
    // COPY FROM into a temporary table of the session is allowed in a read-only transaction (copy.c, DoCopy: only
    // a table that is not local-temp is refused), and the name alone does not say which it is: a COPY FROM a
    // program or a server file runs it whatever read_only says. COPY FROM STDIN adds rows only to a temporary table.
    const copy = payload as { is_from?: boolean; is_program?: boolean; filename?: string };
    return Boolean(copy.is_from) && !copy.is_program && !copy.filename;
  }
  // LOCK is allowed in a read-only transaction in every mode (utility.c, ClassifyUtilityCommandAsReadOnly): an
  // ACCESS EXCLUSIVE lock still makes every reader wait. Not refused, so it is judged as without read_only.
  return type !== 'LockStmt';
}

/**
 * Whether the SQL can leave the read-only transaction Hasura opened: COMMIT or ROLLBACK end it (what follows runs
 * in a new, writable transaction), and SET TRANSACTION READ WRITE may lift it before the first query. Then
 * `readOnly` protects nothing, and the SQL is analysed as if it were not set.
 */
function leavesReadOnlyTransaction(statement: Node): boolean {
  if ('TransactionStmt' in statement) {
    // BEGIN or START TRANSACTION inside Hasura's READ ONLY transaction only warns, yet applies its READ WRITE.
    return ['TRANS_STMT_BEGIN', 'TRANS_STMT_START', 'TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED'].includes(
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
