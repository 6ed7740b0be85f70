// Registers the guard in a running Hasura through its metadata API (/v1/metadata), from the same files
// `hasura metadata apply` reads (hasura/metadata). Unlike `metadata apply`, it only adds or updates the
// guard's own objects and leaves the rest of the instance's metadata alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type FieldDefinitionNode, type InputValueDefinitionNode } from 'graphql';
import { load as parseYaml } from 'js-yaml';
import { packageFile } from '../paths.js';

export const METADATA_DIR = packageFile('hasura', 'metadata');

export interface MetadataRequest {
  type: string;
  args: Record<string, unknown>;
}

interface Step {
  request: MetadataRequest;
  /** What to do when Hasura answers `already-exists`: send this instead, or accept it as done. */
  ifExists?: MetadataRequest | 'done';
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
export function loadGuardMetadata(dir = METADATA_DIR) {
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
export function mergeCustomTypes(existing: Partial<CustomTypes> | undefined, ours: CustomTypes): CustomTypes {
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

export function planRegistration(meta: ReturnType<typeof loadGuardMetadata>, customTypes: CustomTypes): Step[] {
  const steps: Step[] = [{ request: { type: 'set_custom_types', args: { ...customTypes } } }];
  for (const a of meta.actions) {
    const args = { name: a.name, definition: a.definition, ...(a.comment ? { comment: a.comment } : {}) };
    steps.push({ request: { type: 'create_action', args }, ifExists: { type: 'update_action', args } });
    for (const p of a.permissions) {
      steps.push({ request: { type: 'create_action_permission', args: { action: a.name, role: p.role } }, ifExists: 'done' });
    }
  }
  for (const r of meta.remoteSchemas) {
    steps.push({ request: { type: 'add_remote_schema', args: r }, ifExists: { type: 'update_remote_schema', args: r } });
  }
  return steps;
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

export async function register(options: RegisterOptions): Promise<MetadataRequest[]> {
  const { endpoint, adminSecret, dryRun = false, log = console.log, fetch: doFetch = fetch } = options;
  const url = `${endpoint.replace(/\/+$/, '')}/v1/metadata`;
  const meta = loadGuardMetadata(options.metadataDir);
  const sent: MetadataRequest[] = [];

  async function send(request: MetadataRequest): Promise<{ ok: boolean; status: number; body: any }> {
    sent.push(request);
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(adminSecret ? { 'x-hasura-admin-secret': adminSecret } : {}) },
      body: JSON.stringify(request),
    });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.slice(0, 200) };
    }
    return { ok: res.ok, status: res.status, body };
  }

  if (dryRun) {
    log(`# dry run: the requests for POST ${url} (X-Hasura-Admin-Secret ${adminSecret ? 'set' : 'not set'}); nothing is sent`);
    log('# set_custom_types is merged with the instance\'s existing custom types when run for real');
    for (const step of planRegistration(meta, meta.customTypes)) {
      const fallback = step.ifExists === 'done' ? ' (already there: fine)' : step.ifExists ? ` (already there: ${step.ifExists.type} instead)` : '';
      log(`${JSON.stringify(step.request)}${fallback ? `  #${fallback}` : ''}`);
      sent.push(step.request);
    }
    return sent;
  }

  const exported = await send({ type: 'export_metadata', args: {} });
  if (!exported.ok) throw new RegisterError(`export_metadata failed (${exported.status}): ${describe(exported.body)}`);
  const customTypes = mergeCustomTypes(exported.body?.custom_types, meta.customTypes);

  for (const step of planRegistration(meta, customTypes)) {
    const what = `${step.request.type} ${String(step.request.args.name ?? step.request.args.action ?? '')}`.trim();
    let result = await send(step.request);
    if (!result.ok && result.body?.code === 'already-exists' && step.ifExists) {
      if (step.ifExists === 'done') {
        log(`${what}: already there`);
        continue;
      }
      result = await send(step.ifExists);
      if (result.ok) log(`${what}: existed, ${step.ifExists.type} done`);
    } else if (result.ok) {
      log(`${what}: done`);
    }
    if (!result.ok) throw new RegisterError(`${what} failed (${result.status}): ${describe(result.body)}`);
  }
  return sent;
}

function describe(body: any): string {
  return [body?.code, body?.error ?? body?.message].filter(Boolean).join(': ') || 'no details';
}
