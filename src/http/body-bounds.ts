// What one request body may cost the guard, checked before any tree is built. JSON.parse turns 3 bytes of `{},`
// into an object of about 70 bytes, and the analysis adds an effect of a few hundred bytes for each request of a
// bulk: 42 MB of `{"type":"bulk","args":[{},{},…]}` (41 kB gzipped) took the guard past its heap. So the decoded
// bytes are first measured in one linear pass that allocates nothing per byte or per value, only each key's text
// while its object is open, to find a key said twice (measureJson, in
// src/big-json/measure.ts), and a body past a bound is refused with the bound named (checkBounds). Pure: bytes and
// bounds in, a measure or a refusal out. docs/security.md ("Bounded work per request") says why each default is where it is.

import { MAX_JSON_DEPTH, type JsonMeasure } from '../big-json/measure.js';

export interface BodyBounds {
  /** Decoded bytes (PROXY_MAX_BODY_BYTES). */
  maxBytes: number;
  /** JSON values, but those a replace_metadata keeps in its bytes (measure.ts, tableValues) (PROXY_MAX_JSON_VALUES). */
  maxValues: number;
  /** Requests in bulks, nested ones included (PROXY_MAX_BULK_REQUESTS). */
  maxBulkRequests: number;
  /** Whether these are the lower bounds of a request without credentials, for the message. */
  withoutCredentials?: boolean;
}

/** PROXY_MAX_JSON_VALUES and PROXY_MAX_BULK_REQUESTS by default; src/config.ts says why. */
export const DEFAULT_MAX_JSON_VALUES = 1_000_000;
export const DEFAULT_MAX_BULK_REQUESTS = 100_000;

/**
 * A request with no credentials at all can never be confirmed, and Hasura answers its metadata API only to an admin,
 * so such a body is held to bounds of a hundredth to a tenth of the defaults (or the variables', when lower): cheap to
 * refuse in numbers. Anyone can add a header, so the full bounds are what keep the guard up; these only make the
 * cheapest request to send the cheapest to refuse. A Hasura without an admin secret treats every request as admin
 * whatever its headers (hasura/graphql-engine server/src-lib/Hasura/Server/Auth.hs, `AMNoAuth ->
 * mkUserInfoFallbackAdminRole`), so a bigger body still passes there with any x-hasura-admin-secret.
 */
const NO_CREDENTIALS_BOUNDS = { maxBytes: 1024 * 1024, maxValues: 100_000, maxBulkRequests: 1_000 };

/** The bounds for a request without credentials: the lower of each pair. */
export function withoutCredentials(bounds: BodyBounds): BodyBounds {
  return {
    maxBytes: Math.min(bounds.maxBytes, NO_CREDENTIALS_BOUNDS.maxBytes),
    maxValues: Math.min(bounds.maxValues, NO_CREDENTIALS_BOUNDS.maxValues),
    maxBulkRequests: Math.min(bounds.maxBulkRequests, NO_CREDENTIALS_BOUNDS.maxBulkRequests),
    withoutCredentials: true,
  };
}

/** The variable that sets a bound, or that the bound is lower for a request without credentials: for messages. */
export function boundSetBy(bounds: BodyBounds, variable: 'PROXY_MAX_BODY_BYTES' | 'PROXY_MAX_JSON_VALUES' | 'PROXY_MAX_BULK_REQUESTS'): string {
  return bounds.withoutCredentials ? 'for a request without credentials' : variable;
}

export interface BoundRefusal {
  /** For the client: which bound, the measure, and the variable that sets it. */
  message: string;
  /** For the audit log: the bound's short name. */
  bound: 'depth' | 'bulk-requests' | 'values';
}

/** The first bound `measure` passes, or undefined. */
export function checkBounds(measure: JsonMeasure, bounds: BodyBounds): BoundRefusal | undefined {
  if (measure.depth > MAX_JSON_DEPTH) {
    return { bound: 'depth', message: `the body nests objects and arrays more than ${MAX_JSON_DEPTH} deep` };
  }
  if (measure.bulkRequests > bounds.maxBulkRequests) {
    return { bound: 'bulk-requests', message: `the body holds more than ${bounds.maxBulkRequests} requests in bulks and tables to track or untrack (${boundSetBy(bounds, 'PROXY_MAX_BULK_REQUESTS')})` };
  }
  if (measure.values - measure.tableValues > bounds.maxValues) {
    return { bound: 'values', message: `the body holds more than ${bounds.maxValues} JSON values (${boundSetBy(bounds, 'PROXY_MAX_JSON_VALUES')})` };
  }
  return undefined;
}

