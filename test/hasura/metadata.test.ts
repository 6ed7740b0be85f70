// The hasura/ folder: what `hasura metadata apply` and the trial stack read, checked against the server.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, print, printType, visit } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load as parseYaml } from 'js-yaml';
import { loadConfig } from '../../src/config.js';
import { WEBHOOK_ROUTES } from '../../src/doors/webhook.js';
import { expectHasuraAccepts } from '../hasura-check.js';
import { ACTION_SECRET, HASURA_HEADERS, hasuraPayload, postJson, startTestServer, type TestServer } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
/** Hasura's action types carry no descriptions; the contract's do. */
const withoutDescriptions = (sdl: string) =>
  print(visit(parse(sdl), { enter: (node) => ('description' in node && node.description ? { ...node, description: undefined } : undefined) }));
const meta = join(root, 'hasura', 'metadata');
const yaml = (file: string): any => parseYaml(readFileSync(file, 'utf8'));
const actionsYaml = yaml(join(meta, 'actions.yaml'));
const actionCases: [string, any][] = actionsYaml.actions.map((a: { name: string }) => [a.name, a]);
const remoteSchemas = yaml(join(meta, 'remote_schemas.yaml'));
const compose = yaml(join(root, 'hasura', 'docker-compose.yaml'));

type Header = { name: string; value?: string; value_from_env?: string };

describe('hasura/ CLI project', () => {
  it('is a config v3 project with the files metadata apply reads', () => {
    expect(yaml(join(root, 'hasura', 'config.yaml'))).toMatchObject({ version: 3, metadata_directory: 'metadata' });
    expect(yaml(join(meta, 'version.yaml'))).toEqual({ version: 3 });
    for (const f of ['actions.graphql', 'actions.yaml', 'remote_schemas.yaml', 'databases/databases.yaml']) expect(existsSync(join(meta, f)), f).toBe(true);
    for (const f of readdirSync(meta).filter((x) => x.endsWith('.yaml'))) expect(() => yaml(join(meta, f)), f).not.toThrow();
  });

  it('declares in actions.graphql exactly the types of the public contract', () => {
    // The CLI writes one `type Mutation` block per action; as one schema, the later ones are extensions.
    let blocks = 0;
    const sdl = readFileSync(join(meta, 'actions.graphql'), 'utf8').replace(/^type Mutation\b/gm, (m) => (blocks++ ? `extend ${m}` : m));
    const actions = buildSchema(sdl);
    const contract = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));
    for (const name of ['ValidateMetadataChangeInput', 'ValidateMetadataChangeOutput', 'MetadataChange', 'ConfirmMetadataChangeInput', 'ConfirmMetadataChangeOutput']) {
      expect(printType(actions.getType(name)!)).toBe(withoutDescriptions(printType(contract.getType(name)!)));
    }
    for (const field of ['validateMetadataChange', 'confirmMetadataChange']) {
      const a = actions.getMutationType()!.getFields()[field]!;
      const c = contract.getMutationType()!.getFields()[field]!;
      expect(`${a.args.map((x) => `${x.name}:${x.type}`)}->${a.type}`).toBe(`${c.args.map((x) => `${x.name}:${x.type}`)}->${c.type}`);
    }
    const declared = actionsYaml.custom_types;
    expect(declared.input_objects.map((t: { name: string }) => t.name).sort()).toEqual(['ConfirmMetadataChangeInput', 'ValidateMetadataChangeInput']);
    expect(declared.objects.map((t: { name: string }) => t.name).sort()).toEqual(['ConfirmMetadataChangeOutput', 'MetadataChange', 'ValidateMetadataChangeOutput']);
  });

  it.each(actionCases)('%s: templated handler, secret from env, no forwarded client headers, a role', (_n, action) => {
    const d = action.definition;
    expect(d.handler).toMatch(/^\{\{GUARD_BASE_URL\}\}\//);
    expect(Object.keys(WEBHOOK_ROUTES)).toContain(d.handler.replace('{{GUARD_BASE_URL}}', ''));
    expect(d.kind).toBe('synchronous');
    expect(d.forward_client_headers).toBe(false);
    for (const h of d.headers as Header[]) {
      expect(h.value, 'a secret only through value_from_env').toBeUndefined();
      expect(h.value_from_env).not.toMatch(/^HASURA_GRAPHQL_/);
    }
    expect(action.permissions.length).toBeGreaterThan(0);
  });

  it('registers the remote schema from env, with its secret header from env and a customization against clashes', () => {
    expect(remoteSchemas).toHaveLength(1);
    const d = remoteSchemas[0].definition;
    expect(d.url_from_env).toBe('GUARD_GRAPHQL_URL');
    expect(d.url).toBeUndefined();
    expect(d.forward_client_headers).toBe(false);
    for (const h of d.headers as Header[]) {
      expect(h.value).toBeUndefined();
      expect(h.value_from_env).not.toMatch(/^HASURA_GRAPHQL_/);
    }
    expect(d.customization.type_names.prefix).toMatch(/^\w+_$/);
    expect(d.customization.root_fields_namespace).toBe('guard');
  });
});

