// The path the proxy forwards is the path it judged. A review sent `POST /%ZZ/%2e%2e/v2/query` with a DROP TABLE:
// the guard's decoding gave up on the invalid escape, while http-proxy-3 resolved `%2e%2e` and Hasura ran the DROP.
// Here every such spelling goes through the proxy to the stand-in Hasura: refused or held, nothing reaches Hasura;
// and for what passes, the stand-in sees exactly the path that was judged.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { setupOutgoing } from 'http-proxy-3/dist/lib/http-proxy/common.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as bodies from '../fixtures/console/bodies.js';
import { upstreamRouteOf } from '../../src/http/inspected-path.js';
import { doubleWiring } from '../support/analysis-double.js';
import { postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer(doubleWiring());
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
});

const DROP = bodies.dropTable();

describe('a path that could be read two ways is refused in Hasura\'s shape, nothing forwarded', () => {
  const refused: [string, string][] = [
    ['/%ZZ/%2e%2e/v2/query', 'an invalid percent escape'],
    ['/%ff/%2E%2E/v1/metadata', "an encoded '.'"],
    ['/%/.%2e/v2/query', 'an invalid percent escape'],
    ['/x/%2e%2e/v2/query', "an encoded '.'"],
    ['/v2/query/%2E./%2e%2E/v1/metadata', "an encoded '.'"],
    ['/v1%2Fmetadata', 'an encoded slash or backslash'],
    ['/x/..%2fv2/query', 'an encoded slash or backslash'],
    ['/x%5C..%5Cv2/query', 'an encoded slash or backslash'],
    ['/x\\..\\v2/query', 'a backslash'],
    ['/%252e%252e/v2/query', 'a double-encoded escape'],
    ['/v1/%252e/metadata', 'a double-encoded escape'],
    ['/v2/query%00', 'an encoded control character'],
    ['http://hasura/x/%2e%2e/v2/query', "an encoded '.'"],
    ['http://hasura/%ZZ/../v1/metadata', 'an invalid percent escape'],
    ['*', 'neither a path nor an http(s) URL'],
  ];
  for (const [target, why] of refused) {
    it(`POST ${target}`, async () => {
      const res = await postMetadata(guard.url, target, DROP);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ path: '$', code: 'guard-refused', error: expect.stringContaining(why) });
      expect(res.json.error).toMatch(/^Not sent to Hasura: /);
      expect(guard.hasura.forwarded()).toEqual([]);
    });
  }

  it('on any path, not only those near an inspected endpoint (a proxy upstream could read it otherwise)', async () => {
    const res = await rawRequest(guard.url, 'GET', '/console/%2e%2e/v1/version');
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('guard-refused');
    expect(guard.hasura.requests).toEqual([]);
  });
});

describe('a path Hasura routes to an inspected endpoint is inspected, however it is spelled', () => {
  // Hasura drops empty segments, decodes each segment once and matches the rest; the proxy resolves dot segments.
  const held = [
    '//v2/query', // what the CLI sends ("%s/%s")
    '/v2//query/',
    '/../../v2/query', // past the root
    '/x/y/../../v2/query',
    '/v2/./query',
    '/%76%32/query', // Hasura decodes %76 to "v"
    '/V2/QUERY',
    '/v2/query;x=1',
    '/v2;a/query',
    '/v2/query?x=%ZZ&y=%2e%2e/..',
    'http://hasura/v2/query',
    'http://hasura//x/../v2/query',
  ];
  for (const target of held) {
    it(`POST ${target}`, async () => {
      const res = await postMetadata(guard.url, target, DROP);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('guard-confirmation-required');
      expect(guard.hasura.forwarded()).toEqual([]);
    });
  }
});

describe('what passes reaches Hasura on exactly the path that was judged', () => {
  const passed: [string, string, string][] = [
    ['GET', '/v1/version', '/v1/version'],
    ['GET', '/console/assets/common/js/main.js.gz?v=2.40', '/console/assets/common/js/main.js.gz?v=2.40'],
    ['GET', '/console/data/default/schema/public/tables/my%20table/browse', '/console/data/default/schema/public/tables/my%20table/browse'],
    ['POST', '/v1/graphql', '/v1/graphql'],
    ['POST', '/v1/graphql?op=%2e%2e%2F', '/v1/graphql?op=%2e%2e%2F'],
    ['GET', '/x/../v1/version', '/v1/version'],
    ['GET', 'http://elsewhere.example/v1/version?a=1', '/v1/version?a=1'],
  ];
  for (const [method, target, upstream] of passed) {
    it(`${method} ${target} → ${upstream}`, async () => {
      const body = method === 'POST' ? '{"query":"{ patients { id } }"}' : undefined;
      const res = await rawRequest(guard.url, method, target, body ? { 'content-type': 'application/json' } : {}, body);
      expect(res.status).toBe(200);
      expect(guard.hasura.forwarded().map((r) => [r.method, r.path, r.body.toString()])).toEqual([[method, upstream, body ?? '']]);
    });
  }

  it('a routine change on the CLI\'s //v2/query is judged and forwarded there, byte for byte', async () => {
    const bytes = JSON.stringify(bodies.readOnlySql);
    const res = await rawRequest(guard.url, 'POST', '//v2/query', { 'content-type': 'application/json' }, bytes);
    expect(res.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => [r.path, r.body.toString()])).toEqual([['//v2/query', bytes]]);
  });
});

