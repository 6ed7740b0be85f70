// The one decision path. Every door asks here: GraphQL and the webhooks (validate, preview, confirm), the enforcing
// proxy (judge) and its confirm page (confirm). Here a change is analysed, the policy applied, a token issued, a
// confirmation checked (bound to the requester's identity for an advisory check, to the credentials for a held
// request), a store failure answered, and one audit record written per decision, in one vocabulary (codes.ts).
// The doors only translate their transport into these calls and the answers back.
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { describeEffect, describeEffects, effectKey, VERBS, type ChangeToAnalyse, type Effect, type ObjectKind } from '../vocabulary/effects.js';
import { StoreUnavailableError, type GuardStore } from './store.js';
import type { Clock } from '../vocabulary/clock.js';
import type { Code } from './codes.js';
import {
  mostTellingFirst,
  needsCurrentMetadata,
  objectsClaim,
  summary,
  touchedObjects,
  credentialsSubject,
  type InspectedEndpoint,
  type JudgeRequest,
  type Verdict,
} from './enforcement.js';
import { credentialsHash, fingerprintOf } from './fingerprint.js';
import { confirmerRefusal, type Approvers } from './approvers.js';
import {
  checkInput,
  identitiesOf,
  identityOf,
  label,
  onTable,
  type ChangeRequest,
  type InputRefusal,
  type ConfirmResult,
  type Decision,
  type Outcome,
  type PreviewResult,
  type ReportedChange,
  type Requester,
  type ValidateResult,
} from './advisory.js';
import { NO_LIMITS, type LimitedAction, type RateLimits } from './limits.js';
import type { Environment, Level, Policy } from './policy.js';
import { printable } from '../vocabulary/text.js';
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_EFFECTS, type TokenService, type VerifiedClaims } from './tokens.js';

/** What the engine needs of a store: remembering used tokens and, for held requests, approvals. */
export type DecisionStore = Pick<GuardStore, 'useToken' | 'approve' | 'takeApproval'>;

/** The policy's answer on a set of effects. */
export interface EffectsDecision {
  level: Level;
  className: string;
  instead?: string;
}

/** Enforcing mode: how request bodies bound for Hasura are analysed and decided. */
export interface EnforcingOptions {
  analyzeBody: (body: unknown, ctx: { endpoint: InspectedEndpoint; currentMetadata?: unknown }) => Promise<Effect[]>;
  /** The policy on effects; by default the engine's policy in the guarded environment. */
  decide?: (effects: Effect[]) => EffectsDecision;
  /**
   * Keys the credentials hash (HMAC-SHA256) so a leaked token reveals nothing testable about the admin secret;
   * every replica must use the same key (the app passes TOKEN_SECRET's). Without it, a plain sha256.
   */
  credentialsKey?: KeyObject;
  /**
   * Asks Hasura whether a credential is an admin's (src/http/hasura-admin.ts): the one a destructive request carries,
   * before it is held or denied, and the one presented to confirm a held change. The guard cannot tell Hasura's admin
   * secret from a made-up one; without this, anyone reaching the proxy could hold and confirm changes with made-up
   * secrets, fill the history and the team's channels, and the memory of used tokens and approvals until an admin's
   * confirmation is refused.
   */
  credentialCheck?: CredentialCheck;
}

/**
 * Whether Hasura accepts a credential (sent in `header`, with the role asked for, as a JWT admin selects `admin`
 * with x-hasura-role) as an admin's.
 */
export type CredentialCheck = (credentials: string, header: string, role?: string) => Promise<'admin' | 'not-admin' | 'unreachable'>;

export interface EngineOptions {
  policy: Policy;
  /** What the change would do (src/analysis): asynchronous because the SQL parser loads on first use. */
  analyze: (change: ChangeToAnalyse) => Promise<Effect[]>;
  tokens: TokenService;
  /** Where used token ids and approvals are remembered: this process's memory, or a database replicas share. */
  store: DecisionStore;
  clock: Clock;
  /** Canonical name of the environment this instance guards; requests for others are refused. Required to enforce. */
  guardEnvironment?: string;
  /** The confirmer must be a different, identified user than the requester. */
  fourEyes: boolean;
  /**
   * GUARD_APPROVERS: who may confirm a held request, on top of holding its credentials (src/core/approvers.ts).
   * Unset: anyone who holds them (FOUR_EYES still applies).
   */
  approvers?: Approvers;
  /** Validations and confirmations per identity through the API; none when omitted (the server always sets them). */
  limits?: RateLimits;
  onDecision?: (decision: Decision) => void;
  /** Enforcing mode (HASURA_URL): judges the proxy's requests and confirms the changes it held. */
  enforcing?: EnforcingOptions;
}