describe('the metadata against the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ACTION_SECRET });
  });
  afterAll(() => server.close());

  it.each(actionCases)('%s: the handler Hasura resolves answers with the configured header', async (name, action) => {
    // What Hasura does with this definition: resolve the template, add the configured headers.
    const url = action.definition.handler.replace('{{GUARD_BASE_URL}}', server.url);
    const env: Record<string, string> = { GUARD_ACTION_SECRET: ACTION_SECRET };
    const headers = Object.fromEntries((action.definition.headers as Header[]).map((h) => [h.name, h.value ?? env[h.value_from_env!]!]));
    const input = name === 'validateMetadataChange' ? { operation: 'DROP', table_name: 't', environment: 'prod' } : { confirmation_token: 'x.y.z' };
    const r = await postJson(url, hasuraPayload(name, input), { ...HASURA_HEADERS, ...headers });
    expect(r.status).toBe(200);
    expectHasuraAccepts(name as 'validateMetadataChange' | 'confirmMetadataChange', r.status, r.text);
  });
});

describe('hasura/docker-compose.yaml (trial stack)', () => {
  const hasura = compose.services.hasura;
  const guard = compose.services.guard;

  it('pins a v2 graphql-engine that applies ./metadata at start', () => {
    expect(hasura.image).toMatch(/^hasura\/graphql-engine:v2\.\d+\.\d+\.cli-migrations-v3$/);
    expect(hasura.volumes).toContain('./metadata:/hasura-metadata:ro');
  });

  it('gives Hasura every variable the metadata refers to', () => {
    const text = ['actions.yaml', 'remote_schemas.yaml', 'databases/databases.yaml'].map((f) => readFileSync(join(meta, f), 'utf8')).join('\n');
    const referenced = new Set([...text.matchAll(/(?:value_from_env|url_from_env|from_env):\s*(\w+)|\{\{(\w+)\}\}/g)].map((m) => m[1] ?? m[2]));
    expect([...referenced].sort()).toEqual(['GUARD_ACTION_SECRET', 'GUARD_BASE_URL', 'GUARD_GRAPHQL_URL', 'PG_DATABASE_URL']);
    for (const name of referenced) expect(hasura.environment, name).toHaveProperty(name!);
    expect(hasura.environment.GUARD_BASE_URL).toBe('http://guard:3000');
    expect(hasura.environment.GUARD_GRAPHQL_URL).toBe('http://guard:3000/graphql');
  });

  it('wires one action secret to both sides and builds the guard from the Dockerfile, guarding production', () => {
    expect(guard.environment.ACTION_SECRET).toMatch(/^\$\{GUARD_ACTION_SECRET[:}]/);
    expect(hasura.environment.GUARD_ACTION_SECRET).toBe('${GUARD_ACTION_SECRET}');
    expect(guard.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    expect(guard.environment).toMatchObject({ NODE_ENV: 'production', GUARD_ENVIRONMENT: 'production' });
    expect(hasura.depends_on.guard.condition).toBe('service_healthy');
  });

  it('puts the console and the CLI behind the guard: enforcing mode, and only the guard publishes a port', () => {
    expect(new URL(guard.environment.HASURA_URL).hostname).toBe('hasura');
    expect(new URL(guard.environment.HASURA_URL).port).toBe('8080');
    expect(hasura.ports).toBeUndefined();
    expect(guard.ports).toEqual(['3000:3000']);
    expect(yaml(join(root, 'hasura', 'config.yaml')).endpoint).toBe('http://localhost:3000');
    const config = loadConfig({ ...guard.environment, TOKEN_SECRET: 'x'.repeat(48), ACTION_SECRET: 'y'.repeat(32) });
    expect(config.hasuraUrl).toBe(guard.environment.HASURA_URL);
  });

  it("gives the guard a shared store in the stack's Postgres, which the guard's configuration accepts", () => {
    const url = new URL(guard.environment.GUARD_DATABASE_URL);
    expect(url.protocol).toBe('postgres:');
    expect(compose.services).toHaveProperty(url.hostname); // a service of this stack
    expect(url.port).toBe('5432');
    expect(decodeURIComponent(url.password)).toBe(compose.services[url.hostname].environment.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(new URL(hasura.environment.PG_DATABASE_URL).pathname); // the database Hasura uses
    expect(guard.depends_on[url.hostname].condition).toBe('service_healthy');
    const config = loadConfig({ ...guard.environment, TOKEN_SECRET: 'x'.repeat(48), ACTION_SECRET: 'y'.repeat(32) });
    expect(config.databaseUrl).toBe(guard.environment.GUARD_DATABASE_URL);
  });
});
