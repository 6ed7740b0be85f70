import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fillGeneratedTables } from '../scripts/docs-tables.js';

describe('docs/policy.md', () => {
  it('shows the verbs and the default policy exactly as the guard runs them (npm run docs:policy regenerates it)', () => {
    const doc = readFileSync(new URL('../docs/policy.md', import.meta.url), 'utf8');
    expect(doc).toContain('| `drop:source` | critical, catastrophic | allow | deny |');
    expect(doc).toBe(fillGeneratedTables(doc));
  });
});
