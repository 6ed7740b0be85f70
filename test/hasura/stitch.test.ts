// The guard merged into a gateway the way Hasura merges a remote schema: introspect it, stitch it, and run
// validate and confirm through the gateway, with the session travelling as x-hasura-* headers.
import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { stitchSchemas } from '@graphql-tools/stitch';
import { schemaFromExecutor } from '@graphql-tools/wrap';
import { graphql, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_SECRET, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;
let gateway: GraphQLSchema;

beforeAll(async () => {
  server = await startTestServer({ ACTION_SECRET });
  const executor = buildHTTPExecutor({
    endpoint: `${server.url}/graphql`,
    // configured header (the secret) plus the session, as Hasura sends them
    headers: (request) => ({ action_secret: ACTION_SECRET, ...((request?.context as { session?: Record<string, string> })?.session ?? {}) }),
  });
  const remote = await schemaFromExecutor(executor);
  gateway = stitchSchemas({ subschemas: [{ schema: remote, executor }] });
});
afterAll(() => server.close());

const run = (source: string, session: Record<string, string>) => graphql({ schema: gateway, source, contextValue: { session } });

describe('stitched as a remote schema', () => {
  it('exposes the contract through the gateway', () => {
    expect(Object.keys(gateway.getMutationType()!.getFields())).toEqual(['validateMetadataChange', 'confirmMetadataChange']);
    expect(Object.keys(gateway.getQueryType()!.getFields())).toEqual(['previewMetadataChange']);
  });

  it('validates and confirms through the gateway, bound to the caller', async () => {
    const alice = { 'x-hasura-role': 'developer', 'x-hasura-user-id': 'alice' };
    const v = await run('mutation { validateMetadataChange(input: {operation: "pg_drop_relationship", table_name: "public.orders", environment: "live"}) { success message confirmation_token } }', alice);
    expect(v.errors).toBeUndefined();
    const token = (v.data as any).validateMetadataChange.confirmation_token;
    expect(token).toEqual(expect.any(String));

    const bob = await run(`mutation { confirmMetadataChange(input: {confirmation_token: "${token}"}) { success message } }`, { 'x-hasura-role': 'developer', 'x-hasura-user-id': 'bob' });
    expect((bob.data as any).confirmMetadataChange.success).toBe(false);

    const c = await run(`mutation { confirmMetadataChange(input: {confirmation_token: "${token}"}) { success message } }`, alice);
    expect((c.data as any).confirmMetadataChange).toEqual({ success: true, message: 'Confirmed: pg_drop_relationship on public.orders in production. Go ahead with the change.' });
  });
});
