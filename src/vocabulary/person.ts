// Who is there, as the auth proxy in front of the guard says: the person travels with the request from the entry
// (src/identity/identify.ts) to the decision, the confirm page and the audit records.
import type { IncomingMessage } from 'node:http';

export interface Person {
  /** Lower-case, trimmed: approvers and four-eyes compare emails as people read them. */
  email: string;
  groups: readonly string[];
  /** How the guard learnt it: a verified assertion (JWT) or a header from a trusted proxy. */
  via: 'assertion' | 'header';
}

/** Longest email or group name accepted; longer is refused (an email) or left out (a group, which only grants). */
const MAX_PERSON_TEXT = 256;
/** Most groups kept for one person. */
const MAX_GROUPS = 200;

const people = new WeakMap<IncomingMessage, Person>();

export function rememberPerson(req: IncomingMessage, person: Person): void {
  people.set(req, person);
}

/** The person identified for this request, or undefined when no identity arrived (or none is configured). */
export function personOf(req: IncomingMessage | undefined): Person | undefined {
  return req === undefined ? undefined : people.get(req);
}

/**
 * An email as compared: trimmed, its ASCII letters lower-case; undefined when empty, too long or holding control
 * characters. Only ASCII is folded: Unicode case folding and normalisation make other accounts equal to an approver
 * (`\u212Aate@…`, KELVIN SIGN, lower-cases and normalises to `kate@…`), so any other character must match exactly.
 */
export function normalEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim().replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  if (email === '' || email.length > MAX_PERSON_TEXT || /\p{Cc}/u.test(email)) return undefined;
  return email;
}

/** Groups from a claim (an array of strings, or one string) or a header (comma-separated): trimmed, bounded. */
export function groupsFrom(raw: unknown): string[] {
  const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  const groups = values
    .filter((v): v is string => typeof v === 'string')
    .map((v) => v.trim().normalize('NFC'))
    .filter((v) => v !== '' && v.length <= MAX_PERSON_TEXT && !/\p{Cc}/u.test(v));
  return [...new Set(groups)].slice(0, MAX_GROUPS);
}
