// Enforcing mode's rules: which request to Hasura passes, which is held, and how a held one is confirmed.
// No HTTP here: the proxy door reads and forwards; this decides, on functions it is given (the change analysis,
// the policy on effects, a shared store), so every replica and every test runs the same rules.
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { describeEffects, effectKey, type Effect } from '../analysis/effects.js';
import type { Clock } from './clock.js';
import { BULK_TYPES } from '../analysis/bulk.js';
import { credentialsHash, fingerprintOf } from './fingerprint.js';
import { isObject } from './json.js';
import type { TokenService } from './tokens.js';
import type { Remembered } from '../store/store.js';
import { confirmerRefusal, type ConfirmerRefusalCode, type ConfirmRule } from '../identity/approvers.js';
import type { Person } from '../identity/person.js';

/** The Hasura endpoints whose requests are inspected; everything else passes untouched. */
export type InspectedEndpoint = '/v1/metadata' | '/v2/query' | '/v1/query';

export type Level = 'allow' | 'confirm' | 'deny';

/**
 * Where confirmations are kept so every replica sees them. The store developer implements exactly this.
 * Times are seconds since the epoch.
 */
export interface ApprovalStore {
  /** Remembers a confirmation token's id so it confirms once; 'full' means the store refuses to grow (fail closed). */
  useToken(jti: string, expiresAtSeconds: number, nowSeconds: number): Promise<Remembered>;
  /** Lets one request with this body fingerprint and these credentials pass until the expiry. */
  approve(fp: string, crd: string, expiresAtSeconds: number): Promise<void>;
  /** Atomically removes a live approval for (fp, crd); true when there was one. */
  takeApproval(fp: string, crd: string, nowSeconds: number): Promise<boolean>;
}

export interface EnforcementOptions {
  /** The guarded environment's name, for messages and the token's env claim. */
  environment: string;
  analyze: (body: unknown, ctx: { endpoint: InspectedEndpoint; currentMetadata?: unknown }) => Promise<Effect[]>;
  needsCurrentMetadata?: (body: unknown) => boolean;
  decide: (effects: Effect[]) => { level: Level; className: string; instead?: string };
  describe?: (effects: Effect[]) => string;
  tokens: TokenService;
  store: ApprovalStore;
  clock: Clock;
  onDecision?: (decision: EnforcementDecision) => void;
  /**
   * Keys the credentials hash (HMAC-SHA256) so a leaked token reveals nothing testable about the admin secret;
   * every replica must use the same key (the app passes TOKEN_SECRET's). Without it, a plain sha256.
   */
  credentialsKey?: KeyObject;
  /** GUARD_APPROVERS and FOUR_EYES: who may confirm, on top of holding the request's credentials. Unset: anyone who holds them. */
  confirmRule?: ConfirmRule;
}

export interface JudgeRequest {
  endpoint: InspectedEndpoint;
  body: unknown;
  /**
   * The credential Hasura authenticates the request with (src/http/credentials.ts: the admin secret under either of
   * its names, else Authorization); undefined when it carries none.
   */
  credentials: string | undefined;
  fetchCurrentMetadata: () => Promise<unknown>;
  /** Where the guard is reached, e.g. https://guard.example.com: the confirm page's address is built on it. */
  guardUrl: string;
  /** Who sent it, as the auth proxy named them (src/identity/); undefined when no identity arrived. */
  person?: Person;
}

export type HeldCode = 'guard-confirmation-required' | 'guard-denied';

export type Verdict =
  | { action: 'forward'; reason: 'allowed' }
  /** A confirmed change passing: its fingerprint (12 hex) and credentials subject name it for the history. */
  | { action: 'forward'; reason: 'approved'; change: { fingerprint: string; sub: string } }
  | {
      action: 'hold';
      code: HeldCode;
      message: string;
      token: string | null;
      /** Most telling first: what the change does before what it only reads. */
      effects: Effect[];
      /** Every object the change touches, distinct, in the same order (touchedObjects). */
      objects: string[];
      /** The email of the person it was held for, when the auth proxy named one. */
      requester?: string;
    };

