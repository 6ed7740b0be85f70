// The composition root: builds the guard from a validated Config and puts the front doors over it.
import type { DestinationStream, Logger } from 'pino';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from './config.js';
import { describeEffects } from './analysis/effects.js';
import { systemClock, type Clock } from './core/clock.js';
import { createEnforcement, type EnforcementDecision, type EnforcementOptions } from './core/enforcement.js';
import { createGuard } from './core/guard.js';
import { createRateLimits } from './core/limits.js';
import { createTokenService } from './core/tokens.js';
import { createConfirmDoor } from './doors/confirm-page.js';
import type { GraphQLDoor } from './doors/graphql.js';
import { createProxyDoor, type ProxyDoor } from './doors/proxy.js';
import { createConsolePage } from './doors/console-banner.js';
import { createChangeLog, type ChangeLog } from './history/change-log.js';
import { lazyHistoryStore } from './history/history.js';
import { hasuraAdminCheck } from './history/viewer.js';
import type { Timers } from './notify/notifier.js';
import { auditDecision, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createRequestListener, isGuardPath } from './server.js';
import { createMemoryStore } from './store/memory.js';
import { lazyStore } from './store/lazy.js';
import type { GuardStore } from './store/store.js';
import { createIdentify } from './identity/identify.js';

/** What enforcing mode decides with; by default the change analysis, the policy and the app's store. Tests may replace parts. */
export type EnforcementWiring = Partial<Pick<EnforcementOptions, 'analyze' | 'decide' | 'store' | 'describe' | 'needsCurrentMetadata'>>;

export interface App {
  /** The GraphQL door, loaded once, on first use or by warmUp(). */
  graphql(): Promise<GraphQLDoor>;
  /** Loads what the first requests will need (GraphQL, the SQL parser); resolves once both are loaded. */
  warmUp(): Promise<void>;
  logger: Logger;
  listener: RequestListener;
  /** Called when shutdown begins: readiness turns to 503. */
  markShuttingDown(): void;
  /** Where used tokens are remembered. */
  store: GuardStore;
  /** Enforcing mode (HASURA_URL set): the server's 'upgrade' handler, piping websockets to Hasura. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Enforcing mode: the history of production changes and their notifications. */
  changeLog?: ChangeLog;
  /** Releases what the app holds (the proxy's upstream connections, the store's database connections); after the server has stopped. */
  close(): Promise<void>;
}

// The analysers (the Hasura catalogue, the SQL classifiers) load on first use or at warm-up, after listening, like the
// GraphQL door: a cold start answers /health and the first webhooks without them.
type Analysis = typeof import('./analysis/index.js');
let analysisModule: Promise<Analysis> | undefined;
let analysisLoaded: Analysis | undefined;
const analysis = () =>
  (analysisModule ??= import('./analysis/index.js').then((loaded) => {
    analysisLoaded = loaded;
    return loaded;
  }));