describe('websocket upgrades follow the same rules', () => {
  /**
   * A websocket upgrade with this exact request target (the ws client would resolve `..` and `%2e` itself), then one
   * text frame; the stand-in echoes the path it was reached on.
   */
  const upgrade = (path: string) =>
    new Promise<{ opened: true; echoedPath: string } | { opened: false; status: number }>((resolve, reject) => {
      const { hostname, port } = new URL(guard.url);
      const headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'graphql-ws' };
      const req = request({ host: hostname, port, path, headers, agent: false });
      req.on('response', (res) => {
        res.resume();
        resolve({ opened: false, status: res.statusCode ?? 0 });
      });
      req.on('upgrade', (_res, socket) => {
        const mask = randomBytes(4);
        const payload = Buffer.from('ping').map((byte, i) => byte ^ mask[i % 4]!);
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]));
        socket.once('data', (frame: Buffer) => {
          // An unmasked text frame under 126 bytes: two header bytes, then the payload.
          resolve({ opened: true, echoedPath: JSON.parse(frame.subarray(2, 2 + (frame[1]! & 0x7f)).toString()).path });
          socket.destroy();
        });
      });
      req.on('error', reject);
      req.end();
    });

  it('an unclean path is refused with 400', async () => {
    expect(await upgrade('/%ZZ/%2e%2e/v1/graphql')).toEqual({ opened: false, status: 400 });
    expect(await upgrade('/x/%2e%2e/v1/graphql')).toEqual({ opened: false, status: 400 });
    expect(await upgrade('/v1%2Fgraphql')).toEqual({ opened: false, status: 400 });
  });

  it('an inspected endpoint, however spelled, is refused (404)', async () => {
    expect(await upgrade('/x/../v1//metadata')).toEqual({ opened: false, status: 404 });
    expect(await upgrade('//V2/query;x')).toEqual({ opened: false, status: 404 });
  });

  it('any other path is piped on the path that was judged', async () => {
    expect(await upgrade('/v1/graphql')).toEqual({ opened: true, echoedPath: '/v1/graphql' });
    expect(await upgrade('/x/../v1/graphql?a=1')).toEqual({ opened: true, echoedPath: '/v1/graphql?a=1' });
    expect(await upgrade('//v1beta1/relay')).toEqual({ opened: true, echoedPath: '//v1beta1/relay' });
  });
});

/** The path http-proxy-3 1.23.3 itself would send for this target under this Hasura URL (its own setupOutgoing). */
function libraryPath(hasuraUrl: string, target: string, options: { toProxy?: boolean; prependPath?: boolean } = {}): string {
  const req = { url: target, method: 'POST', headers: {}, httpVersionMajor: 1 } as unknown as IncomingMessage;
  return setupOutgoing({} as never, { target: new URL(hasuraUrl), ...options } as never, req).path as string;
}

/** Hasura's routing, written out for the test: split, drop empty segments, decode each once, compare exactly. */
function hasuraRoutes(path: string): string {
  const segments = path.split('?', 1)[0]!.split('/').filter((s) => s !== '');
  return `/${segments.map(percentDecodedOnce).join('/')}`;
}

function percentDecodedOnce(segment: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const hex = segment.slice(i + 1, i + 3);
    if (segment[i] === '%' && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(segment[i]!));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

const INSPECTED = ['/v1/metadata', '/v2/query', '/v1/query'];

describe('the judged path is the path http-proxy-3 sends (its own code as the oracle)', () => {
  const pieces = ['', '.', '..', '%2e', '.%2E', 'v1', 'v2', 'V2', 'query', 'metadata', '%76%31', '%ZZ', '%', '%ff', 'a;b', '%2f', '%5c', '\\', '%252e', '%00', 'x?y', '#f', 'é'];
  const targets = fc
    .tuple(fc.constantFrom('/', '//', 'http://h/', 'https://h:1/'), fc.array(fc.constantFrom(...pieces), { maxLength: 7 }))
    .map(([start, parts]) => start + parts.join('/'));

  for (const base of ['http://hasura:8080', 'http://hasura:8080/', 'http://hasura:8080/prefix', 'http://hasura:8080/prefix/']) {
    it(`for HASURA_URL ${base}: forwarded path = the library's path, and the library sends it verbatim`, () => {
      const prefix = new URL(base).pathname;
      fc.assert(
        fc.property(targets, (target) => {
          const route = upstreamRouteOf(target, prefix);
          if (!route.ok) return;
          expect(route.forwardedPath).toBe(libraryPath(base, target));
          expect(libraryPath(`${new URL(base).origin}`, route.forwardedPath, { toProxy: true, prependPath: false })).toBe(route.forwardedPath);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('nothing forwarded uninspected is routed by Hasura to an inspected endpoint', () => {
    fc.assert(
      fc.property(targets, (target) => {
        const route = upstreamRouteOf(target, '/');
        if (!route.ok || route.endpoint) return;
        expect(INSPECTED).not.toContain(hasuraRoutes(libraryPath('http://hasura:8080', target)));
      }),
      { numRuns: 5000 },
    );
  });

  it('the review\'s spellings would have reached /v2/query and /v1/metadata through the library', () => {
    expect(libraryPath('http://hasura:8080', '/%ZZ/%2e%2e/v2/query')).toBe('/v2/query');
    expect(libraryPath('http://hasura:8080', '/%ff/%2E%2E/v1/metadata')).toBe('/v1/metadata');
    expect(libraryPath('http://hasura:8080', '/%/.%2e/v2/query')).toBe('/v2/query');
  });
});
