// The composition root: builds the guard from a validated Config and puts the front doors over it.
import type { DestinationStream, Logger } from 'pino';
import type { RequestListener } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { createGuard, type Guard } from './core/guard.js';
import { createReplayCache, type ReplayCache } from './core/replay.js';
import { createTokenService } from './core/tokens.js';
import { createGuardYoga } from './graphql.js';
import { auditDecision, createLogger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createRequestListener } from './server.js';

export interface App {
  config: Config;
  guard: Guard;
  replay: ReplayCache;
  yoga: YogaServerInstance<object, object>;
  logger: Logger;
  metrics?: Metrics;
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
  const yoga = createGuardYoga({ guard, logger, graphiql: config.graphiqlEnabled });
  let ready = true;
  const listener = createRequestListener({
    guard,
    yoga,
    logger,
    metrics,
    actionSecret: config.actionSecret,
    actionSecretHeader: config.actionSecretHeader,
    maxBodyBytes: config.maxBodyBytes,
    isReady: () => ready,
  });
  return { config, guard, replay, yoga, logger, metrics, listener, markShuttingDown: () => void (ready = false) };
}