/** One audit record per judged request and per confirmation. Never the token, the body or the credentials. */
export interface EnforcementDecision {
  action: 'judge' | 'confirm';
  outcome: 'forwarded' | 'forwarded-approved' | 'held' | 'denied' | 'refused' | 'confirmed';
  reason: string;
  environment: string;
  endpoint?: InspectedEndpoint;
  /** `credentials:<first 12 hex of the hash>`: who, without the secret. */
  sub?: string;
  /** The email of who sent the request (judge) or confirmed it (confirm), as the auth proxy named them. */
  person?: string;
  /** On a confirmation: the email of who sent the held request, when known. */
  requester?: string;
  className?: string;
  effects?: string;
  fingerprint?: string;
  tokenId?: string;
}

export interface Enforcement {
  judge(request: JudgeRequest): Promise<Verdict>;
  confirm(token: string, presentedCredentials: string | undefined, confirmer?: Person): Promise<ConfirmOutcome>;
}

/** `code` on a refusal for who is confirming (NOT_AN_APPROVER, OWN_CHANGE...): the confirm page's JSON carries it. */
export interface ConfirmOutcome {
  success: boolean;
  message: string;
  code?: ConfirmerRefusalCode;
}

const WHOLE_REPLACEMENTS = new Set(['replace_metadata', 'set_custom_types']);

/** True when the body replaces something wholesale (only a diff with the current metadata shows what goes). */
export function needsCurrentMetadataByDefault(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(needsCurrentMetadataByDefault);
  if (!isObject(body) || typeof body.type !== 'string') return false;
  // Hasura matches types exactly; comparing case-insensitively only ever fetches more, never less.
  const type = body.type.toLowerCase();
  if (WHOLE_REPLACEMENTS.has(type)) return true;
  return BULK_TYPES.has(type) && Array.isArray(body.args) && body.args.some(needsCurrentMetadataByDefault);
}

export const credentialsSubject = (crd: string) => `credentials:${crd.slice(0, 12)}`;

