// The HTTP layer: one node:http listener in front of both doors. It owns what is about HTTP and nothing
// else: routing, the action secret, the body size limit, health, metrics and the JSON error shape.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Guard } from './core/guard.js';
import type { GraphQLDoor } from './doors/graphql.js';
import { BodyTooLargeError, readBody, readBodyAsync } from './http/body.js';
import { createPages } from './http/pages.js';
import { createSecretCheck } from './http/secret.js';
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
  /** false until every door is loaded and again once shutting down: /ready answers 503 then. */
  isReady: () => boolean;
  /** Whether /graphql serves GraphiQL to a browser; / and the page shown when it is off say so. */
  graphiqlEnabled?: boolean;
}

export function createRequestListener(options: ListenerOptions): RequestListener {
  const { guard, graphql, logger, metrics, actionSecretHeader, maxBodyBytes } = options;
  const secretMatches = createSecretCheck(options.actionSecret);
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
  const pages = createPages({
    graphiqlEnabled: options.graphiqlEnabled ?? false,
    metricsEnabled: metrics !== undefined,
    secretHeader: options.actionSecret === undefined ? undefined : actionSecretHeader,
  });
  const tooLarge = webhookError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBodyBytes} bytes.`);

  /**
   * Answers one request, then calls done with its status, or fail with what went wrong. The webhooks are the
   * hot path: their body is read in a plain callback and only the guard's own answer is a promise, because as an
   * async function the promise hops per request were measurable (README, Performance).
   */
  function route(req: IncomingMessage, res: ServerResponse, path: string, done: (status: number) => void, fail: (err: unknown) => void): void {
    const method = req.method ?? 'GET';

    if (path === '/health') return done(send(res, { status: 200, body: { status: 'ok' } }));
    if (path === '/ready') {
      return done(
        options.isReady() ? send(res, { status: 200, body: { status: 'ready' } }) : send(res, { status: 503, body: { status: 'shutting down' } }),
      );
    }
    if (path === '/metrics' && metrics) {
      metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
        done(200);
      }, fail);
      return;
    }

    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      return done(acceptsHtml(req) ? sendHtml(res, 200, pages.index.html) : sendText(res, 200, 'application/json; charset=utf-8', pages.index.json));
    }

    const webhook = path in WEBHOOK_ROUTES ? (path as WebhookRoute) : undefined;
    if (!webhook && path !== '/graphql') {
      return done(send(res, webhookError(404, 'NOT_FOUND', `Nothing at ${path.slice(0, 100)}: try POST /graphql or an action route.`)));
    }

    // The GraphiQL page itself may load without the secret; every operation it then sends needs it.
    const graphiqlPage = !webhook && method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    // A browser opening /graphql (no query in the URL) while GraphiQL is off: tell the person how to turn it on.
    if (graphiqlPage && !options.graphiqlEnabled && !hasQueryParameter(req.url)) return done(sendHtml(res, 404, pages.graphiqlOff));
    if (!graphiqlPage && !secretMatches(req.headers[actionSecretHeader])) {
      return done(send(res, req.headers[actionSecretHeader] === undefined ? noSecretHeader : unauthorized));
    }

    if (webhook) {
      if (method !== 'POST') return done(send(res, webhookError(405, 'METHOD_NOT_ALLOWED', `${path} accepts POST only.`), { allow: 'POST' }));
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
        return done(send(res, webhookError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the action payload as Content-Type: application/json.')));
      }
      return readBody(req, maxBodyBytes, (err, body) => {
        if (err) return fail(err);
        handleWebhook(guard, webhook, body!, (name) => req.headers[name]).then((response) => done(send(res, response)), fail);
      });
    }

    serveGraphQL(req, res, method).then(done, fail);
  }

  async function serveGraphQL(req: IncomingMessage, res: ServerResponse, method: string): Promise<number> {
    const body = method === 'POST' ? await readBodyAsync(req, maxBodyBytes) : undefined;
    await (await graphql()).handle(req, res, body);
    return res.statusCode;
  }

  /** The answer to a request that failed: 413 for an oversized body, else a masked 500 (the log has the details). */
  function answerFailure(res: ServerResponse, err: unknown, path: string): number {
    if (err instanceof BodyTooLargeError) return send(res, tooLarge, { connection: 'close' });
    logger.error({ err, path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return 500;
    }
    return send(res, webhookError(500, 'INTERNAL_ERROR', 'Internal error; the server log has the details.'));
  }

  return (req, res) => {
    const started = performance.now();
    const path = pathOf(req.url);
    const done = (status: number) => {
      metrics?.recordRequest(path in WEBHOOK_ROUTES || KNOWN_PATHS.has(path) ? path : 'other', req.method ?? '', status, (performance.now() - started) / 1000);
    };
    const fail = (err: unknown) => done(answerFailure(res, err, path));
    try {
      route(req, res, path, done, fail);
    } catch (err) {
      fail(err);
    }
  };
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
  res.writeHead(response.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return response.status;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish, and resolves once closed or after the timeout. */
  shutdown(): Promise<void>;
}

export function startServer(
  listener: RequestListener,
  options: { port: number; host: string; shutdownTimeoutMs: number; onShutdownStart?: () => void },
): Promise<RunningServer> {
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, listener);
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
      const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, shutdown });
    });
  });
}
