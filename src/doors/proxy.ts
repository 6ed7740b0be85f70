// Enforcing mode's door: a reverse proxy to Hasura on the guard's own port. Everything passes through untouched
// (http-proxy-3 streams it both ways, websockets included) except POSTs to the metadata and query endpoints,
// which are read, decoded and judged first; what passes is forwarded as the original bytes. It decides nothing:
// src/core/engine.ts does.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import { parseHasuraJson, parseReplacementLeavingTables } from '../big-json/lazy-tables.js';
import { systemClock, type Clock } from '../vocabulary/clock.js';
import { hasuraCodeOf, type Code } from '../core/codes.js';
import type { InspectedEndpoint, Verdict } from '../core/enforcement.js';
import type { Engine } from '../core/engine.js';
import type { ConsolePage } from './console-banner.js';
import { BodyTooLargeError, readLargeBody } from '../http/body.js';
import { measureJson, type JsonMeasure } from '../big-json/measure.js';
import { boundSetBy, checkBounds, DEFAULT_MAX_BULK_REQUESTS, DEFAULT_MAX_JSON_VALUES, withoutCredentials, type BodyBounds } from '../http/body-bounds.js';
import { BodyDecodeError, decodeBody } from '../http/decode-body.js';
import { sendHasuraError } from '../http/hasura-error.js';
import { hasuraCredentialOf, HASURA_CREDENTIAL_HEADERS } from '../http/credentials.js';
import { upstreamRouteOf } from '../http/inspected-path.js';
import { personOf } from '../vocabulary/person.js';
import { printable } from '../vocabulary/text.js';

/**
 * How many effects a held answer lists (`guard.changes`), and how many objects (`guard.objects`);
 * `guard.more_changes` and `guard.more_objects` count the rest.
 */
export const MAX_LISTED_CHANGES = 100;

export interface ProxyDoorOptions {
  /** Hasura's base URL, without a trailing slash; may carry a path prefix. */
  hasuraUrl: string;
  maxBodyBytes: number;
  /** Judges each inspected request (only its judge is used). */
  engine: Pick<Engine, 'judge'>;
  logger: Logger;
  /** Upper bound for the export_metadata the guard asks for itself; the console's own calls are not limited. */
  exportTimeoutMs?: number;
  /** GUARD_PUBLIC_URL: the base of the links the guard gives; unset, taken from each request (guardUrlOf). */
  publicUrl?: string;
  /** Times judgements (see SLOW_JUDGEMENT_MS); the system clock unless a test drives it. */
  clock?: Clock;
  /** What an inspected body may cost past its size (PROXY_MAX_JSON_VALUES, PROXY_MAX_BULK_REQUESTS); defaults unless given. */
  bodyBounds?: Omit<BodyBounds, 'maxBytes'>;
  /**
   * A confirmed change was forwarded and Hasura answered with `hasuraStatus` (undefined: Hasura gave no answer), for
   * the history and notifications (src/history/). Called after the answer has gone to the client.
   */
  onApprovedAnswered?: (change: { fingerprint: string; sub: string }, hasuraStatus: number | undefined) => void;
  /** Hasura's console page, given a banner naming the environment (src/doors/console-banner.ts); unset, it passes untouched. */
  consolePage?: ConsolePage;
}

