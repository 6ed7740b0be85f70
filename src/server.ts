// The HTTP layer: one node:http listener in front of both doors. It owns what is about HTTP and nothing
// else: routing, the action secret, the body size limit, health, metrics and the JSON error shape.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Guard } from './core/guard.js';
import type { GraphQLDoor } from './graphql.js';
import { BodyTooLargeError, readBody } from './http/body.js';
import { createSecretCheck } from './http/secret.js';
import type { Metrics } from './metrics.js';
import { handleWebhook, WEBHOOK_ROUTES, webhookError, type WebhookResponse, type WebhookRoute } from './webhook.js';

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
}

export function createRequestListener(options: ListenerOptions): RequestListener {
  const { guard, graphql, logger, metrics, actionSecretHeader, maxBodyBytes } = options;
  const secretMatches = createSecretCheck(options.actionSecret);
  const unauthorized = webhookError(401, 'UNAUTHORIZED', `Missing or wrong action secret in the ${actionSecretHeader} header.`);
  const tooLarge = webhookError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBodyBytes} bytes.`);

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<number> {
    const method = req.method ?? 'GET';

    if (path === '/health') return send(res, { status: 200, body: { status: 'ok' } });
    if (path === '/ready') {
      return options.isReady()
        ? send(res, { status: 200, body: { status: 'ready' } })
        : send(res, { status: 503, body: { status: 'shutting down' } });
    }
    if (path === '/metrics' && metrics) {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return 200;
    }

    const webhook = path in WEBHOOK_ROUTES ? (path as WebhookRoute) : undefined;
    if (!webhook && path !== '/graphql') {
      return send(res, webhookError(404, 'NOT_FOUND', `Nothing at ${path.slice(0, 100)}: try POST /graphql or an action route.`));
    }

    // The GraphiQL page itself may load without the secret; every operation it then sends needs it.
    const graphiqlPage = !webhook && method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (!graphiqlPage && !secretMatches(req.headers[actionSecretHeader])) return send(res, unauthorized);

    if (webhook) {
      if (method !== 'POST') return send(res, webhookError(405, 'METHOD_NOT_ALLOWED', `${path} accepts POST only.`), { allow: 'POST' });
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
        return send(res, webhookError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the action payload as Content-Type: application/json.'));
      }
      return send(res, handleWebhook(guard, webhook, await readBody(req, maxBodyBytes)));
    }

    const body = method === 'POST' ? await readBody(req, maxBodyBytes) : undefined;
    await (await graphql()).handle(req, res, body);
    return res.statusCode;
  }

  return (req, res) => {
    const started = performance.now();
    const path = pathOf(req.url);
    route(req, res, path)
      .catch((err: unknown) => {
        if (err instanceof BodyTooLargeError) return send(res, tooLarge, { connection: 'close' });
        logger.error({ err, path }, 'request failed');
        if (res.headersSent) {
          res.destroy();
          return 500;
        }
        return send(res, webhookError(500, 'INTERNAL_ERROR', 'Internal error; the server log has the details.'));
      })
      .then((status) => {
        const seconds = (performance.now() - started) / 1000;
        metrics?.recordRequest(path in WEBHOOK_ROUTES || KNOWN_PATHS.has(path) ? path : 'other', req.method ?? '', status, seconds);
      });
  };
}

const KNOWN_PATHS = new Set(['/graphql', '/health', '/ready', '/metrics']);

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
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