/** Where a confirmation comes from: the API (GraphQL, webhooks) or enforcing mode's confirm page. */
export type ConfirmDoor = 'api' | 'confirm-page';

export interface Engine {
  validate(change: ChangeRequest, requester: Requester): Promise<ValidateResult>;
  preview(change: ChangeRequest): Promise<PreviewResult>;
  confirm(token: string, requester: Requester, door?: ConfirmDoor): Promise<ConfirmResult>;
  /** Enforcing mode only: whether a request bound for Hasura passes. */
  judge(request: JudgeRequest): Promise<Verdict>;
}

/** Everything a decision reads, built once. */
interface Context extends Required<Omit<EngineOptions, 'guardEnvironment' | 'enforcing' | 'approvers'>> {
  guardEnvironment?: string;
  approvers?: Approvers;
  enforcing?: Required<Omit<EnforcingOptions, 'credentialsKey' | 'credentialCheck'>> & Pick<EnforcingOptions, 'credentialsKey' | 'credentialCheck'> & { environment: string };
}

/** Who and what a decision was about, for its audit record. */
type Subject = Omit<Decision, 'action' | 'outcome' | 'reason'>;

export function createEngine(options: EngineOptions): Engine {
  const ctx = contextOf(options);
  return {
    validate: (change, requester) => validate(ctx, change, requester),
    preview: (change) => preview(ctx, change),
    confirm: (token, requester, door = 'api') => confirm(ctx, token.trim(), requester, door),
    judge: (request) => judge(ctx, request),
  };
}

function contextOf(options: EngineOptions): Context {
  const { enforcing, guardEnvironment, policy } = options;
  const base = { ...options, limits: options.limits ?? NO_LIMITS, onDecision: options.onDecision ?? (() => {}) };
  if (!enforcing) return { ...base, enforcing: undefined };
  const environment = guardEnvironment && policy.findEnvironment(guardEnvironment);
  if (!environment) throw new Error('enforcing mode needs the guarded environment (GUARD_ENVIRONMENT) of the policy');
  const decideInPolicy = (effects: Effect[]): EffectsDecision => {
    const { level, operationClass } = policy.decide(effects, environment);
    return { level, className: operationClass.name, instead: operationClass.instead };
  };
  return {
    ...base,
    enforcing: {
      environment: environment.name,
      analyzeBody: enforcing.analyzeBody,
      decide: enforcing.decide ?? decideInPolicy,
      credentialsKey: enforcing.credentialsKey,
      credentialCheck: enforcing.credentialCheck,
    },
  };
}

/** Writes one audit record. Always the same shape (a literal, no spreads): it is built on every request. */
function record(ctx: Context, action: Decision['action'], outcome: Outcome, reason: Code, s: Subject = {}): void {
  ctx.onDecision({
    action,
    outcome,
    reason,
    userId: s.userId,
    role: s.role,
    person: s.person,
    requester: s.requester,
    sub: s.sub,
    operation: s.operation,
    table: s.table,
    environment: s.environment,
    endpoint: s.endpoint,
    className: s.className,
    effects: s.effects,
    fingerprint: s.fingerprint,
    tokenId: s.tokenId,
    detail: s.detail,
  });
}

const requesterSubject = (requester: Requester): Subject => ({ userId: requester.userId, role: requester.role, person: requester.person?.email });
/** A user Hasura's session names, or a person the auth proxy does: what four-eyes compares. */
const isIdentified = (requester: Requester) => Boolean(requester.userId || requester.person);
const nowSeconds = (ctx: Context) => Math.floor(ctx.clock() / 1000);

/** The refusal for an identity over its rate limit, or undefined when the request may go ahead. */
async function overLimit(ctx: Context, action: LimitedAction, requester: Requester): Promise<{ message: string; retryAfterSeconds: number } | undefined> {
  const answer = await ctx.limits.take(action, identityOf(requester));
  if (answer.ok) return undefined;
  record(ctx, action, 'refused', 'RATE_LIMITED', requesterSubject(requester));
  const what = action === 'validate' ? 'validations' : 'confirmations';
  return {
    message: `too many ${what} (at most ${answer.limitPerMinute} a minute for each user). Try again in ${answer.retryAfterSeconds} seconds.`,
    retryAfterSeconds: answer.retryAfterSeconds,
  };
}

// ---- Advisory: validate and preview -------------------------------------------------------------------------------

/** A change past the input checks, analysed, and decided by the policy in the environment it names. */
interface Checked {
  ok: true;
  operation: string;
  table: string;
  environment: Environment;
  effects: Effect[];
  level: Level;
  className: string;
  instead?: string;
}

