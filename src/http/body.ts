import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * Reads a request body into memory, refusing it as soon as it passes `limit` bytes: a declared
 * Content-Length over the limit is refused before a byte is read, a chunked body as soon as it crosses it.
 * Calls back exactly once. A callback rather than a promise: the webhooks answer in it, and on that hot path
 * the promise hops were measurable (docs/performance.md); readBodyAsync is the promise form.
 */
export function readBody(req: IncomingMessage, limit: number, callback: (err: Error | null, body?: Buffer) => void): void {
  let settled = false;
  const settle = (err: Error | null, body?: Buffer) => {
    if (settled) return;
    settled = true;
    callback(err, body);
  };
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return settle(new BodyTooLargeError());
  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      req.removeAllListeners('data');
      req.pause();
      settle(new BodyTooLargeError());
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => settle(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  req.on('error', settle);
}

export function readBodyAsync(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => readBody(req, limit, (err, body) => (err ? reject(err) : resolve(body!))));
}

/**
 * Like readBodyAsync, for bodies that may be tens of MB (the proxy's inspected requests): with a declared
 * Content-Length the body is copied into one buffer of that size as it arrives, instead of collected and then
 * concatenated, so it is held once, not twice, at the peak.
 */
export function readLargeBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
  if (!Number.isSafeInteger(declared)) return readBodyAsync(req, limit);
  if (declared > limit) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    // Node's HTTP parser stops at Content-Length, so the body never outgrows this buffer.
    const body = Buffer.allocUnsafe(declared);
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.copy(body, received);
    });
    req.on('end', () => (received === declared ? resolve(body) : reject(new Error('the request body ended before its Content-Length'))));
    req.on('error', reject);
  });
}
