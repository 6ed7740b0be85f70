// All configuration is read and validated here, once, at start-up. Everything else receives a typed Config.
// A bad value stops the start with one line naming the variable and the fix.
import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import * as z from './vocabulary/zod.js';
import { loadPolicy, PolicyError, type Policy } from './core/policy.js';
import { printable } from './vocabulary/text.js';
import { unknownEffect } from './vocabulary/effects.js';
import { DEFAULT_MAX_BULK_REQUESTS, DEFAULT_MAX_JSON_VALUES } from './http/body-bounds.js';
import { parseApprovers, type Approvers } from './core/approvers.js';
import type { IdentitySettings } from './identity/identify.js';
import { parseTrustedProxies } from './identity/trusted-proxies.js';

export interface Config {
  port: number;
  /** Unset: every address (src/server.ts). */
  host?: string;
  production: boolean;
  /** HS256 key, built once: jsonwebtoken is many times slower when handed a string secret per call. */
  tokenKey: KeyObject;
  /**
   * Key of the credentials' hash (`crd` in held tokens, approvals, the history viewer's cache), derived from
   * TOKEN_SECRET, never TOKEN_SECRET itself: the hash of a string the caller chooses is published in every held token,
   * and with the signing key it would be an HS256 signature of that string (docs/security.md, "An adversarial review").
   */
  credentialsKey: KeyObject;
  tokenTtlSeconds: number;
  policy: Policy;
  /** Canonical environment name this instance guards, if pinned. */
  guardEnvironment?: string;
  actionSecret?: string;
  /** Lower-case, as Node presents header names. */
  actionSecretHeader: string;
  fourEyes: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricsEnabled: boolean;
  graphiqlEnabled: boolean;
  replayCacheMax: number;
  /** PostgreSQL that replicas share for used tokens and approvals; unset: this process's memory. */
  databaseUrl?: string;
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  /** Enforcing mode: the Hasura this server proxies, without a trailing slash. Unset: the guard only advises. */
  hasuraUrl?: string;
  /** GUARD_PUBLIC_URL without a trailing slash: the base of the links the guard gives; unset, each request's Host. */
  publicUrl?: string;
  /** Enforcing mode: the largest metadata or query request body read for inspection (compressed and decoded). */
  proxyMaxBodyBytes: number;
  /** Enforcing mode: JSON values an inspected body may hold, a big replace_metadata's tables counting one each and its largest whole. */
  proxyMaxJsonValues: number;
  /** Enforcing mode: requests an inspected body may hold in bulks, nested ones included. */
  proxyMaxBulkRequests: number;
  /** Names this installation in its tokens' audience, so another installation sharing TOKEN_SECRET cannot confirm them. */
  deploymentId: string;
  /** Per identity and minute. */
  limits: { validationsPerMinute: number; confirmationsPerMinute: number };
  http: { maxConnections: number; headersTimeoutMs: number; requestTimeoutMs: number };
  /** Where production changes are announced (src/notify/); each receiver optional. */
  notify: { webhook?: { url: string; secret: string }; slackUrl?: string; teamsUrl?: string };
  /** How long the change history keeps a change (GUARD_HISTORY_DAYS). */
  historyDays: number;

