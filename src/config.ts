// All configuration is read and validated here, once, at start-up. Everything else receives a typed Config.
// A bad value stops the start with one line naming the variable and the fix.
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import * as z from './zod.js';
import { loadPolicy, PolicyError, type Policy } from './core/policy.js';
import { printable } from './core/text.js';

export interface Config {
  port: number;
  host: string;
  production: boolean;
  /** HS256 key, built once: jsonwebtoken is many times slower when handed a string secret per call. */
  tokenKey: KeyObject;
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
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  /** Things worth a warning in the start-up log (a random development key, no action secret, ...). */
  warnings: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const MIN_SECRET_BYTES = 32;
export const MIN_ACTION_SECRET_LENGTH = 16;

/** What a boolean variable accepts, in any case (FOUR_EYES=True works): the words compose files and charts use. */
export const TRUE_WORDS = ['true', '1', 'yes', 'on'] as const;
export const FALSE_WORDS = ['false', '0', 'no', 'off'] as const;
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
export const NODE_ENVS = ['production', 'development', 'test'] as const;

const envSchema = z.object({
  NODE_ENV: z.optional(
    z.enum(NODE_ENVS, {
      error: (issue) => `NODE_ENV must be production, development or test ${got(issue.input)}; spell it out in lower case, e.g. NODE_ENV=production`,
    }),
  ),
  PORT: z._default(int('PORT', 0, 65535), 3000),
  HOST: z._default(z.string(), '0.0.0.0'),
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
  SHUTDOWN_TIMEOUT_MS: z._default(int('SHUTDOWN_TIMEOUT_MS', 0, 120_000, ' milliseconds'), 10_000),
});

/** Every variable the guard reads (docs/configuration.md documents each; a test holds it to that). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset: `FOO=` in a compose file should mean "default", not "invalid".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const message = issue.message.startsWith(variable) ? issue.message : `${variable}: ${issue.message}`;
    throw new ConfigError(message);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const warnings: string[] = [];

  let secret: Buffer;
  if (e.TOKEN_SECRET !== undefined) {
    secret = Buffer.from(e.TOKEN_SECRET, 'utf8');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new ConfigError(
        `TOKEN_SECRET must be at least ${MIN_SECRET_BYTES} bytes (it has ${secret.length}); set it to a random value, e.g. openssl rand -base64 48`,
      );
    }
  } else if (production) {
    throw new ConfigError(
      'TOKEN_SECRET is required when NODE_ENV=production; set it to a random value of at least 32 bytes, e.g. openssl rand -base64 48',
    );
  } else {
    secret = randomBytes(48);
    warnings.push('TOKEN_SECRET is not set: using a random key, so tokens die with this process and replicas cannot verify each other\'s. Set TOKEN_SECRET outside development.');
  }

  let policy: Policy;
  try {
    policy = loadPolicy(e.POLICY_FILE);
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError(`POLICY_FILE: ${err.message}`);
    throw err;
  }

  let guardEnvironment: string | undefined;
  if (e.GUARD_ENVIRONMENT !== undefined) {
    const environment = policy.findEnvironment(e.GUARD_ENVIRONMENT);
    if (!environment) {
      const known = policy.environments.map((x) => x.name).join(', ');
      throw new ConfigError(`GUARD_ENVIRONMENT: "${e.GUARD_ENVIRONMENT}" is not an environment of the policy; use one of ${known}`);
    }
    guardEnvironment = environment.name;
  }

  if (e.ACTION_SECRET === undefined) {
    warnings.push(`ACTION_SECRET is not set: anyone who reaches this port can call the guard and claim any x-hasura-user-id. Set it, and configure Hasura to send it.`);
  }

  return {
    port: e.PORT,
    host: e.HOST,
    production,
    tokenKey: createSecretKey(secret),
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
    maxBodyBytes: 64 * 1024,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    warnings,
  };
}
