// What a person finds when they open the server in a browser or curl its root: where GraphiQL is (or how to
// turn it on) and which routes there are. Built once, from the configuration; nothing here is secret.

export interface PagesOptions {
  graphiqlEnabled: boolean;
  metricsEnabled: boolean;
  /** Set when an action secret is configured: every operation must carry it in this header. */
  secretHeader?: string;
}

export interface Pages {
  /** GET /: the routes, as JSON for programs and as HTML for browsers. */
  index: { json: string; html: string };
  /** GET /graphql from a browser while GraphiQL is off: how to turn it on, instead of "Must provide query string.". */
  graphiqlOff: string;
}

const ENABLE_GRAPHIQL = 'Set GRAPHIQL_ENABLED=true and restart the guard (it is on by default outside NODE_ENV=production).';

export function createPages(options: PagesOptions): Pages {
  const routes: [string, string][] = [
    ['POST /graphql', 'GraphQL API: validateMetadataChange, confirmMetadataChange, previewMetadataChange'],
    ['GET /graphql', options.graphiqlEnabled ? 'GraphiQL, in a browser' : `GraphiQL is off. ${ENABLE_GRAPHIQL}`],
    ['POST /validate-metadata-change', 'Hasura action webhook for validateMetadataChange'],
    ['POST /confirm-metadata-change', 'Hasura action webhook for confirmMetadataChange'],
    ['POST /actions', 'Hasura action webhook for both actions (dispatch on action.name)'],
    ['GET /health', 'liveness'],
    ['GET /ready', 'readiness'],
    ...(options.metricsEnabled ? ([['GET /metrics', 'Prometheus metrics']] as [string, string][]) : []),
  ];
  const secret = options.secretHeader
    ? `Every operation needs the action secret in the ${options.secretHeader} header.`
    : 'No action secret is configured (ACTION_SECRET): anyone who reaches this port can call the guard.';
  const graphiql = options.graphiqlEnabled ? 'GraphiQL: open /graphql in a browser.' : `GraphiQL is off. ${ENABLE_GRAPHIQL}`;

  const json = JSON.stringify({ service: 'hasura-metadata-guard', graphiql, secret, routes: Object.fromEntries(routes) });
  const rows = routes.map(([route, what]) => `<tr><td><code>${escapeHtml(route)}</code></td><td>${escapeHtml(what)}</td></tr>`).join('');
  const graphiqlLine = options.graphiqlEnabled ? 'GraphiQL: <a href="/graphql">/graphql</a>.' : escapeHtml(graphiql);
  const html = page('Hasura metadata guard', `<p>${graphiqlLine}</p><p>${escapeHtml(secret)}</p><table>${rows}</table>`);
  const graphiqlOff = page(
    'GraphiQL is off',
    `<p>This guard serves no GraphiQL page. ${escapeHtml(ENABLE_GRAPHIQL)}</p><p>The GraphQL API itself answers POST /graphql. <a href="/">All routes</a>.</p>`,
  );
  return { index: { json, html }, graphiqlOff };
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
