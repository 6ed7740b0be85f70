// The credential Hasura authenticates a request with, which is what a held change is bound to and what confirming
// it must present. Hasura reads x-hasura-admin-secret, else its legacy name x-hasura-access-key, and only when neither
// was sent goes on to the JWT or webhook mode, which read Authorization (hasura/graphql-engine
// server/src-lib/Hasura/Server/Auth.hs, getUserInfoWithExpTime_: checkingSecretIfSent folds `<|>` over
// [adminSecretHeader, deprecatedAccessKeyHeader]). A header sent empty still counts as sent: Hasura answers 401
// "invalid x-hasura-admin-secret/x-hasura-access-key" and looks no further, so neither does the guard.

/** The headers that carry a credential, in Hasura's order of precedence. */
export const HASURA_CREDENTIAL_HEADERS = ['x-hasura-admin-secret', 'x-hasura-access-key', 'authorization'] as const;

/**
 * The credential Hasura would authenticate with, the header it came in and the role asked for (x-hasura-role: a JWT
 * admin selects `admin` with it): what it takes to ask Hasura about it the same way.
 */
export interface HasuraCredential {
  header: (typeof HASURA_CREDENTIAL_HEADERS)[number];
  value: string;
  role?: string;
}

/**
 * The credential Hasura would authenticate with, from a header reader (lower-case names). Undefined when none was
 * sent, or when the one Hasura would read is empty (Hasura refuses it; there is nothing to bind a confirmation to).
 * A header sent twice: Node joins the values, and that joined line is what the proxy forwards and Hasura reads.
 */
export function hasuraCredentialsOf(get: (name: string) => unknown): string | undefined {
  return hasuraCredentialOf(get)?.value;
}

/** The same, with the header it came in. */
export function hasuraCredentialOf(get: (name: string) => unknown): HasuraCredential | undefined {
  for (const header of HASURA_CREDENTIAL_HEADERS) {
    const raw = get(header);
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (typeof value !== 'string') continue;
    if (value === '') return undefined;
    const role = get('x-hasura-role');
    return typeof role === 'string' && role !== '' ? { header, value, role } : { header, value };
  }
  return undefined;
}
