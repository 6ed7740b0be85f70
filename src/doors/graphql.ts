// The GraphQL front door: schema.graphql as the contract, resolvers that only translate to the guard.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, type ValidationRule } from 'graphql';
import { createGraphQLError, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Code } from '../core/codes.js';
import type { ChangeRequest, Guard, Requester } from '../core/advisory.js';
import { requesterFrom, type RequesterResult } from '../http/requester.js';
import { personOf } from '../vocabulary/person.js';
import { packageFile } from '../vocabulary/paths.js';

export const SCHEMA_FILE = packageFile('schema.graphql');

/** Limits on what one document may ask for. Our deepest real query is 2 levels; Hasura's introspection is exempt. */
export const GRAPHQL_LIMITS = { depth: 6, aliases: 10, tokens: 1000, directives: 10 } as const;

/** yoga's context holds the fetch Request and, when served from node:http, the IncomingMessage too. */
interface Context {
  request?: Request;
  req?: IncomingMessage;
}

/**
 * Who asks. From node:http's headersDistinct where there is one: a fetch Request joins a repeated header into
 * "42, 43", which would pass for one id.
 */
function sessionOf(ctx: Context): RequesterResult {
  return requesterFrom((name) => ctx.req?.headersDistinct[name] ?? ctx.request?.headers.get(name) ?? undefined);
}

function createGuardSchema(guard: Guard) {
  const requester = (ctx: Context): Requester => {
    const session = sessionOf(ctx);
    if (!session.ok) throw createGraphQLError(session.message, { extensions: { code: 'INVALID_SESSION' } });
    // Hasura's session stays; the person the auth proxy names (src/identity/) travels beside it.
    const person = personOf(ctx.req);
    return person ? { ...session.requester, person } : session.requester;
  };
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

export async function createGuardYoga(options: {
  guard: Guard;
  logger: Logger;
  graphiql: boolean;
  /** The action secret's header, when a secret is configured: GraphiQL's headers name it, for the person to fill in. */
  secretHeader?: string;
}): Promise<GuardYoga> {
  const log = options.logger.child({ component: 'graphql' });
  // GraphiQL's page and editor are ~9 MB of JavaScript: load them only when GraphiQL is on.
  const renderGraphiQL = options.graphiql ? (await import('@graphql-yoga/render-graphiql')).renderGraphiQL : undefined;
  return createYoga({
    schema: createGuardSchema(options.guard),
    graphqlEndpoint: '/graphql',
    // Served from the package itself (no CDN), so it works in an air-gapped cluster.
    graphiql: options.graphiql ? graphiqlOptions(options.secretHeader) : false,
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
      // GraphQL takes only JSON POSTs (src/server.ts), which a web page cannot send elsewhere without a CORS
      // preflight; a GET needs a custom header (x-graphql-yoga-csrf), which it cannot send without one either.
      useCSRFPreventionWithCode(),
      useNoSubscriptions(),
      useInputErrorCode(),
      useNoStore(),
    ],
  });
}

function graphiqlOptions(secretHeader?: string) {
  const headers = exampleHeaders(secretHeader);
  return {
    title: 'Hasura metadata guard',
    defaultQuery: EXAMPLE_QUERY,
    // The first visit's tab; a returning visitor keeps the tabs GraphiQL stored in the browser.
    defaultTabs: [{ query: EXAMPLE_QUERY, headers }],
    // A new tab starts with the same session, so its tokens are bound to a user too.
    defaultHeaders: headers,
    defaultEditorToolsVisibility: true,
  };
}

/** Answers carry confirmation tokens: no cache keeps them (RFC 6749 §5.1 asks the same of access tokens). */
function useNoStore(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('cache-control', 'no-store');
    },
  };
}

/** yoga's CSRF prevention, its refusal given a code like every other refusal (codes.ts: CSRF_HEADER_REQUIRED). */
function useCSRFPreventionWithCode(): Plugin {
  const prevention = useCSRFPrevention();
  return {
    onRequestParse(payload) {
      try {
        return prevention.onRequestParse?.(payload);
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        const code: Code = 'CSRF_HEADER_REQUIRED';
        throw createGraphQLError(err.message, { extensions: { ...err.extensions, code } });
      }
    },
  };
}

/**
 * The schema has no subscriptions, and graphql-js 16 does not refuse an operation whose root type is missing at
 * validation: it would reach execution and fail there as an internal error (a 500 and a stack trace per request).
 */
function useNoSubscriptions(): Plugin {
  const rule: ValidationRule = (context) => ({
    OperationDefinition(node) {
      if (node.operation === 'subscription') {
        context.reportError(new GraphQLError('Subscriptions are not supported: this API has queries and mutations only.', { nodes: node }));
      }
    },
  });
  return { onValidate: ({ addValidationRule }) => addValidationRule(rule) };
}

/**
 * Variables that do not fit their type (a missing table_name, a number for a String) are refused before any
 * resolver runs, by graphql-js, without a code: give them one like every other refusal, so clients can switch on
 * extensions.code.
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

/**
 * GraphiQL's first tab: both steps, so a person sees the whole flow: run Validate, paste the token, run Confirm.
 * The values are inline rather than in variables: GraphiQL 5 drops a default tab's variables on the first visit.
 */
const EXAMPLE_QUERY = `# Ask the guard about a change, then confirm it. Press run and pick Validate: in production a critical change
# returns a confirmation_token. Paste it into Confirm below, then run Confirm.
# level says what the policy decided: allow, confirm or deny (success is true for both allow and confirm).
# The session is under Headers: tokens are bound to x-hasura-user-id, and four-eyes mode needs another user.
mutation Validate {
  validateMetadataChange(input: { operation: "DROP TABLE", table_name: "public.patients", environment: "production" }) {
    success
    level
    message
    confirmation_token
    changes { description class level }
  }
}

mutation Confirm {
  confirmMetadataChange(input: { confirmation_token: "paste the confirmation_token Validate returned" }) {
    success
    message
  }
}
`;

/** The session GraphiQL sends: Hasura's own headers, and the action secret's header when one is configured. */
function exampleHeaders(secretHeader?: string): string {
  const headers: Record<string, string> = { 'x-hasura-user-id': 'alice', 'x-hasura-role': 'developer' };
  if (secretHeader) headers[secretHeader] = 'paste the ACTION_SECRET value';
  return JSON.stringify(headers, null, 2);
}

export interface GraphQLDoor {
  yoga: GuardYoga;
  /** Answers a request to /graphql; a POST's body has already been read (and bounded) by the HTTP layer. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Promise<void>;
}

/** The GraphQL door: yoga, served from node:http, given the body the HTTP layer has already read. */
export function createGraphQLDoor(yoga: GuardYoga): GraphQLDoor {
  return {
    yoga,
    async handle(req, res, body) {
      if (body) {
        // @whatwg-node/server uses a body already on the request instead of the (consumed) stream.
        (req as IncomingMessage & { body?: Buffer }).body = body;
        // The HTTP layer accepted it as JSON, and media types are case-insensitive (RFC 9110 §8.3.1); yoga
        // compares the type as written and would refuse `Application/JSON` with an empty 415. JSON is UTF-8.
        req.headers['content-type'] = 'application/json';
      }
      await yoga.requestListener(req, res);
    },
  };
}