/** Validate's and preview's path: the input checks (advisory.ts), the analysis, the policy; or the input's refusal. */
async function checked(ctx: Context, request: ChangeRequest): Promise<Checked | InputRefusal> {
  const input = checkInput(request, { policy: ctx.policy, guardEnvironment: ctx.guardEnvironment });
  if (!input.ok) return input;
  const { change, environment } = input;
  const effects = await ctx.analyze(change);
  const { level, operationClass } = ctx.policy.decide(effects, environment, change.operation);
  return { ok: true, operation: change.operation, table: change.table, environment, effects, level, className: operationClass.name, instead: operationClass.instead };
}

/** The checked change in one sentence: the operation, its table, its class and its effects. */
function describeChecked(c: Checked): string {
  return `${label(c.operation)}${onTable(c.table)} is a ${c.className} change: it ${describeEffects(c.effects)}`;
}

/** Each effect with the class and level the policy gives it on its own. */
function report(ctx: Context, c: Checked): ReportedChange[] {
  return c.effects.map((effect) => {
    const { level, operationClass } = ctx.policy.decide([effect], c.environment);
    const { verb, object } = effect;
    return { verb, object, name: effect.name ?? null, detail: effect.detail ?? null, description: describeEffect(effect), class: operationClass.name, level };
  });
}

const refusedInput = (code: Code, message: string, extra: Partial<ValidateResult> = {}): ValidateResult => ({
  success: false,
  code,
  message,
  confirmation_token: null,
  level: null,
  changes: null,
  ...extra,
});

async function validate(ctx: Context, change: ChangeRequest, requester: Requester): Promise<ValidateResult> {
  const limited = await overLimit(ctx, 'validate', requester);
  if (limited) return refusedInput('RATE_LIMITED', `Refused: ${limited.message}`, { retryAfterSeconds: limited.retryAfterSeconds });
  const c = await checked(ctx, change);
  if (!c.ok) {
    // Refused, perhaps for its characters: bounded and printable before it reaches a log line.
    const raw = { operation: label(change.operation), table: printable(change.table_name), environment: printable(change.environment) };
    record(ctx, 'validate', 'invalid', c.code, { ...requesterSubject(requester), ...raw });
    return refusedInput(c.code, c.message);
  }
  const subject: Subject = { ...requesterSubject(requester), operation: label(c.operation), table: c.table, environment: c.environment.name };
  const verdict = advisoryVerdict(ctx, c, requester);
  // The audit record names the token it issued, if any.
  record(ctx, 'validate', verdict.outcome, verdict.code, verdict.tokenId ? { ...subject, tokenId: verdict.tokenId } : subject);
  const success = verdict.outcome === 'allowed' || verdict.outcome === 'confirmation_required';
  return { success, code: verdict.code, message: verdict.message, confirmation_token: verdict.token ?? null, level: c.level, changes: report(ctx, c) };
}

interface AdvisoryVerdict {
  code: Code;
  outcome: Outcome;
  message: string;
  token?: string;
  tokenId?: string;
}

/** A checked change's answer: denied, allowed, or a token bound to the requester (or why none can be issued). */
function advisoryVerdict(ctx: Context, c: Checked, requester: Requester): AdvisoryVerdict {
  if (c.level === 'deny') {
    const instead = c.instead ? ` Instead, ${c.instead}` : '';
    return { code: 'DENIED_BY_POLICY', outcome: 'denied', message: `Refused: ${describeChecked(c)}; ${c.environment.name} does not allow it.${instead}` };
  }
  if (c.level === 'allow') {
    return { code: 'ALLOWED', outcome: 'allowed', message: `Validated automatically: ${describeChecked(c)}; ${c.environment.name} allows it without confirmation.` };
  }
  // A token is only as good as its requester's identity: four-eyes compares two users, so both must be known.
  if (ctx.fourEyes && !isIdentified(requester)) {
    return { code: 'REQUESTER_UNIDENTIFIED', outcome: 'invalid', message: 'Refused: four-eyes mode issues confirmation tokens to identified users only; send the change as a signed-in user (x-hasura-user-id).' };
  }
  const fx = [...new Set(c.effects.map(effectKey))];
  if (fx.length > MAX_TOKEN_EFFECTS) {
    return { code: 'TOO_MANY_EFFECTS', outcome: 'invalid', message: `Refused: the change has ${fx.length} kinds of effect, more than the ${MAX_TOKEN_EFFECTS} a confirmation token can carry. Split it into smaller changes.` };
  }
  const { token, jti } = ctx.tokens.issue({ op: label(c.operation), tbl: c.table, env: c.environment.name, sub: identityOf(requester), uid: requester.person ? requester.userId : undefined, fx });
  const who = ctx.fourEyes ? 'another user must confirm it' : 'confirm it';
  const message = `${describeChecked(c)}. In ${c.environment.name} it needs a confirmation: ${who} with confirmMetadataChange and this confirmation_token within ${ctx.tokens.ttlSeconds} seconds.`;
  return { code: 'CONFIRMATION_REQUIRED', outcome: 'confirmation_required', message, token, tokenId: jti };
}

