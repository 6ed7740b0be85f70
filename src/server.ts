// The HTTP layer: one node:http listener in front of every door (GraphQL, the webhooks and, in enforcing mode, the
// proxy, the confirm page and the history). It owns what is about HTTP and nothing else: routing, the action
// secret, the body size limit, health, metrics and the JSON error shape.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Guard } from './core/advisory.js';
import type { ConfirmDoor } from './doors/confirm-page.js';
import type { GraphQLDoor } from './doors/graphql.js';
import type { ProxyDoor } from './doors/proxy.js';
import type { HistoryDoor } from './history/door.js';
import { BodyTooLargeError, readBody, readBodyAsync } from './http/body.js';
import { isJsonContentType } from './http/media-type.js';
import { createPages } from './http/pages.js';
import { createSecretCheck } from './http/secret.js';
import { sendIdentityRefusal } from './identity/refusal.js';
import type { Identify } from './identity/identify.js';
import { personOf } from './vocabulary/person.js';
import type { Metrics } from './metrics.js';
import { handleWebhook, WEBHOOK_ROUTES, webhookError, type WebhookResponse, type WebhookRoute } from './doors/webhook.js';

export interface ListenerOptions {
  guard: Guard;
  graphql: () => Promise<GraphQLDoor>;
  logger: Logger;
  metrics?: Metrics;
  actionSecret?: string;
  actionSecretHeader: string;
  maxBodyBytes: number;
  /** Whether GET /graphql serves the GraphiQL page: only then may that page load without the secret. */
  graphiqlEnabled?: boolean;
  /** Why this instance cannot serve yet or any more (/ready answers 503 with it), or undefined when it can. */
  notReadyBecause: () => string | undefined;
  /** Enforcing mode: every path that is not the guard's own goes to Hasura through the proxy. */
  enforcing?: { proxy: ProxyDoor; confirm: ConfirmDoor; history?: HistoryDoor };
  /** Who is there, from the auth proxy's assertion or trusted header (src/identity/); unset when none is configured. */
  identify?: Identify;
}

/** Paths the guard answers itself in enforcing mode; everything else belongs to Hasura. */
export function isGuardPath(path: string): boolean {
  // `/` is Hasura's in enforcing mode (it redirects to the console); the guard's index page answers only without it.
  return path in WEBHOOK_ROUTES || (KNOWN_PATHS.has(path) && path !== '/') || path.startsWith('/guard/');
}

/** What the listener's functions share, built once. */
interface Listener {
  options: ListenerOptions;
  secretMatches: (presented: string | string[] | undefined) => boolean;
  /** The wrong secret, and no secret header at all (which may be a proxy dropping it). */
  unauthorized: WebhookResponse;
  noSecretHeader: WebhookResponse;
  tooLarge: WebhookResponse;
  pages: ReturnType<typeof createPages>;
}

export function createRequestListener(options: ListenerOptions): RequestListener {
  const listener = listenerOf(options);
  const { metrics } = options;
  return (req, res) => {
    const started = performance.now();
    const path = pathOf(req.url);
    const done = (status: number) => {
      metrics?.recordRequest(path in WEBHOOK_ROUTES || KNOWN_PATHS.has(path) ? path : 'other', req.method ?? '', status, (performance.now() - started) / 1000);
    };
    const fail = (err: unknown) => done(answerFailure(listener, req, res, err, path));
    try {
      route(listener, req, res, path, done, fail);
    } catch (err) {
      fail(err);
    }
  };
}

