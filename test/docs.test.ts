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

describe('docs/configuration.md', () => {
  it('documents every variable the guard reads', async () => {
    const { ENV_VARIABLES } = await import('../src/config.js');
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    expect(ENV_VARIABLES.length).toBeGreaterThan(10);
    expect(ENV_VARIABLES.filter((name) => !doc.includes(`| \`${name}\` |`))).toEqual([]);
  });
});
