import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

describe('paths the docs and comments name', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const filesUnder = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
  const sources = filesUnder('src');
  /** The prose a reader follows: the READMEs, docs/, and the comments of src/ (a moved file leaves them behind). */
  const prose = [
    ...['README.md', ...filesUnder('docs'), ...sources].filter((file) => file.endsWith('.md')).map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') })),
    ...sources
      .filter((file) => file.endsWith('.ts'))
      .map((file) => ({ file, text: [...readFileSync(join(root, file), 'utf8').matchAll(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g)].map((match) => match[0]).join('\n') })),
  ];
  // `src/…` and `test/…` paths, and a src/ folder's file named from beside it (`core/store.ts`); not inside a URL.
  // hasura/ is left out: the repository has a hasura/ of its own (the CLI project and the trial stack).
  const folders = readdirSync(join(root, 'src'), { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== 'hasura').map((entry) => entry.name);
  const PATH = new RegExp(`(?<![\\w./-])((?:src|test)/[\\w./-]*[\\w/]|(?:${folders.join('|')})/[\\w./-]+\\.ts)`, 'g');
  const named = prose.flatMap(({ file, text }) =>
    [...text.matchAll(PATH)].map((match) => ({ file, path: /^(src|test)\//.test(match[1]!) ? match[1]! : `src/${match[1]}` })),
  );

  it('finds the paths it checks', () => {
    expect(named.length).toBeGreaterThan(100);
    expect(named.map(({ path }) => path)).toContain('src/core/engine.ts');
  });

  it('names only src/ and test/ paths that exist', () => {
    expect(named.filter(({ path }) => !existsSync(join(root, path))).map(({ file, path }) => `${file} names ${path}`)).toEqual([]);
  });
});
