// Enforcing mode's vocabulary: what the proxy door asks the engine (JudgeRequest) and is answered (Verdict), and
// how a held change is summed up in its token and its answer. The decisions are src/core/engine.ts's.
import { effectKey, type Effect } from '../vocabulary/effects.js';
import { BULK_TYPES } from '../vocabulary/bulk.js';
import type { Code } from './codes.js';
import type { Decision } from './advisory.js';
import { isObject } from '../vocabulary/json.js';
import type { Person } from '../vocabulary/person.js';
import type { InspectedEndpoint } from '../analysis/index.js';

/** The Hasura endpoints whose requests are inspected (the analysis' word for them); everything else passes untouched. */
export type { InspectedEndpoint };

export interface JudgeRequest {
  endpoint: InspectedEndpoint;
  body: unknown;
  /**
   * The credential Hasura authenticates the request with (src/http/credentials.ts: the admin secret under either of
   * its names, else Authorization); undefined when it carries none.
   */
  credentials: string | undefined;
  /** The header the credentials came in, and the role asked for (x-hasura-role): how Hasura would read them. */
  credentialHeader?: string;
  role?: string;
  fetchCurrentMetadata: () => Promise<unknown>;
  /** Where the guard is reached, e.g. https://guard.example.com: the confirm page's address is built on it. */
  guardUrl: string;
  /** Who sent it, as the auth proxy named them (src/identity/); undefined when no identity arrived. */
  person?: Person;
}

export type Verdict =
  | { action: 'forward'; reason: 'allowed' }
  /** A confirmed change passing: its fingerprint (12 hex) and credentials subject name it for the history. */
  | { action: 'forward'; reason: 'approved'; change: { fingerprint: string; sub: string } }
  | {
      action: 'hold';
      /** Why (codes.ts); the proxy answers it in Hasura's shape (hasuraCodeOf). */
      code: Code;
      message: string;
      token: string | null;
      /** Most telling first: what the change does before what it only reads. */
      effects: Effect[];
      /** Every object the change touches, distinct, in the same order (touchedObjects). */
      objects: string[];
      /** The email of the person it was held for, when the auth proxy named one. */
      requester?: string;
    };

/** An audit record of enforcing mode (a judgement, or a held request's confirmation): what the history is fed. */
export type EnforcementDecision = Decision & { action: 'judge' | 'confirm'; environment: string };

const WHOLE_REPLACEMENTS = new Set(['replace_metadata', 'set_custom_types']);

/** True when the body replaces something wholesale (only a diff with the current metadata shows what goes). */
export function needsCurrentMetadata(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(needsCurrentMetadata);
  if (!isObject(body) || typeof body.type !== 'string') return false;
  // Hasura matches types exactly; comparing case-insensitively only ever fetches more, never less.
  const type = body.type.toLowerCase();
  if (WHOLE_REPLACEMENTS.has(type)) return true;
  return BULK_TYPES.has(type) && Array.isArray(body.args) && body.args.some(needsCurrentMetadata);
}

export const credentialsSubject = (crd: string) => `credentials:${crd.slice(0, 12)}`;

/** The token's op claim: the kinds of effect, most telling first, kept short. */
export function summary(effects: Effect[]): string {
  const keys = [...new Set(effects.filter((e) => e.verb !== 'read').map(effectKey))];
  if (keys.length === 0) return 'change';
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown;
}

/** What changes before what is only read, each group in the analysis' order: messages and lists show it first. */
export function mostTellingFirst(effects: Effect[]): Effect[] {
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
const MAX_CLAIMED_NAME = 100;
const MAX_OBJECTS_CLAIM_BYTES = 400;

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
