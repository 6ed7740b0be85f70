// npm run docs:policy — rewrites the generated tables in docs/policy.md from the code and the default policy.
import { readFileSync, writeFileSync } from 'node:fs';
import { fillGeneratedTables } from './docs-tables.js';

const file = new URL('../docs/policy.md', import.meta.url);
writeFileSync(file, fillGeneratedTables(readFileSync(file, 'utf8')));
console.log('docs/policy.md: tables regenerated');
