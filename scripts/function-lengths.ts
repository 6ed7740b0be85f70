// The longest functions in the given files (default: all of src/), by lines from their first to their last line.
// Usage: npx tsx scripts/function-lengths.ts [files...] — prints "lines  file:line  name", longest first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join('src', f));
const found: { lines: number; where: string; name: string }[] = [];
for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ lines: end - start + 1, where: `${file}:${start + 1}`, name: nameOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
function nameOf(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) return parent.name.getText();
  return '(anonymous)';
}
for (const f of found.sort((a, b) => b.lines - a.lines).slice(0, Number(process.env.TOP ?? 15))) console.log(`${String(f.lines).padStart(4)}  ${f.where}  ${f.name}`);