  /** Who is there, from the auth proxy in front (src/identity/); undefined when none is configured. */
  identity?: IdentitySettings;
  /** GUARD_APPROVERS: who may confirm a held production change; undefined: anyone with the request's credentials. */
  approvers?: Approvers;
  /** Things worth a warning in the start-up log (a random development key, no action secret, ...). */
  warnings: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const MIN_SECRET_BYTES = 32;
const MIN_ACTION_SECRET_LENGTH = 16;

/** What a boolean variable accepts, in any case (FOUR_EYES=True works): the words compose files and charts use. */
const TRUE_WORDS = ['true', '1', 'yes', 'on'] as const;
const FALSE_WORDS = ['false', '0', 'no', 'off'] as const;
const BOOLEAN_WORDS: readonly string[] = [...TRUE_WORDS, ...FALSE_WORDS];
/** The value a variable had, for an error message: these variables are never secrets. */
const got = (input: unknown) => `(got "${printable(String(input))}")`;

const bool = (name: string) =>
  z.pipe(
    z.string().check(
      z.refine((v: string) => BOOLEAN_WORDS.includes(v.toLowerCase()), {
        error: (issue) => `${name} must be true or false (or 1/0, yes/no, on/off, in any case) ${got(issue.input)}`,
      }),
    ),
    z.transform((v: string) => (TRUE_WORDS as readonly string[]).includes(v.toLowerCase())),
  );

const int = (name: string, min: number, max: number, unit = '') => {
  const error = (issue: { input?: unknown }) => `${name} must be a whole number from ${min} to ${max}${unit} ${got(issue.input)}`;
  return z.pipe(
    z.string().check(z.refine((s: string) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, { error })),
    z.transform(Number),
  );
};

/** NODE_ENV is read by libraries too, which know only these three: any other value would mean development to them. */
const NODE_ENVS = ['production', 'development', 'test'] as const;

const envSchema = z.object({
  NODE_ENV: z.optional(
    z.enum(NODE_ENVS, {
      error: (issue) => `NODE_ENV must be production, development or test ${got(issue.input)}; spell it out in lower case, e.g. NODE_ENV=production`,
    }),
  ),
  PORT: z._default(int('PORT', 0, 65535), 3000),
  // Unset: every address, IPv6 and IPv4 (Node listens on `::`, or on 0.0.0.0 where IPv6 is off): a single-stack
  // IPv6 cluster probes and routes to the pod's IPv6 address.
  HOST: z.optional(z.string()),
  TOKEN_SECRET: z.optional(z.string()),
  TOKEN_TTL_SECONDS: z._default(int('TOKEN_TTL_SECONDS', 10, 3600, ' seconds'), 300),
  POLICY_FILE: z.optional(z.string()),
  GUARD_ENVIRONMENT: z.optional(z.string()),
  ACTION_SECRET: z.optional(
    z.string().check(
      z.minLength(
        MIN_ACTION_SECRET_LENGTH,
        `ACTION_SECRET must be at least ${MIN_ACTION_SECRET_LENGTH} characters; use a random value, e.g. openssl rand -hex 32`,
      ),
    ),
  ),
  ACTION_SECRET_HEADER: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'ACTION_SECRET_HEADER must be a header name: letters, digits, "-" or "_"')),
    'ACTION_SECRET',
  ),
  FOUR_EYES: z._default(bool('FOUR_EYES'), false),
  LOG_LEVEL: z._default(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    }),
    'info',
  ),
  METRICS_ENABLED: z._default(bool('METRICS_ENABLED'), true),
  GRAPHIQL_ENABLED: z.optional(bool('GRAPHIQL_ENABLED')),
  // 50,000 live confirmations per TTL window: 160 a second for the default 300 s, far beyond people confirming
  // changes, and about 8 MB at most.
  REPLAY_CACHE_MAX: z._default(int('REPLAY_CACHE_MAX', 1000, 10_000_000), 50_000),
  GUARD_DATABASE_URL: z.optional(z.string()),
  SHUTDOWN_TIMEOUT_MS: z._default(int('SHUTDOWN_TIMEOUT_MS', 0, 120_000, ' milliseconds'), 10_000),
  HASURA_URL: z.optional(
    z.string().check(
      z.refine(isHttpUrl, 'HASURA_URL must be an http:// or https:// URL without query or fragment, e.g. http://hasura:8080'),
    ),
  ),
  // The guard's address as its users reach it, for the links it gives (the confirm page, rewritten redirects), when a
  // proxy in front of it adds a path prefix or terminates TLS without X-Forwarded-Proto. Unset: taken from each
  // request's Host (and X-Forwarded-Proto).
  GUARD_PUBLIC_URL: z.optional(
    z.string().check(
      z.refine(isHttpUrl, 'GUARD_PUBLIC_URL must be an http:// or https:// URL without query or fragment, e.g. https://guard.example.com/hasura'),
    ),
  ),
  // `hasura metadata apply` sends the whole metadata in one replace_metadata: tens of MB for a large project
  // (thousands of tables with permissions). A body over the limit is refused, never passed uninspected, so the
  // default is generous. A big replace_metadata is inspected in about twice its size (docs/performance.md).
  PROXY_MAX_BODY_BYTES: z._default(int('PROXY_MAX_BODY_BYTES', 1024, 1024 * 1024 * 1024, ' bytes'), 100 * 1024 * 1024),
  // What an inspected body may cost before a tree is built (src/http/body-bounds.ts): JSON.parse makes about 70 bytes
  // of every `{}`, and the analysis an effect of every request in a bulk. Of a big replace_metadata's tables, read
  // one at a time, only one value per table and the largest table's values count: 265,000 tables pass. A million
  // other values is about 10 MB of real metadata outside its tables, or 100,000 requests of a bulk at ten values
  // each; the CLI sends one migration per request and the console bulks of a few, while the console's saved
  // down-migration of "track all" untracks each table of a schema in one bulk (docs/security.md, "Bounded work per
  // request").
  PROXY_MAX_JSON_VALUES: z._default(int('PROXY_MAX_JSON_VALUES', 1000, 100_000_000), DEFAULT_MAX_JSON_VALUES),
  PROXY_MAX_BULK_REQUESTS: z._default(int('PROXY_MAX_BULK_REQUESTS', 10, 10_000_000), DEFAULT_MAX_BULK_REQUESTS),
  // For the few who run production without ACTION_SECRET or GUARD_ENVIRONMENT on purpose (a guard behind a private
  // network that serves several environments); every start then says what is off.
  ALLOW_INSECURE_PRODUCTION: z._default(bool('ALLOW_INSECURE_PRODUCTION'), false),
  GUARD_DEPLOYMENT_ID: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'GUARD_DEPLOYMENT_ID must be 1 to 64 letters, digits, ".", "_" or "-"')),
    'default',
  ),
  // A person validates a change a few times and confirms it once; a CLI applying a long migration validates each
  // step. 120 validations (2 a second, all minute long) and 30 confirmations a minute per identity leave room for
  // both, and a runaway script or a flood from one identity stops there instead of filling the replay memory.
  RATE_LIMIT_VALIDATIONS_PER_MINUTE: z._default(int('RATE_LIMIT_VALIDATIONS_PER_MINUTE', 1, 1_000_000_000), 120),
  RATE_LIMIT_CONFIRMATIONS_PER_MINUTE: z._default(int('RATE_LIMIT_CONFIRMATIONS_PER_MINUTE', 1, 1_000_000_000), 30),
  // Each connection holds a file descriptor; past this many, new ones are closed at once instead of exhausting them.
  MAX_CONNECTIONS: z._default(int('MAX_CONNECTIONS', 1, 1_000_000), 1000),
  HEADERS_TIMEOUT_MS: z._default(int('HEADERS_TIMEOUT_MS', 1000, 600_000, ' milliseconds'), 10_000),
  REQUEST_TIMEOUT_MS: z._default(int('REQUEST_TIMEOUT_MS', 1000, 600_000, ' milliseconds'), 30_000),
  // Notifications of production changes (docs/history-and-notifications.md). The URLs of Slack's and Teams' webhooks
  // are secrets of their own: no message repeats them.
  GUARD_NOTIFY_WEBHOOK_URL: z.optional(z.string().check(z.refine(isHttpUrlWithQuery, 'GUARD_NOTIFY_WEBHOOK_URL must be an http:// or https:// URL'))),
  GUARD_NOTIFY_WEBHOOK_SECRET: z.optional(
    z.string().check(z.minLength(MIN_ACTION_SECRET_LENGTH, `GUARD_NOTIFY_WEBHOOK_SECRET must be at least ${MIN_ACTION_SECRET_LENGTH} characters; use a random value, e.g. openssl rand -hex 32`)),
  ),
  GUARD_NOTIFY_SLACK_URL: z.optional(z.string().check(z.refine(isHttpUrlWithQuery, 'GUARD_NOTIFY_SLACK_URL must be an http:// or https:// URL (Slack\'s incoming webhook URL)'))),
  GUARD_NOTIFY_TEAMS_URL: z.optional(z.string().check(z.refine(isHttpUrlWithQuery, 'GUARD_NOTIFY_TEAMS_URL must be an http:// or https:// URL (the Teams workflow\'s webhook URL)'))),
  GUARD_HISTORY_DAYS: z._default(int('GUARD_HISTORY_DAYS', 1, 3650, ' days'), 90),

  // Identity from the auth proxy in front of the guard (docs/teams.md): a signed assertion, all four together...
  GUARD_IDENTITY_JWT_HEADER: z.optional(headerName('GUARD_IDENTITY_JWT_HEADER')),
  GUARD_IDENTITY_JWKS_URL: z.optional(
    z.string().check(z.refine(isHttpUrlWithQuery, 'GUARD_IDENTITY_JWKS_URL must be an http:// or https:// URL, e.g. https://<team>.cloudflareaccess.com/cdn-cgi/access/certs')),
  ),
  GUARD_IDENTITY_ISSUER: z.optional(z.string()),
  GUARD_IDENTITY_AUDIENCE: z.optional(z.string()),
  GUARD_IDENTITY_EMAIL_CLAIM: z._default(claimName('GUARD_IDENTITY_EMAIL_CLAIM'), 'email'),
  GUARD_IDENTITY_GROUPS_CLAIM: z._default(claimName('GUARD_IDENTITY_GROUPS_CLAIM'), 'groups'),
  // ...or, on explicit opt-in, a plain header believed only from the proxy's own addresses.
  GUARD_IDENTITY_HEADER: z.optional(headerName('GUARD_IDENTITY_HEADER')),
  GUARD_IDENTITY_GROUPS_HEADER: z.optional(headerName('GUARD_IDENTITY_GROUPS_HEADER')),
  GUARD_TRUSTED_PROXIES: z.optional(z.string()),
  GUARD_APPROVERS: z.optional(z.string()),
});

