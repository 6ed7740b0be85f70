// The guard: every rule of the project lives here. The GraphQL resolvers and the webhook adapter only
// translate their transport into these calls and the results back; they decide nothing.
import type { Clock } from './clock.js';
import type { Environment, Level, Policy } from './policy.js';
import { CLOCK_TOLERANCE_SECONDS, type TokenService } from './tokens.js';
import { StoreUnavailableError, type GuardStore, type Remembered } from '../store/store.js';

/** Who asks: Hasura's session (x-hasura-user-id, x-hasura-role). */
export interface Requester {
  userId?: string;
  role?: string;
}

/** The user id when there is one, else the role, else anonymous. Tokens are bound to this string. */
export function identityOf(requester: Requester): string {
  if (requester.userId) return `user:${requester.userId}`;
  if (requester.role) return `role:${requester.role}`;
  return 'anonymous';
}

export interface ChangeRequest {
  operation: string;
  table_name: string;
  environment: string;
}

export interface ValidateResult {
  success: boolean;
  message: string;
  confirmation_token: string | null;
}

export interface ConfirmResult {
  success: boolean;
  message: string;
}

export interface PreviewResult {
  success: boolean;
  message: string;
  level: Level | null;
  operation_class: string | null;
  environment: string | null;
}

export type Outcome = 'allowed' | 'confirmation_required' | 'denied' | 'invalid' | 'confirmed' | 'refused';

/** What a decision was about. */
interface Subject {
  operation: string;
  table: string;
  environment: string;
  tokenId?: string;
}

/** One record per decision, for the audit log and metrics. Never holds the token itself. */
export interface Decision {
  action: 'validate' | 'confirm';
  outcome: Outcome;
  reason: string;
  userId?: string;
  role?: string;
  operation?: string;
  table?: string;
  environment?: string;
  tokenId?: string;
}

export interface GuardOptions {
  policy: Policy;
  tokens: TokenService;
  /** Where used token ids are remembered: this process's memory, or a database replicas share. */
  store: GuardStore;
  clock: Clock;
  /** Canonical name of the environment this instance guards; requests for others are refused. */
  guardEnvironment?: string;
  /** The confirmer must be a different, identified user than the requester. */
  fourEyes: boolean;
  onDecision?: (decision: Decision) => void;
}

/** Asynchronous because analysing SQL loads a parser on first use and a shared store answers over the network. */
export interface Guard {
  validate(change: ChangeRequest, requester: Requester): Promise<ValidateResult>;
  confirm(token: string, requester: Requester): Promise<ConfirmResult>;
  preview(change: ChangeRequest): Promise<PreviewResult>;
}

const OPERATION_PATTERN = /^[\p{L}\p{N}_ .-]{1,100}$/u;
const TABLE_PART = '[\\p{L}_][\\p{L}\\p{N}_$]{0,62}';
const TABLE_PATTERN = new RegExp(`^${TABLE_PART}(\\.${TABLE_PART})?$`, 'u');

type Checked =
  | { ok: true; operation: string; table: string; environment: Environment; level: Level; className: string; instead?: string }
  | { ok: false; reason: string; message: string };

