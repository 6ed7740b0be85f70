// A stand-in for graphql-engine's /v1/metadata: checks each body against the documented metadata API and
// answers as Hasura does ({"message":"success"}, or 400 {"path","error","code"}), keeping state between calls.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

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

export async function startFakeHasura(adminSecret: string) {
  const state = {
    custom_types: { input_objects: [{ name: 'SomeoneElsesInput', fields: [{ name: 'x', type: 'Int' }] }], objects: [], scalars: [], enums: [] } as z.infer<typeof customTypes>,
    actions: new Map<string, z.infer<typeof actionArgs> & { permissions: { role: string }[] }>(),
    remote_schemas: new Map<string, z.infer<typeof remoteSchemaArgs>>(),
  };
  const requests: { type: string; args: any }[] = [];

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
        const exists = state.remote_schemas.has(a.name);
        if (type === 'add_remote_schema' && exists) return fail('already-exists', `remote schema with name "${a.name}" already exists`);
        if (type === 'update_remote_schema' && !exists) return fail('not-exists', `remote schema with name "${a.name}" does not exist`);
        state.remote_schemas.set(a.name, a);
        return success;
      }
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
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