export interface ProxyDoor {
  /** Answers one request bound for Hasura; resolves with the status once the answer is finished or abandoned. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<number>;
  /** The node server's 'upgrade' event, for websockets bound for Hasura. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/** http-proxy-3 options under which it sends req.url as the path, unparsed (see passThrough). */
const VERBATIM_PATH = { toProxy: true, prependPath: false } as const;

/**
 * How much larger than the largest inspected body an export_metadata answer may be (a metadata can grow past any one
 * request through many small ones). Larger, and the replacement is refused: the diff cannot be made.
 */
const EXPORT_MAX_TIMES_BODY = 4;

/**
 * Analysing a big request (a 50 MB replace_metadata takes seconds) keeps the event loop busy; meanwhile Hasura may
 * close the idle pooled connections, and the pool hears of it only afterwards, so the body would be written into a
 * closed socket (EPIPE: the change lost, a 500 to the client). After a judgement this long the request goes on a
 * connection of its own.
 */
const SLOW_JUDGEMENT_MS = 500;
export const GUARD_USER_AGENT = 'hasura-metadata-guard';

type UpstreamProxy = ReturnType<typeof createProxyServer<typeof IncomingMessage, typeof ServerResponse, Error>>;

/** What the door's functions share: its options, the upstream proxy and its connection pool. */
interface Door {
  options: ProxyDoorOptions;
  engine: Pick<Engine, 'judge'>;
  logger: Logger;
  hasuraUrl: string;
  maxBodyBytes: number;
  bodyBounds: BodyBounds;
  clock: Clock;
  /** The path every forwarded request goes under, as http-proxy-3 reads the target (common.ts, getPath). */
  upstreamPrefix: string;
  agent: HttpAgent | HttpsAgent;
  proxy: UpstreamProxy;
  /** What the upstream proxy notes of each forwarded request. */
  upstream: UpstreamNotes;
}

/** Noted per forwarded request, read by the proxy's 'proxyRes' handler and by inspect. */
interface UpstreamNotes {
  /** Hasura's status, so a confirmed change's outcome can be told from Hasura's own answer. */
  hasuraStatus: WeakMap<IncomingMessage, number>;
  /** Requests whose answer the guard writes itself (the console page, to add its banner): http-proxy-3 leaves them alone. */
  selfHandled: WeakSet<IncomingMessage>;
}

export function createProxyDoor(options: ProxyDoorOptions): ProxyDoor {
  const { hasuraUrl, maxBodyBytes } = options;
  const target = new URL(hasuraUrl);
  const agent = target.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const upstream: UpstreamNotes = { hasuraStatus: new WeakMap(), selfHandled: new WeakSet() };
  const door: Door = {
    options,
    engine: options.engine,
    logger: options.logger,
    hasuraUrl,
    maxBodyBytes,
    bodyBounds: { maxBytes: maxBodyBytes, maxValues: DEFAULT_MAX_JSON_VALUES, maxBulkRequests: DEFAULT_MAX_BULK_REQUESTS, ...options.bodyBounds },
    clock: options.clock ?? systemClock,
    upstreamPrefix: target.pathname,
    agent,
    proxy: createUpstreamProxy(options, agent, upstream),
    upstream,
  };
  return {
    handle: (req, res) => handle(door, req, res),
    upgrade: (req, socket, head) => upgrade(door, req, socket, head),
    close() {
      door.proxy.close();
      agent.destroy();
    },
  };
}

const linkBase = (options: ProxyDoorOptions, req: IncomingMessage) => options.publicUrl ?? guardUrlOf(req);

/** http-proxy-3 towards Hasura: redirects rewritten to the guard's address, failures answered in Hasura's shape. */
function createUpstreamProxy(options: ProxyDoorOptions, agent: HttpAgent | HttpsAgent, upstream: UpstreamNotes): UpstreamProxy {
  const { hasuraUrl, logger } = options;
  const proxy = createProxyServer({
    target: hasuraUrl,
    agent,
    // Hasura behind a virtual host (a cloud load balancer) needs its own Host; redirects it builds from it are
    // rewritten back to the guard's address below.
    changeOrigin: true,
    ws: true,
    xfwd: false,
  });
  // Hasura's absolute redirects name Hasura; the browser must stay on the guard, or it would leave the guard.
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const location = proxyRes.headers.location;
    if (typeof location === 'string' && location.startsWith(hasuraUrl)) {
      const rest = location.slice(hasuraUrl.length);
      if (rest === '' || rest.startsWith('/') || rest.startsWith('?')) proxyRes.headers.location = linkBase(options, req) + rest;
    }
    upstream.hasuraStatus.set(req, proxyRes.statusCode ?? 0);
    if (upstream.selfHandled.has(req)) options.consolePage!.respond(proxyRes, req, res, linkBase(options, req));
  });

  proxy.on('error', (err, req, res) => {
    logger.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, path: req.url?.slice(0, 200) }, 'hasura unreachable');
    if ('writeHead' in res) {
      // 500, not 502: the console rejects with no value above 500 and shows nothing.
      if (!res.headersSent) sendHasuraError(res, 500, 'UPSTREAM_UNREACHABLE', 'The metadata guard could not reach Hasura; try again shortly.');
      else res.destroy();
    } else {
      res.destroy();
    }
  });
  return proxy;
}

/**
 * Forwards to Hasura on exactly `path` (upstreamRouteOf's forwardedPath, the path that was judged). http-proxy-3
 * would otherwise build the path itself from req.url with the WHATWG parser; with toProxy it takes req.url
 * verbatim and, with prependPath off, joins it to nothing (common.ts, setupOutgoing and urlJoin).
 */
