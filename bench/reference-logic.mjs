// The work both benchmark references do (reference-server.mjs on node:http, reference-express.mjs on Express): the
// same decision for the benchmark's inputs, the same JWT signed with jsonwebtoken and a KeyObject built once, an
// in-memory replay set, one JSON audit line per decision. No GraphQL, no validation library, no metrics: that is what
// the project adds on top. Plain JavaScript, so they start as the compiled project does: node FILE.
import { createSecretKey, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

const key = createSecretKey(Buffer.from(process.env.TOKEN_SECRET ?? 'reference-secret-that-is-long-enough-000'));
const ttl = 300;
const used = new Map();
const CRITICAL = /^(drop|delete|truncate|alter|rename)\b|drop|untrack|delete/i;
const PRODUCTION = new Set(['production', 'prod', 'live']);
// The same audit line as the project's, field for field: who, what, where, the outcome and why, the token id.
const audit = (record) =>
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), service: 'hasura-metadata-guard', audit: record, msg: `decision ${record.action} ${record.outcome}` })}\n`);

export function validate(input, session) {
  if (typeof input?.operation !== 'string' || typeof input.table_name !== 'string' || typeof input.environment !== 'string') {
    return { status: 400, body: { message: 'invalid input', extensions: { code: 'INVALID_INPUT' } } };
  }
  const production = PRODUCTION.has(input.environment.toLowerCase());
  if (!production || !CRITICAL.test(input.operation)) {
    audit({ action: 'validate', outcome: 'allowed', reason: 'ALLOWED', userId: session?.['x-hasura-user-id'], role: session?.['x-hasura-role'], operation: input.operation, table: input.table_name, environment: input.environment });
    return {
      status: 200,
      body: { success: true, message: `Validated automatically: ${input.operation} on ${input.table_name} is a critical change, which staging allows without confirmation.`, confirmation_token: null },
    };
  }
  const iat = Math.floor(Date.now() / 1000);
  const jti = randomUUID();
  const sub = session?.['x-hasura-user-id'] ? `user:${session['x-hasura-user-id']}` : 'anonymous';
  const token = jwt.sign({ op: input.operation, tbl: input.table_name, env: 'production', sub, jti, iat, exp: iat + ttl }, key, {
    algorithm: 'HS256',
    issuer: 'hasura-metadata-guard',
    audience: 'hasura-metadata-change',
  });
  audit({ action: 'validate', outcome: 'confirmation_required', reason: 'CONFIRMATION_REQUIRED', userId: session?.['x-hasura-user-id'], role: session?.['x-hasura-role'], operation: input.operation, table: input.table_name, environment: 'production', tokenId: jti });
  // The same answer, word for word, as the project gives: identical work includes an identical response.
  const message = `${input.operation} on ${input.table_name} is a critical change in production. Confirm it with confirmMetadataChange and this confirmation_token within ${ttl} seconds.`;
  return { status: 200, body: { success: true, message, confirmation_token: token } };
}

export function confirm(input, session) {
  if (typeof input?.confirmation_token !== 'string') return { status: 400, body: { message: 'invalid input', extensions: { code: 'INVALID_INPUT' } } };
  try {
    const claims = jwt.verify(input.confirmation_token, key, {
      algorithms: ['HS256'],
      issuer: 'hasura-metadata-guard',
      audience: 'hasura-metadata-change',
      maxAge: ttl,
    });
    const sub = session?.['x-hasura-user-id'] ? `user:${session['x-hasura-user-id']}` : 'anonymous';
    if (claims.sub !== sub || used.has(claims.jti)) throw new Error('refused');
    used.set(claims.jti, claims.exp);
    audit({ action: 'confirm', outcome: 'confirmed', reason: 'CONFIRMED', userId: session?.['x-hasura-user-id'], role: session?.['x-hasura-role'], operation: claims.op, table: claims.tbl, environment: claims.env, tokenId: claims.jti });
    return { status: 200, body: { success: true, message: `Confirmed: ${claims.op} on ${claims.tbl} in ${claims.env}. Go ahead with the change.` } };
  } catch {
    audit({ action: 'confirm', outcome: 'refused', reason: 'TOKEN_REFUSED', userId: session?.['x-hasura-user-id'], role: session?.['x-hasura-role'] });
    return { status: 200, body: { success: false, message: 'Not confirmed: the token has already been used. Validate the change again to get a new token.' } };
  }
}


/** The answer to one webhook payload (Hasura's action body, or the bare input). */
export function answer(payload) {
  const input = payload?.input?.input ?? payload?.input;
  return (payload?.action?.name ?? payload?.action) === 'confirmMetadataChange' ? confirm(input, payload?.session_variables) : validate(input, payload?.session_variables);
}

/** Prints the address the bench waits for, and stops on SIGTERM. */
export function announce(server) {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${address.port}` })}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
