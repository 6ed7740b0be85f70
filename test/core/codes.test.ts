// The code table of docs/api.md against the one in src/core/codes.ts, in both directions: every code the guard can
// answer is documented, with its Hasura form, and every documented code exists.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES, hasuraCodeOf, type Code } from '../../src/core/codes.js';

const api = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const section = api.slice(api.indexOf('\n## Codes\n'));
const documented = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| `([a-z-]+)` \| (.+) \|$/gm)].map((m) => [m[1]!, { hasura: m[2]!, meaning: m[3]! }]));

describe('the code table in docs/api.md', () => {
  it('documents every code the guard answers, with its Hasura form and meaning', () => {
    for (const code of Object.keys(CODES) as Code[]) {
      expect(documented.get(code), code).toEqual({ hasura: hasuraCodeOf(code), meaning: CODES[code].meaning });
    }
  });

  it('documents no code the guard does not have', () => {
    expect([...documented.keys()].filter((code) => !(code in CODES))).toEqual([]);
    expect(documented.size).toBe(Object.keys(CODES).length);
  });

  it("gives every code a Hasura form starting guard- (history- for the history API's), the store's as the proxy answers it", () => {
    for (const code of Object.keys(CODES) as Code[]) expect(hasuraCodeOf(code)).toMatch(code.startsWith('HISTORY_') ? /^history-[a-z]+(-[a-z]+)*$/ : /^guard-[a-z]+(-[a-z]+)*$/);
    expect(hasuraCodeOf('STORE_UNAVAILABLE')).toBe('guard-store-unavailable');
    expect(hasuraCodeOf('DENIED_BY_POLICY')).toBe('guard-denied');
    expect(hasuraCodeOf('HISTORY_BAD_CURSOR')).toBe('history-bad-cursor');
  });
});

describe('the codes written in the source', () => {
  it('are all in the table, wherever a door spells one out', async () => {
    const { readdirSync } = await import('node:fs');
    const root = new URL('../../src/', import.meta.url);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('check') && !f.startsWith('cli'));
    const spelled = new Set<string>();
    for (const file of files) {
      const text = readFileSync(new URL(file, root), 'utf8');
      for (const m of text.matchAll(/\bcode(?:: Code)?\s*[:=]\s*'([A-Z][A-Z_]+)'|webhookError\(\d+, '([A-Z][A-Z_]+)'|sendHasuraError\(res, \d+, '([A-Z][A-Z_]+)'/g)) spelled.add(m[1] ?? m[2] ?? m[3]!);
    }
    expect(spelled.size).toBeGreaterThan(10);
    expect([...spelled].filter((code) => !(code in CODES))).toEqual([]);
  });
});
