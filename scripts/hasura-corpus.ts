// Builds test/fixtures/hasura-corpus.jsonl: the request bodies Hasura's own test suite sends to /v1/metadata,
// /v1/query and /v2/query, with the status each test expects, from a git checkout of hasura/graphql-engine.
// Not run by the tests (they read only the fixture). Usage:
//   npx tsx scripts/hasura-corpus.ts <git dir of hasura/graphql-engine> [commit, default HEAD] [source, as the header says it]
// The upstream repository is too large for this project's mirror; the fork sthagen/hasura-graphql-engine at
// 6fcde9e895cce0e843ed3ed30b9ce5c9ec1c3adc has upstream's tree at 5a67e3e6878c8f11243d2f13015a762ca1fea9d7.
//
// Where the bodies and their URLs come from:
// - server/tests-py/queries/**/*.yaml. A file with `url:` and `query:` (or a list of them) is a test: its URL and
//   `status:` (200 when absent, as validate.py check_query_f). Any other file is a setup or teardown body, posted
//   with an expected 200 to the URL conftest.py's fixtures pick (db_state_context and its siblings): /v1/query by
//   default; for a class with `setup_metadata_api_version = "v2"` (and for every non-Postgres backend, whose files end
//   in _mssql, _citus, _bigquery...) setup/teardown/pre_setup/post_teardown go to /v1/metadata and
//   schema_setup/schema_teardown to /v2/query; values_setup/values_teardown go to /v1/query for Postgres and to
//   /v2/query for the other backends; clear_db*.yaml to /v2/query (context.py, HGECtx.__init__).
// - server/lib/api-tests: the [yaml|...|] and [interpolateYaml|...|] literals that are request bodies and interpolate
//   nothing (#{...}); the URL and status from the GraphqlEngine.post* call just before the literal (postMetadata_ →
//   /v1/metadata, 200; postV2Query 400 → /v2/query, 400). A body defined apart from its call gets its URL from its
//   type and no expected status (null).
// - cli/**/*_test.go and cli/internal/testutil/testutil.go: the Go raw strings that are JSON request bodies; the URL
//   from a "v1/metadata" / "v2/query" / "v1/query" just before, else from the type; status null.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import yaml from 'js-yaml';

type Url = '/v1/metadata' | '/v1/query' | '/v2/query';
interface Entry {
  url: Url;
  status: number | null;
  from: string;
  body: unknown;
}

const URLS: ReadonlySet<string> = new Set<Url>(['/v1/metadata', '/v1/query', '/v2/query']);
const BACKEND_SUFFIX = /_(mssql|citus|bigquery|cockroach|mysql|sqlite|snowflake)$/;
const V2_QUERY_TYPE = /^([a-z]+_)?run_sql$|^(select|insert|update|delete|count)$/;
const OUT = new URL('../test/fixtures/hasura-corpus.jsonl', import.meta.url);

const [gitDir, commit = 'HEAD', source = 'hasura/graphql-engine'] = process.argv.slice(2);
if (!gitDir) throw new Error('Usage: npx tsx scripts/hasura-corpus.ts <git dir of hasura/graphql-engine> [commit]');
const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const resolved = git('rev-parse', commit).trim();
const files = git('ls-tree', '-r', '--name-only', resolved).split('\n');
const show = (path: string) => git('show', `${resolved}:${path}`);

const isBody = (value: unknown): value is { type: string } =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string';
const isTest = (value: unknown): value is { url: string; status?: number; query: unknown } =>
  typeof value === 'object' && value !== null && typeof (value as { url?: unknown }).url === 'string' && 'query' in value;

/** Where a body with no call beside it goes: the data queries to /v2/query, everything else to /v1/metadata. */
function urlOfType(body: { type: string; args?: unknown }): Url {
  if (V2_QUERY_TYPE.test(body.type)) return '/v2/query';
  if (body.type.endsWith('bulk') && Array.isArray(body.args) && body.args.length > 0 && body.args.every((a) => isBody(a) && V2_QUERY_TYPE.test(a.type))) return '/v2/query';
  return '/v1/metadata';
}

