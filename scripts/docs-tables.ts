// The generated parts of docs/policy.md, between <!-- generated:NAME --> and <!-- /generated:NAME -->.
import { loadPolicy } from '../src/core/policy.js';
import { policyTable, verbTable } from '../src/core/policy-table.js';

const GENERATORS: Record<string, () => string> = {
  verbs: verbTable,
  'default-policy': () => policyTable(loadPolicy()),
};

export function fillGeneratedTables(markdown: string): string {
  return markdown.replace(/(<!-- generated:([\w-]+) -->\n)[\s\S]*?(<!-- \/generated:\2 -->)/g, (_all, open: string, name: string, close: string) => {
    const generate = GENERATORS[name];
    if (!generate) throw new Error(`docs/policy.md: no generator for "${name}"`);
    return `${open}${generate()}\n${close}`;
  });
}
