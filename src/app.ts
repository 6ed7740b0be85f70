// The composition root: builds the guard from a validated Config and puts the front doors over it.
import type { DestinationStream, Logger } from 'pino';
import type { RequestListener } from 'node:http';
import type { Config } from './config.js';
import { analyzeChange, warmUpAnalysis } from './analysis/index.js';
import { systemClock, type Clock } from './core/clock.js';
import { createGuard } from './core/guard.js';
import { createReplayCache } from './core/replay.js';
import { createTokenService } from './core/tokens.js';
import type { GraphQLDoor } from './doors/graphql.js';
import { auditDecision, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createRequestListener } from './server.js';

export interface App {
  /** The GraphQL door, loaded once, on first use or by warmUp(). */
  graphql(): Promise<GraphQLDoor>;
  /** Starts loading what the first requests will need, without waiting for it. */
  warmUp(): void;
  logger: Logger;
  listener: RequestListener;
  /** Called when shutdown begins: readiness turns to 503. */
  markShuttingDown(): void;
}

export function createApp(config: Config, options: { clock?: Clock; logDestination?: DestinationStream } = {}): App {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const replay = createReplayCache(config.replayCacheMax);
  const metrics = config.metricsEnabled ? createMetrics({ replayEntries: () => replay.size }) : undefined;
  const guard = createGuard({
    policy: config.policy,
    analyze: analyzeChange,
    tokens: createTokenService({ key: config.tokenKey, ttlSeconds: config.tokenTtlSeconds, clock }),
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
      .then(async ({ createGuardYoga, createGraphQLDoor }) => createGraphQLDoor(
          await createGuardYoga({
            guard,
            logger,
            graphiql: config.graphiqlEnabled,
            secretHeader: config.actionSecret === undefined ? undefined : config.actionSecretHeader,
          }),
        ),
      )
      .then((loaded) => {
        graphqlLoaded = true;
        logger.info('ready: the GraphQL door is loaded');
        return loaded;
      }));
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
    graphiqlEnabled: config.graphiqlEnabled,
  });
  return {
    graphql,
    warmUp: () => void graphql().catch((err: unknown) => logger.error({ err }, 'the GraphQL door failed to load')),
    logger,
    listener,
    markShuttingDown: () => void (shuttingDown = true),
  };
}
