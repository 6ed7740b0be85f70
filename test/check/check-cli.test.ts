// `check` as CI runs it: a process, on Hasura's own CLI project (test/fixtures/hasura-project) in a temporary git
// repository, a pull request's branch compared with its base.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProjectRepo, imageCheckScript, runCheck, type ProjectRepo } from './project-repo.js';

// Each test starts one or two check processes (tsx compiles on start: 2-5 s each on a machine shared with other jobs).
vi.setConfig({ testTimeout: 60_000 });

const TABLES = 'metadata/databases/pg/tables';
const ALBUMS_PERMISSION = `select_permissions:
- role: user
  permission:
    columns:
    - id
    - title
    filter: {}
`;

let repo: ProjectRepo;
beforeEach(() => {
  repo = createProjectRepo();
  // main already lets the role `user` read albums; the pull request starts from here.
  repo.write(`${TABLES}/public_albums.yaml`, `${repo.read(`${TABLES}/public_albums.yaml`)}${ALBUMS_PERMISSION}`);
  repo.commit('user may read albums');
  repo.git('checkout', '--quiet', '-b', 'pull-request');
});
afterEach(() => repo.dispose());

const check = (...args: string[]) => runCheck(['--project', repo.project, '--base', 'main', ...args]);

describe('a branch that only adds', () => {
  it('adds a table (migration and metadata): exit 0, nothing annotated', async () => {
    repo.write('migrations/pg/1700000000000_reviews/up.sql', 'CREATE TABLE public.reviews (id serial PRIMARY KEY, album_id int NOT NULL REFERENCES albums (id), body text);\n');
    repo.write(`${TABLES}/public_reviews.yaml`, 'table:\n  name: reviews\n  schema: public\n');
    repo.write(`${TABLES}/tables.yaml`, `${repo.read(`${TABLES}/tables.yaml`)}- "!include public_reviews.yaml"\n`);
    repo.commit('reviews');

    const run = await check('--format', 'github');

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/^::(warning|error)/m);
    expect(run.stdout).toContain('production: allowed');
    const json = JSON.parse((await check('--format', 'json')).stdout);
    expect(json.migrations).toEqual(['pg/1700000000000_reviews']);
    expect(json.changes.map((c: Record<string, unknown>) => [c.level, c.description, c.file, c.line])).toEqual([
      ['allow', 'adds table pg.public.reviews', 'hasura/migrations/pg/1700000000000_reviews/up.sql', 1],
      ['allow', 'adds table pg.public.reviews', `hasura/${TABLES}/public_reviews.yaml`, 1],
    ]);
  });
});

describe('a project the base does not have', () => {
  it('everything in it is new: every migration analysed, every table added', async () => {
    const emptyTree = repo.git('hash-object', '-w', '-t', 'tree', '/dev/null').trim();
    const empty = repo.git('commit-tree', emptyTree, '-m', 'before the project').trim();

    const run = await runCheck(['--project', repo.project, '--base', empty, '--format', 'json']);

    const json = JSON.parse(run.stdout);
    expect(json.migrations).toEqual(['pg/1622047079431_chinook']);
    expect(json.metadata_compared_with).toBe(`${empty} (${empty.slice(0, 12)})`);
    expect(json.changes).toContainEqual(expect.objectContaining({ description: 'adds table pg.public.albums', file: `hasura/${TABLES}/public_albums.yaml` }));
    // Hasura's own migration sets its sequences with setval(), a function the guard cannot know is harmless.
    expect(json.changes).toContainEqual(expect.objectContaining({ level: 'confirm', description: 'runs function pg.setval (not known to be free of side effects)' }));
    expect(run.code).toBe(1);
  });
});