export function createEnforcement(options: EnforcementOptions): Enforcement {
  const { environment, analyze, decide, tokens, store, clock } = options;
  const needsCurrentMetadata = options.needsCurrentMetadata ?? needsCurrentMetadataByDefault;
  const describe = options.describe ?? describeEffects;
  const onDecision = options.onDecision ?? (() => {});
  const nowSeconds = () => Math.floor(clock() / 1000);
  const where = `the metadata guard (${environment})`;

  async function judge(request: JudgeRequest): Promise<Verdict> {
    const { endpoint, body, credentials } = request;
    const crd = credentials === undefined ? undefined : credentialsHash(credentials, options.credentialsKey);
    const requester = request.person?.email;
    const audit = { action: 'judge' as const, environment, endpoint, sub: crd && credentialsSubject(crd), person: requester };
    // "Held for alice@example.com by the metadata guard (production)", when the auth proxy named her.
    const heldBy = requester ? `Held for ${requester} by ${where}` : `Held by ${where}`;

    const refuse = (reason: string, message: string): Verdict => {
      onDecision({ ...audit, outcome: 'refused', reason });
      return { action: 'hold', code: 'guard-denied', message: `Not sent to Hasura by ${where}: ${message}`, token: null, effects: [], objects: [] };
    };

    let currentMetadata: unknown;
    if (needsCurrentMetadata(body)) {
      try {
        currentMetadata = await request.fetchCurrentMetadata();
      } catch (err) {
        // Fail closed: a replacement not compared with what it replaces cannot be judged.
        const why = err instanceof Error ? err.message : 'unknown error';
        return refuse(
          `current metadata unavailable: ${why}`,
          `this request replaces metadata wholesale, and the guard could not read the current metadata to compare (${why}). Nothing was changed; try again when Hasura answers export_metadata.`,
        );
      }
    }

    let effects: Effect[];
    try {
      effects = mostTellingFirst(await analyze(body, { endpoint, currentMetadata }));
    } catch (err) {
      const why = err instanceof Error ? err.message : 'unknown error';
      return refuse(`analysis failed: ${why}`, 'the guard could not analyse this request, so it does not pass. Nothing was changed.');
    }

    const decision = decide(effects);
    const said = describe(effects) || 'nothing the guard can name';
    const base = { ...audit, className: decision.className, effects: said };
    const objects = touchedObjects(effects);

    if (decision.level === 'allow') {
      onDecision({ ...base, outcome: 'forwarded', reason: `${decision.className}: allowed` });
      return { action: 'forward', reason: 'allowed' };
    }

    if (decision.level === 'deny') {
      onDecision({ ...base, outcome: 'denied', reason: `${decision.className}: denied by policy` });
      const instead = decision.instead ? ` ${decision.instead}` : '';
      return {
        action: 'hold',
        code: 'guard-denied',
        message: `Refused by ${where}: this request ${said}. The policy does not allow "${decision.className}" changes in ${environment}, and no confirmation can change that.${instead} Nothing was changed.`,
        token: null,
        effects,
        objects,
      };
    }

    if (crd === undefined) {
      onDecision({ ...base, outcome: 'denied', reason: `${decision.className}: needs confirmation but carries no credentials` });
      return {
        action: 'hold',
        code: 'guard-denied',
        message: `${heldBy}: this request ${said}. It needs a confirmation, and a confirmation is bound to the credentials of the request, but it carries none that Hasura would accept (x-hasura-admin-secret, x-hasura-access-key or Authorization). Send it with them. Nothing was changed.`,
        token: null,
        effects,
        objects,
      };
    }

    let fp: string;
    try {
      fp = fingerprintOf(body);
    } catch {
      // Only a body nested deeper than the stack gets here (the canonical JSON is written recursively): it cannot be
      // bound to a confirmation, so it cannot be confirmed.
      return refuse('body not fingerprinted', 'this request needs a confirmation, and its body is nested too deeply to be bound to one. Nothing was changed.');
    }
    if (await store.takeApproval(fp, crd, nowSeconds())) {
      onDecision({ ...base, outcome: 'forwarded-approved', reason: `${decision.className}: confirmed earlier`, fingerprint: fp.slice(0, 12) });
      return { action: 'forward', reason: 'approved', change: { fingerprint: fp.slice(0, 12), sub: credentialsSubject(crd) } };
    }

    const issued = tokens.issue({ op: summary(effects), tbl: objectsClaim(objects), env: environment, sub: credentialsSubject(crd), fp, crd, by: requester });
    onDecision({ ...base, outcome: 'held', reason: `${decision.className}: needs confirmation`, fingerprint: fp.slice(0, 12), tokenId: issued.jti });
    const page = `${request.guardUrl}/guard/confirm?token=${issued.token}`;
    return {
      action: 'hold',
      code: 'guard-confirmation-required',
      message:
        `${heldBy}: this request ${said}. The policy requires a confirmation for "${decision.className}" changes in ${environment}; nothing was changed. ` +
        `To confirm within ${tokens.ttlSeconds} seconds, open ${page} and enter the admin secret this request was sent with, ` +
        `or run: curl -X POST ${request.guardUrl}/guard/confirm -H 'content-type: application/json' -H 'x-hasura-admin-secret: <admin secret>' -d '{"token":"${issued.token}"}' . ` +
        `Then send the same request again, unchanged: it passes once.`,
      token: issued.token,
      effects,
      objects,
      requester,
    };
  }

  async function confirm(token: string, presentedCredentials: string | undefined, confirmer?: Person): Promise<ConfirmOutcome> {
    const refused = (reason: string, message: string, tokenId?: string, code?: ConfirmerRefusalCode): ConfirmOutcome => {
      onDecision({ action: 'confirm', outcome: 'refused', reason, environment, tokenId, person: confirmer?.email });
      return code ? { success: false, message: `Not confirmed: ${message}`, code } : { success: false, message: `Not confirmed: ${message}` };
    };
    const verified = tokens.verify(token);
    if (!verified.ok) return refused(verified.code, `${verified.message}.`);
    const { claims } = verified;
    if (claims.fp === undefined || claims.crd === undefined) {
      return refused('advisory token', 'this token confirms an advisory check (validateMetadataChange), not a request held by the proxy.', claims.jti);
    }
    if (claims.env !== environment) {
      return refused('other environment', `the token was issued for ${claims.env}, and this guard guards ${environment}.`, claims.jti);
    }
    if (presentedCredentials === undefined || presentedCredentials === '') {
      return refused('no credentials', 'send the admin secret the held request carried (x-hasura-admin-secret or x-hasura-access-key header), or its Authorization.', claims.jti);
    }
    const presented = Buffer.from(credentialsHash(presentedCredentials, options.credentialsKey), 'hex');
    if (!timingSafeEqual(presented, Buffer.from(claims.crd, 'hex'))) {
      return refused('other credentials', 'only someone holding the credentials the held request carried can confirm it.', claims.jti);
    }
    const notThisPerson = options.confirmRule && confirmerRefusal(options.confirmRule, claims.by, confirmer);
    if (notThisPerson) return refused(notThisPerson.code, notThisPerson.message, claims.jti, notThisPerson.code);
    const remembered = await store.useToken(claims.jti, claims.exp, nowSeconds());
    if (remembered === 'already-used') return refused('token already used', 'this token was already used.', claims.jti);
    // 'full-for-owner' cannot come back (no owner is passed: the credentials are the owner here), but it is no pass either.
    if (remembered !== 'remembered') return refused('store full', 'too many confirmations are pending; try again in a few minutes.', claims.jti);
    await store.approve(claims.fp, claims.crd, claims.exp);
    onDecision({
      action: 'confirm',
      outcome: 'confirmed',
      reason: claims.op,
      environment,
      sub: claims.sub,
      person: confirmer?.email,
      requester: claims.by,
      fingerprint: claims.fp.slice(0, 12),
      tokenId: claims.jti,
    });
    const seconds = Math.max(0, claims.exp - nowSeconds());
    return { success: true, message: `Confirmed: send the same request again within ${seconds} seconds; it passes once.` };
  }

  return { judge, confirm };
}

