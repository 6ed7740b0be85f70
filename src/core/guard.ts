// The guard: every rule of the project lives here. The GraphQL resolvers and the webhook adapter only
// translate their transport into these calls and the results back; they decide nothing.
import { maskSqlLiterals } from '../analysis/sql.js';
import { describeEffect, describeEffects, effectKey, VERBS, type ChangeToAnalyse, type Effect, type ObjectKind } from '../analysis/effects.js';
import type { Clock } from './clock.js';
import { NO_LIMITS, type LimitedAction, type RateLimits } from './limits.js';
import type { Environment, Level, Policy } from './policy.js';
import { parseTableName, TABLE_NAME_RULES } from './table-name.js';
import { isObject } from './json.js';
import { printable } from './text.js';
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_EFFECTS, type TokenService } from './tokens.js';
import { StoreUnavailableError, type GuardStore, type Remembered } from '../store/store.js';
import type { Person } from '../identity/person.js';

/** Who asks: Hasura's session (x-hasura-user-id, x-hasura-role). */
export interface Requester {
  userId?: string;
  role?: string;
  /** The admin secret or Authorization value the caller presented: confirms a change the proxy held. Never logged. */
  credentials?: string;
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
  message: string;
  confirmation_token: string | null;
  level?: Level | null;
  changes?: ReportedChange[] | null;
  /** Set when refused for the requester's rate limit: the webhook answers 429 with Retry-After. Not in the schema. */
  retryAfterSeconds?: number;
}

export interface ConfirmResult {
  success: boolean;
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
  /** The email the auth proxy named, when it named one. */
  person?: string;
  operation?: string;
  table?: string;
  environment?: string;
  tokenId?: string;
}

export interface GuardOptions {
  policy: Policy;
  /**
   * Enforcing mode: confirms a token for a change the proxy held (src/core/enforcement.ts), which is bound to the
   * credentials the held request carried rather than to a user. Without it such tokens are refused here.
   */
  confirmHeld?: (token: string, credentials: string | undefined, confirmer: Person | undefined) => Promise<ConfirmResult>;
  /** What the change would do (src/analysis): asynchronous because the SQL parser loads on first use. */
  analyze: (change: ChangeToAnalyse) => Promise<Effect[]>;
  tokens: TokenService;
  /** Where used token ids are remembered: this process's memory, or a database replicas share. */
  store: GuardStore;
  clock: Clock;
  /** Canonical name of the environment this instance guards; requests for others are refused. */
  guardEnvironment?: string;
  /** The confirmer must be a different, identified user than the requester. */
  fourEyes: boolean;
  /** Validations and confirmations per identity; none when omitted (the server always sets them, src/app.ts). */
  limits?: RateLimits;
  onDecision?: (decision: Decision) => void;
}

/** Asynchronous because analysing SQL loads a parser on first use and a shared store answers over the network. */
export interface Guard {
  validate(change: ChangeRequest, requester: Requester): Promise<ValidateResult>;
  confirm(token: string, requester: Requester): Promise<ConfirmResult>;
  preview(change: ChangeRequest): Promise<PreviewResult>;
}

/** Room for a migration's worth of SQL typed into `operation`; the HTTP body limit bounds it anyway. */
const MAX_OPERATION_LENGTH = 20_000;
/** Any character but controls other than tab and line breaks (SQL spans lines; a NUL byte is no operation). */
const OPERATION_PATTERN = /^[^\p{Cc}]*$/u;
/** What to do about a token that did not verify, where it is not "pass it exactly as returned". */
const TOKEN_FIXES: Partial<Record<string, string>> = {
  TOKEN_EXPIRED: 'Validate the change again to get a new token.',
  // A token is only ever issued by a guard, so "issued in the future" means that guard's clock is ahead of this one's.
  TOKEN_NOT_YET_VALID:
    "The guard that issued it has a clock ahead of this one's: check that every replica's clock is synchronised (NTP), or validate the change again at this guard.",
  TOKEN_WRONG_AUDIENCE: 'Confirm it at the guard that issued it, or validate the change again here.',
};
/** " on public.patients", or nothing for an operation on no table. */
const onTable = (table: string) => (table ? ` on ${table}` : '');
/**
 * The operation as tokens, messages and audit records carry it: its SQL literals masked (a secret typed into a
 * string constant reaches no log line), one line, bounded.
 */
const label = (operation: string) => printable(maskSqlLiterals(operation).replace(/\s+/g, ' '), 100);

