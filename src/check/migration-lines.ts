// Where each statement of a migration starts (for annotations at the right line), and where the parser stopped
// when it does not parse. The effects come from the guard's analysis; this only finds lines, with the same parser
// (libpg-query), loaded by the analysis before this is called.
import { parseSync } from 'libpg-query';

export type StatementLines = { lines: number[] } | { failedAtLine: number | undefined };

/**
 * The line (1-based) of the first token of each statement, in the order the analysis numbers them (`statement N`).
 * libpg-query gives `stmt_location` as a byte offset into the UTF-8 text, and a parse error's `cursorPosition` as a
 * character offset (test/check/migration-lines.test.ts holds both).
 */
export function statementLines(sql: string): StatementLines {
  let statements: Array<{ stmt?: unknown; stmt_location?: number }>;
  try {
    statements = sql.trim() === '' ? [] : (parseSync(sql).stmts ?? []);
  } catch (error) {
    const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
    return { failedAtLine: typeof position === 'number' ? lineAtCharacter(sql, position) : undefined };
  }
  const bytes = Buffer.from(sql, 'utf8');
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (const statement of statements) {
    if (!statement.stmt) continue;
    const at = Math.min(statement.stmt_location ?? 0, bytes.length);
    // A newline byte (0x0A) never occurs inside a multi-byte UTF-8 character: counting bytes counts lines.
    for (; scanned < at; scanned += 1) if (bytes[scanned] === 0x0a) line += 1;
    lines.push(line);
  }
  return { lines };
}

function lineAtCharacter(sql: string, position: number): number {
  let line = 1;
  for (let index = 0; index < Math.min(position, sql.length); index += 1) if (sql.charCodeAt(index) === 0x0a) line += 1;
  return line;
}
