// The composition root: builds the guard from a validated Config and puts the front doors over it.
import type { DestinationStream, Logger } from 'pino';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { createEnforcement, type EnforcementDecision, type EnforcementOptions } from './core/enforcement.js';
import { createGuard } from './core/guard.js';
import { createReplayCache } from './core/replay.js';
import { createTokenService } from './core/tokens.js';
import { createConfirmDoor } from './doors/confirm-page.js';
import { createProxyDoor, type ProxyDoor } from './doors/proxy.js';
import type { GraphQLDoor } from './doors/graphql.js';
import { auditDecision, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createRequestListener, isGuardPath } from './server.js';

/** What enforcing mode decides with: the change analysis, the policy on effects and the shared store. */
export type EnforcementWiring = Pick<EnforcementOptions, 'analyze' | 'decide' | 'store'> &
  Partial<Pick<EnforcementOptions, 'describe' | 'needsCurrentMetadata'>>;

export interface App {
  /** The GraphQL door, loaded once, on first use or by warmUp(). */
  graphql(): Promise<GraphQLDoor>;
  /** Starts loading what the first requests will need, without waiting for it. */
  warmUp(): void;
  logger: Logger;
  listener: RequestListener;
  /** Called when shutdown begins: readiness turns to 503. */
  markShuttingDown(): void;
  /** Enforcing mode (HASURA_URL set): the server's 'upgrade' handler, piping websockets to Hasura. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Releases what the app holds open (the proxy's upstream connections). */
  close(): void;
}

export function createApp(
  config: Config,
  options: { clock?: Clock; logDestination?: DestinationStream; enforcement?: EnforcementWiring } = {},
): App {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const replay = createReplayCache(config.replayCacheMax);
  const metrics = config.metricsEnabled ? createMetrics({ replayEntries: () => replay.size }) : undefined;
  const tokens = createTokenService({ key: config.tokenKey, ttlSeconds: config.tokenTtlSeconds, clock });
  const guard = createGuard({
    policy: config.policy,
    tokens,
    replay,
    clock,
    guardEnvironment: config.guardEnvironment,
    fourEyes: config.fourEyes,
    onDecision: (decision) => {
      auditDecision(logger, decision);
      metrics?.recordDecision(decision);
    },
  });
  // graphql-yoga and graphql-js take longer to load than the rest of the server together, so the GraphQL door
  // loads once the server listens: webhooks and /health answer at once, /ready answers 503 until GraphQL is
  // loaded too, and a GraphQL request that arrives before then waits for it instead of failing.
  let door: Promise<GraphQLDoor> | undefined;
  let graphqlLoaded = false;
  const graphql = () =>
    (door ??= import('./doors/graphql.js')
      .then(async ({ createGuardYoga, createGraphQLDoor }) => createGraphQLDoor(await createGuardYoga({ guard, logger, graphiql: config.graphiqlEnabled })))
      .then((loaded) => {
        graphqlLoaded = true;
        logger.info('ready: the GraphQL door is loaded');
        return loaded;
      }));
  let proxy: ProxyDoor | undefined;
  let enforcing: Parameters<typeof createRequestListener>[0]['enforcing'];
  if (config.hasuraUrl) {
    if (!options.enforcement) {
      throw new Error('HASURA_URL is set, but no change analysis, policy and store were wired into createApp (options.enforcement)');
    }
    const enforcement = createEnforcement({
      ...options.enforcement,
      environment: config.guardEnvironment!,
      tokens,
      clock,
      credentialsKey: config.tokenKey,
      onDecision: (decision: EnforcementDecision) => logger.info({ audit: decision }, `enforcement ${decision.action} ${decision.outcome}`),
    });
    proxy = createProxyDoor({ hasuraUrl: config.hasuraUrl, maxBodyBytes: config.proxyMaxBodyBytes, enforcement, logger });
    enforcing = { proxy, confirm: createConfirmDoor({ enforcement, tokens, clock }) };
  }
  const upgradeTo = proxy;

  let shuttingDown = false;
  const listener = createRequestListener({
    guard,
    graphql,
    logger,
    metrics,
    actionSecret: config.actionSecret,
    actionSecretHeader: config.actionSecretHeader,
    maxBodyBytes: config.maxBodyBytes,
    isReady: () => graphqlLoaded && !shuttingDown,
    enforcing,
  });
  return {
    graphql,
    warmUp: () => void graphql().catch((err: unknown) => logger.error({ err }, 'the GraphQL door failed to load')),
    logger,
    listener,
    markShuttingDown: () => void (shuttingDown = true),
    upgrade: upgradeTo
      ? (req, socket, head) => {
          // The guard's own routes take no websockets; the rest are Hasura's.
          if (isGuardPath((req.url ?? '/').split('?', 1)[0]!)) socket.destroy();
          else upgradeTo.upgrade(req, socket, head);
        }
      : undefined,
    close: () => proxy?.close(),
  };
}
