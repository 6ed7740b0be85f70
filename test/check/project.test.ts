// The project reader against the Hasura CLI's own golden files (test/fixtures/hasura-cli-build): the metadata it
// builds from a project directory is the one `hasura metadata apply` sends.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readProject } from '../../src/check/project.js';
import { CheckError } from '../../src/check/errors.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const temporary: string[] = [];
afterEach(() => temporary.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A config v3 project whose metadata directory is a copy of `metadataFrom`, plus `files`. */
function projectWith(metadataFrom: string | undefined, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'check-project-'));
  temporary.push(dir);
  writeFileSync(join(dir, 'config.yaml'), 'version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n');
  if (metadataFrom) cpSync(metadataFrom, join(dir, 'metadata'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const golden = (path: string) => JSON.parse(readFileSync(join(FIXTURES, 'hasura-cli-build', path), 'utf8'));

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    return error instanceof CheckError ? `${error.code}: ${error.message}` : `not a CheckError: ${String(error)}`;
  }
  return undefined;
};

describe('the metadata a project builds, as the Hasura CLI builds it', () => {
  it('sources: includes as tags and in strings, quoted or not, relative to the including file (CLI golden file)', () => {
    const dir = projectWith(join(FIXTURES, 'hasura-cli-build', 'sources', 'metadata'));
    const project = readProject(dir, dir);
    expect(project.metadata.sources).toEqual(golden('sources/want.golden.json').sources);
    expect(project.filesByObject.get('s 3.public.t1')).toBe(join(dir, 'metadata/databases/s 3/tables/public_t1.yaml'));
    expect(project.filesByObject.get('s1.public.get_t2')).toBe(join(dir, 'metadata/databases/s1/functions/public_get_t2.yaml'));
  });

  it('actions: actions.graphql and actions.yaml merged (CLI golden file)', () => {
    const dir = projectWith(join(FIXTURES, 'hasura-cli-build', 'actions', 'metadata'));
    const { actions, custom_types } = readProject(dir, dir).metadata;
    expect({ actions, custom_types }).toEqual(golden('actions/want.json'));
  });

  it("Hasura's config v3 test project: seven tables, each at its file, and the migration", () => {
    const dir = join(FIXTURES, 'hasura-project');
    const project = readProject(dir, dir);
    const [source] = project.metadata.sources as Array<{ name: string; tables: Array<{ table: { name: string } }> }>;
    expect(source!.name).toBe('pg');
    expect(source!.tables.map((t) => t.table.name)).toEqual(['albums', 'artists', 'genres', 'media_types', 'playlist_track', 'playlists', 'tracks']);
    expect(project.filesByObject.get('pg.public.albums')).toBe(join(dir, 'metadata/databases/pg/tables/public_albums.yaml'));
    expect(project.metadata).toMatchObject({ version: 3, remote_schemas: [], allowlist: [], rest_endpoints: [] });
    expect((project.metadata.actions as Array<{ name: string }>).map((a) => a.name)).toEqual(['actionName']);
    expect(project.migrations).toEqual([{ database: 'pg', id: '1622047079431_chinook', file: join(dir, 'migrations/pg/1622047079431_chinook/up.sql') }]);
  });

  it('follows an include chain through directories, each path relative to the file that names it', () => {
    const dir = projectWith(undefined, {
      'metadata/databases/databases.yaml': '- name: default\n  kind: postgres\n  tables: "!include default/tables/tables.yaml"\n',
      'metadata/databases/default/tables/tables.yaml': '- "!include ../common/public_a.yaml"\n- table: {name: inline, schema: public}\n',
      'metadata/databases/default/common/public_a.yaml': 'table:\n  name: a\n  schema: public\n',
    });
    const project = readProject(dir, dir);
    expect(project.metadata.sources).toEqual([
      { name: 'default', kind: 'postgres', tables: [{ table: { name: 'a', schema: 'public' } }, { table: { name: 'inline', schema: 'public' } }] },
    ]);
    expect(project.filesByObject.get('default.public.a')).toBe(join(dir, 'metadata/databases/default/common/public_a.yaml'));
    expect(project.filesByObject.get('default.public.inline')).toBe(join(dir, 'metadata/databases/default/tables/tables.yaml'));
  });
});

describe('what cannot be read fails with a code, never a guess', () => {
  it('an include that comes back to itself', () => {
    const dir = projectWith(undefined, {
      'metadata/databases/databases.yaml': '- name: default\n  kind: postgres\n  tables: "!include t/tables.yaml"\n',
      'metadata/databases/t/tables.yaml': '- "!include tables.yaml"\n',
    });
    expect(codeOf(() => readProject(dir, dir))).toBe('BAD_YAML: metadata/databases/t/tables.yaml includes itself (through metadata/databases/t/tables.yaml)');
  });

  it('an include tag where the CLI follows none', () => {
    const dir = projectWith(undefined, { 'metadata/remote_schemas.yaml': '- name: r\n  definition: !include r.yaml\n' });
    expect(codeOf(() => readProject(dir, dir))).toBe('BAD_YAML: metadata/remote_schemas.yaml: "!include r.yaml" where the Hasura CLI follows no include');
  });

  it('a config that is not version 3, and an action missing from actions.graphql', () => {
    const v2 = projectWith(undefined);
    writeFileSync(join(v2, 'config.yaml'), 'version: 2\n');
    expect(codeOf(() => readProject(v2, v2))).toBe('NOT_CONFIG_V3: config.yaml: only config version 3 projects can be checked');
    const actions = projectWith(undefined, { 'metadata/actions.yaml': 'actions:\n- name: ghost\n  definition: {handler: http://h}\n', 'metadata/actions.graphql': '' });
    expect(codeOf(() => readProject(actions, actions))).toBe('BAD_ACTIONS: metadata/actions.yaml: action ghost is not in actions.graphql');
  });
});
