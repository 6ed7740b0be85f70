import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest folder above this module with a package.json. The same answer whether this
 * runs from src/ (tsx, tests) or from the bundle in dist/, so data files are found either way.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the server code');
    dir = parent;
  }
  return dir;
}

const PACKAGE_ROOT = findRoot();

/** A file shipped with the server: schema.graphql, policies/default.json, hasura/metadata. */
export const packageFile = (...parts: string[]) => join(PACKAGE_ROOT, ...parts);
