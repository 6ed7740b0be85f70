// The guard's one vocabulary of outcomes: every decision, refusal and error any door answers carries one of these
// codes (the `code` field of the API's outputs, `extensions.code` of a webhook or GraphQL error, `reason` of an audit
// record, and in enforcing mode the Hasura-shaped error's `code`, as `guard-…`). docs/api.md has the same table,
// checked against this one by test/core/codes.test.ts in both directions. Codes are a contract: add, never rename.

interface CodeEntry {
  /** What it means, as the documentation's table says it. */
  meaning: string;
  /**
   * The code a Hasura-shaped error carries when it is not `guard-` and this code in kebab case: the three codes the
   * proxy answered with before codes were fine-grained, which the console's and CLI's users (and their scripts)
   * already know, and the history API's, which it answered with from its start.
   */
  hasura?: 'guard-denied' | 'guard-refused' | 'guard-identity-refused' | `history-${string}`;
}

export const CODES = {
  // Decisions
  ALLOWED: { meaning: 'The change may go ahead without a confirmation (enforcing mode: forwarded to Hasura).' },
  CONFIRMATION_REQUIRED: { meaning: 'The change needs a confirmation; a confirmation token was issued (enforcing mode: the request was held).' },
  CONFIRMED: { meaning: 'The token confirmed the change; it may go ahead now (enforcing mode: the same request passes once).' },
  CONFIRMED_EARLIER: { meaning: 'Enforcing mode: a request confirmed earlier was forwarded, once.' },
  DENIED_BY_POLICY: { meaning: 'The policy does not allow this change in this environment; no confirmation can change that.', hasura: 'guard-denied' },
  // The change as sent
  INVALID_OPERATION: { meaning: 'operation is empty, too long, or holds control characters.' },
  INVALID_TABLE_NAME: { meaning: 'table_name is not a table name the guard can read.' },
  UNKNOWN_ENVIRONMENT: { meaning: 'environment names no environment of the active policy.' },
  WRONG_ENVIRONMENT: { meaning: 'The change is for an environment this guard does not protect.' },
  INVALID_REQUEST: { meaning: 'hasura_request or current_metadata is not a JSON object given as a string.' },
  REQUESTER_UNIDENTIFIED: {
    meaning: 'Four-eyes mode issues tokens to identified users only (x-hasura-user-id or the auth proxy), and confirms only held changes whose requester the auth proxy named.',
  },
  TOO_MANY_EFFECTS: { meaning: 'The change has more kinds of effect than a confirmation token can carry.' },
  CREDENTIALS_MISSING: {
    meaning: 'Enforcing mode: a change that needs a confirmation carries no credentials to bind it to, or a confirmation was sent without them.',
    hasura: 'guard-denied',
  },
  CURRENT_METADATA_UNAVAILABLE: { meaning: 'Enforcing mode: a wholesale replacement could not be compared with the current metadata.', hasura: 'guard-denied' },
  ANALYSIS_FAILED: { meaning: 'Enforcing mode: the guard could not analyse the request, so it does not pass.', hasura: 'guard-denied' },
  BODY_TOO_DEEP: { meaning: 'Enforcing mode: the body is nested too deeply to be bound to a confirmation.', hasura: 'guard-denied' },
  // Tokens
  TOKEN_MALFORMED: { meaning: 'The token is empty, too long, or not a confirmation token.' },
  TOKEN_BAD_SIGNATURE: { meaning: 'The token was not signed by this guard.' },
  TOKEN_WRONG_AUDIENCE: { meaning: 'The token was issued by another deployment or for another environment.' },
  TOKEN_EXPIRED: { meaning: 'The token has expired; validate the change again.' },
  TOKEN_NOT_YET_VALID: { meaning: "The token was issued in the future: the issuing guard's clock is ahead." },
  TOKEN_ALREADY_USED: { meaning: 'The token has already confirmed its change once.' },
  TOKEN_ENVIRONMENT_MISMATCH: { meaning: 'The token is for an environment this guard does not protect.' },
  TOKEN_HELD_ELSEWHERE: { meaning: 'The token confirms a change an enforcing guard held; confirm it at that guard.' },
  TOKEN_ADVISORY: { meaning: 'Enforcing mode: the token confirms an advisory check, not a held request.' },
  TOKEN_WRONG_REQUESTER: { meaning: 'The token was issued to someone else.' },
  TOKEN_WRONG_CREDENTIALS: { meaning: 'Enforcing mode: the credentials sent are not those the held request carried.' },
  CREDENTIALS_NOT_ADMIN: {
    meaning: "Enforcing mode: Hasura does not accept the credentials as an admin's: a change that needs a confirmation or is denied is refused, not held or recorded, and a held change is not confirmed with them; 401.",
  },
  HASURA_UNREACHABLE: { meaning: "Enforcing mode: the guard could not ask Hasura whether a request's or a confirmation's credentials are an admin's; 500 through the proxy, 503 on the confirm page." },
  TOKEN_CONFIRMER_UNKNOWN: { meaning: 'Four-eyes mode needs a confirming user (x-hasura-user-id).' },
  TOKEN_REQUESTER_UNKNOWN: { meaning: 'Four-eyes mode needs a token requested by an identified user.' },
  TOKEN_SAME_USER: { meaning: 'Four-eyes mode: the requester cannot confirm their own change.' },
  NOT_AN_APPROVER: { meaning: 'Enforcing mode: the person confirming a held change is not among the approvers (GUARD_APPROVERS).' },
  CONFIRMER_UNIDENTIFIED: { meaning: 'Enforcing mode: GUARD_APPROVERS or four-eyes needs to know who confirms, and the auth proxy named no one.' },
  OWN_CHANGE: { meaning: 'Enforcing mode, four-eyes: the person who requested a held change cannot confirm it.' },
  // Identity from the auth proxy (src/identity/): in Hasura's shape `guard-identity-refused`, the code under `guard.code`
  IDENTITY_HEADER_UNTRUSTED: { meaning: 'The identity header came from an address that is not a trusted proxy (GUARD_TRUSTED_PROXIES); 401.', hasura: 'guard-identity-refused' },
  IDENTITY_HEADER_INVALID: { meaning: 'The identity header is empty, too long or holds control characters; 401.', hasura: 'guard-identity-refused' },
  IDENTITY_REPEATED: { meaning: 'The identity header or assertion was sent more than once; 401.', hasura: 'guard-identity-refused' },
  IDENTITY_CONFLICT: { meaning: 'The identity header and the identity assertion name different people; 401.', hasura: 'guard-identity-refused' },
  ASSERTION_EXPIRED: { meaning: 'The identity assertion has expired; 401.', hasura: 'guard-identity-refused' },
  ASSERTION_WRONG_ISSUER: { meaning: 'The identity assertion was issued by someone other than GUARD_IDENTITY_ISSUER; 401.', hasura: 'guard-identity-refused' },
  ASSERTION_WRONG_AUDIENCE: { meaning: 'The identity assertion is for another application (GUARD_IDENTITY_AUDIENCE); 401.', hasura: 'guard-identity-refused' },
  ASSERTION_UNKNOWN_KEY: { meaning: 'The identity assertion is signed with a key not in the auth proxy\'s key set; 401.', hasura: 'guard-identity-refused' },
  ASSERTION_BAD_SIGNATURE: { meaning: 'The identity assertion\'s signature does not verify; 401.', hasura: 'guard-identity-refused' },
  ASSERTION_MALFORMED: { meaning: 'The identity assertion is not a well-formed signed JWT, or a claim is not valid now; 401.', hasura: 'guard-identity-refused' },
  ASSERTION_NO_EMAIL: { meaning: 'The identity assertion carries no usable email claim; 401.', hasura: 'guard-identity-refused' },
  KEY_SET_UNAVAILABLE: { meaning: 'The auth proxy\'s key set could not be fetched, so no assertion can be verified; 401.', hasura: 'guard-identity-refused' },
  // Capacity and availability
  RATE_LIMITED: { meaning: 'Too many validations or confirmations from this identity; try again after Retry-After seconds.' },
  REPLAY_SHARE_FULL: { meaning: 'This identity holds its whole share of confirmations in flight.' },
  REPLAY_CACHE_FULL: { meaning: 'Too many confirmations are in flight to track them safely.' },
  STORE_UNAVAILABLE: { meaning: "The guard's database is unavailable: nothing that needs it (a confirmation, a held change) passes." },
  // HTTP and payloads
  UNAUTHORIZED: { meaning: 'The action secret is missing or wrong.' },
  NOT_FOUND: { meaning: 'Nothing at this path.' },
  METHOD_NOT_ALLOWED: { meaning: 'The path does not take this method.', hasura: 'guard-refused' },
  UNSUPPORTED_MEDIA_TYPE: { meaning: 'The body is not JSON, or its content encoding is not one the guard reads.', hasura: 'guard-refused' },
  PAYLOAD_TOO_LARGE: { meaning: 'The body is larger, or holds more, than the guard reads.', hasura: 'guard-refused' },
  INVALID_JSON: { meaning: 'The body is not valid JSON.', hasura: 'guard-refused' },
  INVALID_ENCODING: { meaning: 'The body does not decode in its declared content encoding.', hasura: 'guard-refused' },
  PATH_AMBIGUOUS: { meaning: 'Enforcing mode: the request path could be read as another path upstream.', hasura: 'guard-refused' },
  JSON_AMBIGUOUS: { meaning: 'Enforcing mode: an object in the body repeats a key, which Hasura (first wins) and the guard would read differently.', hasura: 'guard-refused' },
  INVALID_PAYLOAD: { meaning: 'The body is not a Hasura action payload.' },
  INVALID_INPUT: { meaning: "The action's input does not fit its type." },
  INVALID_SESSION: { meaning: 'A session variable (x-hasura-user-id, x-hasura-role) is repeated or not a valid value.' },
  UNKNOWN_ACTION: { meaning: 'The payload names an action this guard does not serve.' },
  WRONG_ACTION: { meaning: "One action's input was sent to the other's route." },
  UPSTREAM_UNREACHABLE: { meaning: 'Enforcing mode: Hasura did not answer.' },
  INTERNAL_ERROR: { meaning: 'Something failed inside the guard; the server log has the details.' },
  // The change history's API (GET /guard/api/changes and the page), answered as {"code", "error"}
  HISTORY_UNAUTHORIZED: { meaning: "The history is shown to Hasura's admins only: the request's credentials are missing or not an admin's; 401.", hasura: 'history-unauthorized' },
  HISTORY_HASURA_UNREACHABLE: { meaning: "The guard could not ask Hasura whether the request's credentials are an admin's; 503.", hasura: 'history-hasura-unreachable' },
  HISTORY_UNAVAILABLE: { meaning: "The history's store did not answer; 503.", hasura: 'history-unavailable' },
  HISTORY_BAD_LIMIT: { meaning: 'limit is not a whole number from 1 to 200; 400.', hasura: 'history-bad-limit' },
  HISTORY_BAD_CURSOR: { meaning: 'before is not the `next` value of an earlier answer; 400.', hasura: 'history-bad-cursor' },
  HISTORY_BAD_CHANGE: { meaning: 'change is not the id of a change in the history; 400.', hasura: 'history-bad-change' },
  HISTORY_METHOD: { meaning: "The history's paths take GET only; 405.", hasura: 'history-method' },
  // GraphQL (graphql-yoga's codes, and the guard's for what yoga leaves without one)
  GRAPHQL_PARSE_FAILED: { meaning: 'The GraphQL document does not parse.' },
  GRAPHQL_VALIDATION_FAILED: { meaning: 'The GraphQL document does not fit the schema or its limits.' },
  BAD_USER_INPUT: { meaning: 'GraphQL variables do not fit their types.' },
  BAD_REQUEST: { meaning: 'The GraphQL request cannot be served this way, e.g. a mutation sent with GET.' },
  CSRF_HEADER_REQUIRED: { meaning: 'A GraphQL GET needs the x-graphql-yoga-csrf header (or a JSON POST).' },
} as const satisfies Record<string, CodeEntry>;

export type Code = keyof typeof CODES;

/** The code a Hasura-shaped error carries for this one in enforcing mode. */
export function hasuraCodeOf(code: Code): string {
  const entry: CodeEntry = CODES[code];
  return entry.hasura ?? `guard-${code.toLowerCase().replace(/_/g, '-')}`;
}
