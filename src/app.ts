// The composition root: builds the guard from a validated Config and puts the front doors over it.
import type { DestinationStream, Logger } from 'pino';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from './config.js';
import { systemClock, type Clock } from './vocabulary/clock.js';
import { createEngine, type CredentialCheck, type DecisionStore, type Engine, type EnforcingOptions } from './core/engine.js';
import { createRateLimits } from './core/limits.js';
import { createTokenService, type TokenService } from './core/tokens.js';
import type { Metrics } from './metrics.js';
import { createConfirmDoor } from './doors/confirm-page.js';
import type { GraphQLDoor } from './doors/graphql.js';
import { createProxyDoor, type ProxyDoor } from './doors/proxy.js';
import { createConsolePage } from './doors/console-banner.js';
import { createChangeLog, type ChangeLog } from './change-log.js';
import { lazyHistoryStore } from './history/history.js';
import { hasuraAdminViewer } from './history/viewer.js';
import { hasuraAdminCheck } from './http/hasura-admin.js';
import type { Timers } from './notify/notifier.js';
import { auditDecision, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createRequestListener, isGuardPath } from './server.js';
import { createMemoryStore } from './store/memory.js';
import { lazyStore } from './store/lazy.js';
import type { GuardStore } from './core/store.js';
import { createIdentify, type Identify } from './identity/identify.js';
import type { EnforcementDecision } from './core/enforcement.js';
import type { Decision } from './core/advisory.js';

