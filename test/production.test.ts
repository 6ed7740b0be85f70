// The production start path: the compiled build, started exactly as the Dockerfile's CMD starts it.
// (No Docker engine runs here; this is what the image runs.)
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_SECRET, hasuraPayload, postJson, TEST_SECRET } from './helpers.js';
import { freePort } from './support/ports.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';
import { postMetadata } from './support/enforcing-server.js';
import { startStandInHasura } from './support/stand-in-hasura.js';
import { imageStart } from './support/image-start.js';

const root = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
/** The CMD and ENV of the Dockerfile's final stage: how the image starts the guard. */
const image = imageStart(root);
const run = promisify(execFile);

/**
 * The image's /app, laid out by the final stage's COPY lines (the build stage's /app/dist is our dist/), in a
 * folder of its own: no node_modules, no sources. What the bundle needs and does not have fails here.
 */
function imageFolder(): string {
  const { finalStage } = image;
  const app = mkdtempSync(join(tmpdir(), 'guard-image-'));
  for (const [, from, args] of finalStage.matchAll(/^COPY (--from=\S+ )?(.+)$/gm)) {
    const parts = args!.split(/\s+/);
    const target = parts.pop()!;
    for (const source of parts) {
      const local = from ? source.replace(/^\/app\//, '') : source;
      cpSync(join(root, local), target.endsWith('/') ? join(app, target, local.split('/').at(-1)!) : join(app, target), { recursive: true });
    }
  }
  return app;
}

async function startCompiled(env: Record<string, string>): Promise<ServerProcess> {
  const { cmd, env: imageEnv } = image;
  // What a production start requires (src/config.ts): an action secret and the environment it guards.
  return spawnServer(cmd[0]!, cmd.slice(1), {
    cwd: appFolder,
    env: { PATH: process.env.PATH, ...imageEnv, PORT: '0', HOST: '127.0.0.1', ACTION_SECRET, GUARD_ENVIRONMENT: 'production', ...env },
  });
}

const secret = { action_secret: ACTION_SECRET };
let appFolder: string;
// dist/ is built once for the whole run (test/support/build.ts).
beforeAll(() => {
  appFolder = imageFolder();
});

describe('Dockerfile', () => {
  it('lays out /app with the bundle and its data files only', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(appFolder).sort()).toEqual(['dist', 'hasura', 'package.json', 'policies', 'schema.graphql']);
  });

  it('is multi-stage, runs node on the compiled build as a non-root user, with a HEALTHCHECK', () => {
    const { cmd, finalStage } = image;
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe('dist/index.js');
    expect(finalStage).toMatch(/^USER node$/m);
    expect(finalStage).toMatch(/^HEALTHCHECK /m);
    expect(finalStage).not.toMatch(/tsx|node_modules|npm (ci|install)/);
    expect(finalStage).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'test', '.git']) expect(ignored).toContain(entry);
  });

  it("fixes glibc's malloc thresholds with tunables glibc accepts (it ignores a misspelt one without a word)", async () => {
    const { env } = image;
    const wanted = env.GLIBC_TUNABLES!.split(':').map((entry) => entry.split('='));
    expect(wanted.map(([name]) => name).sort()).toEqual(['glibc.malloc.mmap_threshold', 'glibc.malloc.trim_threshold']);
    // The dynamic loader lists every tunable with the value it took from GLIBC_TUNABLES (the image's glibc is Debian's too).
    const { stdout } = await run('/lib64/ld-linux-x86-64.so.2', ['--list-tunables'], { env: { GLIBC_TUNABLES: env.GLIBC_TUNABLES } });
    for (const [name, value] of wanted) expect(stdout).toContain(`${name}: 0x${Number(value).toString(16)} `);
  });
});

