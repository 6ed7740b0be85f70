// The folders of src/ import one way: each from the folders below it, never from a folder above or beside it
// (src/README.md gives the order and what each folder holds). Read off the sources' relative imports, so an import
// that breaks the order fails here rather than in a reviewer's afternoon.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Each folder, and the folders it may import from besides itself. `.` is src/ itself: the wiring and the server. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  vocabulary: [],
  analysis: ['vocabulary'],
  'big-json': ['vocabulary'],
  core: ['analysis', 'vocabulary'],
  store: ['core', 'vocabulary'],
  http: ['big-json', 'core', 'vocabulary'],
  identity: ['http', 'core', 'vocabulary'],
  history: ['store', 'http', 'core', 'vocabulary'],
  notify: ['history', 'vocabulary'],
  doors: ['history', 'http', 'big-json', 'core', 'analysis', 'vocabulary'],
  '.': ['doors', 'notify', 'history', 'identity', 'http', 'store', 'core', 'big-json', 'analysis', 'vocabulary'],
  check: ['core', 'analysis', 'vocabulary'],
  cli: ['check', 'core', 'analysis', 'vocabulary'],
  hasura: ['vocabulary'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The folder of src/ a file is in, or `.` for a file directly in src/. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? '.' : parts[0]!;
}

/** Every relative import (static, dynamic, type-only) of every source file, as folder to folder. */
const edges = sources(SRC).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) => ({
    file: relative(SRC, file),
    from: folderOf(file),
    to: folderOf(resolve(dirname(file), match[1]!)),
  })),
);

describe('src/ folders import one way', () => {
  it('reads the imports it judges', () => {
    // The reading itself: core imports analysis and vocabulary, the wiring imports the doors.
    expect(edges.some(({ from, to }) => from === 'core' && to === 'vocabulary')).toBe(true);
    expect(edges.some(({ from, to }) => from === '.' && to === 'doors')).toBe(true);
  });

  it('places every folder of src/', () => {
    expect(new Set(edges.map((edge) => edge.from))).toEqual(new Set(Object.keys(MAY_IMPORT)));
  });

  it('has each folder import only from the folders below it', () => {
    const wrong = edges.filter(({ from, to }) => from !== to && !MAY_IMPORT[from]!.includes(to)).map(({ file, to }) => `${file} imports from ${to}/`);
    expect(wrong).toEqual([]);
  });

  it('has an order: each folder can be read after the ones it may import', () => {
    const order: string[] = [];
    const waiting = new Set(Object.keys(MAY_IMPORT));
    for (let progress = true; progress; ) {
      const ready = [...waiting].filter((folder) => MAY_IMPORT[folder]!.every((below) => order.includes(below)));
      for (const folder of ready) waiting.delete(folder);
      order.push(...ready);
      progress = ready.length > 0;
    }
    expect([...waiting]).toEqual([]); // a folder left waiting sits on a cycle
  });

  it('keeps the reader of big bodies to the two that need it: the body bounds and the proxy', () => {
    const readers = new Set(edges.filter(({ from, to }) => to === 'big-json' && from !== 'big-json').map(({ file }) => file));
    expect(readers).toEqual(new Set(['http/body-bounds.ts', 'doors/proxy.ts']));
  });

  it('keeps vocabulary a leaf: it imports nothing of the project', () => {
    expect(edges.filter(({ from, to }) => from === 'vocabulary' && to !== 'vocabulary')).toEqual([]);
  });
});
