// The requests bench/proxy.ts and bench/proxy-profile.ts send through the enforcing proxy, and how one connection
// sends them one after another.
import { Agent, request } from 'node:http';

export const ADMIN = { 'content-type': 'application/json', 'x-hasura-admin-secret': 'bench-admin-secret' };

export const SCENARIOS = [
  { name: 'pass-through POST /v1/graphql', path: '/v1/graphql', body: JSON.stringify({ query: 'query { patients(limit: 1) { id name } }' }) },
  { name: 'inspected POST /v1/metadata', path: '/v1/metadata', body: JSON.stringify({ type: 'get_inconsistent_metadata', args: {} }) },
];

/** At a person's pace: what the console sends when someone tracks a table, and runs SQL on the Raw SQL page. */
export const ONE_CONNECTION_SCENARIOS = [
  SCENARIOS[0]!,
  {
    name: 'inspected routine metadata call (console "Track table", /v1/metadata bulk)',
    path: '/v1/metadata',
    body: JSON.stringify({ type: 'bulk', source: 'default', resource_version: 12, args: [{ type: 'pg_track_table', args: { source: 'default', table: { schema: 'public', name: 'orders' } } }] }),
  },
  {
    name: 'inspected console SQL bulk (Raw SQL page, /v2/query: statement_timeout + CREATE TABLE + CREATE INDEX)',
    path: '/v2/query',
    body: JSON.stringify({
      type: 'bulk',
      source: 'default',
      args: [
        { type: 'run_sql', args: { source: 'default', sql: 'SET LOCAL statement_timeout = 10000;', cascade: false, read_only: false } },
        {
          type: 'run_sql',
          args: {
            source: 'default',
            sql: 'CREATE TABLE public.order_notes (id serial PRIMARY KEY, order_id integer NOT NULL REFERENCES public.orders (id), note text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX order_notes_order_id ON public.order_notes (order_id);',
            cascade: false,
            read_only: false,
          },
        },
      ],
    }),
  },
];

/** Sends `count` requests one after another on one keep-alive connection; the milliseconds each took. */
export async function oneAfterAnother(url: string, path: string, body: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(url);
  const headers = { ...ADMIN, 'content-length': Buffer.byteLength(body) };
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: hostname, port, method: 'POST', path, headers, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      times.push(performance.now() - started);
      if (status !== 200) throw new Error(`${url}${path}: answered ${status}`);
    }
  } finally {
    agent.destroy();
  }
  return times;
}
