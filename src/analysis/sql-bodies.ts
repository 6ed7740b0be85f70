// A function's body is code. Creating a function does not run it, but a trigger, a view, a column default or a
// plain call can run it in the same request: so creating (or replacing) a function carries the effects of its body,
// read as PostgreSQL will run it.
//   - LANGUAGE sql, given as a string or as a `BEGIN ATOMIC … END` / `RETURN …` body: its statements, as SQL;
//   - LANGUAGE plpgsql: read with libpg-query's PL/pgSQL parser (PostgreSQL's own pl_gram.y), then every SQL
//     statement and expression inside it (PERFORM, RETURN QUERY, cursors, conditions, assignments, defaults) as SQL;
//     EXECUTE of a computed string is SQL whose text is only known when it runs: `run:sql`, of unknown effect;
//   - any other language (plpython3u, plv8, C, internal), or a body that cannot be read: `run:function` or `unknown`.
// The PL/pgSQL parser needs the whole CREATE FUNCTION text (parameter names and the return type shape what the body
// may say), which sql.ts keeps for each CreateFunctionStmt it parses.

import type { CreateFunctionStmt, Node } from 'libpg-query';
import type { Effect } from '../vocabulary/effects.js';
import { strings } from './sql-names.js';

/** What sql.ts lends this module: the SQL analysis itself, in a function body's scope (names may be variables). */
export interface BodyReader {
  /** Every effect of the SQL statements in `sql`, or one `unknown` effect if it does not parse. */
  sqlText(sql: string): Effect[];
  /** Every effect of statements already parsed (a BEGIN ATOMIC body). */
  statements(statements: readonly Node[]): Effect[];
  /** What evaluating a PL/pgSQL expression runs (function calls, subqueries), or `unknown` if it does not parse. */
  expression(sql: string): Effect[];
  /** The string an expression is when it is a single string constant (`'DROP TABLE x'`), else undefined. */
  constantString(sql: string): string | undefined;
  /** `target := value` → [target, value] (PL/pgSQL assignments come as one text), or undefined. */
  splitAssignment(sql: string): [string, string] | undefined;
  /** The text of the CREATE FUNCTION statement as written, when sql.ts parsed it. */
  sourceOf(statement: CreateFunctionStmt): string | undefined;
  /** libpg-query's PL/pgSQL parse of a CREATE FUNCTION text; throws with the parser's message. */
  parsePlPgSql(source: string): unknown;
  /** The parser's message for an error, with any literal it quotes masked. */
  messageOf(error: unknown): string;
}

/** The function's language as PostgreSQL resolves it: `sql` when a standard-SQL body is given or none is named. */
function languageOf(statement: CreateFunctionStmt): string {
  for (const node of statement.options ?? []) {
    if ('DefElem' in node && node.DefElem.defname === 'language' && node.DefElem.arg && 'String' in node.DefElem.arg) {
      return (node.DefElem.arg.String.sval ?? '').toLowerCase();
    }
  }
  return 'sql';
}

/** The effects of running the function's body: what creating it makes possible in the same request. */
export function bodyEffects(statement: CreateFunctionStmt, reader: BodyReader): Effect[] {
  const name = strings(statement.funcname).join('.');
  const language = languageOf(statement);
  if (statement.sql_body) return reader.statements(standardSqlBody(statement.sql_body));
  if (language !== 'sql' && language !== 'plpgsql') {
    return [{ verb: 'run', object: 'function', name, detail: `language ${language}: its body is not read, its effect is not known` }];
  }
  const body = stringBody(statement);
  if (body === undefined) return [{ verb: 'unknown', object: 'function', name, detail: 'its body cannot be read' }];
  return language === 'sql' ? reader.sqlText(body) : plpgsqlEffects(statement, name, reader);
}

/** `RETURN expr` is one statement; `BEGIN ATOMIC s1; s2; END` is a list in a list. */
function standardSqlBody(body: Node): Node[] {
  if ('List' in body) return (body.List.items ?? []).flatMap((item) => ('List' in item ? (item.List.items ?? []) : [item]));
  return [body];
}

/** `AS 'body'` (one string); `AS 'file', 'symbol'` is C and has no body to read. */
function stringBody(statement: CreateFunctionStmt): string | undefined {
  for (const node of statement.options ?? []) {
    if (!('DefElem' in node) || node.DefElem.defname !== 'as') continue;
    const items = node.DefElem.arg && 'List' in node.DefElem.arg ? (node.DefElem.arg.List.items ?? []) : [];
    return items.length === 1 && 'String' in items[0]! ? (items[0].String.sval ?? '') : undefined;
  }
  return undefined;
}

