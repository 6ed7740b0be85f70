// Registers the guard in a running Hasura through its metadata API (/v1/metadata), from the same files
// `hasura metadata apply` reads (hasura/metadata). Unlike `metadata apply`, it only adds or updates the
// guard's own objects and leaves the rest of the instance's metadata alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type FieldDefinitionNode, type InputValueDefinitionNode } from 'graphql';
import { load as parseYaml } from 'js-yaml';
import { packageFile } from '../vocabulary/paths.js';

const METADATA_DIR = packageFile('hasura', 'metadata');

export interface MetadataRequest {
  type: string;
  args: Record<string, unknown>;
}

interface CustomTypes {
  input_objects: { name: string; fields: { name: string; type: string }[] }[];
  objects: { name: string; fields: { name: string; type: string }[] }[];
  scalars: unknown[];
  enums: unknown[];
}

interface ActionYaml {
  name: string;
  definition: Record<string, unknown>;
  permissions?: { role: string }[];
  comment?: string;
}

/** The guard's actions, custom types and remote schema, as the metadata API wants them. */
function loadGuardMetadata(dir = METADATA_DIR) {
  const sdl = parse(readFileSync(join(dir, 'actions.graphql'), 'utf8'));
  const actionsYaml = parseYaml(readFileSync(join(dir, 'actions.yaml'), 'utf8')) as { actions: ActionYaml[] };
  const remoteSchemas = parseYaml(readFileSync(join(dir, 'remote_schemas.yaml'), 'utf8')) as Record<string, unknown>[];

  const fieldsOf = (fields: readonly (FieldDefinitionNode | InputValueDefinitionNode)[] = []) =>
    fields.map((f) => ({ name: f.name.value, type: print(f.type) }));
  const customTypes: CustomTypes = { input_objects: [], objects: [], scalars: [], enums: [] };
  const mutations = new Map<string, FieldDefinitionNode>();
  for (const def of sdl.definitions) {
    if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) customTypes.input_objects.push({ name: def.name.value, fields: fieldsOf(def.fields) });
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && def.name.value === 'Mutation') for (const f of def.fields ?? []) mutations.set(f.name.value, f);
    else if (def.kind === Kind.OBJECT_TYPE_DEFINITION) customTypes.objects.push({ name: def.name.value, fields: fieldsOf(def.fields) });
  }

  const actions = actionsYaml.actions.map((action) => {
    const field = mutations.get(action.name);
    if (!field) throw new Error(`actions.yaml names ${action.name}, which actions.graphql does not declare`);
    return {
      name: action.name,
      comment: action.comment,
      permissions: action.permissions ?? [],
      definition: {
        ...action.definition,
        type: 'mutation',
        arguments: fieldsOf(field.arguments),
        output_type: print(field.type),
      },
    };
  });
  return { customTypes, actions, remoteSchemas };
}

/** Merges our custom types into the instance's: set_custom_types replaces them all, and others may be in use. */
function mergeCustomTypes(existing: Partial<CustomTypes> | undefined, ours: CustomTypes): CustomTypes {
  const merge = <T extends { name: string }>(theirs: T[] = [], mine: T[]) => [
    ...theirs.filter((t) => !mine.some((m) => m.name === t.name)),
    ...mine,
  ];
  return {
    input_objects: merge(existing?.input_objects, ours.input_objects),
    objects: merge(existing?.objects, ours.objects),
    scalars: existing?.scalars ?? [],
    enums: existing?.enums ?? [],
  };
}

/** What the instance already has of ours, from export_metadata: decides create_* or update_* for each object. */
export interface Existing {
  actions: Map<string, Set<string>>;
  remoteSchemas: Set<string>;
}

function existingFrom(exported: any): Existing {
  const actions = new Map<string, Set<string>>();
  for (const a of Array.isArray(exported?.actions) ? exported.actions : []) {
    if (typeof a?.name === 'string') actions.set(a.name, new Set((a.permissions ?? []).map((p: { role: string }) => p.role)));
  }
  const remoteSchemas = new Set<string>((Array.isArray(exported?.remote_schemas) ? exported.remote_schemas : []).map((r: { name: string }) => r.name));
  return { actions, remoteSchemas };
}

const NOTHING: Existing = { actions: new Map(), remoteSchemas: new Set() };

/** Every request, in order: custom types first (the actions refer to them), each action, its permissions, the remote schema. */
function planRegistration(meta: ReturnType<typeof loadGuardMetadata>, customTypes: CustomTypes, existing: Existing = NOTHING): MetadataRequest[] {
  const requests: MetadataRequest[] = [{ type: 'set_custom_types', args: { ...customTypes } }];
  for (const a of meta.actions) {
    const args = { name: a.name, definition: a.definition, ...(a.comment ? { comment: a.comment } : {}) };
    const roles = existing.actions.get(a.name);
    requests.push({ type: roles ? 'update_action' : 'create_action', args });
    for (const p of a.permissions) {
      if (!roles?.has(p.role)) requests.push({ type: 'create_action_permission', args: { action: a.name, role: p.role } });
    }
  }
  for (const r of meta.remoteSchemas) {
    requests.push({ type: existing.remoteSchemas.has(String(r.name)) ? 'update_remote_schema' : 'add_remote_schema', args: r });
  }
  return requests;
}