/** What enforcing mode decides with; by default the change analysis, the policy and the app's store. Tests may replace parts. */
export type EnforcementWiring = Partial<Pick<EnforcingOptions, 'decide'>> & {
  analyze?: EnforcingOptions['analyzeBody'];
  store?: DecisionStore;
};

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
  // Enforcing mode: who Hasura takes as an admin, asked by the engine (holding, confirming) and the history's door.
  const adminCheck = config.hasuraUrl ? hasuraAdminCheck({ hasuraUrl: config.hasuraUrl, clock, credentialsKey: config.credentialsKey }) : undefined;
  // The history of production changes and their notifications (docs/history-and-notifications.md).
  const changeLog = adminCheck && createChangeLogFor(config, { clock, logger, metrics, notifyTimers: options.notifyTimers, adminCheck });
  const engine = createDecisionEngine(config, { clock, tokens, store, logger, metrics, wiring: options.enforcement, changeLog, adminCheck });
  // Enforcing mode: the same engine judges the bodies the console and CLI send to Hasura.
  const proxy = config.hasuraUrl ? createProxyDoor(proxyOptions(config, engine, logger, clock, changeLog)) : undefined;
  const enforcing = proxy && { proxy, confirm: createConfirmDoor({ engine, tokens, clock }), history: changeLog?.door };
  const graphql = graphqlLoader(config, engine, logger);
  const parser = analysisLoader(logger);

  let shuttingDown = false;
  const listener = createRequestListener({
    guard: engine,
    graphql: graphql.load,
    logger,
    metrics,
    actionSecret: config.actionSecret,
    actionSecretHeader: config.actionSecretHeader,
    maxBodyBytes: config.maxBodyBytes,
    graphiqlEnabled: config.graphiqlEnabled,
    notReadyBecause: () => {
      if (shuttingDown) return 'shutting down';
      if (!graphql.loaded() || !parser.loaded()) return 'starting';
      // Confirmations would all be refused: send traffic to a replica whose store answers.
      if (!store.health().ok) return 'store unavailable';
      return undefined;
    },
    enforcing,
    identify,
  });
  return {
    graphql: graphql.load,
    warmUp: async () => {
      await Promise.all([
        graphql.load().catch((err: unknown) => logger.error({ err }, 'the GraphQL door failed to load')),
        parser.load().catch((err: unknown) => logger.error({ err }, 'the SQL parser failed to load')),
      ]);
    },
    logger,
    listener,
    markShuttingDown: () => void (shuttingDown = true),
    store,
    upgrade: proxy && upgradeToHasura(proxy, identify),
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

/** The one decision engine every door asks; in enforcing mode it also judges the proxy's requests. */
function createDecisionEngine(
  config: Config,
  parts: { clock: Clock; tokens: TokenService; store: GuardStore; logger: Logger; metrics?: Metrics; wiring?: EnforcementWiring; changeLog?: ChangeLog; adminCheck?: CredentialCheck },
): Engine {
  const { clock, tokens, logger, metrics, changeLog, wiring = {} } = parts;
  const enforcing: EnforcingOptions | undefined = config.hasuraUrl
    ? {
        analyzeBody: wiring.analyze ?? (async (body, context) => (await analysis()).analyzeHasuraBody(body, context)),
        decide: wiring.decide,
        credentialsKey: config.credentialsKey,
        credentialCheck: parts.adminCheck,
      }
    : undefined;
  return createEngine({
    policy: config.policy,
    // Once loaded, called directly: a validation should not pay a promise hop for the import on every request.
    analyze: (change) => (analysisLoaded ? analysisLoaded.analyzeChange(change) : analysis().then((loaded) => loaded.analyzeChange(change))),
    tokens,
    store: wiring.store ?? parts.store,
    clock,
    guardEnvironment: config.guardEnvironment,
    fourEyes: config.fourEyes,
    approvers: config.approvers,
    limits: createRateLimits(config.limits),
    onDecision: (decision) => {
      auditDecision(logger, decision);
      metrics?.recordDecision(decision);
      const step = heldChangeStep(decision);
      if (step) changeLog?.onDecision(step);
    },
    enforcing,
  });
}

/** The change log of the guarded environment, its history in PostgreSQL when GUARD_DATABASE_URL is set. */
function createChangeLogFor(config: Config, parts: { clock: Clock; logger: Logger; metrics?: Metrics; notifyTimers?: Timers; adminCheck: CredentialCheck }): ChangeLog {
  const environment = config.policy.findEnvironment(config.guardEnvironment!)!;
  return createChangeLog({
    config,
    environment: environment.name,
    clock: parts.clock,
    logger: parts.logger,
    metrics: parts.metrics,
    notifyTimers: parts.notifyTimers,
    store: createHistoryStore(config),
    canView: hasuraAdminViewer(parts.adminCheck),
  });
}

/**
 * The audit records that are a step of a held production change, for the history: the proxy's judgements and the
 * confirmations of held requests (those carry the body's fingerprint); advisory checks are not changes the guard saw.
 */
function heldChangeStep(decision: Decision): EnforcementDecision | undefined {
  if (decision.environment === undefined) return undefined;
  if (decision.action === 'judge' || (decision.action === 'confirm' && decision.fingerprint !== undefined)) {
    return { ...decision, action: decision.action, environment: decision.environment };
  }
  return undefined;
}

function proxyOptions(config: Config, engine: Engine, logger: Logger, clock: Clock, changeLog?: ChangeLog): Parameters<typeof createProxyDoor>[0] {
  return {
    hasuraUrl: config.hasuraUrl!,
    publicUrl: config.publicUrl,
    maxBodyBytes: config.proxyMaxBodyBytes,
    bodyBounds: { maxValues: config.proxyMaxJsonValues, maxBulkRequests: config.proxyMaxBulkRequests },
    engine,
    logger,
    clock,
    onApprovedAnswered: changeLog?.onApprovedAnswered,
    consolePage: createConsolePage({ environment: config.policy.findEnvironment(config.guardEnvironment!)!.name, logger }),
  };
}

/**
 * graphql-yoga and graphql-js take longer to load than the rest of the server together, so the GraphQL door loads
 * once the server listens: webhooks and /health answer at once, /ready answers 503 until GraphQL is loaded too, and
 * a GraphQL request that arrives before then waits for it instead of failing.
 */
function graphqlLoader(config: Config, guard: Engine, logger: Logger): { load: () => Promise<GraphQLDoor>; loaded: () => boolean } {
  let door: Promise<GraphQLDoor> | undefined;
  let loaded = false;
  const secretHeader = config.actionSecret === undefined ? undefined : config.actionSecretHeader;
  const load = () =>
    (door ??= import('./doors/graphql.js')
      .then(async ({ createGuardYoga, createGraphQLDoor }) => createGraphQLDoor(await createGuardYoga({ guard, logger, graphiql: config.graphiqlEnabled, secretHeader })))
      .then((ready) => {
        loaded = true;
        logger.info('ready: the GraphQL door is loaded');
        return ready;
      }));
  return { load, loaded: () => loaded };
}

/** The SQL parser (WebAssembly) takes ~0.5 s to load: like the GraphQL door, after listening, and before /ready. */
function analysisLoader(logger: Logger): { load: () => Promise<void>; loaded: () => boolean } {
  let loaded = false;
  const load = () =>
    analysis()
      .then(({ warmUpAnalysis }) => warmUpAnalysis())
      .then(() => {
        loaded = true;
        logger.info('ready: the SQL parser is loaded');
      });
  return { load, loaded: () => loaded };
}

/**
 * The server's 'upgrade' handler in enforcing mode: the guard's own routes take no websockets; the rest are Hasura's.
 * A websocket carrying an identity that does not hold up is refused like any other request.
 */
function upgradeToHasura(proxy: ProxyDoor, identify: Identify | undefined): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if (isGuardPath((req.url ?? '/').split('?', 1)[0]!)) return void socket.destroy();
    const identifying = identify?.(req);
    if (!identifying) return proxy.upgrade(req, socket, head);
    identifying.then(
      (refusal) => (refusal ? socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n') : proxy.upgrade(req, socket, head)),
      () => socket.destroy(),
    );
  };
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
