// The REST adapter: Hasura action webhooks over the same guard. It parses Hasura's payload, calls the guard
// and shapes the answer the way Hasura validates it (docs/hasura.md, Action webhooks). It decides nothing.
import * as z from '../vocabulary/zod.js';
import type { Code } from '../core/codes.js';
import { isObject } from '../vocabulary/json.js';
import type { Guard } from '../core/advisory.js';
import { requesterFrom } from '../http/requester.js';
import type { Person } from '../vocabulary/person.js';

export const WEBHOOK_ROUTES = {
  '/validate-metadata-change': 'validateMetadataChange',
  '/confirm-metadata-change': 'confirmMetadataChange',
  '/actions': 'dispatch',
} as const;

export type WebhookRoute = keyof typeof WEBHOOK_ROUTES;

export interface WebhookResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The one error shape Hasura accepts from a 4xx webhook answer: a single object with a string message. */
export function webhookError(status: number, code: Code, message: string): WebhookResponse {
  return { status, body: { message, extensions: { code } } };
}

const payloadSchema = z.looseObject({
  // Hasura sends {name}; older docs show a plain string. Both cost nothing to accept. A hand-written test call
  // (curl, as the action guides teach) often leaves it out: the route then says which action it is.
  action: z.optional(z.union([z.looseObject({ name: z.string() }), z.string()])),
  input: z.record(z.string(), z.unknown()),
  session_variables: z.nullish(z.record(z.string(), z.string())),
  request_query: z.nullish(z.string()),
});

const field = (name: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `"${name}" is required (String!)` : `"${name}" must be a String`) });

const optionalField = (name: string) => z.nullish(z.string({ error: `"${name}" must be a String (JSON text) or null` }));

const validateInputSchema = z.looseObject({
  operation: field('operation'),
  table_name: field('table_name'),
  environment: field('environment'),
  hasura_request: optionalField('hasura_request'),
  current_metadata: optionalField('current_metadata'),
});
const confirmInputSchema = z.looseObject({ confirmation_token: field('confirmation_token') });

/** Reads a request header by its lower-case name. */
export type HeaderReader = (name: string) => string | string[] | undefined;

/** `person`: who the auth proxy in front says is there (src/identity/), beside Hasura's session. */
export async function handleWebhook(guard: Guard, route: WebhookRoute, rawBody: Buffer, headers: HeaderReader = () => undefined, person?: Person): Promise<WebhookResponse> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return webhookError(400, 'INVALID_JSON', 'The request body is not valid JSON.');
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) {
    const key = payload.error.issues[0]?.path.join('.') || 'body';
    return webhookError(400, 'INVALID_PAYLOAD', `The request body is not a Hasura action payload: "${key}" is missing or has the wrong type.`);
  }
  const { action, input, session_variables } = payload.data;
  const actionName = action === undefined ? undefined : typeof action === 'string' ? action : action.name;
  const routeAction = WEBHOOK_ROUTES[route];
  if (routeAction === 'dispatch' && actionName === undefined) {
    return webhookError(
      400,
      'INVALID_PAYLOAD',
      'The request body is not a Hasura action payload: "action" is missing. /actions serves both actions and needs {"action": {"name": ...}}; or POST to /validate-metadata-change or /confirm-metadata-change, which know their action.',
    );
  }
  const name = routeAction === 'dispatch' ? actionName : routeAction;

  // The action's one argument is named `input`, so Hasura sends {input: {input: {...}}}; an action declared
  // with the fields as top-level arguments sends them flat. Both carry the same fields.
  const args = isObject(input.input) ? input.input : input;
  // Hasura sends session keys lower-case; a hand-written payload may not, and may spell one key twice. With no
  // session in the body (a direct call, as in a test with curl) the X-Hasura-* headers carry it, as over GraphQL.
  // Both sit behind the action secret, so neither lets a caller without it claim an identity.
  const asked = session_variables ? requesterFrom((key) => valuesOf(session_variables, key)) : requesterFrom(headers);
  if (!asked.ok) return webhookError(400, 'INVALID_SESSION', asked.message);
  const requester = person ? { ...asked.requester, person } : asked.requester;

  switch (name) {
    case 'validateMetadataChange': {
      if (args.confirmation_token !== undefined && args.operation === undefined) return mixedUp('confirmMetadataChange', '/confirm-metadata-change', route);
      const parsed = validateInputSchema.safeParse(args);
      if (!parsed.success) return invalidInput(name, parsed.error);
      return answer(await guard.validate(parsed.data, requester));
    }
    case 'confirmMetadataChange': {
      if (args.confirmation_token === undefined && args.operation !== undefined) return mixedUp('validateMetadataChange', '/validate-metadata-change', route);
      const parsed = confirmInputSchema.safeParse(args);
      if (!parsed.success) return invalidInput(name, parsed.error);
      return answer(await guard.confirm(parsed.data.confirmation_token, requester));
    }
    default:
      return webhookError(
        400,
        'UNKNOWN_ACTION',
        `Unknown action "${String(actionName).slice(0, 64)}": this handler serves validateMetadataChange and confirmMetadataChange.`,
      );
  }
}

/** The guard's answer as the action's output, or, for a requester over its rate limit, 429 with Retry-After (Hasura passes a 4xx through). */
function answer(result: { message: string; retryAfterSeconds?: number }): WebhookResponse {
  if (result.retryAfterSeconds === undefined) return { status: 200, body: result };
  return { ...webhookError(429, 'RATE_LIMITED', result.message), headers: { 'retry-after': String(result.retryAfterSeconds) } };
}

/** Every value of a session key, in any spelling of its case. */
function valuesOf(session: Record<string, string>, key: string): string[] {
  const values: string[] = [];
  for (const k in session) if (k.toLowerCase() === key) values.push(session[k]!);
  return values;
}

/** The input of one action sent to the other's route: say so, rather than list the fields it lacks. */
function mixedUp(looksLike: string, itsRoute: string, route: WebhookRoute): WebhookResponse {
  const where = route === '/actions' ? `name the action "${looksLike}"` : `POST it to ${itsRoute}`;
  return webhookError(400, 'WRONG_ACTION', `This looks like a ${looksLike} input: ${where}.`);
}

function invalidInput(action: string, error: z.core.$ZodError): WebhookResponse {
  const problems = error.issues.map((i) => i.message).join('; ');
  return webhookError(400, 'INVALID_INPUT', `Invalid input for ${action}: ${problems}.`);
}