async function preview(ctx: Context, change: ChangeRequest): Promise<PreviewResult> {
  const c = await checked(ctx, change);
  if (!c.ok) return { success: false, message: c.message, level: null, operation_class: null, environment: null, changes: null };
  const what = { allow: 'would be validated automatically', confirm: 'would need a confirmation', deny: 'would be refused' }[c.level];
  return {
    success: c.level !== 'deny',
    message: `${describeChecked(c)}. In ${c.environment.name} it ${what}. Nothing was issued.`,
    level: c.level,
    operation_class: c.className,
    environment: c.environment.name,
    changes: report(ctx, c),
  };
}

// ---- Confirmation: one path for advisory tokens and held requests --------------------------------------------------

/** What to do about a token that did not verify, where it is not "pass it exactly as returned". */
const TOKEN_FIXES: Partial<Record<Code, string>> = {
  TOKEN_EXPIRED: 'Validate the change again to get a new token.',
  // A token is only ever issued by a guard, so "issued in the future" means that guard's clock is ahead of this one's.
  TOKEN_NOT_YET_VALID:
    "The guard that issued it has a clock ahead of this one's: check that every replica's clock is synchronised (NTP), or validate the change again at this guard.",
  TOKEN_WRONG_AUDIENCE: 'Confirm it at the guard that issued it, or validate the change again here.',
};

/** A refused confirmation, recorded. `fix` says what to do next; the confirm page's answers carry none. */
function refuseConfirmation(ctx: Context, code: Code, why: string, fix: string, subject: Subject): ConfirmResult {
  record(ctx, 'confirm', 'refused', code, subject);
  return { success: false, code, message: fix ? `Not confirmed: ${why}. ${fix}` : `Not confirmed: ${why}.` };
}

async function confirm(ctx: Context, token: string, requester: Requester, door: ConfirmDoor): Promise<ConfirmResult> {
  if (door === 'api') {
    const limited = await overLimit(ctx, 'confirm', requester);
    if (limited) return { success: false, code: 'RATE_LIMITED', message: `Not confirmed: ${limited.message}`, retryAfterSeconds: limited.retryAfterSeconds };
  }
  const who = requesterSubject(requester);
  const verified = ctx.tokens.verify(token);
  if (!verified.ok) {
    const fix = door === 'api' ? (TOKEN_FIXES[verified.code] ?? 'Pass the confirmation_token exactly as validateMetadataChange returned it.') : '';
    return refuseConfirmation(ctx, verified.code, verified.message, fix, { ...who, environment: ctx.enforcing?.environment });
  }
  const { claims } = verified;
  const subject: Subject = { ...who, operation: claims.op, table: claims.tbl, environment: claims.env, tokenId: claims.jti };
  if (claims.fp !== undefined || claims.crd !== undefined) {
    // Either claim makes it a held request's token, never an advisory one; a held token carries both.
    if (claims.fp === undefined || claims.crd === undefined) {
      return refuseConfirmation(ctx, 'TOKEN_MALFORMED', 'the token does not carry the claims of a confirmation token', '', subject);
    }
    if (ctx.enforcing) return confirmHeld(ctx, claims as HeldClaims, requester, subject);
    const fix = 'Confirm it at that guard: open the link in its answer, or POST the token to its /guard/confirm with the admin secret.';
    return refuseConfirmation(ctx, 'TOKEN_HELD_ELSEWHERE', 'the token confirms a change an enforcing guard held', fix, subject);
  }
  if (door === 'confirm-page') {
    return refuseConfirmation(ctx, 'TOKEN_ADVISORY', 'this token confirms an advisory check (validateMetadataChange), not a request held by the proxy', '', subject);
  }
  return confirmAdvisory(ctx, claims, requester, subject);
}

