// The GraphQL front door: schema.graphql as the contract, resolvers that only translate to the guard.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ValidationRule } from 'graphql';
import { createGraphQLError, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { ChangeRequest, Guard, Requester } from '../core/guard.js';
import { requesterFrom, type RequesterResult } from '../http/requester.js';
import { personOf } from '../identity/person.js';
import { packageFile } from '../paths.js';

export const SCHEMA_FILE = packageFile('schema.graphql');

/** Limits on what one document may ask for. Our deepest real query is 2 levels; Hasura's introspection is exempt. */
export const GRAPHQL_LIMITS = { depth: 6, aliases: 10, tokens: 1000, directives: 10 } as const;

/**
 * yoga's context holds the fetch Request and, when served from node:http, the IncomingMessage too; the fast path
 * (below) hands over the session directly.
 */
interface Context {
  request?: Request;
  req?: IncomingMessage;
  session?: RequesterResult;
}

/**
 * Who asks. From node:http's headersDistinct where there is one: a fetch Request joins a repeated header into
 * "42, 43", which would pass for one id.
 */
function sessionOf(ctx: Context): RequesterResult {
  return ctx.session ?? requesterFrom((name) => ctx.req?.headersDistinct[name] ?? ctx.request?.headers.get(name) ?? undefined);
}

export function createGuardSchema(guard: Guard) {
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
      useCSRFPrevention(),
      useNoSubscriptions(),
      useParseErrorCode(),
      useInputErrorCode(),
      // Compiles each validated document to JavaScript once and runs that: execution is most of a GraphQL
      // request's time, and Hasura sends the same few documents again and again. Compiled documents live as long
      // as yoga's parsed-document cache keeps the document (a bounded LRU).
      useGraphQlJit(),
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
 * yoga gives a syntax error its code only when it parses a document for a fetch Request; the fast path parses
 * without one, and yoga caches the error it got. Give it the same code and HTTP status yoga would, whoever parses
 * first (the error object is the one cached, so every later answer carries it).
 */
function useParseErrorCode(): Plugin {
  return {
    onParse: () => ({ result }) => {
      if (!(result instanceof GraphQLError)) return;
      const extensions = result.extensions as Record<string, unknown> & { http?: { spec?: boolean; status?: number } };
      extensions.code ||= 'GRAPHQL_PARSE_FAILED';
      extensions.http ||= {};
      extensions.http.spec ||= true;
      extensions.http.status ||= 400;
    },
  };
}

/**
 * Variables that do not fit their type (a missing table_name, a number for a String) are refused before any
 * resolver runs. graphql-jit words those errors after the nested field (`Variable "$operation"` where the
 * variable is `$i`) and without a code: ask graphql-js for its wording on that (rare) path, and give each a code
 * like every other refusal, so clients can switch on extensions.code.
 */
function useInputErrorCode(): Plugin {
  return {
    onExecute: ({ args }) => ({
      onExecuteDone({ result, setResult }) {
        // Such errors come back before execution starts: errors and no data at all.
        if (!('errors' in result) || !result.errors || 'data' in result) return;
        const operation = getOperationAST(args.document, args.operationName);
        const coerced = operation ? getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {}) : undefined;
        const errors = coerced?.errors?.length ? coerced.errors : result.errors;
        setResult({
          ...result,
          errors: errors.map((e) =>
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
export const EXAMPLE_QUERY = `# Ask the guard about a change, then confirm it. Press run and pick Validate: in production a critical change
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
export function exampleHeaders(secretHeader?: string): string {
  const headers: Record<string, string> = { 'x-hasura-user-id': 'alice', 'x-hasura-role': 'developer' };
  if (secretHeader) headers[secretHeader] = 'paste the ACTION_SECRET value';
  return JSON.stringify(headers, null, 2);
}

export interface GraphQLDoor {
  yoga: GuardYoga;
  /** How many requests each path answered (the tests check the fast path is taken). */
  served: { fast: number; full: number };
  /** Answers a request to /graphql; a POST's body has already been read (and bounded) by the HTTP layer. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Promise<void>;
}

/**
 * The GraphQL door. The request Hasura sends — a POST of one JSON operation that parses and validates — runs
 * through yoga's own parse, validate and execute (getEnveloped: every plugin, cache, limit and the error mask
 * apply) without the fetch Request and Response yoga builds around it, which the profile showed to be most of
 * a GraphQL request's cost. Everything else goes through yoga in full, and so does any request that fails to
 * parse or validate or is refused before execution, so error answers are always yoga's own.
 */
export function createGraphQLDoor(yoga: GuardYoga): GraphQLDoor {
  // yoga caches validation too, but builds that cache's key from the names of all the validation rules on every
  // request (~5 µs in the profile). The fast path remembers, per document, that it validated: documents come
  // from yoga's parse cache (one object per query text), and validation depends on nothing else here (one
  // schema, fixed rules). A document that fails is not remembered: yoga answers it, every time.
  const validDocuments = new WeakSet<DocumentNode>();

  async function fastPath(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    if (!acceptsPlainJson(req)) return false;
    let params: unknown;
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      return false;
    }
    if (!isOperationRequest(params)) return false;
    const session = requesterFrom((name) => req.headersDistinct[name]);
    const { parse, validate, contextFactory, execute, schema } = yoga.getEnveloped({ session, req });
    let document;
    try {
      document = parse(params.query);
      if (!validDocuments.has(document)) {
        // Limits (graphql-armor) throw from validate instead of returning errors; either way yoga answers.
        if (validate(schema, document).length > 0) return false;
        validDocuments.add(document);
      }
    } catch {
      return false;
    }
    // graphql-jit runs a document's only operation whatever operationName says; graphql-js refuses a name that
    // matches nothing. Leave any request that does not name exactly one operation to yoga.
    if (!getOperationAST(document, params.operationName)) return false;
    const result = await execute({
      schema,
      document,
      variableValues: params.variables,
      operationName: params.operationName,
      contextValue: await contextFactory(),
    });
    // No subscriptions, @defer or @stream in this schema: a result is always one object. Without `data`, the
    // request was refused before any resolver ran (bad variables, no such operation): let yoga answer it.
    if (Symbol.asyncIterator in result || !('data' in result)) return false;
    // graphql-jit hands back a serializer compiled for the document's shape.
    const json = (result as { stringify?: (r: unknown) => string }).stringify?.(result) ?? JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
    res.end(json);
    return true;
  }

  const served = { fast: 0, full: 0 };
  return {
    yoga,
    served,
    async handle(req, res, body) {
      if (body && (await fastPath(req, res, body))) {
        served.fast++;
        return;
      }
      served.full++;
      // @whatwg-node/server uses a body already on the request instead of the (consumed) stream.
      if (body) (req as IncomingMessage & { body?: Buffer }).body = body;
      await yoga.requestListener(req, res);
    },
  };
}

/** POST application/json, answered as application/json: what Hasura and most clients send and expect. */
function acceptsPlainJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return (
    req.method === 'POST' &&
    /^application\/json\b/i.test(req.headers['content-type'] ?? '') &&
    (accept === undefined || accept === '*/*' || (/\bapplication\/json\b/.test(accept) && !accept.includes('graphql-response')))
  );
}

function isOperationRequest(value: unknown): value is { query: string; variables?: Record<string, unknown>; operationName?: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { query, variables, operationName, extensions } = value as Record<string, unknown>;
  return (
    typeof query === 'string' &&
    (variables == null || (typeof variables === 'object' && !Array.isArray(variables))) &&
    (operationName == null || typeof operationName === 'string') &&
    extensions === undefined
  );
}