function headerName(name: string) {
  return z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, `${name} must be a header name: letters, digits, "-" or "_", e.g. X-Forwarded-Email`));
}

function claimName(name: string) {
  return z.string().check(z.regex(/^[A-Za-z0-9_.:/-]{1,100}$/, `${name} must be a claim name, e.g. email`));
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/**
 * A receiver's or a key set's URL: http(s), no credentials or fragment in it; a query string is allowed (Teams'
 * workflow URLs carry one, and some identity providers version their key sets so).
 */
function isHttpUrlWithQuery(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** Every variable the guard reads (docs/configuration.md documents each; a test holds it to that). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(env);
  const production = e.NODE_ENV === 'production';
  const warnings: string[] = [];
  const secret = tokenSecret(e, production, warnings);
  const policy = policyOf(e);
  const guardEnvironment = guardEnvironmentOf(e, policy);

  if (e.HASURA_URL !== undefined && guardEnvironment === undefined) {
    throw new ConfigError('HASURA_URL needs GUARD_ENVIRONMENT: name the environment of the Hasura this guard stands in front of, e.g. GUARD_ENVIRONMENT=production');
  }
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS}) must not exceed REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS}): the headers are part of the request`);
  }
  checkProductionOpenings(e, production, policy, warnings);
  checkWeakenings(e, production, policy, guardEnvironment, warnings);
  if (e.GUARD_DATABASE_URL !== undefined) checkDatabaseUrl(e.GUARD_DATABASE_URL);
  const notify = notifyConfig(e, warnings);

  const identity = identitySettings(e);
  const approvers = approversOf(e.GUARD_APPROVERS, identity);
  if (e.FOUR_EYES && e.HASURA_URL !== undefined && identity === undefined) {
    // In enforcing mode four-eyes compares people the auth proxy names; without one every held change stays held.
    throw new ConfigError('FOUR_EYES=true in enforcing mode (HASURA_URL) needs an identity source: set GUARD_IDENTITY_JWT_HEADER (with its JWKS URL, issuer and audience) or GUARD_IDENTITY_HEADER (with GUARD_TRUSTED_PROXIES)');
  }

  return {
    port: e.PORT,
    host: e.HOST,
    production,
    tokenKey: createSecretKey(secret),
    credentialsKey: derivedKey(secret, 'credentials hash'),
    tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
    policy,
    guardEnvironment,
    actionSecret: e.ACTION_SECRET,
    actionSecretHeader: e.ACTION_SECRET_HEADER.toLowerCase(),
    fourEyes: e.FOUR_EYES,
    logLevel: e.LOG_LEVEL,
    metricsEnabled: e.METRICS_ENABLED,
    // An interactive query page is a development convenience; production turns it on explicitly.
    graphiqlEnabled: e.GRAPHIQL_ENABLED ?? !production,
    replayCacheMax: e.REPLAY_CACHE_MAX,
    databaseUrl: e.GUARD_DATABASE_URL,
    maxBodyBytes: 64 * 1024,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    hasuraUrl: e.HASURA_URL?.replace(/\/+$/, ''),
    publicUrl: e.GUARD_PUBLIC_URL?.replace(/\/+$/, ''),
    proxyMaxBodyBytes: e.PROXY_MAX_BODY_BYTES,
    proxyMaxJsonValues: e.PROXY_MAX_JSON_VALUES,
    proxyMaxBulkRequests: e.PROXY_MAX_BULK_REQUESTS,
    deploymentId: e.GUARD_DEPLOYMENT_ID,
    limits: { validationsPerMinute: e.RATE_LIMIT_VALIDATIONS_PER_MINUTE, confirmationsPerMinute: e.RATE_LIMIT_CONFIRMATIONS_PER_MINUTE },
    http: { maxConnections: e.MAX_CONNECTIONS, headersTimeoutMs: e.HEADERS_TIMEOUT_MS, requestTimeoutMs: e.REQUEST_TIMEOUT_MS },
    notify,
    historyDays: e.GUARD_HISTORY_DAYS,
    identity,
    approvers,
    warnings,
  };
}

/** The variables, validated; the first problem stops the start with its message. */
function parseEnv(env: NodeJS.ProcessEnv): Env {
  // An empty variable counts as unset: `FOO=` in a compose file should mean "default", not "invalid".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const message = issue.message.startsWith(variable) ? issue.message : `${variable}: ${issue.message}`;
    throw new ConfigError(message);
  }
  return parsed.data;
}

/**
 * A key for one use only, derived from TOKEN_SECRET (HKDF-SHA256, the use as its info): what one key computes of a
 * caller's input can never serve as what another key signs.
 */
function derivedKey(secret: Buffer, use: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `hasura-metadata-guard ${use}`, 32)));
}

/** TOKEN_SECRET's bytes: required in production, else a random development key with a warning. */
function tokenSecret(e: Env, production: boolean, warnings: string[]): Buffer {
  if (e.TOKEN_SECRET !== undefined) {
    const secret = Buffer.from(e.TOKEN_SECRET, 'utf8');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new ConfigError(
        `TOKEN_SECRET must be at least ${MIN_SECRET_BYTES} bytes (it has ${secret.length}); set it to a random value, e.g. openssl rand -base64 48`,
      );
    }
    return secret;
  }
  if (production) {
    throw new ConfigError(
      'TOKEN_SECRET is required when NODE_ENV=production; set it to a random value of at least 32 bytes, e.g. openssl rand -base64 48',
    );
  }
  warnings.push('TOKEN_SECRET is not set: using a random key, so tokens die with this process and replicas cannot verify each other\'s. Set TOKEN_SECRET outside development.');
  return randomBytes(48);
}

function policyOf(e: Env): Policy {
  try {
    return loadPolicy(e.POLICY_FILE);
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError(`POLICY_FILE: ${err.message}`);
    throw err;
  }
}

/** GUARD_ENVIRONMENT by its canonical name in the policy, or undefined when unset. */
function guardEnvironmentOf(e: Env, policy: Policy): string | undefined {
  if (e.GUARD_ENVIRONMENT === undefined) return undefined;
  const environment = policy.findEnvironment(e.GUARD_ENVIRONMENT);
  if (!environment) {
    const known = policy.environments.map((x) => x.name).join(', ');
    throw new ConfigError(`GUARD_ENVIRONMENT: "${e.GUARD_ENVIRONMENT}" is not an environment of the policy; use one of ${known}`);
  }
  return environment.name;
}

/** A production guard without ACTION_SECRET or GUARD_ENVIRONMENT is open: refused, unless ALLOW_INSECURE_PRODUCTION. */
function checkProductionOpenings(e: Env, production: boolean, policy: Policy, warnings: string[]): void {
  if (production) {
    // Without these two a production guard is open to anyone who reaches it, and answers a request naming
    // staging with staging's levels ("validated automatically").
    const missing: string[] = [];
    if (e.ACTION_SECRET === undefined) {
      if (!e.ALLOW_INSECURE_PRODUCTION) {
        throw new ConfigError(
          'ACTION_SECRET is required when NODE_ENV=production; set it to a random value (e.g. openssl rand -hex 32) and configure Hasura to send it, or set ALLOW_INSECURE_PRODUCTION=true if you know why not',
        );
      }
      missing.push('ACTION_SECRET (anyone who reaches the port can call the guard as any user)');
    }
    if (e.GUARD_ENVIRONMENT === undefined) {
      if (!e.ALLOW_INSECURE_PRODUCTION) {
        const known = policy.environments.map((x) => x.name).join(', ');
        throw new ConfigError(
          `GUARD_ENVIRONMENT is required when NODE_ENV=production; set it to the environment this instance guards (one of ${known}), or set ALLOW_INSECURE_PRODUCTION=true if you know why not`,
        );
      }
      missing.push("GUARD_ENVIRONMENT (a request naming staging is answered with staging's levels)");
    }
    if (missing.length > 0) {
      warnings.push(`ALLOW_INSECURE_PRODUCTION=true: production runs without ${missing.join(' and without ')}. Set both and remove ALLOW_INSECURE_PRODUCTION.`);
    }
  } else if (e.ACTION_SECRET === undefined) {
    warnings.push(`ACTION_SECRET is not set: anyone who reaches this port can call the guard and claim any x-hasura-user-id. Set it, and configure Hasura to send it.`);
  }
}

/**
 * Settings that would quietly weaken the guard: refused when nothing could make them right, else said at start.
 * - a secret shared with TOKEN_SECRET: Hasura's environment and every GraphiQL user hold ACTION_SECRET, and a webhook
 *   receiver GUARD_NOTIFY_WEBHOOK_SECRET; each could then sign confirmation tokens;
 * - the policy's own warnings (a policy without effects, say);
 * - a production guard whose environment lets everything pass, the not-understood included;
 * - links to the confirm page, which takes the admin secret, over plain http to another host, in production.
 */
function checkWeakenings(e: Env, production: boolean, policy: Policy, guardEnvironment: string | undefined, warnings: string[]): void {
  for (const name of ['ACTION_SECRET', 'GUARD_NOTIFY_WEBHOOK_SECRET'] as const) {
    if (e[name] !== undefined && e[name] === e.TOKEN_SECRET) {
      throw new ConfigError(`${name} must differ from TOKEN_SECRET: whoever holds ${name} could sign confirmation tokens; set it to its own random value`);
    }
  }
  warnings.push(...policy.warnings.map((warning) => `POLICY_FILE: ${warning}`));
  const guarded = guardEnvironment === undefined ? undefined : policy.findEnvironment(guardEnvironment);
  const looksProduction = (name: string) => /prod|live/i.test(name);
  if (production && guarded && [guarded.name, ...guarded.aliases].some(looksProduction) && policy.decide([unknownEffect('a start-up check')], guarded).level === 'allow') {
    warnings.push(`GUARD_ENVIRONMENT=${guarded.name}: the policy lets every change pass there, anything not understood included, so the guard holds nothing. Set its levels in POLICY_FILE.`);
  }
  const publicUrl = e.GUARD_PUBLIC_URL === undefined ? undefined : new URL(e.GUARD_PUBLIC_URL);
  if (production && publicUrl?.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname)) {
    warnings.push(`GUARD_PUBLIC_URL is plain http (${publicUrl.host}): the confirm page it links to takes Hasura's admin secret. Serve the guard over https.`);
  }
}