export function createGuard(options: GuardOptions): Guard {
  const { policy, tokens, store, clock, guardEnvironment, fourEyes, onDecision = () => {} } = options;
  const knownEnvironments = policy.environments
    .map((e) => (e.aliases.length ? `${e.name} (${e.aliases.join(', ')})` : e.name))
    .join('; ');

  /** Input checks and the policy decision, shared by validate and preview. */
  function check(change: ChangeRequest): Checked {
    const operation = change.operation.trim().replace(/\s+/g, ' ');
    if (!OPERATION_PATTERN.test(operation)) {
      return {
        ok: false,
        reason: 'INVALID_OPERATION',
        message:
          'Refused: operation must be 1 to 100 letters, digits, spaces, "_", "." or "-", such as "DROP TABLE" or "pg_drop_relationship".',
      };
    }
    const table = change.table_name.trim();
    if (!TABLE_PATTERN.test(table)) {
      return {
        ok: false,
        reason: 'INVALID_TABLE_NAME',
        message:
          'Refused: table_name must be a table name, optionally schema-qualified ("patients" or "public.patients"): letters, digits, "_" or "$", at most 63 characters per part.',
      };
    }
    const environment = policy.findEnvironment(change.environment);
    if (!environment) {
      return {
        ok: false,
        reason: 'UNKNOWN_ENVIRONMENT',
        message: `Refused: unknown environment "${printable(change.environment)}". Known environments: ${knownEnvironments}.`,
      };
    }
    if (guardEnvironment && environment.name !== guardEnvironment) {
      return {
        ok: false,
        reason: 'WRONG_ENVIRONMENT',
        message: `Refused: this guard protects ${guardEnvironment}, and the request names ${environment.name}. Send ${environment.name} changes to the ${environment.name} guard.`,
      };
    }
    const { level, operationClass } = policy.decide(operation, environment);
    return { ok: true, operation, table, environment, level, className: operationClass.name, instead: operationClass.instead };
  }

  function describe(c: Extract<Checked, { ok: true }>): string {
    return `${c.operation} on ${c.table} is a ${c.className} change`;
  }

  /** Emits one decision record. Always the same shape (a literal, no spreads): it is built on every request. */
  function decide(action: Decision['action'], outcome: Outcome, reason: string, requester: Requester, subject?: Subject): void {
    onDecision({
      action,
      outcome,
      reason,
      userId: requester.userId,
      role: requester.role,
      operation: subject?.operation,
      table: subject?.table,
      environment: subject?.environment,
      tokenId: subject?.tokenId,
    });
  }

  return {
    async validate(change, requester) {
      const c = check(change);
      if (!c.ok) {
        const raw = { operation: printable(change.operation), table: printable(change.table_name), environment: printable(change.environment) };
        decide('validate', 'invalid', c.reason, requester, raw);
        return { success: false, message: c.message, confirmation_token: null };
      }
      const subject: Subject = { operation: c.operation, table: c.table, environment: c.environment.name };
      if (c.level === 'deny') {
        decide('validate', 'denied', 'DENIED_BY_POLICY', requester, subject);
        const instead = c.instead ? ` Instead, ${c.instead}` : '';
        return {
          success: false,
          message: `Refused: ${describe(c)}, which ${c.environment.name} does not allow.${instead}`,
          confirmation_token: null,
        };
      }
      if (c.level === 'allow') {
        decide('validate', 'allowed', 'ALLOWED', requester, subject);
        return {
          success: true,
          message: `Validated automatically: ${describe(c)}, which ${c.environment.name} allows without confirmation.`,
          confirmation_token: null,
        };
      }
      const { token, jti } = tokens.issue({ op: c.operation, tbl: c.table, env: c.environment.name, sub: identityOf(requester) });
      subject.tokenId = jti;
      decide('validate', 'confirmation_required', 'CONFIRMATION_REQUIRED', requester, subject);
      const who = fourEyes ? 'Another user must confirm it' : 'Confirm it';
      return {
        success: true,
        message: `${describe(c)} in ${c.environment.name}. ${who} with confirmMetadataChange and this confirmation_token within ${tokens.ttlSeconds} seconds.`,
        confirmation_token: token,
      };
    },

    async confirm(token, requester) {
      const refuse = (reason: string, why: string, fix: string, subject?: Subject): ConfirmResult => {
        decide('confirm', 'refused', reason, requester, subject);
        return { success: false, message: `Not confirmed: ${why}. ${fix}` };
      };

      const verified = tokens.verify(token.trim());
      if (!verified.ok) {
        const fix =
          verified.code === 'TOKEN_EXPIRED'
            ? 'Validate the change again to get a new token.'
            : 'Pass the confirmation_token exactly as validateMetadataChange returned it.';
        return refuse(verified.code, verified.message, fix);
      }
      const claims = verified.claims;
      const subject: Subject = { operation: claims.op, table: claims.tbl, environment: claims.env, tokenId: claims.jti };

      if (guardEnvironment && claims.env !== guardEnvironment) {
        return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token is for ${claims.env}, and this guard protects ${guardEnvironment}`, `Confirm it at the ${claims.env} guard.`, subject);
      }
      if (!policy.findEnvironment(claims.env)) {
        return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token is for ${claims.env}, which the active policy does not know`, 'Validate the change again.', subject);
      }
      const confirmer = identityOf(requester);
      if (fourEyes) {
        if (!requester.userId) {
          return refuse('TOKEN_CONFIRMER_UNKNOWN', 'four-eyes mode needs a confirming user (x-hasura-user-id)', 'Confirm it as a signed-in user.', subject);
        }
        if (confirmer === claims.sub) {
          return refuse('TOKEN_SAME_USER', 'four-eyes mode needs a second person, and you requested this change', 'Ask another user to confirm it.', subject);
        }
      } else if (confirmer !== claims.sub) {
        return refuse('TOKEN_WRONG_REQUESTER', 'the token was issued to someone else', 'Confirm it as the user who validated the change.', subject);
      }
      // Remember the id until the last second a verifier could still accept the token.
      const nowSeconds = Math.floor(clock() / 1000);
      let remembered: Remembered;
      try {
        remembered = await store.useToken(claims.jti, claims.exp + CLOCK_TOLERANCE_SECONDS, nowSeconds);
      } catch (err) {
        // A confirmation the store could not record could be replayed, so it is refused (fails closed).
        if (!(err instanceof StoreUnavailableError)) throw err;
        return refuse('STORE_UNAVAILABLE', 'the guard cannot record the confirmation right now (its database is unreachable)', 'Try again shortly.', subject);
      }
      if (remembered === 'already-used') {
        return refuse('TOKEN_ALREADY_USED', 'the token has already been used', 'Validate the change again to get a new token.', subject);
      }
      if (remembered === 'full') {
        return refuse('REPLAY_CACHE_FULL', 'too many confirmations are in flight to track them safely', 'Try again in a minute.', subject);
      }
      decide('confirm', 'confirmed', 'CONFIRMED', requester, subject);
      return { success: true, message: `Confirmed: ${claims.op} on ${claims.tbl} in ${claims.env}. Go ahead with the change.` };
    },

    async preview(change) {
      const c = check(change);
      if (!c.ok) return { success: false, message: c.message, level: null, operation_class: null, environment: null };
      const what = { allow: 'would be validated automatically', confirm: 'would need a confirmation', deny: 'would be refused' }[c.level];
      return {
        success: c.level !== 'deny',
        message: `${describe(c)}: in ${c.environment.name} it ${what}. Nothing was issued.`,
        level: c.level,
        operation_class: c.className,
        environment: c.environment.name,
      };
    },
  };
}

/** Echo client input in a message without control characters and at a bounded length. */
function printable(value: string): string {
  const clean = value.replace(/[\p{C}]/gu, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