/** An advisory token: bound to the requester's identity (or, in four-eyes mode, to anyone else identified). */
async function confirmAdvisory(ctx: Context, claims: VerifiedClaims, requester: Requester, subject: Subject): Promise<ConfirmResult> {
  const refuse = (code: Code, why: string, fix: string) => refuseConfirmation(ctx, code, why, fix, subject);
  const { guardEnvironment } = ctx;
  if (guardEnvironment && claims.env !== guardEnvironment) {
    return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token is for ${claims.env}, and this guard protects ${guardEnvironment}`, `Confirm it at the ${claims.env} guard.`);
  }
  const environment = ctx.policy.findEnvironment(claims.env);
  if (!environment) return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token is for ${claims.env}, which the active policy does not know`, 'Validate the change again.');
  const wrongPerson = confirmerProblem(ctx.fourEyes, claims, requester);
  if (wrongPerson) return refuse(...wrongPerson);
  const denied = await deniedNow(ctx, claims, environment);
  if (denied) return refuse('DENIED_BY_POLICY', denied.why, denied.fix);
  // Remember the id until the last second a verifier could still accept the token.
  const spent = await spendToken(ctx, claims.jti, claims.exp + CLOCK_TOLERANCE_SECONDS, identityOf(requester));
  if (spent) return refuse(spent, ADVISORY_SPENT[spent], spentFix(ctx, spent));
  record(ctx, 'confirm', 'confirmed', 'CONFIRMED', subject);
  return { success: true, code: 'CONFIRMED', message: `Confirmed: ${claims.op}${onTable(claims.tbl)} in ${claims.env}. Go ahead with the change.` };
}

/** Why this requester may not confirm a token issued to `sub` (and `uid`), or undefined when they may. */
function confirmerProblem(fourEyes: boolean, { sub, uid }: Pick<VerifiedClaims, 'sub' | 'uid'>, requester: Requester): [Code, string, string] | undefined {
  const confirmer = identityOf(requester);
  if (!fourEyes) {
    return confirmer === sub ? undefined : ['TOKEN_WRONG_REQUESTER', 'the token was issued to someone else', 'Confirm it as the user who validated the change.'];
  }
  if (!isIdentified(requester)) return ['TOKEN_CONFIRMER_UNKNOWN', 'four-eyes mode needs a confirming user (x-hasura-user-id)', 'Confirm it as a signed-in user.'];
  // Issued before four-eyes was on, or by a replica without it: a role or "anonymous" is no second person.
  if (!sub.startsWith('user:') && !sub.startsWith('person:')) {
    return ['TOKEN_REQUESTER_UNKNOWN', 'four-eyes mode needs a token requested by an identified user', 'Validate the change again as a signed-in user.'];
  }
  // Compared on every identity either side has: the person the auth proxy named, and the Hasura user id.
  const requestedBy = [sub, ...(uid ? [`user:${uid}`] : [])];
  if (identitiesOf(requester).some((id) => requestedBy.includes(id))) return ['TOKEN_SAME_USER', 'four-eyes mode needs a second person, and you requested this change', 'Ask another user to confirm it.'];
  return undefined;
}

/**
 * The token records what the policy said when it was issued, perhaps by another replica or under a laxer policy
 * since tightened: decide again under the policy in force, and refuse what it now denies.
 */
async function deniedNow(ctx: Context, claims: VerifiedClaims, environment: Environment): Promise<{ why: string; fix: string } | undefined> {
  const effects = claims.fx ? claims.fx.map(effectOfKey) : await ctx.analyze({ operation: claims.op, table: claims.tbl });
  const inForce = ctx.policy.decide(effects, environment, claims.op);
  if (inForce.level !== 'deny') return undefined;
  const fix = inForce.operationClass.instead ? `Instead, ${inForce.operationClass.instead}` : 'Validate the change again to see why.';
  return { why: `the policy in force does not allow this change in ${environment.name}: it ${describeEffects(effects)}`, fix };
}

type SpentCode = 'TOKEN_ALREADY_USED' | 'REPLAY_SHARE_FULL' | 'REPLAY_CACHE_FULL' | 'STORE_UNAVAILABLE';

const ADVISORY_SPENT: Record<SpentCode, string> = {
  TOKEN_ALREADY_USED: 'the token has already been used',
  REPLAY_SHARE_FULL: 'you have more confirmations in flight than one identity may hold',
  REPLAY_CACHE_FULL: 'too many confirmations are in flight to track them safely',
  STORE_UNAVAILABLE: "the guard cannot record the confirmation right now (its database is unreachable)",
};

function spentFix(ctx: Context, code: SpentCode): string {
  if (code === 'TOKEN_ALREADY_USED') return 'Validate the change again to get a new token.';
  if (code === 'REPLAY_SHARE_FULL') return `Try again once your earlier tokens have expired (within ${ctx.tokens.ttlSeconds + CLOCK_TOLERANCE_SECONDS} seconds).`;
  if (code === 'REPLAY_CACHE_FULL') return 'Try again in a minute.';
  return 'Try again shortly.';
}

/**
 * Records a token id as used, once. Undefined when it is now spent by this call; else why not. A confirmation the
 * store could not record could be replayed, so a store failure refuses it (fails closed).
 */
