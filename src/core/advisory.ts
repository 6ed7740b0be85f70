// The advisory API's vocabulary (what validateMetadataChange, confirmMetadataChange and previewMetadataChange take
// and answer, the audit record every door's decision writes) and its input checks. The decisions are
// src/core/engine.ts's; Guard is the engine as the GraphQL and webhook doors see it.
import { maskSqlLiterals } from '../analysis/sql.js';
import type { ChangeToAnalyse } from '../vocabulary/effects.js';
import type { Code } from './codes.js';
import type { Engine } from './engine.js';
import type { InspectedEndpoint } from './enforcement.js';
import type { Environment, Level, Policy } from './policy.js';
import { parseTableName, TABLE_NAME_RULES } from './table-name.js';
import { isObject } from '../vocabulary/json.js';
import { printable } from '../vocabulary/text.js';
import type { Person } from '../vocabulary/person.js';

/** Who asks: Hasura's session (x-hasura-user-id, x-hasura-role). */
export interface Requester {
  userId?: string;
  role?: string;
  /** The admin secret or Authorization value the caller presented: confirms a change the proxy held. Never logged. */
  credentials?: string;
  /** The header the credentials came in (`x-hasura-admin-secret`, `authorization`…), to ask Hasura about them. */
  credentialHeader?: string;
  /** Who the auth proxy in front of the guard says is there (src/identity/): named before Hasura's session. */
  person?: Person;
}

/** The person the auth proxy names, else the user id, else the role, else anonymous. Tokens are bound to this string. */
export function identityOf(requester: Requester): string {
  if (requester.person) return `person:${requester.person.email}`;
  if (requester.userId) return `user:${requester.userId}`;
  if (requester.role) return `role:${requester.role}`;
  return 'anonymous';
}

/** Every identity the requester has: the person and the user id when both are known (four-eyes compares them all). */
export function identitiesOf(requester: Requester): string[] {
  return [requester.person && `person:${requester.person.email}`, requester.userId && `user:${requester.userId}`].filter((id): id is string => Boolean(id));
}

export interface ChangeRequest {
  operation: string;
  table_name: string;
  environment: string;
  /** A whole Hasura request body (what the console or CLI would POST), as JSON text; analysed with the operation. */
  hasura_request?: string | null;
  /** The metadata in force (export_metadata's answer), as JSON text: replace_metadata and set_custom_types are diffed against it. */
  current_metadata?: string | null;
}

/** One effect as the API reports it, with the class and level the policy gives it in the requested environment. */
export interface ReportedChange {
  verb: string;
  object: string;
  name: string | null;
  detail: string | null;
  description: string;
  class: string;
  level: Level;
}

export interface ValidateResult {
  success: boolean;
  /** Stable: what happened, from the table in codes.ts. */
  code: Code;
  message: string;
  confirmation_token: string | null;
  level?: Level | null;
  changes?: ReportedChange[] | null;
  /** Set when refused for the requester's rate limit: the webhook answers 429 with Retry-After. Not in the schema. */
  retryAfterSeconds?: number;
}

export interface ConfirmResult {
  success: boolean;
  /** Stable: what happened, from the table in codes.ts. */
  code: Code;
  message: string;
  /** As for ValidateResult. */
  retryAfterSeconds?: number;
}

export interface PreviewResult {
  success: boolean;
  message: string;
  level: Level | null;
  operation_class: string | null;
  environment: string | null;
  changes?: ReportedChange[] | null;
}

/**
 * What became of a request: the API's validate (allowed, confirmation_required, denied, invalid), the proxy's judge
 * (forwarded, forwarded-approved, held, denied), and confirmations of both (confirmed); refused by any of them.
 */
export type Outcome = 'allowed' | 'confirmation_required' | 'denied' | 'invalid' | 'confirmed' | 'refused' | 'forwarded' | 'forwarded-approved' | 'held';

/**
 * One record per decision of any door, for the audit log and metrics; the fields that do not apply stay unset.
 * Never the token, a request body or credentials.
 */
