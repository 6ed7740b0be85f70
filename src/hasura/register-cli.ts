// npm run hasura:register [-- --dry-run]
// Adds the guard's actions, their permissions and the remote schema to the Hasura at HASURA_GRAPHQL_ENDPOINT, in one
// request that Hasura applies whole or not at all. --dry-run prints that request as one JSON document and sends nothing.
import { parseArgs } from 'node:util';
import { register, RegisterError } from './register.js';

const USAGE = 'usage: hasura-register [--dry-run]  (env: HASURA_GRAPHQL_ENDPOINT, HASURA_GRAPHQL_ADMIN_SECRET)';

let dryRun: boolean;
try {
  dryRun = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false } } }).values['dry-run'] ?? false;
} catch {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const endpoint = process.env.HASURA_GRAPHQL_ENDPOINT;
if (!endpoint || !/^https?:\/\/[^\s]+$/.test(endpoint)) {
  process.stderr.write(`HASURA_GRAPHQL_ENDPOINT must be Hasura's URL, e.g. http://localhost:8080\n${USAGE}\n`);
  process.exit(2);
}

try {
  await register({ endpoint, adminSecret: process.env.HASURA_GRAPHQL_ADMIN_SECRET || undefined, dryRun });
} catch (err) {
  if (!(err instanceof RegisterError)) throw err;
  // A RegisterError names what failed and never carries the admin secret.
  process.stderr.write(`Registration failed: ${err.message}\n`);
  process.exit(1);
}
