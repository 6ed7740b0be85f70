// Which path the proxy sends to Hasura, and whether Hasura would route it to an endpoint the guard must read first.
// Both come from one computation, so what is judged is what is forwarded: the proxy door sends exactly
// `forwardedPath` (it hands it to http-proxy-3 verbatim, see src/doors/proxy.ts), never a path the library
// re-derives from the request line.
import type { InspectedEndpoint } from '../core/enforcement.js';

const INSPECTED: ReadonlySet<string> = new Set<InspectedEndpoint>(['/v1/metadata', '/v2/query', '/v1/query']);

export type UpstreamRoute =
  | { ok: true; /** What goes on Hasura's request line: Hasura's path prefix, then the path, then the query. */ forwardedPath: string; endpoint?: InspectedEndpoint }
  | { ok: false; /** Why the target is refused, for the client: names the spelling, never echoes the path. */ reason: string };

/**
 * The upstream route of one request target (`req.url`: origin-form `/path?query`, or absolute-form
 * `http://host/path`), for a Hasura whose base URL has the path `upstreamPrefix` (`/` or e.g. `/hasura`).
 *
 * A target whose path holds a spelling that proxies and servers read differently is refused, whatever it would reach
 * (see uncleanPathReason). Otherwise the path is resolved as http-proxy-3 1.23.3 does it (lib/http-proxy/common.ts,
 * getPath and urlJoin: the WHATWG URL parser, which resolves `.` and `..`), and Hasura's routing is applied to the
 * result (see hasuraEndpointOf).
 */
export function upstreamRouteOf(target: string, upstreamPrefix: string): UpstreamRoute {
  const path = rawPathOf(target);
  if (path === undefined) return { ok: false, reason: 'the request target is neither a path nor an http(s) URL' };
  const unclean = uncleanPathReason(path);
  if (unclean) return { ok: false, reason: `the request path has ${unclean}` };
  const resolved = resolvedLikeTheProxy(target);
  return { ok: true, forwardedPath: joinedUnder(upstreamPrefix, resolved), endpoint: hasuraEndpointOf(resolved) };
}

/** The path part of an origin-form or http(s) absolute-form target (before `?` or `#`); undefined for anything else. */
function rawPathOf(target: string): string | undefined {
  let rest: string;
  if (target.startsWith('/')) rest = target;
  else {
    const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
    if (!absolute) return undefined;
    rest = target.slice(absolute[0].length);
  }
  return rest.split(/[?#]/, 1)[0]!;
}

/**
 * What makes a path ambiguous: Hasura (Warp's decodePathSegments) decodes escapes once, inside a segment; the WHATWG
 * parser the proxy uses reads `%2e%2e` as `..` and a `\` as `/`; other proxies (a load balancer in front of Hasura)
 * may decode `%2F` into a separator, or decode twice. No console, CLI or asset path uses any of these, so they are
 * refused rather than interpreted.
 */
function uncleanPathReason(path: string): string | undefined {
  if (/[\x00-\x20\x7f]/.test(path)) return 'a control character or a space';
  if (/%(?![0-9a-f]{2})/i.test(path)) return 'an invalid percent escape';
  if (/%2e/i.test(path)) return "an encoded '.'";
  if (/%2f|%5c/i.test(path)) return 'an encoded slash or backslash';
  if (path.includes('\\')) return 'a backslash';
  if (/%[01][0-9a-f]|%7f/i.test(path)) return 'an encoded control character';
  if (/%25[0-9a-f]{2}/i.test(path)) return 'a double-encoded escape';
  return undefined;
}

/**
 * `pathname + search` of the target as http-proxy-3's getPath computes it: "//x" is read as a path (not a host),
 * an absolute-form target by its path; dot segments resolved, never above the root.
 */
function resolvedLikeTheProxy(target: string): string {
  const url = new URL(target.startsWith('//') ? `http://base.invalid${target}` : target, 'http://base.invalid');
  return url.pathname + url.search;
}

/** http-proxy-3's urlJoin of the target's path and the resolved path: one slash between them, the query kept last. */
function joinedUnder(prefix: string, resolved: string): string {
  return prefix.endsWith('/') ? prefix + resolved.slice(1) : prefix + resolved;
}

/**
 * The inspected endpoint Hasura would route this resolved path to. Hasura's router (Spock over Warp) takes Warp's
 * `pathInfo` (http-types decodePathSegments: split on `/`, each segment percent-decoded once, UTF-8 read leniently),
 * drops empty segments (reroute, Web/Routing/Router.hs: `filter (not . T.null)`, which is why the CLI's
 * `//v2/query` works) and matches the rest exactly (hasura/graphql-engine server/src-lib/Hasura/Server/App.hs:
 * `Spock.post "v1/metadata"`, "v2/query", "v1/query"). The match here is more generous than Hasura's (case folded,
 * `;params` and spaces trimmed from segments): a false match only costs an inspection.
 */
function hasuraEndpointOf(resolved: string): InspectedEndpoint | undefined {
  const segments = resolved
    .split(/[?#]/, 1)[0]!
    .split('/')
    .map((segment) => decodeSegment(segment).toLowerCase().split(';', 1)[0]!.trim())
    .filter((segment) => segment !== '');
  const normal = `/${segments.join('/')}`;
  return INSPECTED.has(normal) ? (normal as InspectedEndpoint) : undefined;
}

const utf8Lenient = new TextDecoder('utf-8', { fatal: false });

/** One percent-decoding to bytes, read as UTF-8 with U+FFFD for what is not (Warp: urlDecode, lenientDecode). */
function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const escape = segment[i] === '%' ? /^[0-9a-f]{2}$/i.exec(segment.slice(i + 1, i + 3)) : null;
    if (escape) {
      bytes.push(parseInt(escape[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(segment[i]!, 'utf8'));
    }
  }
  return utf8Lenient.decode(Uint8Array.from(bytes));
}