/** The receivers; the webhook's URL and secret come together, or the start stops. */
function notifyConfig(e: z.infer<typeof envSchema>, warnings: string[]): Config['notify'] {
  const { GUARD_NOTIFY_WEBHOOK_URL: url, GUARD_NOTIFY_WEBHOOK_SECRET: secret } = e;
  if (url !== undefined && secret === undefined) {
    throw new ConfigError('GUARD_NOTIFY_WEBHOOK_URL needs GUARD_NOTIFY_WEBHOOK_SECRET: the receiver checks each event\'s X-Guard-Signature with it; set it to a random value, e.g. openssl rand -hex 32');
  }
  if (secret !== undefined && url === undefined) throw new ConfigError('GUARD_NOTIFY_WEBHOOK_SECRET is set without GUARD_NOTIFY_WEBHOOK_URL: set the receiver\'s URL too, or remove the secret');
  const notify = { webhook: url && secret ? { url, secret } : undefined, slackUrl: e.GUARD_NOTIFY_SLACK_URL, teamsUrl: e.GUARD_NOTIFY_TEAMS_URL };
  const any = notify.webhook || notify.slackUrl || notify.teamsUrl;
  if (any && e.HASURA_URL === undefined) warnings.push('GUARD_NOTIFY_* is set without HASURA_URL: notifications announce the changes the enforcing proxy holds, so none will be sent.');
  if (any && e.GUARD_PUBLIC_URL === undefined) warnings.push('GUARD_NOTIFY_* is set without GUARD_PUBLIC_URL: the links in notifications are paths (/guard/changes?change=…), not addresses. Set GUARD_PUBLIC_URL to the guard\'s address.');
  return notify;
}

