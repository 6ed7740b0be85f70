// The GraphQL front door: schema.graphql as the contract, resolvers that only translate to the guard.
import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { createGraphQLError, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { ChangeRequest, Guard } from './core/guard.js';
import { requesterFrom } from './http/requester.js';
import { packageFile } from './paths.js';

export const SCHEMA_FILE = packageFile('schema.graphql');

/** Limits on what one document may ask for. Our deepest real query is 2 levels; Hasura's introspection is exempt. */
export const GRAPHQL_LIMITS = { depth: 6, aliases: 10, tokens: 1000, directives: 10 } as const;

interface Context {
  request: Request;
}

export function createGuardSchema(guard: Guard) {
  const requester = (ctx: Context) => requesterFrom((name) => ctx.request.headers.get(name) ?? undefined);
  return makeExecutableSchema<Context>({
    typeDefs: readFileSync(SCHEMA_FILE, 'utf8'),
    resolvers: {
      Query: {
        previewMetadataChange: (_: unknown, args: { input: ChangeRequest }) => guard.preview(args.input),
      },
      Mutation: {
        validateMetadataChange: (_: unknown, args: { input: ChangeRequest }, ctx: Context) =>
          guard.validate(args.input, requester(ctx)),
        confirmMetadataChange: (_: unknown, args: { input: { confirmation_token: string } }, ctx: Context) =>
          guard.confirm(args.input.confirmation_token, requester(ctx)),
      },
    },
  });
}

export type GuardYoga = YogaServerInstance<object, object>;

export async function createGuardYoga(options: { guard: Guard; logger: Logger; graphiql: boolean }): Promise<GuardYoga> {
  const log = options.logger.child({ component: 'graphql' });
  // GraphiQL's page and editor are ~9 MB of JavaScript: load them only when GraphiQL is on.
  const renderGraphiQL = options.graphiql ? (await import('@graphql-yoga/render-graphiql')).renderGraphiQL : undefined;
  return createYoga({
    schema: createGuardSchema(options.guard),
    graphqlEndpoint: '/graphql',
    // Served from the package itself (no CDN), so it works in an air-gapped cluster.
    graphiql: options.graphiql ? { title: 'Hasura metadata guard', defaultQuery: EXAMPLE_QUERY } : false,
    renderGraphiQL,
    landingPage: false,
    // Hasura calls server to server and GraphiQL is same-origin: no browser on another origin needs us.
    cors: false,
    batching: false,
    // The HTTP layer already refuses bodies over 64 KiB before yoga sees them; yoga's own limit re-streams every
    // body through a TransformStream, which cost a third of the GraphQL request time in the profile.
    maxRequestBodySize: false,
    // Only errors created as GraphQLErrors reach a client; anything else becomes "Unexpected error.".
    maskedErrors: true,
    healthCheckEndpoint: '/yoga-health',
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      // The unmasked error goes to the server log only; the client saw the masked one.
      error: (...args) => log.error({ err: args.find((a) => a instanceof Error) }, 'graphql error'),
    },
    plugins: [
      maxDepthPlugin({ n: GRAPHQL_LIMITS.depth, ignoreIntrospection: true }),
      maxAliasesPlugin({ n: GRAPHQL_LIMITS.aliases }),
      maxTokensPlugin({ n: GRAPHQL_LIMITS.tokens }),
      maxDirectivesPlugin({ n: GRAPHQL_LIMITS.directives }),
      useInputErrorCode(),
      // Compiles each validated document to JavaScript once and runs that: execution is most of a GraphQL
      // request's time, and Hasura sends the same few documents again and again. Compiled documents live as long
      // as yoga's parsed-document cache keeps the document (a bounded LRU).
      useGraphQlJit(),
    ],
  });
}

/**
 * graphql-js reports variables that do not fit their type (a missing table_name, a number for a String) as
 * bare errors; give them a code like every other refusal, so clients can switch on extensions.code.
 */
function useInputErrorCode(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        // Such errors come back before execution starts: errors and no data at all.
        if (!('errors' in result) || !result.errors || 'data' in result) return;
        setResult({
          ...result,
          errors: result.errors.map((e) =>
            e.extensions?.code ? e : createGraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } }),
          ),
        });
      },
    }),
  };
}

const EXAMPLE_QUERY = `# Ask the guard about a change. In production a critical change returns a confirmation_token;
# pass it to confirmMetadataChange to confirm. With ACTION_SECRET set, add it under Headers below.
mutation Validate {
  validateMetadataChange(
    input: { operation: "DROP TABLE", table_name: "public.patients", environment: "production" }
  ) {
    success
    message
    confirmation_token
  }
}
`;
