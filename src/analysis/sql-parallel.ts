// Large SQL analysed in two halves at once: this thread parses and classifies the first half while one worker
// thread (sql-worker.ts) does the second. Parsing is most of the cost (libpg-query's WebAssembly parser and the
// JSON.parse of its tree) and cannot be made faster from here; two cores can share it. The answer is exactly
// analyzeSql's (the plain twin, held to it by test/analysis/sql-parallel.test.ts), or analyzeSql's itself when in
// doubt.
//
// Why a text cut after a `;` can be analysed as two texts. Let `first` be the text up to and including that `;`,
// `rest` what follows. If `first` parses on its own:
//   - the `;` is a token of its own, outside any string, quoted identifier or comment: PostgreSQL's lexer fails on
//     a quote ('', E'', $$ $$, "") or a /* comment left open at the end of the input, so `first` would not parse;
//     a -- comment is the one thing that ends silently at the end of the input (`SELECT 1; -- x;` parses), so no
//     cut is made after a `;` with `--` before it on its line (cutPoint chooses none, analysisCutAt refuses one);
//   - the tokens of `first` are the whole text's up to that `;` (a `;` never joins the token before it), and the
//     LR parser, in the same state with the same lookahead, does the same with it in both: in `first` it is
//     followed by the end and accepted, so it ended a statement (stmtmulti ';'), not a BEGIN ATOMIC body or a
//     CREATE RULE's ( ...; ... ) — those need an END or a `)` after it, and `first` would not parse;
//   - so the whole text's statements are `first`'s followed by `rest`'s, and the whole parses exactly when `rest`
//     does too.
// When `first` does not parse, the cut may be inside something: the whole text is analysed in one piece. When
// `rest` does not parse, neither does the whole: it too is analysed in one piece, so the message is the plain one.
// Statements are numbered on across the cut; a read-only run_sql is read-only only if no statement of EITHER half
// leaves the transaction, so a half that assumed otherwise is classified again.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Effect } from './effects.js';
import {
  analyzePiece,
  effectsByStatement,
  loadSqlParser,
  placeEffects,
  wholeAnalysis,
  type Piece,
  type SqlAnalysis,
  type SqlAnalysisOptions,
} from './sql.js';
import type { PieceRequest } from './sql-worker.js';

/** Below this, one thread is quick enough (256 KB: about 100 ms on Node 20, 80 on Node 24) to keep it simple. */
export const PARALLEL_MIN_LENGTH = 256 * 1024;

/** analyzeSql, with large SQL analysed on two threads. */
export async function analyzeSqlFast(sql: string, options: SqlAnalysisOptions = {}): Promise<Effect[]> {
  return placeEffects(await sqlAnalysisFast(sql, options.readOnly === true), options.at);
}

/** The analysis before `at` is set (src/analysis/index.ts sets it when the request walk asks for the SQL). */
export async function sqlAnalysisFast(sql: string, readOnly: boolean): Promise<SqlAnalysis> {
  await loadSqlParser();
  const cut = sql.length >= PARALLEL_MIN_LENGTH ? cutPoint(sql) : undefined;
  if (cut === undefined) return wholeAnalysis(analyzePiece(sql, readOnly));
  return analysisCutAt(sql, cut, readOnly);
}

/** The analysis with the text cut after position `cut` - 1 (a `;`). Exported for the tests, which force the cut. */
export async function analysisCutAt(sql: string, cut: number, readOnly: boolean): Promise<SqlAnalysis> {
  await loadSqlParser();
  const inOnePiece = () => {
    sqlAnalysisPaths.inOne += 1;
    return wholeAnalysis(analyzePiece(sql, readOnly));
  };
  if (sql[cut - 1] !== ';' || lineHasComment(sql, cut - 1)) return inOnePiece(); // not a cut this argument covers
  const restText = sql.slice(cut);
  const pending = worker.analyse(restText, readOnly);
  const first = analyzePiece(sql.slice(0, cut), readOnly, true);
  if (!first.parsed) return inOnePiece(); // the worker's answer is dropped when it comes
  const rest = await pending;
  if (!rest?.parsed) return inOnePiece(); // a syntax error (said as the plain path says it), or no worker
  if (first.byStatement.length + rest.byStatement.length === 0) return inOnePiece();

  let firstEffects = first.byStatement;
  let restEffects = rest.byStatement;
  if (readOnly && (first.leaves || rest.leaves)) {
    // One half leaves the read-only transaction: the other, classified as read-only, is classified again as not.
    if (!first.leaves) firstEffects = effectsByStatement(first.statements!, false);
    if (!rest.leaves) {
      const again = analyzePiece(restText, false);
      if (!again.parsed) return inOnePiece(); // cannot happen: it parsed a moment ago
      restEffects = again.byStatement;
    }
  }
  sqlAnalysisPaths.inTwo += 1;
  return { byStatement: [...firstEffects, ...restEffects] };
}