/** The variables of Hasura's own environment the metadata refers to: {{VAR}} templates, value_from_env, url_from_env. */
function requiredHasuraEnv(meta: ReturnType<typeof loadGuardMetadata>): string[] {
  const names = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (key === 'value_from_env' || key === 'url_from_env') names.add(value);
      for (const m of value.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) names.add(m[1]!);
    } else if (Array.isArray(value)) value.forEach((v) => walk(v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(meta.actions);
  walk(meta.remoteSchemas);
  return [...names].sort();
}

export class RegisterError extends Error {
  override name = 'RegisterError';
}

export interface RegisterOptions {
  endpoint: string;
  adminSecret?: string;
  dryRun?: boolean;
  log?: (line: string) => void;
  fetch?: typeof fetch;
  metadataDir?: string;
}

/**
 * Registers the guard in one request. Hasura's metadata API runs a `bulk` on its metadata in memory and stores
 * the result only if every command in it succeeded, so registration either happens whole or not at all.
 * (`bulk_atomic` would say so in its name, but Hasura accepts only relationship, native query, logical model and
 * stored procedure commands in it: set_custom_types, actions and remote schemas are refused.)
 * Facts from Hasura's sources: test/fixtures/hasura-metadata-api.json.
 */
export async function register(options: RegisterOptions): Promise<MetadataRequest[]> {
  const { endpoint, adminSecret, dryRun = false, log = console.log, fetch: doFetch = fetch } = options;
  const url = `${endpoint.replace(/\/+$/, '')}/v1/metadata`;
  const meta = loadGuardMetadata(options.metadataDir);
  const needs = requiredHasuraEnv(meta);
  const needsLine = `Hasura's own environment must have ${needs.join(', ')}.`;

  if (dryRun) {
    // One JSON document on stdout, so `--dry-run | jq` works: what would be sent, and to where.
    const request: MetadataRequest = { type: 'bulk', args: planRegistration(meta, meta.customTypes) as unknown as Record<string, unknown> };
    log(
      JSON.stringify(
        {
          dry_run: true,
          url,
          admin_secret: adminSecret ? 'set' : 'not set',
          hasura_env_required: needs,
          notes: [
            'Nothing was sent. Run without --dry-run to apply it as one bulk request: all of it or nothing.',
            "When run for real, set_custom_types keeps the instance's other custom types, and objects that already exist are updated (update_action, update_remote_schema) instead of created.",
          ],
          request,
        },
        null,
        2,
      ),
    );
    return [request];
  }

  async function send(request: MetadataRequest): Promise<{ ok: boolean; status: number; body: any }> {
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(adminSecret ? { 'x-hasura-admin-secret': adminSecret } : {}) },
        body: JSON.stringify(request),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
      throw new RegisterError(`Hasura is not reachable at ${url}${cause}: check HASURA_GRAPHQL_ENDPOINT. Nothing was changed.`);
    }
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.slice(0, 200) };
    }
    return { ok: res.ok, status: res.status, body };
  }

  // 1. Reachable, and the admin secret accepted: export_metadata changes nothing and tells us what exists.
  const exported = await send({ type: 'export_metadata', args: {} });
  if (!exported.ok) {
    if (exported.body?.code === 'access-denied') {
      throw new RegisterError(
        `Hasura refused the admin secret (${describe(exported.body)}): set HASURA_GRAPHQL_ADMIN_SECRET to Hasura's admin secret. Nothing was changed.`,
      );
    }
    throw new RegisterError(`export_metadata failed (${exported.status}): ${describe(exported.body)}. Nothing was changed.`);
  }

  // 2. Everything in one bulk. Hasura resolves the variables the metadata names while applying it, and a
  //    variable it lacks fails the whole bulk: nothing is half-registered.
  const requests = planRegistration(meta, mergeCustomTypes(exported.body?.custom_types, meta.customTypes), existingFrom(exported.body));
  const applied = await send({ type: 'bulk', args: requests as unknown as Record<string, unknown> });
  if (!applied.ok) {
    const missing = /environment variable '([^']+)' not set/i.exec(String(applied.body?.error ?? ''))?.[1];
    if (missing) {
      throw new RegisterError(`Hasura's environment lacks ${missing}: set it on the Hasura server (not the guard), restart Hasura and run this again. ${needsLine} Nothing was changed.`);
    }
    throw new RegisterError(`Hasura refused the registration (${applied.status}): ${describe(applied.body)}. Nothing was changed.`);
  }
  for (const r of requests) log(`${r.type} ${String(r.args.name ?? r.args.action ?? '')}`.trim());
  log(`Registered in one bulk request. ${needsLine}`);
  return requests;
}

function describe(body: any): string {
  const where = typeof body?.path === 'string' && body.path !== '$' ? ` at ${body.path}` : '';
  return ([body?.code, body?.error ?? body?.message].filter(Boolean).join(': ') || 'no details') + where;
}