async function spendToken(ctx: Context, jti: string, expiresAtSeconds: number, owner?: string): Promise<SpentCode | undefined> {
  try {
    const remembered = await ctx.store.useToken(jti, expiresAtSeconds, nowSeconds(ctx), owner);
    if (remembered === 'remembered') return undefined;
    if (remembered === 'already-used') return 'TOKEN_ALREADY_USED';
    return remembered === 'full-for-owner' ? 'REPLAY_SHARE_FULL' : 'REPLAY_CACHE_FULL';
  } catch (err) {
    if (err instanceof StoreUnavailableError) return 'STORE_UNAVAILABLE';
    throw err;
  }
}

type HeldClaims = VerifiedClaims & { fp: string; crd: string };

/** What a held request's confirmation says when refused (the held answer already said what to do). */
const HELD_SPENT: Record<SpentCode, string> = {
  TOKEN_ALREADY_USED: 'this token was already used',
  REPLAY_SHARE_FULL: ADVISORY_SPENT.REPLAY_SHARE_FULL,
  REPLAY_CACHE_FULL: ADVISORY_SPENT.REPLAY_CACHE_FULL,
  STORE_UNAVAILABLE: "the guard's database is unavailable, so the confirmation cannot be recorded; try again shortly",
};

/**
 * A held request's token: bound to the credentials the held request carried, and, under GUARD_APPROVERS or FOUR_EYES,
 * confirmed only by an identified approver other than its requester (the `by` claim). Confirming approves one pass.
 */
async function confirmHeld(ctx: Context, claims: HeldClaims, confirmer: Requester, subject: Subject): Promise<ConfirmResult> {
  const enforcing = ctx.enforcing!;
  const { credentials } = confirmer;
  const held: Subject = { ...subject, sub: claims.sub, requester: claims.by, fingerprint: claims.fp.slice(0, 12) };
  const refuse = (code: Code, why: string) => refuseConfirmation(ctx, code, why, '', held);
  if (claims.env !== enforcing.environment) {
    return refuse('TOKEN_ENVIRONMENT_MISMATCH', `the token was issued for ${claims.env}, and this guard guards ${enforcing.environment}`);
  }
  if (credentials === undefined || credentials === '') {
    return refuse('CREDENTIALS_MISSING', 'send the admin secret the held request carried (x-hasura-admin-secret or x-hasura-access-key header), or its Authorization');
  }
  const presented = Buffer.from(credentialsHash(credentials, enforcing.credentialsKey), 'hex');
  if (!timingSafeEqual(presented, Buffer.from(claims.crd, 'hex'))) {
    return refuse('TOKEN_WRONG_CREDENTIALS', 'only someone holding the credentials the held request carried can confirm it');
  }
  // Asked of Hasura only once the credentials match the held request's: a wrong one costs no round trip.
  const admin = enforcing.credentialCheck ? await enforcing.credentialCheck(credentials, confirmer.credentialHeader ?? 'x-hasura-admin-secret', confirmer.role) : 'admin';
  if (admin === 'not-admin') return refuse('CREDENTIALS_NOT_ADMIN', "Hasura does not accept the credentials presented as an admin's, so they confirm nothing");
  if (admin === 'unreachable') return refuse('HASURA_UNREACHABLE', "the guard could not ask Hasura whether the credentials presented are an admin's; try again shortly");
  const notThisPerson = confirmerRefusal({ approvers: ctx.approvers, fourEyes: ctx.fourEyes }, claims.by, confirmer.person);
  // Its message is whole sentences; refuseConfirmation adds the closing full stop.
  if (notThisPerson) return refuse(notThisPerson.code, notThisPerson.message.replace(/\.$/, ''));
  // Remembered as long as any replica's verifier still accepts the token (exp plus the clock tolerance), not just
  // until exp: else it confirms again in those seconds.
  const spent = await spendToken(ctx, claims.jti, claims.exp + CLOCK_TOLERANCE_SECONDS);
  if (spent) return refuse(spent, HELD_SPENT[spent]);
  try {
    await ctx.store.approve(claims.fp, claims.crd, claims.exp);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    return refuse('STORE_UNAVAILABLE', HELD_SPENT.STORE_UNAVAILABLE);
  }
  record(ctx, 'confirm', 'confirmed', 'CONFIRMED', held);
  const seconds = Math.max(0, claims.exp - nowSeconds(ctx));
  return { success: true, code: 'CONFIRMED', message: `Confirmed: send the same request again within ${seconds} seconds; it passes once.` };
}

// ---- Enforcing mode: judging a request bound for Hasura --------------------------------------------------------------

