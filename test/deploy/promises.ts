// The promises deploy/kubernetes makes (issue 22, docs/kubernetes.md), each a function from a set of objects (the
// base's files, or what a kustomization renders) to the list of ways they are broken: [] when kept.
import { loadConfig, type Config } from '../../src/config.js';
import { describe, type KubeObject } from './manifests.js';

export const GUARD = 'hasura-metadata-guard';
export const GUARD_LABELS = { 'app.kubernetes.io/name': GUARD };
/** Hasura's pods, by the label of Hasura's own install-manifests/kubernetes/deployment.yaml (hasura/graphql-engine). */
export const HASURA_LABELS = { app: 'hasura' };
export const HASURA_PORT = 8080;
/** The label that admits an application namespace to Hasura's port (docs/kubernetes.md). */
export const GRAPHQL_CLIENT_LABEL = 'hasura-metadata-guard/graphql-client';
/**
 * What applications need of Hasura, the only paths an application host may send it: GraphQL (queries, mutations,
 * and subscriptions over a websocket on the same path), Relay, and the health check. Routes in Hasura's
 * server/src-lib/Hasura/Server/App.hs (`Spock.post "v1/graphql"`, `"v1beta1/relay"`, `Spock.get "healthz"`);
 * websockets in server/src-lib/Hasura/GraphQL/Transport/WebSocket.hs (`checkPath`: /v1/graphql, /v1beta1/relay).
 */
export const APPLICATION_PATHS = ['/v1/graphql', '/v1beta1/relay', '/healthz'];
/** docs/performance.md: RSS after 30 s of validate + confirm at 32 connections, the highest of the runs there. */
export const RSS_UNDER_LOAD_MB = 153;
/** docs/performance.md: peak RSS growth inspecting a replace_metadata over the same metadata, up to 4.0x the body. */
export const PEAK_GROWTH_PER_BODY_BYTE = 4.0;

/** YAML as read: the schema check has already held each object to its kind's shape. */
type Json = Record<string, any>;

export const ofKind = (objects: KubeObject[], kind: string) => objects.filter((object) => object.kind === kind) as Json[];

export function guardDeployment(objects: KubeObject[]): Json {
  const guard = ofKind(objects, 'Deployment').find((deployment) => deployment.metadata.name === GUARD);
  if (!guard) throw new Error(`no Deployment ${GUARD}`);
  return guard;
}

const guardContainer = (objects: KubeObject[]): Json => guardDeployment(objects).spec.template.spec.containers[0];

/** The guard's configuration as src/config.ts reads it from the Deployment's env (secrets filled in for the test). */
export function guardConfig(objects: KubeObject[]): Config {
  const env: Record<string, string> = {};
  for (const variable of guardContainer(objects).env as Json[]) {
    env[variable.name] = variable.valueFrom?.secretKeyRef ? TEST_SECRETS[variable.name] ?? 'unknown secret' : variable.value;
  }
  return loadConfig(env);
}

const TEST_SECRETS: Record<string, string> = {
  TOKEN_SECRET: 'a-test-token-secret-of-at-least-32-bytes',
  ACTION_SECRET: 'a-test-action-secret',
  GUARD_DATABASE_URL: 'postgres://guard:password@postgres:5432/hasura',
};

export function replicaProblems(objects: KubeObject[]): string[] {
  const replicas = guardDeployment(objects).spec.replicas;
  return replicas >= 2 ? [] : [`the guard runs ${replicas ?? 1} replica(s), not at least 2`];
}

export function probeProblems(objects: KubeObject[]): string[] {
  const container = guardContainer(objects);
  const port = (container.ports as Json[]).find((p) => p.name === 'http')?.containerPort;
  const problems: string[] = [];
  for (const [probe, path] of [['readinessProbe', '/ready'], ['livenessProbe', '/health']] as const) {
    const get = container[probe]?.httpGet;
    const probedPort = typeof get?.port === 'string' ? (get.port === 'http' ? port : undefined) : get?.port;
    if (get?.path !== path || probedPort !== 3000) problems.push(`${probe} is not GET ${path} on port 3000`);
  }
  return problems;
}

