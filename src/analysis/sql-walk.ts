// One walk over a statement's tree that finds what its expressions do, wherever they sit: target list, WHERE,
// FROM, JOIN, subqueries, LATERAL, CTEs, VALUES, RETURNING, index expressions, USING clauses.
//   - every function call and every operator not known to be free of side effects (they run code);
//   - every table or view named (what a SELECT reads);
//   - every data-modifying statement nested in a WITH clause (`WITH d AS (DELETE ...) SELECT ...` deletes);
//   - which WHERE clauses and target lists name a column (`WHERE 1 = 1` touches every row).
// It runs over every node of every statement, so it is written for speed: for-in over keys (no entry arrays),
// primitives skipped before the call, no closure or spread per node.

import type { Node, RangeVar } from 'libpg-query';
import { isFreeOfSideEffects } from './sql-functions.js';
import { relationName, strings } from './sql-names.js';

export interface StatementFacts {
  /** Qualified names of the functions called that are not known to be free of side effects, each once. */
  readonly calls: Set<string>;
  /** Tables and views named, minus the names of the statement's own CTEs. */
  readonly relations: Set<string>;
  /** INSERT / UPDATE / DELETE / MERGE found below the top statement. */
  readonly nestedWrites: Node[];
  /** For each WHERE clause and target list the walk went through: whether a column is named in it. */
  readonly namesColumn: ReadonlyMap<object, boolean>;
}

export const NO_FACTS: StatementFacts = { calls: new Set(), relations: new Set(), nestedWrites: [], namesColumn: new Map() };

/**
 * How deep the walk goes before it gives up on a statement (the caller reports it `too complex to analyse`). An
 * explicit bound rather than the stack's: the stack differs between Node versions, and the same SQL must get the
 * same answer wherever it is analysed. 2,000 levels of tree is about 1,000 levels of nested expressions; the
 * parser itself stops at about 3,500.
 */
const MAX_TREE_DEPTH = 2000;

class TooComplexError extends Error {
  constructor() {
    super(`a statement nested deeper than ${MAX_TREE_DEPTH} levels`);
  }
}

const WRITES: ReadonlySet<string> = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
const TARGET: ReadonlySet<string> = new Set(['relation']);

/**
 * Walks `payload` (the body of one statement node) except the fields in `skip`: parts of a statement that
 * PostgreSQL stores rather than runs (a view's query, a policy's condition) are skipped by the caller.
 */
export function collectFacts(payload: object, skip?: ReadonlySet<string>): StatementFacts {
  const walk = new Walk();
  walk.visit(payload, skip, 0);
  // `WITH recent AS (...) SELECT * FROM recent` reads `recent`'s tables, not a table called recent.
  const read = new Set<string>();
  for (const name of walk.relations) if (!walk.cteNames.has(name)) read.add(name);
  return { calls: walk.calls, relations: read, nestedWrites: walk.nestedWrites, namesColumn: walk.namesColumn };
}

/** Whether `clause` (a WHERE clause, a target list) names a column: from the walk when it went there, else looked up. */
export function namesAColumn(facts: StatementFacts, clause: object | undefined): boolean {
  if (clause === undefined) return false;
  return facts.namesColumn.get(clause) ?? hasColumnRef(clause, 0);
}

/**
 * Whether `clause` names a column of its own query level: a subquery with a FROM takes its columns from there
 * (`SELECT EXISTS (SELECT * FROM t WHERE a = 1)` names no column of the outer SELECT), one without a FROM does not.
 */
export function namesAColumnOfItsOwn(clause: object, depth = 0): boolean {
  if (depth > MAX_TREE_DEPTH) throw new TooComplexError();
  if (Array.isArray(clause)) return clause.some((item) => typeof item === 'object' && item !== null && namesAColumnOfItsOwn(item, depth + 1));
  for (const key in clause) {
    if (key === 'ColumnRef') return true;
    const child = (clause as Record<string, unknown>)[key];
    if (typeof child !== 'object' || child === null) continue;
    if (key === 'SelectStmt' && hasFrom(child)) continue;
    if (namesAColumnOfItsOwn(child, depth + 1)) return true;
  }
  return false;
}

const hasFrom = (select: object): boolean => {
  const from = (select as { fromClause?: unknown[] }).fromClause;
  return Array.isArray(from) && from.length > 0;
};

class Walk {
  readonly calls = new Set<string>();
  readonly relations: string[] = [];
  readonly cteNames = new Set<string>();
  readonly nestedWrites: Node[] = [];
  readonly namesColumn = new Map<object, boolean>();

  /** Visits every object below `value`; answers whether a ColumnRef is among them. */
  visit(value: object, skipHere: ReadonlySet<string> | undefined, depth: number): boolean {
    if (depth > MAX_TREE_DEPTH) throw new TooComplexError();
    let column = false;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null && this.visit(item, undefined, depth + 1)) column = true;
      return column;
    }
    const node = value as Record<string, unknown>;
    for (const key in node) {
      const child = node[key];
      if (typeof child !== 'object' || child === null || skipHere?.has(key)) continue;
      const inner = child as Record<string, unknown>;
      switch (key) {
        case 'FuncCall': {
          const name = strings(inner.funcname as Node[] | undefined);
          if (!isFreeOfSideEffects(name)) this.calls.add(name.join('.'));
          break;
        }
        case 'A_Expr': {
          // `1 OPERATOR(myschema.+) 2` calls whatever function that operator stands for.
          const name = strings(inner.name as Node[] | undefined);
          if (name.length > 1 && name[0] !== 'pg_catalog') this.calls.add(`OPERATOR(${name.join('.')})`);
          break;
        }
        case 'RangeVar':
          this.relations.push(relationName(inner as RangeVar));
          break;
        case 'CommonTableExpr':
          this.cteNames.add(inner.ctename as string);
          break;
        case 'ColumnRef':
          column = true;
          break;
      }
      let childColumn: boolean;
      if (WRITES.has(key)) {
        this.nestedWrites.push({ [key]: child } as Node);
        childColumn = this.visit(child, TARGET, depth + 1); // the write names its own target; it is not read
      } else {
        childColumn = this.visit(child, undefined, depth + 1);
      }
      if (childColumn) column = true;
      if (key === 'whereClause' || key === 'targetList') this.namesColumn.set(child, childColumn);
    }
    return column;
  }
}

function hasColumnRef(value: object, depth: number): boolean {
  if (depth > MAX_TREE_DEPTH) throw new TooComplexError();
  if (Array.isArray(value)) return value.some((item) => typeof item === 'object' && item !== null && hasColumnRef(item, depth + 1));
  for (const key in value) {
    if (key === 'ColumnRef') return true;
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && hasColumnRef(child, depth + 1)) return true;
  }
  return false;
}
