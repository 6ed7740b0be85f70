// The metadata a running Hasura has now, to compare the project with: what `hasura metadata apply` would change.
// export_metadata version 2 answers { resource_version, metadata }: runExportMetadataV2 in
// server/src-lib/Hasura/RQL/DDL/Metadata.hs (hasura/graphql-engine at 5a67e3e6); the enforcing proxy asks the same
// way (src/doors/proxy.ts). The admin secret goes in its header only, never into a message.
import { isObject } from '../vocabulary/json.js';
import { CheckError } from './errors.js';

const TIMEOUT_MS = 30_000;

export async function fetchLiveMetadata(endpoint: string, adminSecret: string | undefined): Promise<unknown> {
  let url: URL;
  try {
    url = new URL('v1/metadata', endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
  } catch {
    throw new CheckError('BAD_OPTION', '--endpoint must be a URL such as https://hasura.example.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CheckError('BAD_OPTION', '--endpoint must be an http or https URL');
  // Shown in messages without any user:password the URL may carry.
  const shown = `${url.origin}${url.pathname}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'hasura-metadata-guard check' };
  if (adminSecret) headers['x-hasura-admin-secret'] = adminSecret;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'export_metadata', version: 2, args: {} }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : 'the connection failed';
    throw new CheckError('ENDPOINT_FAILED', `export_metadata at ${shown}: ${reason}`);
  }
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 || response.status === 400 ? ' (is the admin secret right?)' : '';
    throw new CheckError('ENDPOINT_FAILED', `export_metadata at ${shown} answered ${response.status}${hint}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new CheckError('ENDPOINT_FAILED', `export_metadata at ${shown} did not answer JSON`);
  }
  if (!isObject(body) || !isObject(body.metadata)) throw new CheckError('ENDPOINT_FAILED', `export_metadata at ${shown} answered without a "metadata" object`);
  return body.metadata;
}
