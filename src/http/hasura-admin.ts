// Whether Hasura accepts a credential as an admin's. The guard does not know Hasura's admin secret (it binds
// confirmations to whatever credential a request carried), so it asks Hasura: the credential, in the header it came
// in, on a small admin-only metadata call. Every /v1/metadata command needs the admin role (authorizeV1MetadataApi in
// server/src-lib/Hasura/App.hs, hasura/graphql-engine 5a67e3e6); get_catalog_state reads one small row and changes
// nothing (server/src-lib/Hasura/Server/API/Metadata/Instances.hs). A credential Hasura accepted is remembered for a
// minute, under a keyed hash, so a page and its paging, or a confirmation and its retry, do not ask each time.
// Used by the history page (who may see it) and the engine (whose destructive change is held or denied at all, and
// who may confirm a held one).
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../vocabulary/clock.js';
import { credentialsHash } from '../core/fingerprint.js';
import type { CredentialCheck } from '../core/engine.js';

const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 1000;

export function hasuraAdminCheck(options: { hasuraUrl: string; clock: Clock; credentialsKey?: KeyObject; timeoutMs?: number }): CredentialCheck {
  const { hasuraUrl, clock } = options;
  const accepted = new Map<string, number>();

  async function askHasura(credentials: string, header: string, role: string | undefined): Promise<'admin' | 'not-admin' | 'unreachable'> {
    try {
      const response = await fetch(`${hasuraUrl}/v1/metadata`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'hasura-metadata-guard', [header]: credentials, ...(role ? { 'x-hasura-role': role } : {}) },
        body: JSON.stringify({ type: 'get_catalog_state', args: {} }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await response.arrayBuffer();
      // Hasura refuses a credential with 400 (access-denied), 401 or 403; any other status (a 5xx while it restarts,
      // a load balancer's 502) says nothing about the credential.
      if (response.status === 200) return 'admin';
      return [400, 401, 403].includes(response.status) ? 'not-admin' : 'unreachable';
    } catch {
      return 'unreachable';
    }
  }

  return async (credentials, header, role) => {
    const key = `${header}:${role ?? ''}:${credentialsHash(credentials, options.credentialsKey)}`;
    const now = clock();
    if ((accepted.get(key) ?? 0) > now) return 'admin';
    const answer = await askHasura(credentials, header, role);
    if (answer === 'admin') {
      if (accepted.size >= MAX_REMEMBERED) accepted.clear();
      accepted.set(key, now + REMEMBER_MS);
    }
    return answer;
  };
}