describe('the compiled server, started as the image starts it', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startCompiled({ TOKEN_SECRET: TEST_SECRET });
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('answers health, readiness and the GraphQL API', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await server.waitForLine((l) => l.msg === 'ready: the GraphQL door is loaded');
    await server.waitForLine((l) => l.msg === 'ready: the SQL parser is loaded');
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const r = await postJson(`${server.url}/graphql`, { query: '{ previewMetadataChange(input: {operation: "DROP", table_name: "t", environment: "prod"}) { level } }' }, secret);
    expect(r.json).toEqual({ data: { previewMetadataChange: { level: 'confirm' } } });
  });

  it('passes the image HEALTHCHECK command', async () => {
    const check = JSON.parse(/HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)![1]!) as string[];
    const port = new URL(server.url).port;
    const result = await run(check[0]!, check.slice(1), { env: { PATH: process.env.PATH, PORT: port } }).then(() => 0, (e) => e.code);
    expect(result).toBe(0);
  });

  it('keeps GraphiQL off under NODE_ENV=production by default', async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    // A browser gets the short page saying how to turn GraphiQL on, not GraphiQL.
    expect(page.status).toBe(404);
    const html = await page.text();
    expect(html).toContain('Set GRAPHIQL_ENABLED=true');
    expect(html).not.toMatch(/graphiql-container|<script/i);
  });

  it('writes one JSON audit line per decision, without the token or any header value', async () => {
    const v = await postJson(`${server.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', { operation: 'DROP', table_name: 'public.patients', environment: 'production' }), { ...secret, 'x-custom-header': 'header-value-that-must-not-be-logged' });
    const token = v.json.confirmation_token as string;
    await postJson(`${server.url}/confirm-metadata-change`, hasuraPayload('confirmMetadataChange', { confirmation_token: token }), secret);
    const confirmed = await server.waitForLine((l) => l.audit?.outcome === 'confirmed');
    const issued = server.lines.find((l) => l.audit?.outcome === 'confirmation_required')!;
    expect(issued.audit).toEqual({ action: 'validate', outcome: 'confirmation_required', reason: 'CONFIRMATION_REQUIRED', userId: '42', role: 'developer', operation: 'DROP', table: 'public.patients', environment: 'production', tokenId: expect.any(String) });
    expect(confirmed.audit).toMatchObject({ action: 'confirm', userId: '42', role: 'developer', tokenId: issued.audit.tokenId });
    expect(issued).toMatchObject({ level: 30, time: expect.any(Number), msg: 'decision validate confirmation_required' });
    const all = JSON.stringify(server.lines);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('header-value-that-must-not-be-logged');
    expect(all).not.toContain(TEST_SECRET);
    expect(all).not.toContain(ACTION_SECRET);
  });
});

describe('the rest of the image', () => {
  it('analyses a large run_sql from the bundle: a DROP at its end is held', async () => {
    const hasura = await startStandInHasura();
    const server = await startCompiled({ TOKEN_SECRET: TEST_SECRET, HASURA_URL: hasura.url });
    try {
      await server.waitForLine((l) => l.msg === 'ready: the SQL parser is loaded');
      // 600 KB of harmless statements, then the one that matters.
      const filler = Array.from({ length: 12_000 }, (_, i) => `SELECT count(*) FROM public.orders WHERE id = ${i};`).join('\n');
      const sql = `${filler}\nDROP TABLE public.second_half;`;
      const held = await postMetadata(server.url, '/v2/query', { type: 'run_sql', args: { source: 'default', sql } });
      expect(held.status).toBe(400);
      expect(held.json.code).toBe('guard-confirmation-required');
      expect(held.json.error).toMatch(/drops table default\.public\.second_half/);
      expect(hasura.forwarded()).toEqual([]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await hasura.close();
    }
  });

  it('serves GraphiQL from the bundle when GRAPHIQL_ENABLED=true', async () => {
    const server = await startCompiled({ TOKEN_SECRET: TEST_SECRET, GRAPHIQL_ENABLED: 'true' });
    try {
      const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Hasura metadata guard');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('loads the PostgreSQL store from the bundle: with its database unreachable, /ready says so and confirmations are refused', async () => {
    const port = await freePort(); // nothing listens there
    const server = await startCompiled({ TOKEN_SECRET: TEST_SECRET, GUARD_DATABASE_URL: `postgres://guard:db-password-never-logged@127.0.0.1:${port}/guard` });
    try {
      const down = await server.waitForLine((l) => /^store unavailable/.test(l.msg ?? ''));
      expect(down.reason).toBe('the database is unreachable (ECONNREFUSED)'); // the client loaded, and tried
      await server.waitForLine((l) => l.msg === 'ready: the GraphQL door is loaded');
      await server.waitForLine((l) => l.msg === 'ready: the SQL parser is loaded');
      const ready = await fetch(`${server.url}/ready`);
      expect([ready.status, await ready.json()]).toEqual([503, { status: 'store unavailable' }]);
      const v = await postJson(`${server.url}/validate-metadata-change`, hasuraPayload('validateMetadataChange', { operation: 'DROP', table_name: 'patients', environment: 'production' }), secret);
      const c = await postJson(`${server.url}/confirm-metadata-change`, hasuraPayload('confirmMetadataChange', { confirmation_token: v.json.confirmation_token }), secret);
      expect([c.status, c.json.success, c.json.message]).toEqual([200, false, expect.stringMatching(/its database is unreachable/)]);
      expect(JSON.stringify(server.lines)).not.toContain('db-password-never-logged');
    } finally {
      await server.stop();
    }
  });

  it('starts without ACTION_SECRET and GUARD_ENVIRONMENT only with ALLOW_INSECURE_PRODUCTION=true, saying so in a warn line', async () => {
    const server = await startCompiled({ TOKEN_SECRET: TEST_SECRET, ACTION_SECRET: '', GUARD_ENVIRONMENT: '', ALLOW_INSECURE_PRODUCTION: 'true' });
    try {
      const warning = server.lines.find((l) => l.level === 40)!;
      expect(warning.msg).toMatch(/^ALLOW_INSECURE_PRODUCTION=true: production runs without ACTION_SECRET .* and without GUARD_ENVIRONMENT /);
      expect(server.lines.indexOf(warning)).toBeLessThan(server.lines.findIndex((l) => typeof l.url === 'string'));
    } finally {
      await server.stop();
    }
  });

  it('runs the register command: node dist/hasura/register-cli.js --dry-run', async () => {
    const { stdout } = await run('node', ['dist/hasura/register-cli.js', '--dry-run'], { cwd: appFolder, env: { PATH: process.env.PATH, HASURA_GRAPHQL_ENDPOINT: 'http://hasura:8080' } });
    // One JSON document, so `--dry-run | jq` works.
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ dry_run: true, url: 'http://hasura:8080/v1/metadata', request: { type: 'bulk' } });
    expect(doc.request.args.map((r: { type: string }) => r.type)).toContain('create_action');
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM: stops accepting, finishes the request in flight, exits 0', async () => {
    const server = await startCompiled({ TOKEN_SECRET: TEST_SECRET, SHUTDOWN_TIMEOUT_MS: '10000' });
    const body = JSON.stringify(hasuraPayload('validateMetadataChange', { operation: 'DROP', table_name: 'patients', environment: 'production' }));
    const { hostname, port } = new URL(server.url);

    // A request that is in flight: headers and half the body sent.
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ hostname, port, path: '/actions', method: 'POST', headers: { ...secret, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 20));
      server.waitForLine((l) => l.msg === 'shutting down: finishing in-flight requests').then(() => req.end(body.slice(20)));
    });
    // SIGTERM only once the server has the request (its socket is open and the headers are parsed).
    await new Promise((r) => setImmediate(r));
    await waitUntilConnected(server.url);
    server.child.kill('SIGTERM');

    const answered = await response;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text)).toMatchObject({ success: true, confirmation_token: expect.any(String) });
    expect(await server.exited).toBe(0);
    expect(server.lines.at(-1)).toMatchObject({ msg: 'stopped' });
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });

  it('exits 0 within the bound even when a request never finishes', async () => {
    const server = await startCompiled({ TOKEN_SECRET: TEST_SECRET, SHUTDOWN_TIMEOUT_MS: '300' });
    const { hostname, port } = new URL(server.url);
    const req = request({ hostname, port, path: '/actions', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1000 } });
    req.on('error', () => {});
    req.write('{');
    await waitUntilConnected(server.url);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

/** The server answers on a second connection: it is accepting, so the first connection's request is in. */
async function waitUntilConnected(url: string) {
  expect((await fetch(`${url}/health`)).status).toBe(200);
}
