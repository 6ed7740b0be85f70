// What `table_name` may be: the names Hasura's backends give tables, as a person would type them.
//   PostgreSQL   patients, public.patients, public."Order Items"     (schema.table; quoted identifiers)
//   SQL Server   patients, dbo.patients, clinic.dbo.patients, [dbo].[Order Items]   (up to database.schema.table)
//   BigQuery     dataset.table, my-project.dataset.table, `my-project`.dataset.table  (project ids have hyphens)
//   none         ""  for operations that concern no table (reload_metadata, export_metadata, ...)
// The name is a label for people, tokens and the audit log, never put into SQL; the limits only keep it readable.

/** Room for SQL Server's 128-character identifiers; PostgreSQL stops at 63 and BigQuery project ids at 30. */
export const MAX_TABLE_PART_LENGTH = 128;
/** Three full parts and their quotes and dots. */
export const MAX_TABLE_NAME_LENGTH = 400;
const MAX_TABLE_PARTS = 3;

export const TABLE_NAME_RULES =
  `table_name must be empty (an operation on no table) or a table name of 1 to ${MAX_TABLE_PARTS} dot-separated parts, ` +
  `e.g. patients, public.patients, public."Order Items", clinic.dbo.patients, my-project.dataset.table: ` +
  `a part is letters, digits, "_", "$" or "-" (not first), or any text in "double quotes", [brackets] or \`backticks\`; ` +
  `at most ${MAX_TABLE_PART_LENGTH} characters per part and ${MAX_TABLE_NAME_LENGTH} in all, no control characters`;

export type TableNameResult = { ok: true; name: string; parts: string[] } | { ok: false; problem: string };

const PLAIN_PART = /^[\p{L}\p{N}_$][\p{L}\p{N}\p{M}_$-]*/u;
const CLOSING: Record<string, string> = { '"': '"', '[': ']', '`': '`' };

/** Parses a table name; `name` is the input without surrounding blanks, `parts` the identifiers unquoted. */
export function parseTableName(input: string): TableNameResult {
  const name = input.trim();
  if (name === '') return { ok: true, name, parts: [] };
  if (name.length > MAX_TABLE_NAME_LENGTH) return { ok: false, problem: `it is longer than ${MAX_TABLE_NAME_LENGTH} characters` };
  if (/\p{Cc}/u.test(name)) return { ok: false, problem: 'it contains a control character' };

  const parts: string[] = [];
  let rest = name;
  for (;;) {
    const part = readPart(rest);
    if (!part.ok) return part;
    if (part.value.length > MAX_TABLE_PART_LENGTH) {
      return { ok: false, problem: `a part is longer than ${MAX_TABLE_PART_LENGTH} characters` };
    }
    parts.push(part.value);
    rest = rest.slice(part.length);
    if (rest === '') break;
    if (rest[0] !== '.') return { ok: false, problem: `unexpected "${rest[0]}" after ${parts.length === 1 ? 'the first part' : 'a part'}` };
    rest = rest.slice(1);
    if (parts.length === MAX_TABLE_PARTS) return { ok: false, problem: `it has more than ${MAX_TABLE_PARTS} parts` };
  }
  return { ok: true, name, parts };
}

/** One identifier at the start of `text`: its value and how many characters it took. */
function readPart(text: string): { ok: true; value: string; length: number } | { ok: false; problem: string } {
  const open = text[0];
  if (open === undefined) return { ok: false, problem: 'a part is missing after "."' };
  const close = CLOSING[open];
  if (close === undefined) {
    const plain = PLAIN_PART.exec(text);
    if (!plain) return { ok: false, problem: `a part cannot start with "${open}"` };
    return { ok: true, value: plain[0], length: plain[0].length };
  }
  // Inside quotes, the closing character is written twice to stand for itself (SQL's "" and SQL Server's ]]).
  let value = '';
  let i = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === close) {
      if (text[i + 1] === close) {
        value += c;
        i += 2;
        continue;
      }
      if (value === '') return { ok: false, problem: 'a quoted part is empty' };
      return { ok: true, value, length: i + 1 };
    }
    value += c;
    i++;
  }
  return { ok: false, problem: `a part opened with ${open} is not closed` };
}