type Env = z.infer<typeof envSchema>;

const ASSERTION_VARIABLES = ['GUARD_IDENTITY_JWT_HEADER', 'GUARD_IDENTITY_JWKS_URL', 'GUARD_IDENTITY_ISSUER', 'GUARD_IDENTITY_AUDIENCE'] as const;

/** The identity sources configured: the assertion's four variables all or none, the header only with its proxies. */
function identitySettings(e: Env): IdentitySettings | undefined {
  const set = ASSERTION_VARIABLES.filter((name) => e[name] !== undefined);
  if (set.length > 0 && set.length < ASSERTION_VARIABLES.length) {
    const missing = ASSERTION_VARIABLES.filter((name) => e[name] === undefined);
    throw new ConfigError(`${missing.join(', ')} must be set with ${set.join(', ')}: a signed identity needs its header, key set URL, issuer and audience together (docs/teams.md)`);
  }
  const assertion =
    set.length === 0
      ? undefined
      : {
          header: e.GUARD_IDENTITY_JWT_HEADER!.toLowerCase(),
          jwksUrl: e.GUARD_IDENTITY_JWKS_URL!,
          issuer: e.GUARD_IDENTITY_ISSUER!,
          audience: e.GUARD_IDENTITY_AUDIENCE!,
          emailClaim: e.GUARD_IDENTITY_EMAIL_CLAIM,
          groupsClaim: e.GUARD_IDENTITY_GROUPS_CLAIM,
        };
  if (e.GUARD_IDENTITY_HEADER === undefined) {
    if (e.GUARD_IDENTITY_GROUPS_HEADER !== undefined) throw new ConfigError('GUARD_IDENTITY_GROUPS_HEADER needs GUARD_IDENTITY_HEADER: groups are believed only with the person they belong to');
    return assertion && { assertion };
  }
  if (e.GUARD_TRUSTED_PROXIES === undefined) {
    throw new ConfigError('GUARD_IDENTITY_HEADER needs GUARD_TRUSTED_PROXIES: list the auth proxy\'s addresses (CIDR), e.g. GUARD_TRUSTED_PROXIES=10.0.0.0/8; the header is believed from them only');
  }
  const proxies = parseTrustedProxies(e.GUARD_TRUSTED_PROXIES);
  if (!proxies.ok) throw new ConfigError(`GUARD_TRUSTED_PROXIES: ${proxies.problem}; give a comma-separated list of addresses or CIDR ranges, e.g. 10.0.0.0/8, fd00::/8`);
  const trustedHeader = { header: e.GUARD_IDENTITY_HEADER.toLowerCase(), groupsHeader: e.GUARD_IDENTITY_GROUPS_HEADER?.toLowerCase(), trustedProxies: proxies.list };
  return { ...(assertion ? { assertion } : {}), trustedHeader };
}

