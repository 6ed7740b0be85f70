// Writes test/fixtures/hasura-corpus-report.md: the shapes of Hasura's own test bodies (test/fixtures/hasura-corpus.jsonl)
// that Hasura answers 200 (or whose test states no status) but the guard does not understand (an `unknown` effect),
// grouped by cause, with counts and one example each. For the analysis work; not run by the tests. Usage:
//   npx tsx scripts/hasura-corpus-report.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { analyzeHasuraBody, type InspectedEndpoint } from '../src/analysis/index.js';
import type { Effect } from '../src/vocabulary/effects.js';

interface Entry {
  url: InspectedEndpoint;
  status: number | null;
  from: string;
  body: unknown;
}
interface Body {
  type: string;
  args?: unknown;
  version?: unknown;
}

const FIXTURE = new URL('../test/fixtures/hasura-corpus.jsonl', import.meta.url);
const OUT = new URL('../test/fixtures/hasura-corpus-report.md', import.meta.url);
const BULK = new Set(['bulk', 'bulk_atomic', 'bulk_keep_going', 'concurrent_bulk']);
const BACKEND = /^(mssql|citus|bigquery|cockroach|mysql|snowflake|sqlite|dataconnector|reference|athena|redshift|postgres|pg)_/;

const [header, ...corpus] = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) as [{ commit: string }, ...Entry[]];
const isBody = (v: unknown): v is Body => typeof v === 'object' && v !== null && typeof (v as Body).type === 'string';

/** The requests a body is made of: a bulk's parts (recursively), else the body itself. */
function leaves(body: unknown): unknown[] {
  return isBody(body) && BULK.has(body.type) && Array.isArray(body.args) ? body.args.flatMap(leaves) : [body];
}

const isJsonText = (text: string) => {
  try {
    return typeof JSON.parse(text) === 'object';
  } catch {
    return false;
  }
};

/** Why a request the guard does not understand has the shape it has: the cause the analysis work should look at. */
function causeOf(body: unknown, url: InspectedEndpoint, unknown: Effect): string {
  if (!isBody(body)) return 'the body is not an object with a string "type"';
  const args = body.args as Record<string, unknown> | string | undefined;
  if (typeof args === 'string') return isJsonText(args) ? `args given as JSON text (${body.type})` : `args a bare name, the table or function itself (${body.type})`;
  if (BACKEND.test(body.type) && !/^pg_/.test(body.type)) return `backend prefix ${body.type.split('_')[0]}_ (${body.type})`;
  if (typeof args === 'object' && args !== null) {
    if (typeof args.table === 'string') return `table given as a bare string (${body.type}, args.table)`;
    if (args.version === 2 || (body.type === 'replace_metadata' && (args as { metadata?: { version?: unknown } }).metadata?.version === 2)) return `metadata version 2 (${body.type})`;
  }
  if (unknown.object === 'sql') return `SQL: ${unknown.detail ?? 'not understood'}`;
  return `${body.type} on ${url}: ${unknown.detail ?? 'not understood'}`;
}

const groups = new Map<string, { count: number; example: Entry; leaf: unknown; says: string }>();
const code = new Map<string, { count: number; example: Entry }>();
let looked = 0;
for (const entry of corpus.filter((e) => e.status === 200 || e.status === null)) {
  looked++;
  for (const leaf of leaves(entry.body)) {
    const effects = await analyzeHasuraBody(leaf, { endpoint: entry.url });
    for (const run of effects.filter((e) => e.verb === 'run')) {
      const key = `${run.object} ${run.name ?? ''}`.trim();
      code.set(key, { count: (code.get(key)?.count ?? 0) + 1, example: code.get(key)?.example ?? entry });
    }
    const unknown = effects.find((e) => e.verb === 'unknown');
    if (!unknown) continue;
    const cause = causeOf(leaf, entry.url, unknown);
    const group = groups.get(cause) ?? { count: 0, example: entry, leaf, says: `${unknown.object}: ${unknown.detail ?? ''}` };
    group.count++;
    groups.set(cause, group);
  }
}

const rows = [...groups].sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b));
const total = rows.reduce((n, [, g]) => n + g.count, 0);
const clip = (v: unknown) => {
  const json = JSON.stringify(v);
  return json.length > 300 ? `${json.slice(0, 300)}…` : json;
};
const lines = [
  '# Hasura answers 200, the guard does not understand: the corpus, by cause',
  '',
  `Made by \`npx tsx scripts/hasura-corpus-report.ts\` from test/fixtures/hasura-corpus.jsonl (hasura/graphql-engine at ${header.commit}; its first line says which paths),`,
  `with the analysis of this commit. Of ${looked} bodies whose test expects 200 or states no status, ${total} requests (a bulk counts once per part) have an \`unknown\` effect.`,
  'Each group: how many, the cause, the effect the guard reports, and one example (the part of the body, then where it comes from).',
  '',
  '| count | cause | the guard says | example | from |',
  '|---:|---|---|---|---|',
  ...rows.map(([cause, g]) => `| ${g.count} | ${cause} | ${g.says.replace(/\|/g, '\\|')} | \`${clip(g.leaf).replace(/\|/g, '\\|')}\` | ${g.example.url} ${g.example.from} |`),
  '',
  '## Code of unknown effect (`run`), by what is run',
  '',
  'Not "not understood", but held in production all the same: the functions and blocks these bodies run that no catalogue clears',
  '(src/analysis/sql-functions.ts lists the built-ins and the common extensions\' functions, PostGIS first). `setval` stays: it resets a sequence.',
  '',
  '| count | runs | first seen in |',
  '|---:|---|---|',
  ...[...code].sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b)).map(([what, c]) => `| ${c.count} | ${what} | ${c.example.url} ${c.example.from} |`),
  '',
];
writeFileSync(OUT, lines.join('\n'));
console.log(`${total} not understood in ${looked} bodies, ${rows.length} causes; written to ${OUT.pathname}`);