/** The folders (queries/...) whose classes set setup_metadata_api_version = "v2". */
function v2Folders(): Set<string> {
  const folders = new Set<string>();
  for (const path of files.filter((f) => /^server\/tests-py\/[^/]+\.py$/.test(f))) {
    for (const cls of show(path).split(/^class /m)) {
      if (!/setup_metadata_api_version\s*=\s*["']v2["']/.test(cls)) continue;
      for (const [, folder] of cls.matchAll(/return\s+["'](queries\/[^"']+?)\/?["']/g)) folders.add(`server/tests-py/${folder}`);
    }
  }
  return folders;
}

function setupUrl(path: string, v2: Set<string>): Url {
  const name = basename(path, '.yaml');
  if (name.startsWith('clear_db')) return '/v2/query';
  const backend = BACKEND_SUFFIX.test(name);
  const kind = name.replace(BACKEND_SUFFIX, '');
  if (/^values_(setup|teardown)/.test(kind)) return backend ? '/v2/query' : '/v1/query';
  if (!backend && !v2.has(dirname(path))) return '/v1/query';
  return /^schema_(setup|teardown)/.test(kind) ? '/v2/query' : '/v1/metadata';
}

function fromPythonTests(): { entries: Entry[]; unreadable: string[] } {
  const v2 = v2Folders();
  const entries: Entry[] = [];
  const unreadable: string[] = [];
  for (const path of files.filter((f) => f.startsWith('server/tests-py/queries/') && f.endsWith('.yaml'))) {
    let doc: unknown;
    try {
      doc = yaml.load(show(path));
    } catch {
      unreadable.push(path);
      continue;
    }
    const tests = (Array.isArray(doc) ? doc : [doc]).filter(isTest);
    for (const test of tests) {
      if (URLS.has(test.url)) entries.push({ url: test.url as Url, status: test.status ?? 200, from: path, body: test.query });
    }
    if (tests.length === 0 && isBody(doc)) entries.push({ url: setupUrl(path, v2), status: 200, from: path, body: doc });
  }
  return { entries, unreadable };
}

const HELPER = /post(Metadata|V2Query|V1Query)(\w*)(?:\s+(\d{3}))?/g;
const HELPER_URL: Record<string, Url> = { Metadata: '/v1/metadata', V2Query: '/v2/query', V1Query: '/v1/query' };

function fromApiTests(): Entry[] {
  const entries: Entry[] = [];
  for (const path of files.filter((f) => f.startsWith('server/lib/api-tests/') && f.endsWith('.hs'))) {
    const text = show(path);
    for (const literal of text.matchAll(/\[(?:yaml|interpolateYaml)\|([\s\S]*?)\|\]/g)) {
      if (literal[1]!.includes('#{')) continue;
      let body: unknown;
      try {
        body = yaml.load(literal[1]!);
      } catch {
        continue;
      }
      if (!isBody(body) || !('args' in body)) continue;
      const call = [...text.slice(Math.max(0, literal.index - 200), literal.index).matchAll(HELPER)].pop();
      const status = call ? (call[3] ? Number(call[3]) : /^(_|)$/.test(call[2]!) ? 200 : null) : null;
      entries.push({ url: call ? HELPER_URL[call[1]!]! : urlOfType(body), status, from: path, body });
    }
  }
  return entries;
}

function fromCliTests(): Entry[] {
  const entries: Entry[] = [];
  for (const path of files.filter((f) => f.startsWith('cli/') && (f.endsWith('_test.go') || f === 'cli/internal/testutil/testutil.go'))) {
    const text = show(path);
    for (const raw of text.matchAll(/`([^`]*)`/g)) {
      let body: unknown;
      try {
        body = JSON.parse(raw[1]!);
      } catch {
        continue;
      }
      if (!isBody(body) || !('args' in body)) continue;
      const said = text.slice(Math.max(0, raw.index - 200), raw.index).match(/v1\/metadata|v2\/query|v1\/query/g)?.pop();
      entries.push({ url: said ? (`/${said}` as Url) : urlOfType(body), status: null, from: path, body });
    }
  }
  return entries;
}

const python = fromPythonTests();
const all = [...python.entries, ...fromApiTests(), ...fromCliTests()];
const seen = new Set<string>();
const unique = all.filter(({ url, status, body }) => {
  const key = JSON.stringify([url, status, body]);
  return !seen.has(key) && seen.add(key);
});
const header = {
  source,
  commit: resolved,
  paths: ['server/tests-py/queries/**/*.yaml', 'server/lib/api-tests/**/*.hs', 'cli/**/*_test.go', 'cli/internal/testutil/testutil.go'],
  made_by: 'scripts/hasura-corpus.ts',
};
writeFileSync(OUT, [JSON.stringify(header), ...unique.map((e) => JSON.stringify(e))].join('\n') + '\n');
const count = (pick: (e: Entry) => string) => {
  const counts = new Map<string, number>();
  for (const entry of unique) counts.set(pick(entry), (counts.get(pick(entry)) ?? 0) + 1);
  return [...counts].map(([key, n]) => `${key} ${n}`).join(', ');
};
console.log(`${unique.length} bodies (${all.length} before removing duplicates): ${count((e) => e.url)}; by status: ${count((e) => String(e.status))}`);
console.log(`by origin: ${count((e) => e.from.split('/').slice(0, 2).join('/'))}`);
if (python.unreadable.length) console.log(`YAML files that did not parse (left out): ${python.unreadable.join(', ')}`);