export function securityProblems(objects: KubeObject[]): string[] {
  const pod = guardDeployment(objects).spec.template.spec;
  const container = guardContainer(objects);
  const context = { ...pod.securityContext, ...container.securityContext };
  const problems: string[] = [];
  if (context.runAsNonRoot !== true || !(context.runAsUser > 0)) problems.push('not run as a non-root uid');
  if (context.readOnlyRootFilesystem !== true) problems.push('the root filesystem is writable');
  if (context.allowPrivilegeEscalation !== false) problems.push('privilege escalation is allowed');
  const capabilities = context.capabilities ?? {};
  if (!capabilities.drop?.includes('ALL') || capabilities.add?.length) problems.push('capabilities are not all dropped');
  const tmp = (container.volumeMounts as Json[] | undefined)?.find((mount) => mount.mountPath === '/tmp');
  const volume = (pod.volumes as Json[] | undefined)?.find((v) => v.name === tmp?.name);
  if (!volume?.emptyDir || tmp?.readOnly) problems.push('/tmp is not a writable emptyDir');
  return problems;
}

/** The secrets come from a Secret, and no container of any object carries a secret-looking value inline. */
export function secretProblems(objects: KubeObject[]): string[] {
  const problems: string[] = [];
  for (const name of ['TOKEN_SECRET', 'ACTION_SECRET', 'GUARD_DATABASE_URL']) {
    const variable = (guardContainer(objects).env as Json[]).find((v) => v.name === name);
    if (!variable?.valueFrom?.secretKeyRef?.name || variable.valueFrom.secretKeyRef.key !== name) problems.push(`${name} is not read from a Secret`);
  }
  for (const deployment of ofKind(objects, 'Deployment')) {
    for (const container of deployment.spec.template.spec.containers as Json[]) {
      for (const variable of (container.env ?? []) as Json[]) {
        if (/SECRET|PASSWORD|DATABASE_URL|TOKEN/.test(variable.name) && variable.value !== undefined) {
          problems.push(`${describe(deployment as KubeObject)} sets ${variable.name} inline`);
        }
      }
    }
  }
  return problems;
}

export function resourceProblems(objects: KubeObject[]): string[] {
  const { requests = {}, limits = {} } = guardContainer(objects).resources ?? {};
  const config = guardConfig(objects);
  const needed = RSS_UNDER_LOAD_MB * 1e6 + PEAK_GROWTH_PER_BODY_BYTE * config.proxyMaxBodyBytes;
  const problems: string[] = [];
  if (!requests.cpu) problems.push('no CPU request');
  if (!(bytes(requests.memory) >= RSS_UNDER_LOAD_MB * 1e6)) problems.push(`the memory request ${requests.memory} is under the RSS under load`);
  if (!(bytes(limits.memory) >= needed)) problems.push(`the memory limit ${limits.memory} is under ${Math.round(needed / 1e6)} MB`);
  return problems;
}