describe('a branch that drops genres', () => {
  beforeEach(() => {
    repo.write('migrations/pg/1700000000000_drop_genres/up.sql', '-- genres become free text\nALTER TABLE tracks DROP COLUMN genre_id;\nDROP TABLE genres;\n');
    repo.write(`${TABLES}/tables.yaml`, repo.read(`${TABLES}/tables.yaml`).replace('- "!include public_genres.yaml"\n', ''));
    repo.remove(`${TABLES}/public_genres.yaml`);
    repo.write(`${TABLES}/public_tracks.yaml`, repo.read(`${TABLES}/public_tracks.yaml`).replace('- name: genre\n  using:\n    foreign_key_constraint_on: genre_id\n', ''));
    repo.write(`${TABLES}/public_albums.yaml`, repo.read(`${TABLES}/public_albums.yaml`).replace(ALBUMS_PERMISSION, ''));
    repo.commit('drop genres');
  });

  it('exits 1 with a warning at the line of each statement and at the file of each table', async () => {
    const run = await check('--format', 'github');

    expect(run.code).toBe(1);
    const annotations = run.stdout.split('\n').filter((line) => line.startsWith('::'));
    const migration = 'hasura/migrations/pg/1700000000000_drop_genres/up.sql';
    expect(annotations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^::warning file=${migration},line=2,.*::drops column pg\\.tracks\\.genre_id`)),
        expect.stringMatching(new RegExp(`^::warning file=${migration},line=3,.*::drops table pg\\.genres`)),
        expect.stringMatching(new RegExp(`^::warning file=hasura/${TABLES}/public_genres.yaml,line=1,.*::untracks table pg\\.public\\.genres`)),
        expect.stringMatching(new RegExp(`^::warning file=hasura/${TABLES}/public_tracks.yaml,line=1,.*::drops relationship pg\\.public\\.tracks\\.genre`)),
        expect.stringMatching(new RegExp(`^::warning file=hasura/${TABLES}/public_albums.yaml,line=1,.*::revokes permission pg\\.public\\.albums select for user`)),
      ]),
    );
    expect(annotations.every((line) => line.startsWith('::warning '))).toBe(true);
  });

  it('writes the Markdown table to $GITHUB_STEP_SUMMARY, and prints it with --format markdown', async () => {
    const summary = join(repo.root, 'step-summary.md'); // outside the project, removed with the repository
    writeFileSync(summary, '');
    const run = await runCheck(['--project', repo.project, '--base', 'main', '--format', 'github'], { env: { GITHUB_STEP_SUMMARY: summary } });
    const written = readFileSync(summary, 'utf8');
    expect(run.code).toBe(1);
    expect(written).toContain('### Hasura check: ⚠️ production: needs a confirmation');
    expect(written).toContain('| ⚠️ confirm | drops table pg.genres | `hasura/migrations/pg/1700000000000_drop_genres/up.sql:3` |');

    const markdown = await check('--format', 'markdown');
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toBe(written);
  });

  it("the image's check command (the bundle, without node_modules) gives the same answer", async () => {
    const image = imageCheckScript();
    try {
      const fromSource = await check('--format', 'json');
      const fromImage = await runCheck(['--project', repo.project, '--base', 'main', '--format', 'json'], { script: image.script });
      expect(fromImage.stderr).toBe('');
      expect(fromImage.code).toBe(1);
      expect(fromImage.stdout).toBe(fromSource.stdout);
    } finally {
      image.dispose();
    }
  });

  it('is allowed in staging: the environment decides, as on the server', async () => {
    const run = await check('--environment', 'staging');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('staging: allowed');
  });
});

describe('what the policy denies, and what is not understood', () => {
  it('DROP SCHEMA … CASCADE exits 2 with an error annotation at its line', async () => {
    repo.write('migrations/pg/1700000000000_reset/up.sql', 'CREATE TABLE keep (id int);\nDROP SCHEMA public CASCADE;\n');
    repo.commit('reset');

    const run = await check('--format', 'github');

    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^::error file=hasura\/migrations\/pg\/1700000000000_reset\/up\.sql,line=2,.*::drops schema pg\.public \(CASCADE\)/m);
  });

  it('a migration that does not parse needs a confirmation, with the parser error and its line', async () => {
    repo.write('migrations/pg/1700000000000_typo/up.sql', 'CREATE TABLE ok (id int);\n\nDROP TABLEX tracks;\n');
    repo.commit('typo');

    const run = await check('--format', 'json');

    expect(run.code).toBe(1);
    const [change] = JSON.parse(run.stdout).changes;
    expect(change).toMatchObject({ level: 'confirm', line: 3, file: 'hasura/migrations/pg/1700000000000_typo/up.sql' });
    expect(change.description).toMatch(/does not parse: syntax error at or near "TABLEX".*line 3/);
  });
});

describe('could not check', () => {
  it('no project there: exit 3 and one line on stderr', async () => {
    const nowhere = join(repo.root, 'nowhere');
    const run = await runCheck(['--project', nowhere]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`check: could not check: no Hasura CLI project in ${nowhere}: config.yaml is not there [NO_PROJECT]\n`);
  });

  it('an unknown ref: exit 3, naming the ref', async () => {
    const run = await check('--base', 'no-such-branch');
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^check: could not check: unknown git ref "no-such-branch" in .* \[UNKNOWN_REF\]$/)]);
  });

  it('unreadable YAML: exit 3, naming the file', async () => {
    repo.write(`${TABLES}/public_albums.yaml`, 'table: [unclosed\n');
    const run = await check();
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^check: could not check: hasura\/metadata\/databases\/pg\/tables\/public_albums\.yaml is not valid YAML: .* \[BAD_YAML\]\n$/);
  });

  it('an include that is not there: exit 3', async () => {
    repo.write(`${TABLES}/tables.yaml`, `${repo.read(`${TABLES}/tables.yaml`)}- "!include public_missing.yaml"\n`);
    const run = await check();
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('hasura/metadata/databases/pg/tables/public_missing.yaml is included but is not there [MISSING_INCLUDE]');
  });

  it('an include outside the repository: exit 3, nothing of the file printed', async () => {
    const outside = join(repo.root, '..', `${repo.root.split('/').pop()}-runner-secret.yaml`);
    writeFileSync(outside, '- table: {schema: public, name: runner_token_4e1f}\n');
    try {
      repo.write(`${TABLES}/tables.yaml`, `- "!include ${join('..', '..', '..', '..', '..', '..', outside.split('/').pop()!)}"\n`);
      repo.commit('include from outside');
      const run = await check();
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/is outside the repository \[OUTSIDE_REPOSITORY\]\n$/);
      expect(run.stdout + run.stderr).not.toContain('runner_token_4e1f');
    } finally {
      rmSync(outside, { force: true });
    }
  });

  it('a migration that is a link to a file outside the repository: exit 3, nothing of the file printed', async () => {
    const outside = join(repo.root, '..', `${repo.root.split('/').pop()}-shadow`);
    writeFileSync(outside, 'root_password_9c2d not sql\n');
    try {
      mkdirSync(join(repo.project, 'migrations/pg/1700000000000_link'), { recursive: true });
      symlinkSync(outside, join(repo.project, 'migrations/pg/1700000000000_link/up.sql'));
      repo.commit('a link');
      const run = await check();
      expect(run.code).toBe(3);
      expect(run.stderr).toBe('check: could not check: hasura/migrations/pg/1700000000000_link/up.sql is outside the repository [OUTSIDE_REPOSITORY]\n');
      expect(run.stdout + run.stderr).not.toContain('root_password_9c2d');
    } finally {
      rmSync(outside, { force: true });
    }
  });

  it('a ref that git would read as an option: refused as an unknown ref', async () => {
    const run = await check('--base=--output=/tmp/x');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^check: could not check: unknown git ref "--output=\/tmp\/x" in .* \[UNKNOWN_REF\]\n$/);
  });
});
