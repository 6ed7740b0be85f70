// Which requests the proxy must read before Hasura does. Hasura collapses empty path segments (the CLI's
// "%s/%s" join produces //v2/query and works), so the match is on a normalised path; anything that could
// possibly reach one of these endpoints is inspected, and a false match only costs an inspection.
import type { InspectedEndpoint } from '../core/enforcement.js';

const INSPECTED: ReadonlySet<string> = new Set<InspectedEndpoint>(['/v1/metadata', '/v2/query', '/v1/query']);

/**
 * The inspected endpoint a request target means, or undefined. Normalises generously: query string and
 * fragment dropped, percent-decoding repeated (so %2F and %252F count as "/"), backslashes as slashes, case
 * folded, empty and "." segments dropped, ".." applied. An absolute-form target (http://host/path) is read by
 * its path.
 */
export function inspectedEndpointOf(target: string): InspectedEndpoint | undefined {
  let path = target;
  if (!path.startsWith('/')) {
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  path = path.split(/[?#]/, 1)[0]!;
  for (let i = 0; i < 4; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      break;
    }
    if (decoded === path) break;
    path = decoded.split(/[?#]/, 1)[0]!;
  }
  const segments: string[] = [];
  for (const segment of path.replace(/\\/g, '/').toLowerCase().split('/')) {
    const trimmed = segment.trim();
    if (trimmed === '' || trimmed === '.') continue;
    if (trimmed === '..') segments.pop();
    else segments.push(trimmed);
  }
  const normal = `/${segments.join('/')}`;
  return INSPECTED.has(normal) ? (normal as InspectedEndpoint) : undefined;
}