const whereOf = (environment: string) => `the metadata guard (${environment})`;
/** "Held for alice@example.com by the metadata guard (production)", when the auth proxy named her. */
const heldBy = (environment: string, request: JudgeRequest) =>
  request.person ? `Held for ${request.person.email} by ${whereOf(environment)}` : `Held by ${whereOf(environment)}`;

/** A request held with no token: why, recorded. */
function holdWithout(ctx: Context, code: Code, outcome: Outcome, message: string, subject: Subject, effects: Effect[] = []): Verdict {
  record(ctx, 'judge', outcome, code, subject);
  return { action: 'hold', code, message, token: null, effects, objects: touchedObjects(effects) };
}

async function judge(ctx: Context, request: JudgeRequest): Promise<Verdict> {
  const enforcing = ctx.enforcing;
  if (!enforcing) throw new Error('judge() needs enforcing mode');
  const crd = request.credentials === undefined ? undefined : credentialsHash(request.credentials, enforcing.credentialsKey);
  const subject: Subject = { environment: enforcing.environment, endpoint: request.endpoint, sub: crd && credentialsSubject(crd), person: request.person?.email };
  const analysed = await effectsOf(ctx, request, subject);
  if ('action' in analysed) return analysed;
  const { effects } = analysed;
  const decision = enforcing.decide(effects);
  const said = describeEffects(effects) || 'nothing the guard can name';
  const judged: Subject = { ...subject, className: decision.className, effects: said };
  const where = whereOf(enforcing.environment);
  if (decision.level === 'allow') {
    record(ctx, 'judge', 'forwarded', 'ALLOWED', judged);
    return { action: 'forward', reason: 'allowed' };
  }
  const notAdmin = await unlessHasuraAdmin(ctx, request, judged);
  if (notAdmin) return notAdmin;
  if (decision.level === 'deny') {
    const instead = decision.instead ? ` ${decision.instead}` : '';
    const message = `Refused by ${where}: this request ${said}. The policy does not allow "${decision.className}" changes in ${enforcing.environment}, and no confirmation can change that.${instead} Nothing was changed.`;
    return holdWithout(ctx, 'DENIED_BY_POLICY', 'denied', message, judged, effects);
  }
  if (crd === undefined) {
    const message = `${heldBy(enforcing.environment, request)}: this request ${said}. It needs a confirmation, and a confirmation is bound to the credentials of the request, but it carries none that Hasura would accept (x-hasura-admin-secret, x-hasura-access-key or Authorization). Send it with them. Nothing was changed.`;
    return holdWithout(ctx, 'CREDENTIALS_MISSING', 'denied', message, judged, effects);
  }
  return holdOrPassConfirmed(ctx, request, { effects, said, className: decision.className, crd, subject: judged });
}

/**
 * A request Hasura would refuse for its credentials is refused here too, before it is held, denied, recorded in the
 * history or announced: anyone who reaches the proxy can make up an admin secret, and a held change with a token
 * and a notification to the team for each would let them flood both. Asked of Hasura as the request would be
 * (credentialCheck, remembered a minute for an admin); without a check configured, nothing is asked.
 */
async function unlessHasuraAdmin(ctx: Context, request: JudgeRequest, subject: Subject): Promise<Verdict | undefined> {
  const check = ctx.enforcing!.credentialCheck;
  if (!check || request.credentials === undefined) return undefined;
  const answer = await check(request.credentials, request.credentialHeader ?? 'x-hasura-admin-secret', request.role);
  const notSent = `Not sent to Hasura by ${whereOf(ctx.enforcing!.environment)}`;
  if (answer === 'not-admin') {
    return holdWithout(ctx, 'CREDENTIALS_NOT_ADMIN', 'refused', `${notSent}: Hasura does not accept this request's credentials as an admin's, and the guard holds changes for admins only. Nothing was changed.`, subject);
  }
  if (answer === 'unreachable') {
    return holdWithout(ctx, 'HASURA_UNREACHABLE', 'refused', `${notSent}: the guard could not ask Hasura whether this request's credentials are an admin's. Nothing was changed; try again shortly.`, subject);
  }
  return undefined;
}

