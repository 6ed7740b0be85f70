// Who may confirm a held production change: GUARD_APPROVERS (emails and group:<name> entries) and FOUR_EYES (the
// confirmer identified, and not the requester). Only adds conditions: the admin secret the held request carried is
// still needed (src/core/engine.ts, confirmHeld, checks it first).
import { normalEmail, type Person } from '../vocabulary/person.js';

export interface Approvers {
  emails: ReadonlySet<string>;
  groups: ReadonlySet<string>;
}

export type ParsedApprovers = { ok: true; approvers: Approvers } | { ok: false; problem: string };

/** "alice@example.com, group:platform-admins": emails compared in lower case, group names exactly. */
export function parseApprovers(text: string): ParsedApprovers {
  const emails = new Set<string>();
  const groups = new Set<string>();
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    if (entry.toLowerCase().startsWith('group:')) {
      const group = entry.slice('group:'.length).trim();
      if (group === '') return { ok: false, problem: `"${entry.slice(0, 60)}" names no group` };
      groups.add(group);
      continue;
    }
    const email = normalEmail(entry);
    if (email === undefined || !email.includes('@')) return { ok: false, problem: `"${entry.slice(0, 60)}" is neither an email nor group:<name>` };
    emails.add(email);
  }
  if (emails.size === 0 && groups.size === 0) return { ok: false, problem: 'it names no one' };
  return { ok: true, approvers: { emails, groups } };
}

function isApprover(approvers: Approvers, person: Person): boolean {
  return approvers.emails.has(person.email) || person.groups.some((group) => approvers.groups.has(group));
}

/** Stable codes of a confirmation refused for who is confirming (the rest of the confirm path has its own). */
export type ConfirmerRefusalCode = 'CONFIRMER_UNIDENTIFIED' | 'NOT_AN_APPROVER' | 'REQUESTER_UNIDENTIFIED' | 'OWN_CHANGE';

export interface ConfirmRule {
  /** GUARD_APPROVERS; undefined: anyone holding the request's credentials may confirm. */
  approvers?: Approvers;
  /** FOUR_EYES: the confirmer must be identified and must not be the requester. */
  fourEyes: boolean;
}

/**
 * Why this person may not confirm a change held for `requesterEmail` (undefined: held for no one identified), or
 * undefined when they may. Fails closed: under either rule an unidentified confirmer is refused, and under
 * four-eyes so is a change whose requester is unknown (the same person could have sent it past the auth proxy).
 */
export function confirmerRefusal(rule: ConfirmRule, requesterEmail: string | undefined, confirmer: Person | undefined): { code: ConfirmerRefusalCode; message: string } | undefined {
  if (rule.approvers === undefined && !rule.fourEyes) return undefined;
  if (confirmer === undefined) {
    const why = rule.approvers ? 'only an identified approver may confirm it' : 'four-eyes mode needs an identified confirmer';
    return { code: 'CONFIRMER_UNIDENTIFIED', message: `${why}, and this request carries no identity from the auth proxy. Open the confirm link through the auth proxy.` };
  }
  if (rule.approvers && !isApprover(rule.approvers, confirmer)) {
    return { code: 'NOT_AN_APPROVER', message: `${confirmer.email} is not an approver of production changes (GUARD_APPROVERS). Ask an approver to confirm it.` };
  }
  if (rule.fourEyes) {
    if (requesterEmail === undefined) {
      return { code: 'REQUESTER_UNIDENTIFIED', message: 'four-eyes mode needs to know who requested the change, and it was sent without an identity. Send it again through the auth proxy.' };
    }
    if (requesterEmail === confirmer.email) {
      return { code: 'OWN_CHANGE', message: `you (${confirmer.email}) requested this change, and four-eyes mode needs someone else to confirm it. Ask another approver.` };
    }
  }
  return undefined;
}