/** A Kubernetes quantity (`768Mi`, `200M`, `1Gi`) in bytes; NaN when it is not one. */
export function bytes(quantity: unknown): number {
  const match = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(String(quantity));
  if (!match) return Number.NaN;
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

export function imageProblems(objects: KubeObject[], version: string): string[] {
  const image = guardContainer(objects).image as string;
  return image === `${GUARD}:${version}` ? [] : [`the guard's image is ${image}, not ${GUARD}:${version} (package.json's version)`];
}

/** SIGTERM comes after the preStop pause; the guard then takes up to SHUTDOWN_TIMEOUT_MS; the grace period covers both. */
export function shutdownProblems(objects: KubeObject[]): string[] {
  const pod = guardDeployment(objects).spec.template.spec;
  const pause = guardContainer(objects).lifecycle?.preStop?.sleep?.seconds ?? 0;
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  const needed = pause + guardConfig(objects).shutdownTimeoutMs / 1000;
  return grace > needed ? [] : [`terminationGracePeriodSeconds ${grace} is not longer than ${needed} s (preStop + SHUTDOWN_TIMEOUT_MS)`];
}

export function budgetProblems(objects: KubeObject[]): string[] {
  const budgets = ofKind(objects, 'PodDisruptionBudget').filter((pdb) => selects(pdb.spec.selector?.matchLabels, GUARD_LABELS));
  const replicas = guardDeployment(objects).spec.replicas;
  if (budgets.length !== 1) return [`${budgets.length} PodDisruptionBudgets select the guard's pods, not 1`];
  const { minAvailable } = budgets[0]!.spec;
  return minAvailable >= 1 && minAvailable < replicas ? [] : [`minAvailable ${minAvailable} with ${replicas} replicas`];
}

/**
 * One NetworkPolicy selects Hasura's pods, for ingress, and each of its rules admits, on Hasura's port only, either
 * the guard's pods or the namespaces carrying the documented label: no rule without `from`, no IP block, no other pod.
 */
export function networkPolicyProblems(objects: KubeObject[]): string[] {
  const policies = ofKind(objects, 'NetworkPolicy').filter((policy) => selects(policy.spec.podSelector?.matchLabels, HASURA_LABELS));
  if (policies.length !== 1) return [`${policies.length} NetworkPolicies select Hasura's pods, not 1`];
  const { spec } = policies[0]!;
  const problems: string[] = [];
  if (!spec.policyTypes?.includes('Ingress')) problems.push('the policy does not govern ingress');
  const admitted = (spec.ingress ?? []) as Json[];
  for (const [i, rule] of admitted.entries()) {
    if (!rule.from?.length) problems.push(`rule ${i} admits every source`);
    for (const peer of (rule.from ?? []) as Json[]) {
      const guardPods = peer.podSelector && !peer.namespaceSelector && !peer.ipBlock && sameLabels(peer.podSelector.matchLabels, GUARD_LABELS) && !peer.podSelector.matchExpressions;
      const clientNamespaces = peer.namespaceSelector && !peer.podSelector && !peer.ipBlock && !peer.namespaceSelector.matchExpressions && sameLabels(peer.namespaceSelector.matchLabels, { [GRAPHQL_CLIENT_LABEL]: 'true' });
      if (!guardPods && !clientNamespaces) problems.push(`rule ${i} admits ${JSON.stringify(peer)}`);
    }
    const ports = (rule.ports ?? []) as Json[];
    if (!ports.length || ports.some((p) => p.port !== HASURA_PORT || p.endPort !== undefined)) problems.push(`rule ${i} admits ports other than ${HASURA_PORT}`);
  }
  if (!admitted.some((rule) => rule.from?.some((peer: Json) => peer.podSelector))) problems.push("the guard's pods are not admitted");
  return problems;
}

/** Where HASURA_URL points: the Service name and port every route to Hasura names. */
export function hasuraService(objects: KubeObject[]): { name: string; port: number } {
  const url = new URL(guardConfig(objects).hasuraUrl!);
  return { name: url.hostname, port: Number(url.port || 80) };
}

/** A route: a host, a path match, and the backend Service it sends to. */
interface Route {
  via: string;
  host: string;
  type: string;
  path: string;
  service: string;
  rewrites: boolean;
}

export function routes(objects: KubeObject[]): Route[] {
  return [...ingressRoutes(objects), ...httpRoutes(objects)];
}

function ingressRoutes(objects: KubeObject[]): Route[] {
  return ofKind(objects, 'Ingress').flatMap((ingress) => {
    const via = describe(ingress as KubeObject);
    const fallback = ingress.spec.defaultBackend ? [{ via, host: '*', type: 'Prefix', path: '/', service: ingress.spec.defaultBackend.service?.name, rewrites: false }] : [];
    const rewrites = Object.keys(ingress.metadata.annotations ?? {}).some((key) => /rewrite|snippet|regex/.test(key));
    return [
      ...fallback,
      ...(ingress.spec.rules as Json[]).flatMap((rule) =>
        ((rule.http?.paths ?? []) as Json[]).map((p) => ({ via, host: rule.host ?? '*', type: p.pathType, path: p.path, service: p.backend.service?.name, rewrites })),
      ),
    ];
  });
}

function httpRoutes(objects: KubeObject[]): Route[] {
  return ofKind(objects, 'HTTPRoute').flatMap((route) => {
    const via = describe(route as KubeObject);
    const hosts: string[] = route.spec.hostnames ?? ['*'];
    return (route.spec.rules as Json[]).flatMap((rule) => {
      // A rule without matches matches every path (Gateway API: PathPrefix /).
      const matches: Json[] = rule.matches?.length ? rule.matches : [{ path: { type: 'PathPrefix', value: '/' } }];
      const services: string[] = (rule.backendRefs ?? []).map((ref: Json) => ref.name);
      const rewrites = Boolean(rule.filters?.length);
      return hosts.flatMap((host) =>
        matches.flatMap((match) => services.map((service) => ({ via, host, type: match.path?.type ?? 'PathPrefix', path: match.path?.value ?? '/', service, rewrites }))),
      );
    });
  });
}

/**
 * The admin host goes to the guard whole (`/`, prefix), and a route to Hasura is an Exact application path, with
 * no rewriting, on a host that is not the admin host. Any other backend is refused.
 */
export function routingProblems(objects: KubeObject[], adminHost: string): string[] {
  const hasura = hasuraService(objects).name;
  const all = routes(objects);
  const problems: string[] = [];
  const admin = all.filter((route) => route.host === adminHost || route.host === '*');
  if (!admin.some((route) => route.path === '/' && /^(Prefix|PathPrefix)$/.test(route.type) && route.service === GUARD)) {
    problems.push(`the admin host ${adminHost} does not send / to the guard`);
  }
  for (const route of all) {
    const where = `${route.via}: ${route.host} ${route.type} ${route.path} → ${route.service}`;
    if (route.service === GUARD) {
      if (route.host === adminHost && route.rewrites) problems.push(`${where} rewrites what reaches the guard`);
      continue;
    }
    if (route.service !== hasura) problems.push(`${where}: an unknown backend`);
    else if (route.host === adminHost || route.host === '*') problems.push(`${where}: Hasura on the admin host`);
    else if (route.type !== 'Exact' || !APPLICATION_PATHS.includes(route.path) || route.rewrites) problems.push(`${where}: not an application path`);
  }
  return problems;
}

/** The admin Ingress lets a body of PROXY_MAX_BODY_BYTES through the controllers that cap bodies by default. */
export function bodySizeProblems(objects: KubeObject[], adminHost: string): string[] {
  const needed = guardConfig(objects).proxyMaxBodyBytes;
  const problems: string[] = [];
  for (const ingress of ofKind(objects, 'Ingress').filter((i) => (i.spec.rules as Json[]).some((rule) => rule.host === adminHost))) {
    for (const annotation of ['nginx.ingress.kubernetes.io/proxy-body-size', 'nginx.org/client-max-body-size']) {
      const value = ingress.metadata.annotations?.[annotation];
      if (!(nginxSize(value) >= needed)) problems.push(`${describe(ingress as KubeObject)}: ${annotation} is ${value}, under ${needed} bytes`);
    }
  }
  return problems;
}

/** nginx's size syntax: `100m` is 100 × 1024 × 1024 bytes. */
function nginxSize(value: unknown): number {
  const match = /^(\d+)([kKmMgG]?)$/.exec(String(value));
  if (!match) return Number.NaN;
  return Number(match[1]) * ({ k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[match[2]!.toLowerCase()] ?? 1);
}

export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Boolean(selector) && Object.keys(selector!).length > 0 && Object.entries(selector!).every(([key, value]) => labels[key] === value);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  return Boolean(a) && Object.keys(a!).length === Object.keys(b).length && selects(a, b);
}
