// What happened to a production change, as the history keeps it and notifications announce it. Built from the audit
// records the core already emits (EnforcementDecision) and from the proxy's word on what Hasura answered a confirmed
// change; nothing here decides anything.
import type { EnforcementDecision } from '../core/enforcement.js';

export type ChangeOutcome = 'held' | 'confirmed' | 'passed' | 'failed' | 'unanswered' | 'denied';

/** One step in a change's life, before the history has placed it. */
export interface ChangeSignal {
  type: ChangeOutcome;
  environment: string;
  /** Epoch milliseconds, by the guard's clock. */
  at: number;
  /** The held token's id: names the change from held to confirmed. */
  tokenId?: string;
  /** The body's fingerprint (12 hex) and the credentials subject: name a confirmed change when it passes or fails. */
  fingerprint?: string;
  subject?: string;
  /** Who asked: their email once identity is configured, else the credentials subject (credentials:<12 hex>). */
  requester?: string;
  /** Who confirmed, the same way. */
  confirmer?: string;
  summary?: string;
  changes?: string[];
  /** Hasura's status for a passed or failed change; undefined when Hasura gave no answer. */
  hasuraStatus?: number;
}

/** A change as the history keeps it. Times are epoch milliseconds. */
export interface ChangeRecord {
  id: string;
  environment: string;
  outcome: ChangeOutcome;
  requester: string | null;
  confirmer: string | null;
  summary: string;
  changes: string[];
  fingerprint: string | null;
  subject: string | null;
  heldAt: number;
  confirmedAt: number | null;
  finishedAt: number | null;
  hasuraStatus: number | null;
}

/**
 * Who the people are, when identity is configured (issue 19, part 1): the identity module sets these on the decision
 * it passes on. Absent, the credentials subject stands for the person.
 */
export interface PersonFields {
  requester?: string;
  confirmer?: string;
}

/**
 * Who the record names. An audit record's `person` is whoever acted (src/identity/): the requester when a change is
 * judged, the confirmer when one is confirmed, whose `requester` is then the person it was held for. Without identity,
 * the credentials subject stands in for both.
 */
const requesterOf = (decision: EnforcementDecision & PersonFields) => decision.person ?? decision.requester ?? decision.sub;
const confirmerOf = (decision: EnforcementDecision & PersonFields) => decision.person ?? decision.confirmer ?? decision.sub;

/**
 * The change step an audit record tells of, or undefined for a routine one (allowed, forwarded) and for refusals that
 * are not a change (a failed confirmation, a body that could not be read).
 */
export function signalFromDecision(decision: EnforcementDecision & PersonFields, at: number): ChangeSignal | undefined {
  const base = { environment: decision.environment, at, tokenId: decision.tokenId, fingerprint: decision.fingerprint, subject: decision.sub };
  const described = { summary: decision.effects ?? 'a change the guard could not name', changes: splitEffects(decision.effects) };
  if (decision.action === 'judge' && decision.outcome === 'held') {
    return { ...base, ...described, type: 'held', requester: requesterOf(decision) };
  }
  // A request sent without credentials is one Hasura refuses as well, whatever the policy said of it: audited, but
  // neither a change of production nor news for the team (anyone who reaches the proxy could otherwise flood the
  // history and the channels). With credentials, only an admin's gets this far (the engine asks Hasura first).
  if (decision.action === 'judge' && decision.outcome === 'denied' && decision.sub !== undefined) {
    return { ...base, ...described, type: 'denied', requester: requesterOf(decision) };
  }
  if (decision.action === 'confirm' && decision.outcome === 'confirmed') {
    // Without identity the confirmer is whoever holds the held request's credentials (the binding requires it).
    return { ...base, type: 'confirmed', confirmer: confirmerOf(decision) };
  }
  return undefined;
}

/**
 * The proxy's word on what Hasura answered a confirmed change: 2xx is accepted (passed), any other status failed, and
 * no answer at all (the sender left before it came, so the request to Hasura was abandoned; or Hasura could not be
 * reached) is unanswered: Hasura may have applied it, so the history says it does not know rather than "failed".
 */
export function signalFromHasuraAnswer(change: { fingerprint: string; sub: string }, environment: string, hasuraStatus: number | undefined, at: number): ChangeSignal {
  const type = hasuraStatus === undefined || hasuraStatus === 0 ? 'unanswered' : hasuraStatus >= 200 && hasuraStatus < 300 ? 'passed' : 'failed';
  return { type, environment, at, fingerprint: change.fingerprint, subject: change.sub, hasuraStatus };
}

/** describeEffects joins with "; " (src/vocabulary/effects.ts): the list back, for receivers that show one per line. */
function splitEffects(effects: string | undefined): string[] {
  return effects ? effects.split('; ') : [];
}
