// One walk over a statement's tree that finds what its expressions do, wherever they sit: target list, WHERE,
// FROM, JOIN, subqueries, LATERAL, CTEs, VALUES, RETURNING, index expressions, USING clauses.
//   - every function call and every operator not known to be free of side effects (they run code);
//   - every table or view named (what a SELECT reads);
//   - every data-modifying statement nested in a WITH clause (`WITH d AS (DELETE ...) SELECT ...` deletes).

import type { Node } from 'libpg-query';
import { isFreeOfSideEffects } from './sql-functions.js';
import { relationName, strings } from './sql-names.js';

export interface StatementFacts {
  /** Qualified names of the functions called that are not known to be free of side effects, each once. */
  readonly calls: Set<string>;
  /** Tables and views named, minus the names of the statement's own CTEs. */
  readonly relations: Set<string>;
  /** INSERT / UPDATE / DELETE / MERGE found below the top statement. */
  readonly nestedWrites: Node[];
}

const WRITES: ReadonlySet<string> = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/**
 * Walks `payload` (the body of one statement node) except the fields in `skip`: parts of a statement that
 * PostgreSQL stores rather than runs (a view's query, a policy's condition) are skipped by the caller.
 */
export function collectFacts(payload: object, skip: ReadonlySet<string> = new Set()): StatementFacts {
  const calls = new Set<string>();
  const relations: string[] = [];
  const cteNames = new Set<string>();
  const nestedWrites: Node[] = [];

  const visit = (value: unknown, skipHere?: ReadonlySet<string>): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (skipHere?.has(key)) continue;
      switch (key) {
        case 'FuncCall': {
          const name = strings(child.funcname);
          if (!isFreeOfSideEffects(name)) calls.add(name.join('.'));
          break;
        }
        case 'A_Expr': {
          // `1 OPERATOR(myschema.+) 2` calls whatever function that operator stands for.
          const name = strings(child.name);
          if (name.length > 1 && name[0] !== 'pg_catalog') calls.add(`OPERATOR(${name.join('.')})`);
          break;
        }
        case 'RangeVar':
          relations.push(relationName(child));
          break;
        case 'CommonTableExpr':
          cteNames.add(child.ctename);
          break;
      }
      if (WRITES.has(key)) {
        nestedWrites.push({ [key]: child } as Node);
        visit(child, TARGET); // the write names its own target; it is not read
      } else {
        visit(child);
      }
    }
  };
  visit(payload, skip);

  // `WITH recent AS (...) SELECT * FROM recent` reads `recent`'s tables, not a table called recent.
  const read = new Set(relations.filter((name) => !cteNames.has(name)));
  return { calls, relations: read, nestedWrites };
}

const TARGET: ReadonlySet<string> = new Set(['relation']);