export interface Decision {
  action: 'validate' | 'confirm' | 'judge';
  outcome: Outcome;
  /** The code (codes.ts), as the answer carried it. */
  reason: Code;
  /** Hasura's session, for the API. */
  userId?: string;
  role?: string;
  /** The email of who acted, as the auth proxy named them: the requester (validate, judge) or the confirmer (confirm). */
  person?: string;
  /** On a held request's confirmation: the email of who sent it, when the auth proxy named them. */
  requester?: string;
  /** Enforcing mode: `credentials:<first 12 hex of their hash>`, who without the secret. */
  sub?: string;
  operation?: string;
  table?: string;
  environment?: string;
  /** Enforcing mode: the Hasura endpoint, the policy's class, the effects in words, the body's fingerprint (12 hex). */
  endpoint?: InspectedEndpoint;
  className?: string;
  effects?: string;
  fingerprint?: string;
  tokenId?: string;
  /** What the door could not do, in its own words (export_metadata's failure); never an internal error's message. */
  detail?: string;
}

/** The engine as the GraphQL and webhook doors see it. */
export type Guard = Pick<Engine, 'validate' | 'confirm' | 'preview'>;

/** Room for a migration's worth of SQL typed into `operation`; the HTTP body limit bounds it anyway. */
const MAX_OPERATION_LENGTH = 20_000;
/** Any character but controls other than tab and line breaks (SQL spans lines; a NUL byte is no operation). */
const OPERATION_PATTERN = /^[^\p{Cc}]*$/u;
/** " on public.patients", or nothing for an operation on no table. */
export const onTable = (table: string) => (table ? ` on ${table}` : '');
/**
 * The operation as tokens, messages and audit records carry it: its SQL literals masked (a secret typed into a
 * string constant reaches no log line), one line, bounded.
 */
export const label = (operation: string) => printable(maskSqlLiterals(operation).replace(/\s+/g, ' '), 100);

/** A refused input: its stable code and the message that says what to send instead. */
export interface InputRefusal {
  ok: false;
  code: Code;
  message: string;
}

/** A change past the input checks, in the environment it names, ready for the analysis; or the refusal of its input. */
export type CheckedInput = { ok: true; change: ChangeToAnalyse; environment: Environment } | InputRefusal;

/** What the input checks need: the policy, and the environment this instance guards. */
export interface InputRules {
  policy: Policy;
  guardEnvironment?: string;
}

/** The input checks of validate and preview: the operation, the table name, the environment, the JSON fields. */
export function checkInput(change: ChangeRequest, rules: InputRules): CheckedInput {
  const { policy, guardEnvironment } = rules;
  const operation = change.operation.trim();
  if (operation.length === 0 || operation.length > MAX_OPERATION_LENGTH || !OPERATION_PATTERN.test(operation.replace(/[\t\r\n]/g, ' '))) {
    return {
      ok: false,
      code: 'INVALID_OPERATION',
      message: `Refused: operation must be 1 to ${MAX_OPERATION_LENGTH} characters without control characters: a Hasura metadata type ("pg_drop_relationship"), SQL ("DROP TABLE public.patients"), or words ("DROP TABLE").`,
    };
  }
  const tableName = parseTableName(change.table_name);
  if (!tableName.ok) return { ok: false, code: 'INVALID_TABLE_NAME', message: `Refused: ${TABLE_NAME_RULES} (${tableName.problem}).` };
  const environment = policy.findEnvironment(change.environment);
  if (!environment) {
    const known = policy.environments.map((e) => (e.aliases.length ? `${e.name} (${e.aliases.join(', ')})` : e.name)).join('; ');
    return { ok: false, code: 'UNKNOWN_ENVIRONMENT', message: `Refused: unknown environment "${printable(change.environment)}". Known environments: ${known}.` };
  }
  if (guardEnvironment && environment.name !== guardEnvironment) {
    return {
      ok: false,
      code: 'WRONG_ENVIRONMENT',
      message: `Refused: this guard protects ${guardEnvironment}, and the request names ${environment.name}. Send ${environment.name} changes to the ${environment.name} guard.`,
    };
  }
  const request = parseJsonField('hasura_request', change.hasura_request);
  if (request.failed) return request.failed;
  const currentMetadata = parseJsonField('current_metadata', change.current_metadata);
  if (currentMetadata.failed) return currentMetadata.failed;
  return { ok: true, change: { operation, table: tableName.name, request: request.value, currentMetadata: currentMetadata.value }, environment };
}

/** An optional JSON text field: absent, or parsed, or the refusal that names it. */
function parseJsonField(field: string, text: string | null | undefined): { value?: unknown; failed?: InputRefusal } {
  if (text === undefined || text === null || text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value)) return { value };
  } catch {
    // answered below, the same as valid JSON that is not an object
  }
  return {
    failed: { ok: false, code: 'INVALID_REQUEST', message: `Refused: ${field} must be a JSON object (the body as sent to Hasura), given as a string.` },
  };
}
