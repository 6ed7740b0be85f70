// A stand-in for graphql-engine's /v1/metadata: checks each body against the documented metadata API and
// answers as Hasura does ({"message":"success"}, or 400 {"path","error","code"}), keeping state between calls.
// Like Hasura (test/fixtures/hasura-metadata-api.json): a `bulk` is stored only if every command in it succeeds;
// bulk_atomic refuses actions, custom types and remote schemas; a variable the metadata names that Hasura's own
// environment lacks fails the command with "environment variable '...' not set".
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const FACTS = JSON.parse(readFileSync(new URL('../fixtures/hasura-metadata-api.json', import.meta.url), 'utf8'));
/** What a Hasura started for the guard has in its environment (hasura/docker-compose.yaml). */
export const GUARD_HASURA_ENV = { GUARD_BASE_URL: 'http://guard:3000', GUARD_GRAPHQL_URL: 'http://guard:3000/graphql', GUARD_ACTION_SECRET: 'x'.repeat(32) };

const header = z.union([
  z.strictObject({ name: z.string().min(1), value: z.string() }),
  z.strictObject({
    name: z.string().min(1),
    value_from_env: z.string().refine((v) => !v.startsWith('HASURA_GRAPHQL_'), 'env variables starting with "HASURA_GRAPHQL_" are not allowed in value_from_env'),
  }),
]);
const field = z.strictObject({ name: z.string(), type: z.string(), description: z.string().optional() });
const customTypes = z.strictObject({
  input_objects: z.array(z.strictObject({ name: z.string(), description: z.string().optional(), fields: z.array(field).min(1) })).optional(),
  objects: z.array(z.strictObject({ name: z.string(), description: z.string().optional(), fields: z.array(field).min(1), relationships: z.array(z.unknown()).optional() })).optional(),
  scalars: z.array(z.unknown()).optional(),
  enums: z.array(z.unknown()).optional(),
});
const actionArgs = z.strictObject({
  name: z.string().regex(/^[_a-zA-Z][_a-zA-Z0-9]*$/),
  definition: z.strictObject({
    kind: z.enum(['synchronous', 'asynchronous']).optional(),
    type: z.enum(['mutation', 'query']).optional(),
    arguments: z.array(z.strictObject({ name: z.string(), type: z.string(), description: z.string().optional() })).optional(),
    output_type: z.string(),
    handler: z.string(),
    headers: z.array(header).optional(),
    forward_client_headers: z.boolean().optional(),
    timeout: z.number().int().positive().optional(),
  }),
  comment: z.string().optional(),
});
const remoteSchemaArgs = z.strictObject({
  name: z.string(),
  definition: z
    .strictObject({
      url: z.string().optional(),
      url_from_env: z.string().optional(),
      headers: z.array(header).optional(),
      forward_client_headers: z.boolean().optional(),
      timeout_seconds: z.number().int().positive().optional(),
      customization: z
        .strictObject({
          root_fields_namespace: z.string().optional(),
          type_names: z.strictObject({ prefix: z.string().optional(), suffix: z.string().optional(), mapping: z.record(z.string(), z.string()).optional() }).optional(),
          field_names: z.array(z.unknown()).optional(),
        })
        .optional(),
    })
    .refine((d) => (d.url === undefined) !== (d.url_from_env === undefined), 'exactly one of url and url_from_env is required'),
  comment: z.string().optional(),
});

type Answer = { status: number; body: unknown };
const success: Answer = { status: 200, body: { message: 'success' } };
const fail = (code: string, error: string, path = '$.args'): Answer => ({ status: 400, body: { path, error, code } });