/**
 * The cut: just after the `;` nearest the middle whose line has no `--` before it (a `;` in a line comment would
 * end `first` silently; any `--` on the line rules the `;` out, even one inside a string). Undefined if none.
 */
export function cutPoint(sql: string): number | undefined {
  const middle = sql.length >> 1;
  let after = sql.indexOf(';', middle);
  let before = middle > 0 ? sql.lastIndexOf(';', middle - 1) : -1;
  while (after >= 0 || before >= 0) {
    const takeAfter = before < 0 || (after >= 0 && after - middle <= middle - before);
    const at = takeAfter ? after : before;
    if (!lineHasComment(sql, at)) return at + 1;
    if (takeAfter) after = sql.indexOf(';', after + 1);
    else before = before > 0 ? sql.lastIndexOf(';', before - 1) : -1;
  }
  return undefined;
}

/** Whether `--` occurs between the start of the line (after \n or \r, PostgreSQL's newlines) and position `at`. */
function lineHasComment(sql: string, at: number): boolean {
  const lineStart = Math.max(sql.lastIndexOf('\n', at), sql.lastIndexOf('\r', at)) + 1;
  return sql.slice(lineStart, at).includes('--');
}

// ---- the worker thread ----------------------------------------------------------------------------------------

type Reply = { id: number; piece: Piece } | { id: number; failed: string };

/**
 * One worker thread, started on first use (or by startSqlWorker), analysing one piece at
 * a time in the order asked. Referenced only while it has work, so it never keeps a process alive. If it fails or
 * cannot start, its pieces answer `undefined` and the callers analyse in one piece; the next use starts a new one.
 */
class AnalysisWorker {
  private thread: Worker | undefined;
  private readonly waiting = new Map<number, (piece: Piece | undefined) => void>();
  private nextId = 1;
  /** Told when the thread cannot start or fails (the server logs it: large SQL is then slower, not wrong). */
  onFailure: (error: Error) => void = () => undefined;

  start(): Worker | undefined {
    if (this.thread) return this.thread;
    try {
      const thread = startThread();
      thread.on('message', (reply: Reply) => {
        if ('failed' in reply) this.onFailure(new Error(reply.failed));
        this.settle(reply.id, 'piece' in reply ? reply.piece : undefined);
      });
      thread.on('error', (error) => {
        this.onFailure(error);
        this.stop(thread);
      });
      thread.on('exit', () => this.stop(thread));
      thread.unref();
      this.thread = thread;
    } catch (error) {
      this.onFailure(error instanceof Error ? error : new Error(String(error)));
      this.thread = undefined;
    }
    return this.thread;
  }

  analyse(sql: string, readOnly: boolean): Promise<Piece | undefined> {
    const thread = this.start();
    if (!thread) return Promise.resolve(undefined);
    const id = this.nextId++;
    const request: PieceRequest = { id, sql, readOnly };
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      thread.ref();
      thread.postMessage(request);
    });
  }

  private settle(id: number, piece: Piece | undefined): void {
    this.waiting.get(id)?.(piece);
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.thread?.unref();
  }

  private stop(thread: Worker): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    for (const id of [...this.waiting.keys()]) this.settle(id, undefined);
  }
}

const worker = new AnalysisWorker();

/** How the large SQL analysed so far was analysed (for the tests and the bench). */
export const sqlAnalysisPaths = { inTwo: 0, inOne: 0 };

/** `onFailure` hears of any failure of the worker thread, when it starts (on the first large SQL) or later. */
export function onSqlWorkerFailure(onFailure?: (error: Error) => void): void {
  if (onFailure) worker.onFailure = onFailure;
}

/** Starts the worker thread now rather than on the first large SQL (the bench, to measure a warm worker). */
export function startSqlWorker(): void {
  worker.start();
}

/**
 * From the bundle, sql-worker.js is an entry point of its own (dist/analysis/); this code sits in dist/ or in
 * dist/chunks/, so it is looked for upwards. From the sources (tsx, vitest), sql-worker.ts is loaded through tsx,
 * which a worker thread does not inherit from vitest.
 */
function startThread(): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const file = pathToFileURL(join(dirname(here), 'sql-worker.ts')).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(file)}, ${JSON.stringify(file)}))`, { eval: true });
  }
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const file = join(dir, 'analysis', 'sql-worker.js');
    if (existsSync(file)) return new Worker(file);
    if (dirname(dir) === dir) throw new Error('analysis/sql-worker.js not found next to the bundle');
  }
}