export function createApp(
  config: Config,
  options: { clock?: Clock; logDestination?: DestinationStream; enforcement?: EnforcementWiring; notifyTimers?: Timers } = {},
): App {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const store = createStore(config, clock, logger);
  const metrics = config.metricsEnabled
    ? createMetrics({ replayEntries: store.kind === 'memory' ? () => store.health().entries ?? 0 : undefined, storeAvailable: () => store.health().ok })
    : undefined;
  // Who is there, from the auth proxy in front (docs/teams.md); undefined when no identity source is configured.
  const identify = config.identity && createIdentify(config.identity, clock, logger);
  const tokens = createTokenService({ key: config.tokenKey, ttlSeconds: config.tokenTtlSeconds, clock, deploymentId: config.deploymentId });
  // Enforcing mode: the same analysis and policy, judging the bodies the console and CLI send to Hasura.
  let proxy: ProxyDoor | undefined;
  let enforcing: Parameters<typeof createRequestListener>[0]['enforcing'];
  let enforcement: ReturnType<typeof createEnforcement> | undefined;
  let changeLog: ChangeLog | undefined;
  if (config.hasuraUrl) {
    const environment = config.policy.findEnvironment(config.guardEnvironment!)!;
    // The history of production changes and their notifications (docs/history-and-notifications.md).
    changeLog = createChangeLog({
      config,
      environment: environment.name,
      clock,
      logger,
      metrics,
      notifyTimers: options.notifyTimers,
      store: createHistoryStore(config),
      canView: hasuraAdminCheck({ hasuraUrl: config.hasuraUrl, clock, credentialsKey: config.tokenKey }),
    });
    const changes = changeLog;
    enforcement = createEnforcement({
      analyze: async (body, context) => (await analysis()).analyzeHasuraBody(body, context),
      decide: (effects) => {
        const { level, operationClass } = config.policy.decide(effects, environment);
        return { level, className: operationClass.name, instead: operationClass.instead };
      },
      describe: describeEffects,
      store,
      ...options.enforcement,
      environment: environment.name,
      tokens,
      clock,
      credentialsKey: config.tokenKey,
      confirmRule: { approvers: config.approvers, fourEyes: config.fourEyes },
      onDecision: (decision: EnforcementDecision) => {
        logger.info({ audit: decision }, `enforcement ${decision.action} ${decision.outcome}`);
        changes.onDecision(decision);
      },
    });
    const bodyBounds = { maxValues: config.proxyMaxJsonValues, maxBulkRequests: config.proxyMaxBulkRequests };
    proxy = createProxyDoor({
      hasuraUrl: config.hasuraUrl,
      publicUrl: config.publicUrl,
      maxBodyBytes: config.proxyMaxBodyBytes,
      bodyBounds,
      enforcement,
      logger,
      clock,
      onApprovedAnswered: changes.onApprovedAnswered,
      consolePage: createConsolePage({ environment: environment.name, logger }),
    });
    enforcing = { proxy, confirm: createConfirmDoor({ enforcement, tokens, clock }), history: changes.door };
  }
  const guard = createGuard({
    policy: config.policy,
    // confirmMetadataChange takes the tokens of changes the proxy held too.
    confirmHeld: enforcement?.confirm,
    // Once loaded, called directly: a validation should not pay a promise hop for the import on every request.
    analyze: (change) => (analysisLoaded ? analysisLoaded.analyzeChange(change) : analysis().then((loaded) => loaded.analyzeChange(change))),
    tokens,
    store,
    clock,
    guardEnvironment: config.guardEnvironment,
    fourEyes: config.fourEyes,
    limits: createRateLimits(config.limits),
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
  // The SQL parser (WebAssembly) takes ~0.5 s to load: like the GraphQL door, after listening, and before /ready.
  let parserLoaded = false;
  const loadAnalysis = () =>
    analysis()
      .then(({ warmUpAnalysis }) => warmUpAnalysis())
      .then(() => {
        parserLoaded = true;
        logger.info('ready: the SQL parser is loaded');
      });
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
    graphiqlEnabled: config.graphiqlEnabled,
    notReadyBecause: () => {
      if (shuttingDown) return 'shutting down';
      if (!graphqlLoaded || !parserLoaded) return 'starting';
      // Confirmations would all be refused: send traffic to a replica whose store answers.
      if (!store.health().ok) return 'store unavailable';
      return undefined;
    },
    enforcing,
    identify,
  });
  return {
    graphql,
    warmUp: async () => {
      await Promise.all([
        graphql().catch((err: unknown) => logger.error({ err }, 'the GraphQL door failed to load')),
        loadAnalysis().catch((err: unknown) => logger.error({ err }, 'the SQL parser failed to load')),
      ]);
    },
    logger,
    listener,
    markShuttingDown: () => void (shuttingDown = true),
    store,
    upgrade: upgradeTo
      ? (req, socket, head) => {
          // The guard's own routes take no websockets; the rest are Hasura's.
          if (isGuardPath((req.url ?? '/').split('?', 1)[0]!)) return void socket.destroy();
          // A websocket carrying an identity that does not hold up is refused like any other request.
          const identifying = identify?.(req);
          if (!identifying) return upgradeTo.upgrade(req, socket, head);
          identifying.then(
            (refusal) => (refusal ? socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n') : upgradeTo.upgrade(req, socket, head)),
            () => socket.destroy(),
          );
        }
      : undefined,
    changeLog,
    close: async () => {
      proxy?.close();
      await changeLog?.close();
      await store.close();
    },
  };
}

/** The change history in PostgreSQL when GUARD_DATABASE_URL is set (loaded like the store, after listening); else undefined: memory. */
function createHistoryStore(config: Config) {
  const url = config.databaseUrl;
  if (!url) return undefined;
  return lazyHistoryStore('postgres', async () => (await import('./history/postgres.js')).createPostgresHistoryStore({ url }));
}

/** In memory unless GUARD_DATABASE_URL names a database for replicas to share. */
function createStore(config: Config, clock: Clock, logger: Logger): GuardStore {
  if (!config.databaseUrl) return createMemoryStore({ maxEntries: config.replayCacheMax, clock });
  const url = config.databaseUrl;
  const load = import('./store/postgres.js').catch((err: unknown) => {
    logger.error({ err }, 'the PostgreSQL store failed to load');
    throw err;
  });
  return lazyStore('postgres', async () =>
    (await load).createPostgresStore({
      url,
      clock,
      onHealthChange: (health) => {
        if (health.ok) logger.info({ store: 'postgres' }, 'store available: confirmations are recorded in the database');
        else logger.warn({ store: 'postgres', reason: health.reason }, `store unavailable: confirmations are refused until it answers (${health.reason})`);
      },
    }),
  );
}