export async function startFakeHasura(adminSecret: string, env: Record<string, string> = GUARD_HASURA_ENV) {
  let state = {
    custom_types: { input_objects: [{ name: 'SomeoneElsesInput', fields: [{ name: 'x', type: 'Int' }] }], objects: [], scalars: [], enums: [] } as z.infer<typeof customTypes>,
    actions: new Map<string, z.infer<typeof actionArgs> & { permissions: { role: string }[] }>(),
    remote_schemas: new Map<string, z.infer<typeof remoteSchemaArgs>>(),
  };
  const requests: { type: string; args: any }[] = [];
  /** The requests whose changes were stored: a failed bulk leaves none. */
  const writes: { type: string; args: any }[] = [];

  const missingEnv = (source: 'url_from_env' | 'value_from_env', name: string): Answer | undefined => {
    if (name in env) return undefined;
    const fact = FACTS.missing_env_var[source];
    return fail(fact.code, fact.error.replace('{{VAR}}', name));
  };
  const headersEnv = (headers: z.infer<typeof header>[] = []) =>
    headers.map((h) => ('value_from_env' in h ? missingEnv('value_from_env', h.value_from_env) : undefined)).find(Boolean);

  function handle(type: string, args: unknown): Answer {
    const parsed = <T>(schema: z.ZodType<T>): T | Answer => {
      const r = schema.safeParse(args);
      return r.success ? r.data : fail('parse-failed', r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    };
    const isAnswer = (x: unknown): x is Answer => typeof x === 'object' && x !== null && 'status' in x && 'body' in x;
    switch (type) {
      case 'export_metadata':
        return {
          status: 200,
          body: {
            version: 3,
            sources: [],
            custom_types: state.custom_types,
            actions: [...state.actions.values()],
            remote_schemas: [...state.remote_schemas.values()],
          },
        };
      case 'set_custom_types': {
        const a = parsed(customTypes);
        if (isAnswer(a)) return a;
        state.custom_types = a;
        return success;
      }
      case 'create_action':
      case 'update_action': {
        const a = parsed(actionArgs);
        if (isAnswer(a)) return a;
        for (const m of a.definition.handler.matchAll(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g)) {
          const missing = missingEnv('value_from_env', m[1]!);
          if (missing) return missing;
        }
        const existing = state.actions.get(a.name);
        if (type === 'create_action' && existing) return fail('already-exists', `action with name "${a.name}" already exists`);
        if (type === 'update_action' && !existing) return fail('not-exists', `action with name "${a.name}" does not exist`);
        const base = (t: string) => t.replace(/[[\]!]/g, '');
        for (const arg of a.definition.arguments ?? []) {
          if (!state.custom_types.input_objects?.some((o) => o.name === base(arg.type)) && !['String', 'Int', 'Boolean', 'Float', 'ID'].includes(base(arg.type))) {
            return fail('invalid-params', `the type: "${base(arg.type)}" is not defined in custom types or it is not a scalar/enum/input_object`);
          }
        }
        if (!state.custom_types.objects?.some((o) => o.name === base(a.definition.output_type))) {
          return fail('not-exists', `the type: "${base(a.definition.output_type)}" is not an object type defined in custom types`);
        }
        state.actions.set(a.name, { ...a, permissions: existing?.permissions ?? [] });
        return success;
      }
      case 'create_action_permission': {
        const a = parsed(z.strictObject({ action: z.string(), role: z.string(), definition: z.unknown().optional(), comment: z.string().optional() }));
        if (isAnswer(a)) return a;
        const action = state.actions.get(a.action);
        if (!action) return fail('not-exists', `action with name "${a.action}" does not exist`);
        if (action.permissions.some((p) => p.role === a.role)) return fail('already-exists', `permission for role "${a.role}" is already defined on "${a.action}"`);
        action.permissions.push({ role: a.role });
        return success;
      }
      case 'add_remote_schema':
      case 'update_remote_schema': {
        const a = parsed(remoteSchemaArgs);
        if (isAnswer(a)) return a;
        const missing = (a.definition.url_from_env && missingEnv('url_from_env', a.definition.url_from_env)) || headersEnv(a.definition.headers);
        if (missing) return missing;
        const exists = state.remote_schemas.has(a.name);
        if (type === 'add_remote_schema' && exists) return fail('already-exists', `remote schema with name "${a.name}" already exists`);
        if (type === 'update_remote_schema' && !exists) return fail('not-exists', `remote schema with name "${a.name}" does not exist`);
        state.remote_schemas.set(a.name, a);
        return success;
      }
      case 'bulk': {
        if (!Array.isArray(args)) return fail('parse-failed', 'expected an array of commands', '$.args');
        // Hasura applies the commands to the metadata in memory and stores it only if all of them succeed.
        const before = structuredClone(state);
        for (const [i, command] of args.entries()) {
          const answer = handle(command?.type, command?.args);
          if (answer.status !== 200) {
            state = before;
            return { status: answer.status, body: { ...(answer.body as object), path: `$.args[${i}].args` } };
          }
        }
        return { status: 200, body: args.map(() => ({ message: 'success' })) };
      }
      case 'bulk_atomic':
        return { status: 500, body: { path: '$', error: FACTS.bulk_atomic_other_commands.error, code: 'unexpected' } };
      default:
        return fail('parse-failed', `unknown metadata command "${type}"`, '$');
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let answer: Answer;
      if (req.url !== '/v1/metadata' || req.method !== 'POST') answer = { status: 404, body: { path: '$', error: 'resource does not exist', code: 'not-found' } };
      else if (req.headers['x-hasura-admin-secret'] !== adminSecret) answer = fail('access-denied', 'invalid x-hasura-admin-secret/x-hasura-access-key', '$');
      else {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        requests.push(body);
        answer = handle(body.type, body.args);
        if (answer.status === 200 && body.type !== 'export_metadata') writes.push(body);
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get state() {
      return state;
    },
    requests,
    writes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