/** The token's op claim: the kinds of effect, most telling first, kept short. */
function summary(effects: Effect[]): string {
  const keys = [...new Set(effects.filter((e) => e.verb !== 'read').map(effectKey))];
  if (keys.length === 0) return 'change';
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown;
}

/** What changes before what is only read, each group in the analysis' order: messages and lists show it first. */
function mostTellingFirst(effects: Effect[]): Effect[] {
  return [...effects.filter((e) => e.verb !== 'read'), ...effects.filter((e) => e.verb === 'read')];
}

/**
 * Every object the change touches, distinct: those it changes, or, when it changes nothing it can name, those it
 * reads. A held answer lists them; the token carries the first ones (objectsClaim).
 */
export function touchedObjects(effects: Effect[]): string[] {
  const named = (list: Effect[]) => [...new Set(list.flatMap((e) => (e.name ? [e.name] : [])))];
  const changed = named(effects.filter((e) => e.verb !== 'read'));
  return changed.length > 0 ? changed : named(effects);
}

/** Longest name the token carries (longer ones are cut, marked with …), and the most bytes all names may take. */
export const MAX_CLAIMED_NAME = 100;
export const MAX_OBJECTS_CLAIM_BYTES = 400;

/**
 * The token's tbl claim, shown on the confirm page: the objects, as many as fit in MAX_OBJECTS_CLAIM_BYTES, then
 * "and N more"; "-" when none is named. Bounded so that the token stays far below MAX_TOKEN_LENGTH whatever the change.
 */
export function objectsClaim(objects: string[]): string {
  if (objects.length === 0) return '-';
  const shown: string[] = [];
  let bytes = 0;
  for (const object of objects) {
    const characters = Array.from(object);
    const name = characters.length > MAX_CLAIMED_NAME ? `${characters.slice(0, MAX_CLAIMED_NAME - 1).join('')}…` : object;
    const cost = Buffer.byteLength(name) + 2;
    if (shown.length > 0 && bytes + cost > MAX_OBJECTS_CLAIM_BYTES) break;
    shown.push(name);
    bytes += cost;
  }
  const more = objects.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}