type Checked =
  | {
      ok: true;
      operation: string;
      table: string;
      environment: Environment;
      effects: Effect[];
      level: Level;
      className: string;
      instead?: string;
    }
  | { ok: false; reason: string; message: string };

export function createGuard(options: GuardOptions): Guard {
  const { policy, analyze, tokens, store, clock, guardEnvironment, fourEyes, confirmHeld, limits = NO_LIMITS, onDecision = () => {} } = options;
  const knownEnvironments = policy.environments
    .map((e) => (e.aliases.length ? `${e.name} (${e.aliases.join(', ')})` : e.name))
    .join('; ');

  /** Input checks, the analysis and the policy decision, shared by validate and preview. */
  async function check(change: ChangeRequest): Promise<Checked> {
    const operation = change.operation.trim();
    if (operation.length === 0 || operation.length > MAX_OPERATION_LENGTH || !OPERATION_PATTERN.test(operation.replace(/[\t\r\n]/g, ' '))) {
      return {
        ok: false,
        reason: 'INVALID_OPERATION',
        message: `Refused: operation must be 1 to ${MAX_OPERATION_LENGTH} characters without control characters: a Hasura metadata type ("pg_drop_relationship"), SQL ("DROP TABLE public.patients"), or words ("DROP TABLE").`,
      };
    }
    const tableName = parseTableName(change.table_name);
    if (!tableName.ok) {
      return { ok: false, reason: 'INVALID_TABLE_NAME', message: `Refused: ${TABLE_NAME_RULES} (${tableName.problem}).` };
    }
    const table = tableName.name;
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
    const request = parseJsonField('hasura_request', change.hasura_request);
    if (request.failed) return request.failed;
    const currentMetadata = parseJsonField('current_metadata', change.current_metadata);
    if (currentMetadata.failed) return currentMetadata.failed;

    const effects = await analyze({ operation, table, request: request.value, currentMetadata: currentMetadata.value });
    const { level, operationClass } = policy.decide(effects, environment, operation);
    return { ok: true, operation, table, environment, effects, level, className: operationClass.name, instead: operationClass.instead };
  }

  function describe(c: Extract<Checked, { ok: true }>): string {
    return `${label(c.operation)}${onTable(c.table)} is a ${c.className} change: it ${describeEffects(c.effects)}`;
  }

  /** Each effect with the class and level the policy gives it on its own. */
  function report(c: Extract<Checked, { ok: true }>): ReportedChange[] {
    return c.effects.map((effect) => {
      const { level, operationClass } = policy.decide([effect], c.environment);
      return {
        verb: effect.verb,
        object: effect.object,
        name: effect.name ?? null,
        detail: effect.detail ?? null,
        description: describeEffect(effect),
        class: operationClass.name,
        level,
      };
    });
  }

  /** Emits one decision record. Always the same shape (a literal, no spreads): it is built on every request. */
  function decide(action: Decision['action'], outcome: Outcome, reason: string, requester: Requester, subject?: Subject): void {
    onDecision({
      action,
      outcome,
      reason,
      userId: requester.userId,
      role: requester.role,
      person: requester.person?.email,
      operation: subject?.operation,
      table: subject?.table,
      environment: subject?.environment,
      tokenId: subject?.tokenId,
    });
  }

  /** The refusal for an identity over its rate limit, or undefined when the request may go ahead. */
  async function overLimit(action: LimitedAction, requester: Requester): Promise<{ message: string; retryAfterSeconds: number } | undefined> {
    const answer = await limits.take(action, identityOf(requester));
    if (answer.ok) return undefined;
    decide(action, 'refused', 'RATE_LIMITED', requester);
    const what = action === 'validate' ? 'validations' : 'confirmations';
    return {
      message: `too many ${what} (at most ${answer.limitPerMinute} a minute for each user). Try again in ${answer.retryAfterSeconds} seconds.`,
      retryAfterSeconds: answer.retryAfterSeconds,
    };
  }

  return {
    async validate(change, requester) {
      const limited = await overLimit('validate', requester);
      if (limited) {
        const { message, retryAfterSeconds } = limited;
        return { success: false, message: `Refused: ${message}`, confirmation_token: null, level: null, changes: null, retryAfterSeconds };
      }
      const c = await check(change);
      if (!c.ok) {
        const raw = { operation: label(change.operation), table: printable(change.table_name), environment: printable(change.environment) };
        decide('validate', 'invalid', c.reason, requester, raw);
        return { success: false, message: c.message, confirmation_token: null, level: null, changes: null };
      }
      const subject: Subject = { operation: label(c.operation), table: c.table, environment: c.environment.name };
      const changes = report(c);
      if (c.level === 'deny') {
        decide('validate', 'denied', 'DENIED_BY_POLICY', requester, subject);
        const instead = c.instead ? ` Instead, ${c.instead}` : '';
        return {
          success: false,
          message: `Refused: ${describe(c)}; ${c.environment.name} does not allow it.${instead}`,
          confirmation_token: null,
          level: c.level,
          changes,
        };
      }
      if (c.level === 'allow') {
        decide('validate', 'allowed', 'ALLOWED', requester, subject);
        return {
          success: true,
          message: `Validated automatically: ${describe(c)}; ${c.environment.name} allows it without confirmation.`,
          confirmation_token: null,
          level: c.level,
          changes,
        };
      }
      // A token is only as good as its requester's identity: four-eyes compares two users, so both must be known.
      if (fourEyes && !isIdentified(requester)) {
        decide('validate', 'invalid', 'REQUESTER_UNIDENTIFIED', requester, subject);
        return {
          success: false,
          message: 'Refused: four-eyes mode issues confirmation tokens to identified users only; send the change as a signed-in user (x-hasura-user-id).',
          confirmation_token: null,
          level: c.level,
          changes,
        };
      }
      const fx = [...new Set(c.effects.map(effectKey))];
      if (fx.length > MAX_TOKEN_EFFECTS) {
        decide('validate', 'invalid', 'TOO_MANY_EFFECTS', requester, subject);
        return {
          success: false,
          message: `Refused: the change has ${fx.length} kinds of effect, more than the ${MAX_TOKEN_EFFECTS} a confirmation token can carry. Split it into smaller changes.`,
          confirmation_token: null,
          level: c.level,
          changes,
        };
      }
      const { token, jti } = tokens.issue({ op: label(c.operation), tbl: c.table, env: c.environment.name, sub: identityOf(requester), fx });
      subject.tokenId = jti;
      decide('validate', 'confirmation_required', 'CONFIRMATION_REQUIRED', requester, subject);
      const who = fourEyes ? 'Another user must confirm it' : 'Confirm it';
      return {
        success: true,
        message: `${describe(c)}. In ${c.environment.name} it needs a confirmation: ${who.toLowerCase()} with confirmMetadataChange and this confirmation_token within ${tokens.ttlSeconds} seconds.`,
        confirmation_token: token,
        level: c.level,
        changes,
      };
    },

    async confirm(token, requester) {
      const refuse = (reason: string, why: string, fix: string, subject?: Subject): ConfirmResult => {
        decide('confirm', 'refused', reason, requester, subject);
        return { success: false, message: `Not confirmed: ${why}. ${fix}` };
      };

      const limited = await overLimit('confirm', requester);
      if (limited) return { success: false, message: `Not confirmed: ${limited.message}`, retryAfterSeconds: limited.retryAfterSeconds };

      const verified = tokens.verify(token.trim());
      if (!verified.ok) {
        return refuse(verified.code, verified.message, TOKEN_FIXES[verified.code] ?? 'Pass the confirmation_token exactly as validateMetadataChange returned it.');
      }
      const claims = verified.claims;
      const subject: Subject = { operation: claims.op, table: claims.tbl, environment: claims.env, tokenId: claims.jti };
      if (claims.fp !== undefined) {
        if (confirmHeld) return confirmHeld(token.trim(), requester.credentials, requester.person);
        return refuse(
          'TOKEN_HELD_ELSEWHERE',
          'the token confirms a change an enforcing guard held',
          'Confirm it at that guard: open the link in its answer, or POST the token to its /guard/confirm with the admin secret.',
          subject,
        );
      }

      if (guardEnvironment && claims.env !== guardEnvironment) {
        return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token is for ${claims.env}, and this guard protects ${guardEnvironment}`, `Confirm it at the ${claims.env} guard.`, subject);
      }
      const environment = policy.findEnvironment(claims.env);
      if (!environment) {
        return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token is for ${claims.env}, which the active policy does not know`, 'Validate the change again.', subject);
      }
      const confirmer = identityOf(requester);
      if (fourEyes) {
        if (!isIdentified(requester)) {
          return refuse('TOKEN_CONFIRMER_UNKNOWN', 'four-eyes mode needs a confirming user (x-hasura-user-id)', 'Confirm it as a signed-in user.', subject);
        }
        // Issued before four-eyes was on, or by a replica without it: a role or "anonymous" is no second person.
        if (!claims.sub.startsWith('user:') && !claims.sub.startsWith('person:')) {
          return refuse('TOKEN_REQUESTER_UNKNOWN', 'four-eyes mode needs a token requested by an identified user', 'Validate the change again as a signed-in user.', subject);
        }
        if (confirmer === claims.sub) {
          return refuse('TOKEN_SAME_USER', 'four-eyes mode needs a second person, and you requested this change', 'Ask another user to confirm it.', subject);
        }
      } else if (confirmer !== claims.sub) {
        return refuse('TOKEN_WRONG_REQUESTER', 'the token was issued to someone else', 'Confirm it as the user who validated the change.', subject);
      }
      // The token records what the policy said when it was issued, perhaps by another replica or under a laxer
      // policy since tightened: decide again under the policy in force, and refuse what it now denies.
      const effects = claims.fx ? claims.fx.map(effectOfKey) : await analyze({ operation: claims.op, table: claims.tbl });
      const inForce = policy.decide(effects, environment, claims.op);
      if (inForce.level === 'deny') {
        const instead = inForce.operationClass.instead ? `Instead, ${inForce.operationClass.instead}` : 'Validate the change again to see why.';
        return refuse('DENIED_BY_POLICY', `the policy in force does not allow this change in ${environment.name}: it ${describeEffects(effects)}`, instead, subject);
      }
      // Remember the id until the last second a verifier could still accept the token.
      const nowSeconds = Math.floor(clock() / 1000);
      let remembered: Remembered;
      try {
        remembered = await store.useToken(claims.jti, claims.exp + CLOCK_TOLERANCE_SECONDS, nowSeconds, confirmer);
      } catch (err) {
        // A confirmation the store could not record could be replayed, so it is refused (fails closed).
        if (!(err instanceof StoreUnavailableError)) throw err;
        return refuse('STORE_UNAVAILABLE', 'the guard cannot record the confirmation right now (its database is unreachable)', 'Try again shortly.', subject);
      }
      if (remembered === 'already-used') {
        return refuse('TOKEN_ALREADY_USED', 'the token has already been used', 'Validate the change again to get a new token.', subject);
      }
      if (remembered === 'full-for-owner') {
        return refuse(
          'REPLAY_SHARE_FULL',
          'you have more confirmations in flight than one identity may hold',
          `Try again once your earlier tokens have expired (within ${tokens.ttlSeconds + CLOCK_TOLERANCE_SECONDS} seconds).`,
          subject,
        );
      }
      if (remembered === 'full') {
        return refuse('REPLAY_CACHE_FULL', 'too many confirmations are in flight to track them safely', 'Try again in a minute.', subject);
      }
      decide('confirm', 'confirmed', 'CONFIRMED', requester, subject);
      return { success: true, message: `Confirmed: ${claims.op}${onTable(claims.tbl)} in ${claims.env}. Go ahead with the change.` };
    },

    async preview(change) {
      const c = await check(change);
      if (!c.ok) return { success: false, message: c.message, level: null, operation_class: null, environment: null, changes: null };
      const what = { allow: 'would be validated automatically', confirm: 'would need a confirmation', deny: 'would be refused' }[c.level];
      return {
        success: c.level !== 'deny',
        message: `${describe(c)}. In ${c.environment.name} it ${what}. Nothing was issued.`,
        level: c.level,
        operation_class: c.className,
        environment: c.environment.name,
        changes: report(c),
      };
    },
  };
}

/** A user Hasura's session names, or a person the auth proxy does: what four-eyes compares. */
function isIdentified(requester: Requester): boolean {
  return Boolean(requester.userId || requester.person);
}

/** An effect as a token carries it (`verb:object`); a verb this version does not know is an unknown effect. */
function effectOfKey(key: string): Effect {
  const [verb, object] = key.split(':') as [string, string];
  return verb in VERBS ? { verb: verb as Effect['verb'], object: object as ObjectKind } : { verb: 'unknown', object: object as ObjectKind };
}

/** An optional JSON text field: absent, or parsed, or the refusal that names it. */
function parseJsonField(field: string, text: string | null | undefined): { value?: unknown; failed?: Extract<Checked, { ok: false }> } {
  if (text === undefined || text === null || text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value)) return { value };
  } catch {
    // answered below, the same as valid JSON that is not an object
  }
  return {
    failed: { ok: false, reason: 'INVALID_REQUEST', message: `Refused: ${field} must be a JSON object (the body as sent to Hasura), given as a string.` },
  };
}