function plpgsqlEffects(statement: CreateFunctionStmt, name: string, reader: BodyReader): Effect[] {
  const source = reader.sourceOf(statement);
  if (source === undefined) return [{ verb: 'unknown', object: 'function', name, detail: 'its PL/pgSQL body cannot be read' }];
  let parsed: { plpgsql_funcs?: unknown[] };
  try {
    parsed = reader.parsePlPgSql(source) as { plpgsql_funcs?: unknown[] };
  } catch (error) {
    return [{ verb: 'unknown', object: 'function', name, detail: `PL/pgSQL body does not parse: ${reader.messageOf(error)}` }];
  }
  const functions = parsed.plpgsql_funcs ?? [];
  if (functions.length !== 1) return [{ verb: 'unknown', object: 'function', name, detail: 'its PL/pgSQL body cannot be read' }];
  const walk = new PlPgSqlWalk(reader);
  walk.visit(functions[0], undefined, 0);
  return walk.effects;
}

/**
 * Where a PL/pgSQL statement holds SQL text to run rather than SQL itself: `EXECUTE expr`, `FOR … IN EXECUTE expr`,
 * `OPEN … FOR EXECUTE expr`, `RETURN QUERY EXECUTE expr`. The expression computes the text.
 */
const DYNAMIC: Readonly<Record<string, string>> = {
  PLpgSQL_stmt_dynexecute: 'query',
  PLpgSQL_stmt_dynfors: 'query',
  PLpgSQL_stmt_open: 'dynquery',
  PLpgSQL_stmt_return_query: 'dynquery',
};

/** PostgreSQL's RawParseMode for each PL/pgSQL expression (parser/parser.h): how its text is parsed. */
const PARSE_MODE = { statement: 0, typeName: 1, expression: 2, assign1: 3, assign2: 4, assign3: 5 } as const;

/** How deep the PL/pgSQL tree may go before the body is given up on (blocks in loops in blocks…). */
const MAX_PLPGSQL_DEPTH = 500;

/**
 * Every PL/pgSQL expression in the function, wherever it sits (statements, nested blocks, exception handlers,
 * variable defaults, cursor queries): a walk over the whole tree rather than a list of statement kinds, so a kind
 * this module does not name is still read.
 */
class PlPgSqlWalk {
  readonly effects: Effect[] = [];
  constructor(private readonly reader: BodyReader) {}

  visit(value: unknown, parentType: string | undefined, depth: number): void {
    if (typeof value !== 'object' || value === null) return;
    if (depth > MAX_PLPGSQL_DEPTH) {
      this.effects.push({ verb: 'unknown', object: 'function', detail: 'a PL/pgSQL body nested too deep to analyse' });
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item, parentType, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'PLpgSQL_expr') {
        this.expression(child as { query?: string; parseMode?: number });
        continue;
      }
      // Node wrappers are named PLpgSQL_*: their fields belong to that kind; plain fields keep the kind above.
      const type = key.startsWith('PLpgSQL_') ? key : parentType;
      const dynamic = parentType !== undefined && DYNAMIC[parentType] === key;
      if (dynamic && typeof child === 'object' && child !== null && 'PLpgSQL_expr' in child) {
        this.dynamicSql((child as { PLpgSQL_expr: { query?: string } }).PLpgSQL_expr.query ?? '');
        continue;
      }
      this.visit(child, type, depth + 1);
    }
  }

  private expression(expr: { query?: string; parseMode?: number }): void {
    const text = expr.query ?? '';
    switch (expr.parseMode ?? PARSE_MODE.statement) {
      case PARSE_MODE.statement:
        this.effects.push(...this.reader.sqlText(text));
        break;
      case PARSE_MODE.expression:
        this.effects.push(...this.reader.expression(text));
        break;
      case PARSE_MODE.assign1:
      case PARSE_MODE.assign2:
      case PARSE_MODE.assign3: {
        // `arr[f(1)] := g()`: both sides are evaluated (a subscript can call a function).
        const sides = this.reader.splitAssignment(text);
        if (sides) this.effects.push(...this.reader.expression(`${sides[0]}, ${sides[1]}`));
        else this.effects.push({ verb: 'unknown', object: 'sql', detail: 'a PL/pgSQL assignment that cannot be read' });
        break;
      }
      case PARSE_MODE.typeName:
        break; // a type name runs nothing
      default:
        this.effects.push({ verb: 'unknown', object: 'sql', detail: 'a PL/pgSQL expression of an unknown kind' });
    }
  }

  /** EXECUTE of a constant string is that SQL; of anything else, SQL known only when it runs. */
  private dynamicSql(text: string): void {
    const constant = this.reader.constantString(text);
    if (constant !== undefined) {
      this.effects.push(...this.reader.sqlText(constant));
      return;
    }
    this.effects.push(...this.reader.expression(text));
    this.effects.push({ verb: 'run', object: 'sql', detail: 'dynamic SQL: EXECUTE of a string computed when it runs, its effect is not known' });
  }
}