function passThrough(
  door: Door,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  body?: Buffer,
  how: { fresh?: boolean; selfHandled?: boolean } = {},
): Promise<number> {
  return new Promise((resolve) => {
    res.once('close', () => resolve(res.statusCode));
    req.url = path;
    if (how.selfHandled) door.upstream.selfHandled.add(req);
    const options = {
      ...VERBATIM_PATH,
      ...(body === undefined ? {} : { buffer: Readable.from([body]) }),
      ...(how.fresh ? { agent: false as const } : {}),
      ...(how.selfHandled ? { selfHandleResponse: true } : {}),
    };
    door.proxy.web(req, res, options);
  });
}

function exportRequest(door: Door, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; bytes: Buffer }> {
  const body = JSON.stringify({ type: 'export_metadata', version: 2, args: {} });
  const url = new URL(`${door.hasuraUrl}/v1/metadata`);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', agent: door.agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const limit = door.maxBodyBytes * EXPORT_MAX_TIMES_BODY;
      readLargeBody(res, limit).then(
        (bytes) => resolve({ status: res.statusCode ?? 0, bytes }),
        (err: unknown) => {
          res.destroy();
          reject(err instanceof BodyTooLargeError ? new Error(`export_metadata answered more than ${limit} bytes, ${EXPORT_MAX_TIMES_BODY}x PROXY_MAX_BODY_BYTES`) : err);
        },
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function fetchCurrentMetadata(door: Door, req: IncomingMessage): Promise<unknown> {
  // Its own user-agent, so Hasura's logs tell the guard's reads from the console's.
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': GUARD_USER_AGENT };
  // The request's own credential headers, all of them, so Hasura picks among them as it did for the request.
  for (const name of [...HASURA_CREDENTIAL_HEADERS, 'x-hasura-role']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  // A big project's export is tens of MB: read into one buffer of its declared length (fetch would hold it twice
  // while collecting it), its tables then left in those bytes until the diff reads each (parseHasuraJson).
  const { status, bytes } = await exportRequest(door, headers, door.options.exportTimeoutMs ?? 30_000);
  let answer: { code?: unknown; metadata?: unknown; resource_version?: unknown } | undefined;
  try {
    answer = parseHasuraJson(bytes, 'export') as typeof answer;
  } catch {
    answer = undefined;
  }
  if (status < 200 || status > 299) {
    const code = typeof answer?.code === 'string' ? `: ${answer.code.slice(0, 60)}` : '';
    throw new Error(`export_metadata answered ${status}${code}`);
  }
  if (typeof answer !== 'object' || answer === null || typeof answer.metadata !== 'object' || answer.metadata === null) {
    throw new Error('export_metadata did not answer {resource_version, metadata}');
  }
  return answer.metadata;
}

/**
 * An inspected request's body, read, decoded, measured and parsed, in that order, each step bounded before the
 * next one spends anything (src/http/body-bounds.ts): or the status of the refusal already sent.
 */
async function readInspectedBody(door: Door, req: IncomingMessage, res: ServerResponse): Promise<{ raw: Buffer; body: unknown } | number> {
  const credentialed = carriesCredentials(req);
  const bounds = credentialed ? door.bodyBounds : withoutCredentials(door.bodyBounds);
  const { maxBytes } = bounds;
  const overSize = `${maxBytes} bytes, ${boundSetBy(bounds, 'PROXY_MAX_BODY_BYTES')}`;
  const refuse = (status: number, code: Code, why: string, headers?: Record<string, string>) => sendHasuraError(res, status, code, `Not sent to Hasura: ${why}.`, undefined, headers);
  let raw: Buffer;
  try {
    raw = await readLargeBody(req, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return refuse(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than the metadata guard inspects (${overSize})`, { connection: 'close' });
    throw err;
  }
  let decoded: Buffer;
  try {
    decoded = await decodeBody(raw, headerOf(req, 'content-encoding'), maxBytes);
  } catch (err) {
    if (!(err instanceof BodyDecodeError)) throw err;
    const [status, code] = DECODE_FAILURE[err.reason];
    return refuse(status, code, err.reason === 'too-large' ? `the decoded body is larger than the metadata guard inspects (${overSize})` : err.message);
  }
  // Linear in the bytes and allocating nothing per value: done before any tree is built, and it stops at a bound.
  const measure = measureJson(decoded, bounds);
  const refusal = checkBounds(measure, bounds);
  if (refusal) {
    door.logger.warn({ refused: refusal.bound, credentials: credentialed, bytes: decoded.length }, 'inspected body past a bound');
    return refuse(413, 'PAYLOAD_TOO_LARGE', `${refusal.message}, more than the metadata guard inspects${credentialed ? '' : '. Send it with its credentials'}`);
  }
  if (measure.repeatedKey !== undefined) {
    door.logger.warn({ refused: 'repeated-key', credentials: credentialed }, 'inspected body repeats a key');
    return refuse(400, 'JSON_AMBIGUOUS', `an object in the body says the key "${printable(measure.repeatedKey)}" twice; Hasura reads the first and the metadata guard would read the last, so send each key once`);
  }
  let body: unknown;
  try {
    body = parseWithinBounds(decoded, measure, bounds);
  } catch {
    return refuse(400, 'INVALID_JSON', 'the body is not JSON, so the metadata guard cannot tell what it does');
  }
  if (body === undefined) return refuse(413, 'PAYLOAD_TOO_LARGE', `the body holds more than ${bounds.maxValues} JSON values, and is not a replace_metadata whose tables the metadata guard can read one at a time`);
  return { raw, body };
}

async function inspect(door: Door, req: IncomingMessage, res: ServerResponse, endpoint: InspectedEndpoint, path: string): Promise<number> {
  const read = await readInspectedBody(door, req, res);
  if (typeof read === 'number') return read;
  const { raw, body } = read;

  const judgedFrom = door.clock();
  const credential = hasuraCredentialOf((name) => req.headers[name]);
  const verdict = await door.engine.judge({
    endpoint,
    body,
    credentials: credential?.value,
    credentialHeader: credential?.header,
    role: credential?.role,
    fetchCurrentMetadata: () => fetchCurrentMetadata(door, req),
    guardUrl: linkBase(door.options, req),
    person: personOf(req),
  });
  if (verdict.action === 'forward') {
    const status = await passThrough(door, req, res, path, raw, { fresh: door.clock() - judgedFrom >= SLOW_JUDGEMENT_MS });
    if (verdict.reason === 'approved') door.options.onApprovedAnswered?.(verdict.change, door.upstream.hasuraStatus.get(req));
    return status;
  }
  return sendVerdict(res, verdict);
}

/** A target whose path could be read two ways is refused: nothing is forwarded, on any path. */
function refusedPath(door: Door, req: IncomingMessage, reason: string): string {
  door.logger.info({ method: req.method?.slice(0, 20), reason }, 'request refused: its path does not read one way');
  return `Not sent to Hasura: ${reason}, which the metadata guard does not forward (it could be read as another path upstream).`;
}

/**
 * Statuses other than 400: credentials Hasura refuses are a 401, as Hasura answers them; the guard's store or Hasura
 * out of reach is the guard's trouble, not the request's: 500, the most the console still shows.
 */
const VERDICT_STATUS: Partial<Record<Code, number>> = { CREDENTIALS_NOT_ADMIN: 401, STORE_UNAVAILABLE: 500, HASURA_UNREACHABLE: 500 };

/** A held or refused request's answer, in Hasura's shape. */
function sendVerdict(res: ServerResponse, verdict: Extract<Verdict, { action: 'hold' }>): number {
  // A metadata apply can hold hundreds of thousands of effects; the console shows the message, and the list is for
  // tools: the first MAX_LISTED_CHANGES, and how many more there are, rather than a body as big as the request.
  const listed = verdict.effects.slice(0, MAX_LISTED_CHANGES);
  const more = verdict.effects.length - listed.length;
  const objects = verdict.objects.slice(0, MAX_LISTED_CHANGES);
  const moreObjects = verdict.objects.length - objects.length;
  return sendHasuraError(res, VERDICT_STATUS[verdict.code] ?? 400, verdict.code, verdict.message, {
    confirmation_token: verdict.token,
    changes: listed,
    ...(more > 0 ? { more_changes: more } : {}),
    objects,
    ...(moreObjects > 0 ? { more_objects: moreObjects } : {}),
    ...(verdict.requester ? { requester: verdict.requester } : {}),
  });
}

/** Answers one request bound for Hasura: passed, inspected or refused. */
function handle(door: Door, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const route = upstreamRouteOf(req.url ?? '/', door.upstreamPrefix);
  if (!route.ok) return Promise.resolve(sendHasuraError(res, 400, 'PATH_AMBIGUOUS', refusedPath(door, req, route.reason), undefined, { connection: 'close' }));
  const { endpoint, forwardedPath } = route;
  if (!endpoint) return passThrough(door, req, res, forwardedPath, undefined, { selfHandled: door.options.consolePage?.wants(req) });
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'POST') return inspect(door, req, res, endpoint, forwardedPath);
  // Hasura answers these paths only to POST; a body-less GET or OPTIONS (a CORS preflight) passes so Hasura
  // answers it itself, while any other method carrying a body is refused rather than passed unread.
  if (!carriesBody(req)) return passThrough(door, req, res, forwardedPath);
  return Promise.resolve(sendHasuraError(res, 405, 'METHOD_NOT_ALLOWED', `Not sent to Hasura: ${endpoint} takes POST; the metadata guard does not pass a ${method.slice(0, 20)} with a body.`, undefined, { allow: 'POST', connection: 'close' }));
}

/** A websocket bound for Hasura: piped, unless its path is inspected or does not read one way. */
function upgrade(door: Door, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const route = upstreamRouteOf(req.url ?? '/', door.upstreamPrefix);
  if (!route.ok) return refuseUpgrade(socket, '400 Bad Request', 'PATH_AMBIGUOUS', refusedPath(door, req, route.reason));
  // Hasura never takes metadata over a websocket; refusing the inspected paths costs nothing.
  if (route.endpoint) return refuseUpgrade(socket, '404 Not Found', 'NOT_FOUND', `Not sent to Hasura: ${route.endpoint} takes no websocket.`);
  socket.on('error', () => socket.destroy());
  req.url = route.forwardedPath;
  door.proxy.ws(req, socket, head, VERBATIM_PATH);
}

/** Refuses a websocket upgrade with an HTTP answer in Hasura's shape, and closes the socket. */
function refuseUpgrade(socket: Duplex, status: string, code: Code, error: string): void {
  const body = JSON.stringify({ path: '$', code: hasuraCodeOf(code), error });
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

const DECODE_FAILURE: Record<BodyDecodeError['reason'], [number, Code]> = {
  'unsupported-encoding': [415, 'UNSUPPORTED_MEDIA_TYPE'],
  'too-large': [413, 'PAYLOAD_TOO_LARGE'],
  'compression-ratio': [413, 'PAYLOAD_TOO_LARGE'],
  corrupt: [400, 'INVALID_ENCODING'],
};

/**
 * The parsed body, JSON.parse's way unless it must be read leaving its tables in its bytes (src/big-json/). A body
 * with more values than the bound, the excess all in its tables, is read only that way: undefined if it cannot be.
 * Throws as JSON.parse does on text that is not JSON.
 */
function parseWithinBounds(decoded: Buffer, measure: JsonMeasure, bounds: BodyBounds): unknown {
  // Nothing counted as staying in the bytes (no table list, or one table only): within the bound parsed whole.
  if (measure.tableValues === 0) return JSON.parse(decoded.toString('utf8'));
  if (measure.values <= bounds.maxValues) return parseHasuraJson(decoded, 'request'); // within bounds even if parsed whole
  return parseReplacementLeavingTables(decoded);
}

/**
 * Whether the request carries any of the credentials Hasura reads for its metadata API. Only their presence: the
 * guard cannot tell a right one from a wrong one (what it binds confirmations to is read in inspect).
 */
function carriesCredentials(req: IncomingMessage): boolean {
  return HASURA_CREDENTIAL_HEADERS.some((name) => headerOf(req, name) !== undefined);
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function carriesBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * The address the client used to reach the guard, for links it is shown (the confirm page, rewritten
 * redirects). Taken from the request: it only ever goes back to the same client.
 */
export function guardUrlOf(req: IncomingMessage): string {
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase();
  const encrypted = 'encrypted' in req.socket && Boolean(req.socket.encrypted);
  const protocol = forwarded === 'https' || forwarded === 'http' ? forwarded : encrypted ? 'https' : 'http';
  const host = String(req.headers.host ?? 'localhost').replace(/[^A-Za-z0-9.:\[\]-]/g, '');
  return `${protocol}://${host}`;
}