/** The request's effects, most telling first, or the verdict when they cannot be known (fails closed). */
async function effectsOf(ctx: Context, request: JudgeRequest, subject: Subject): Promise<{ effects: Effect[] } | Verdict> {
  const enforcing = ctx.enforcing!;
  const notSent = `Not sent to Hasura by ${whereOf(enforcing.environment)}`;
  let currentMetadata: unknown;
  if (needsCurrentMetadata(request.body)) {
    try {
      currentMetadata = await request.fetchCurrentMetadata();
    } catch (err) {
      // A replacement not compared with what it replaces cannot be judged. The door's own messages name no secret.
      const why = err instanceof Error ? err.message : 'unknown error';
      const message = `${notSent}: this request replaces metadata wholesale, and the guard could not read the current metadata to compare (${why}). Nothing was changed; try again when Hasura answers export_metadata.`;
      return holdWithout(ctx, 'CURRENT_METADATA_UNAVAILABLE', 'refused', message, { ...subject, detail: why });
    }
  }
  try {
    return { effects: mostTellingFirst(await enforcing.analyzeBody(request.body, { endpoint: request.endpoint, currentMetadata })) };
  } catch {
    // What the analysis threw is internal: it reaches neither the client nor the audit log.
    return holdWithout(ctx, 'ANALYSIS_FAILED', 'refused', `${notSent}: the guard could not analyse this request, so it does not pass. Nothing was changed.`, subject);
  }
}

/** A judged request the policy asks a confirmation for, with credentials to bind it to. */
interface NeedsConfirmation {
  effects: Effect[];
  /** Its effects in words, for the messages. */
  said: string;
  className: string;
  /** The credentials hash the confirmation binds to. */
  crd: string;
  subject: Subject;
}

/** A request that needs a confirmation: passes once when confirmed earlier, else is held with a token. */
async function holdOrPassConfirmed(ctx: Context, request: JudgeRequest, change: NeedsConfirmation): Promise<Verdict> {
  const { environment } = ctx.enforcing!;
  let fp: string;
  try {
    fp = fingerprintOf(request.body);
  } catch {
    // Only a body nested deeper than the stack gets here (the canonical JSON is written recursively): it cannot be
    // bound to a confirmation, so it cannot be confirmed.
    const message = `Not sent to Hasura by ${whereOf(environment)}: this request needs a confirmation, and its body is nested too deeply to be bound to one. Nothing was changed.`;
    return holdWithout(ctx, 'BODY_TOO_DEEP', 'refused', message, change.subject);
  }
  const subject: Subject = { ...change.subject, fingerprint: fp.slice(0, 12) };
  let approved: boolean;
  try {
    approved = await ctx.store.takeApproval(fp, change.crd, nowSeconds(ctx));
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    // Neither an approval nor a new token can be recorded: the change is refused, never forwarded unconfirmed.
    const message = `Not sent to Hasura by ${whereOf(environment)}: this request ${change.said}, which needs a confirmation, and the guard's database is unavailable, so none can be checked or recorded. Nothing was changed; try again shortly.`;
    return holdWithout(ctx, 'STORE_UNAVAILABLE', 'refused', message, subject, change.effects);
  }
  if (approved) {
    record(ctx, 'judge', 'forwarded-approved', 'CONFIRMED_EARLIER', subject);
    // Named for the history, which hears from the proxy what Hasura answered it.
    return { action: 'forward', reason: 'approved', change: { fingerprint: fp.slice(0, 12), sub: credentialsSubject(change.crd) } };
  }
  return holdWithToken(ctx, request, change, fp, subject);
}

function holdWithToken(ctx: Context, request: JudgeRequest, change: NeedsConfirmation, fp: string, subject: Subject): Verdict {
  const { environment } = ctx.enforcing!;
  const objects = touchedObjects(change.effects);
  const requester = request.person?.email;
  const issued = ctx.tokens.issue({ op: summary(change.effects), tbl: objectsClaim(objects), env: environment, sub: credentialsSubject(change.crd), fp, crd: change.crd, by: requester });
  record(ctx, 'judge', 'held', 'CONFIRMATION_REQUIRED', { ...subject, tokenId: issued.jti });
  const page = `${request.guardUrl}/guard/confirm?token=${issued.token}`;
  const message =
    `${heldBy(environment, request)}: this request ${change.said}. The policy requires a confirmation for "${change.className}" changes in ${environment}; nothing was changed. ` +
    `To confirm within ${ctx.tokens.ttlSeconds} seconds, open ${page} and enter the admin secret this request was sent with, ` +
    `or run: curl -X POST ${request.guardUrl}/guard/confirm -H 'content-type: application/json' -H 'x-hasura-admin-secret: <admin secret>' -d '{"token":"${issued.token}"}' . ` +
    `Then send the same request again, unchanged: it passes once.`;
  return { action: 'hold', code: 'CONFIRMATION_REQUIRED', message, token: issued.token, effects: change.effects, objects, requester };
}

/** An effect as a token carries it (`verb:object`); a verb this version does not know is an unknown effect. */
function effectOfKey(key: string): Effect {
  const [verb, object] = key.split(':') as [string, string];
  return verb in VERBS ? { verb: verb as Effect['verb'], object: object as ObjectKind } : { verb: 'unknown', object: object as ObjectKind };
}