function listenerOf(options: ListenerOptions): Listener {
  const { actionSecretHeader } = options;
  const unauthorized = webhookError(401, 'UNAUTHORIZED', `Missing or wrong action secret in the ${actionSecretHeader} header.`);
  // nginx (and the ingress controllers built on it) drops header names with "_" unless underscores_in_headers is
  // on, so a secret header that never arrives at all is most often that: say so, but only then.
  const noSecretHeader = actionSecretHeader.includes('_')
    ? webhookError(
        401,
        'UNAUTHORIZED',
        `Missing action secret: no ${actionSecretHeader} header arrived. A proxy such as nginx drops header names containing "_" by default; set ACTION_SECRET_HEADER=x-action-secret (here and in Hasura's action headers) or turn on nginx's underscores_in_headers.`,
      )
    : unauthorized;
  return {
    options,
    secretMatches: createSecretCheck(options.actionSecret),
    unauthorized,
    noSecretHeader,
    tooLarge: webhookError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${options.maxBodyBytes} bytes.`),
    pages: createPages({
      graphiqlEnabled: options.graphiqlEnabled ?? false,
      metricsEnabled: options.metrics !== undefined,
      secretHeader: options.actionSecret === undefined ? undefined : actionSecretHeader,
    }),
  };
}

type Done = (status: number) => void;
type Fail = (err: unknown) => void;

/**
 * Answers one request, then calls done with its status, or fail with what went wrong. The webhooks are the
 * hot path: their body is read in a plain callback and only the guard's own answer is a promise, because as an
 * async function the promise hops per request were measurable (docs/performance.md).
 */
function route(l: Listener, req: IncomingMessage, res: ServerResponse, path: string, done: Done, fail: Fail): void {
  if (answerOperational(l, res, path, done, fail)) return;
  // A request with an identity that does not hold up goes no further, on every door; one with none goes on.
  const { options } = l;
  const identifying = options.identify?.(req);
  if (!identifying) return routeDoors(l, req, res, path, done, fail);
  const hasurasPath = options.enforcing !== undefined && !isGuardPath(path);
  identifying.then((refusal) => (refusal ? done(sendIdentityRefusal(res, refusal, hasurasPath)) : routeDoors(l, req, res, path, done, fail)), fail);
}

/** The doors: enforcing mode's confirm page, history and proxy, the index page, the webhooks and GraphQL. */
function routeDoors(l: Listener, req: IncomingMessage, res: ServerResponse, path: string, done: Done, fail: Fail): void {
  const { options } = l;
  const method = req.method ?? 'GET';
  const { enforcing } = options;
  if (enforcing && path === '/guard/confirm') return void enforcing.confirm.handle(req, res).then(done, fail);
  if (enforcing?.history?.handles(path)) return void enforcing.history.handle(req, res, path).then(done, fail);
  if (enforcing && !isGuardPath(path)) return void enforcing.proxy.handle(req, res).then(done, fail);
  if (path === '/' && (method === 'GET' || method === 'HEAD')) {
    return done(acceptsHtml(req) ? sendHtml(res, 200, l.pages.index.html) : sendText(res, 200, 'application/json; charset=utf-8', l.pages.index.json));
  }

  const webhook = path in WEBHOOK_ROUTES ? (path as WebhookRoute) : undefined;
  if (!webhook && path !== '/graphql') {
    return done(send(res, webhookError(404, 'NOT_FOUND', `Nothing at ${path.slice(0, 100)}: try POST /graphql or an action route.`)));
  }
  // A browser opening /graphql (no query in the URL) while GraphiQL is off: tell the person how to turn it on.
  if (!webhook && method === 'GET' && acceptsHtml(req) && !options.graphiqlEnabled && !hasQueryParameter(req.url)) {
    return done(sendHtml(res, 404, l.pages.graphiqlOff));
  }
  const presented = req.headers[options.actionSecretHeader];
  if (!isGraphiQLPageLoad(options, req, webhook) && !l.secretMatches(presented)) {
    return done(send(res, presented === undefined ? l.noSecretHeader : l.unauthorized));
  }
  if (webhook) return routeWebhook(l, req, res, webhook, done, fail);
  // A form or multipart POST needs no CORS preflight, so any web page could send one: GraphQL takes JSON only.
  if (method === 'POST' && !isJsonContentType(req.headers['content-type'])) {
    return done(send(res, webhookError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send GraphQL requests as Content-Type: application/json (or GET for queries).')));
  }
  serveGraphQL(l, req, res, method).then(done, fail);
}

/** /health, /ready and /metrics: true when the path was one of them and is answered. */
function answerOperational(l: Listener, res: ServerResponse, path: string, done: Done, fail: Fail): boolean {
  if (path === '/health') {
    done(send(res, { status: 200, body: { status: 'ok' } }));
    return true;
  }
  if (path === '/ready') {
    const notReady = l.options.notReadyBecause();
    done(notReady ? send(res, { status: 503, body: { status: notReady } }) : send(res, { status: 200, body: { status: 'ready' } }));
    return true;
  }
  const { metrics } = l.options;
  if (path !== '/metrics' || !metrics) return false;
  metrics.registry.metrics().then((text) => {
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
    done(200);
  }, fail);
  return true;
}

function routeWebhook(l: Listener, req: IncomingMessage, res: ServerResponse, webhook: WebhookRoute, done: Done, fail: Fail): void {
  if (req.method !== 'POST') return done(send(res, webhookError(405, 'METHOD_NOT_ALLOWED', `${webhook} accepts POST only.`), { allow: 'POST' }));
  if (!isJsonContentType(req.headers['content-type'])) {
    return done(send(res, webhookError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the action payload as Content-Type: application/json.')));
  }
  readBody(req, l.options.maxBodyBytes, (err, body) => {
    if (err) return fail(err);
    handleWebhook(l.options.guard, webhook, body!, (name) => req.headersDistinct[name], personOf(req)).then((response) => done(send(res, response)), fail);
  });
}

/**
 * The GraphiQL page itself may load without the secret (every operation it then sends needs it): only when
 * GraphiQL is on, only a GET that asks for HTML, and never one that carries an operation.
 */
function isGraphiQLPageLoad(options: ListenerOptions, req: IncomingMessage, webhook: WebhookRoute | undefined): boolean {
  if (!options.graphiqlEnabled || webhook || req.method !== 'GET') return false;
  if (!(req.headers.accept ?? '').includes('text/html')) return false;
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  return !query.has('query') && !query.has('extensions');
}

async function serveGraphQL(l: Listener, req: IncomingMessage, res: ServerResponse, method: string): Promise<number> {
  const body = method === 'POST' ? await readBodyAsync(req, l.options.maxBodyBytes) : undefined;
  await (await l.options.graphql()).handle(req, res, body);
  return res.statusCode;
}

/**
 * The answer to a request that failed: 413 for an oversized body; nothing (logged at info, counted as 499) when
 * the client is gone; else a masked 500 (the log has the details).
 */
function answerFailure(l: Listener, req: IncomingMessage, res: ServerResponse, err: unknown, path: string): number {
  const { logger } = l.options;
  if (err instanceof BodyTooLargeError) return send(res, l.tooLarge, { connection: 'close' });
  // A client that hung up or was cut by a timeout is the client's doing, not a fault: no stack, no error level.
  if (req.socket.destroyed) {
    logger.info({ path, reason: (err as NodeJS.ErrnoException)?.code ?? 'closed' }, 'client went away before the answer');
    res.destroy();
    return 499;
  }
  logger.error({ err, path }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return 500;
  }
  return send(res, webhookError(500, 'INTERNAL_ERROR', 'Internal error; the server log has the details.'));
}

const KNOWN_PATHS = new Set(['/', '/graphql', '/health', '/ready', '/metrics']);

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function acceptsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

function hasQueryParameter(url: string | undefined): boolean {
  return new URLSearchParams(url?.split('?')[1] ?? '').has('query');
}

function sendHtml(res: ServerResponse, status: number, html: string): number {
  return sendText(res, status, 'text/html; charset=utf-8', html);
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): number {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return status;
}

function send(res: ServerResponse, response: WebhookResponse, extraHeaders?: Record<string, string>): number {
  const body = JSON.stringify(response.body);
  if (extraHeaders) for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
  if (response.headers) for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  // Answers carry confirmation tokens: no cache keeps them.
  res.writeHead(response.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
  return response.status;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish, and resolves once closed or after the timeout. */
  shutdown(): Promise<void>;
}

/**
 * How often Node looks for requests past their header or request timeout (30 s by default, which let a slow client
 * hold a connection for 23 s against a 10 s header timeout): a timeout now holds to within this interval.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

export function startServer(
  listener: RequestListener,
  options: {
    port: number;
    /** Unset: every address Node can listen on (`::` with IPv4 too, or 0.0.0.0). */
    host?: string;
    shutdownTimeoutMs: number;
    onShutdownStart?: () => void;
    /** Enforcing mode: websocket upgrades, passed on to Hasura. Without it, upgrades are refused. */
    onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
    /** Defaults: the configuration's (src/config.ts). */
    maxConnections?: number;
    headersTimeoutMs?: number;
    requestTimeoutMs?: number;
  },
): Promise<RunningServer> {
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
    listener,
  );
  // Every connection holds a file descriptor; past the limit Node closes new ones at once (and emits 'drop').
  server.maxConnections = options.maxConnections ?? 1000;
  if (options.onUpgrade) server.on('upgrade', options.onUpgrade);
  let closing: Promise<void> | undefined;

  function shutdown(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      options.onShutdownStart?.();
      const timer = setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, options.shutdownTimeoutMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // Keep-alive connections that are idle now would otherwise hold close() open until they time out, and
      // a connection whose request is still in flight would idle for keepAliveTimeout after answering it.
      server.closeIdleConnections();
      server.keepAliveTimeout = 1;
    });
    return closing;
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, shutdown });
    });
  });
}