function approversOf(text: string | undefined, identity: IdentitySettings | undefined): Approvers | undefined {
  if (text === undefined) return undefined;
  const parsed = parseApprovers(text);
  if (!parsed.ok) throw new ConfigError(`GUARD_APPROVERS: ${parsed.problem}; give emails and group:<name> entries, comma-separated, e.g. alice@example.com, group:platform-admins`);
  // Without an identity no one is an identified approver: every held change would stay held.
  if (identity === undefined) throw new ConfigError('GUARD_APPROVERS needs an identity source: set GUARD_IDENTITY_JWT_HEADER (with its JWKS URL, issuer and audience) or GUARD_IDENTITY_HEADER (with GUARD_TRUSTED_PROXIES)');
  return parsed.approvers;
}

/** A postgres:// URL with a host. The messages never repeat the value: it usually holds a password. */
function checkDatabaseUrl(value: string): void {
  const example = 'such as postgres://guard:PASSWORD@db.example:5432/guard';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`GUARD_DATABASE_URL is not a URL; set it to a postgres:// or postgresql:// URL, ${example} (percent-encode special characters in the password)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`GUARD_DATABASE_URL must start with postgres:// or postgresql://, ${example}`);
  }
  // A Unix socket is named by ?host=/path, as libpq and pg read it.
  if (!url.hostname && !url.searchParams.get('host')) throw new ConfigError(`GUARD_DATABASE_URL names no host; ${example}`);
}
