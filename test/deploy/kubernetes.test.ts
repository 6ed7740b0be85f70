// deploy/kubernetes (docs/kubernetes.md): every manifest checked against the Kubernetes API schemas offline, every
// kustomization rendered by `kubectl kustomize`, and each promise of issue 22 asserted on the base's files and on
// every rendering. The checks themselves are shown refusing what they are there to refuse.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectlVersion, kustomizations, manifestFiles, ownResources, renderAll, schemaProblems, type KubeObject } from './manifests.js';
import {
  APPLICATION_PATHS,
  GRAPHQL_CLIENT_LABEL,
  HASURA_LABELS,
  HASURA_PORT,
  bodySizeProblems,
  budgetProblems,
  guardConfig,
  guardDeployment,
  hasuraService,
  imageProblems,
  networkPolicyProblems,
  ofKind,
  probeProblems,
  replicaProblems,
  resourceProblems,
  routingProblems,
  secretProblems,
  securityProblems,
  selects,
  shutdownProblems,
} from './promises.js';

const ADMIN_HOST = 'hasura-admin.example.com';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const COMPOSE = readFileSync(new URL('../../hasura/docker-compose.yaml', import.meta.url), 'utf8');

/** Every promise, by what a platform engineer reviewing the manifests would call it. */
const PROMISES: Record<string, (objects: KubeObject[]) => string[]> = {
  'at least two replicas': replicaProblems,
  'readiness on /ready, liveness on /health': probeProblems,
  'non-root, read-only root with an emptyDir /tmp, no privilege escalation, no capabilities': securityProblems,
  'TOKEN_SECRET, ACTION_SECRET and GUARD_DATABASE_URL from a Secret, no secret inline': secretProblems,
  'CPU and memory requests, a memory limit sized from the bench figures': resourceProblems,
  "the image pinned to package.json's version": (objects) => imageProblems(objects, VERSION),
  'a termination grace period longer than the preStop pause plus SHUTDOWN_TIMEOUT_MS': shutdownProblems,
  "a PodDisruptionBudget that keeps one guard and lets a drain proceed": budgetProblems,
  "a NetworkPolicy admitting only the guard's pods and labelled namespaces to Hasura's port": networkPolicyProblems,
  'the admin host wholly to the guard, Hasura only Exact application paths': (objects) => routingProblems(objects, ADMIN_HOST),
  "body size annotations at least PROXY_MAX_BODY_BYTES on the admin host's Ingress": (objects) => bodySizeProblems(objects, ADMIN_HOST),
};

/** The trial routes nothing (it is opened with kubectl port-forward): every promise but the routing ones. */
function promisesOf(dir: string): typeof PROMISES {
  if (dir !== 'overlays/trial') return PROMISES;
  return Object.fromEntries(Object.entries(PROMISES).filter(([promise]) => !ROUTING_PROMISES.includes(promise)));
}
const ROUTING_PROMISES = ['the admin host wholly to the guard, Hasura only Exact application paths', "body size annotations at least PROXY_MAX_BODY_BYTES on the admin host's Ingress"];

describe('deploy/kubernetes: every manifest file', () => {
  const files = manifestFiles();

  it('is read, and holds the objects the base and overlays are made of', () => {
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['base/deployment.yaml', 'overlays/gateway-api/http-routes.yaml', 'overlays/trial/hasura.yaml']));
    const objects = files.flatMap((f) => f.objects);
    console.log(`checked ${objects.length} objects in ${files.length} manifest files against the kubernetes-models schemas, unknown fields refused`);
  });

  it.each(files.map((f) => [f.file, f.objects] as const))('%s passes the Kubernetes API schema, with no unknown field', (_file, objects) => {
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  it('holds no Secret: values come from the operator, or in the trial from files make-secrets.sh writes and git ignores', () => {
    expect(files.flatMap((f) => f.objects).filter((object) => object.kind === 'Secret')).toEqual([]);
    expect(readFileSync(new URL('../../deploy/kubernetes/overlays/trial/.gitignore', import.meta.url), 'utf8')).toMatch(/^\*\.env$/m);
  });
});

describe('the base, from its files', () => {
  const base = ownResources('base');

  it.each(Object.entries(PROMISES))('keeps its promise: %s', (_promise, problems) => {
    expect(problems(base)).toEqual([]);
  });

  it('starts the guard enforcing, in production, in front of the Service `hasura`', () => {
    const config = guardConfig(base);
    expect(config.hasuraUrl).toBe('http://hasura:80');
    expect(config.guardEnvironment).toBe('production');
    expect(config.databaseUrl).toBeDefined();
    expect(guardDeployment(base).spec.template.spec.containers[0].env).toContainEqual({ name: 'NODE_ENV', value: 'production' });
    expect(hasuraService(base)).toEqual({ name: 'hasura', port: 80 });
  });
});

/** A copy of the base's objects, changed by `edit`: how a promise's check is shown refusing a broken manifest. */
function broken(edit: (objects: any[]) => void): KubeObject[] {
  const objects = structuredClone(ownResources('base'));
  edit(objects);
  return objects;
}
const guardOf = (objects: any[]) => objects.find((o) => o.kind === 'Deployment');
const containerOf = (objects: any[]) => guardOf(objects).spec.template.spec.containers[0];
const ingress = (objects: any[], name: string) => objects.find((o) => o.kind === 'Ingress' && o.metadata.name === name);

describe('the checks refuse what they are there to refuse', () => {
  it('a misspelt field, a value outside an enum, a missing required field, a kind nobody can check', () => {
    const [deployment] = broken((objects) => (containerOf(objects).livenesProbe = { httpGet: { path: '/health', port: 'http' } })).filter((o) => o.kind === 'Deployment');
    expect(schemaProblems(deployment!)).toEqual(['Deployment/hasura-metadata-guard: unknown field /spec/template/spec/containers/0/livenesProbe']);
    const [regex] = broken((objects) => (ingress(objects, 'hasura-graphql').spec.rules[0].http.paths[0].pathType = 'Regex')).filter((o) => o.metadata.name === 'hasura-graphql');
    expect(schemaProblems(regex!).join()).toMatch(/pathType must be equal to one of the allowed values/);
    const [nameless] = broken((objects) => delete containerOf(objects).name).filter((o) => o.kind === 'Deployment');
    expect(schemaProblems(nameless!).join()).toMatch(/containers\/0 must have required property name/);
    expect(schemaProblems({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'x' } })).toEqual(['Certificate/x: kind cert-manager.io/v1/Certificate cannot be checked here']);
  });

  it('one replica; a readiness probe on /health', () => {
    expect(replicaProblems(broken((objects) => delete guardOf(objects).spec.replicas))).toEqual(['the guard runs 1 replica(s), not at least 2']);
    expect(probeProblems(broken((objects) => (containerOf(objects).readinessProbe.httpGet.path = '/health')))).toEqual(['readinessProbe is not GET /ready on port 3000']);
  });

  it('a writable root, an added capability, no /tmp, a secret inline', () => {
    expect(securityProblems(broken((objects) => (containerOf(objects).securityContext.readOnlyRootFilesystem = false)))).toEqual(['the root filesystem is writable']);
    expect(securityProblems(broken((objects) => (containerOf(objects).securityContext.capabilities.add = ['NET_ADMIN'])))).toEqual(['capabilities are not all dropped']);
    expect(securityProblems(broken((objects) => (containerOf(objects).volumeMounts = [])))).toEqual(['/tmp is not a writable emptyDir']);
    const inline = broken((objects) => (containerOf(objects).env.find((v: any) => v.name === 'ACTION_SECRET').valueFrom = undefined));
    containerOf(inline).env.find((v: any) => v.name === 'ACTION_SECRET').value = 'an-inline-action-secret';
    expect(secretProblems(inline)).toEqual(['ACTION_SECRET is not read from a Secret', 'Deployment/hasura-metadata-guard sets ACTION_SECRET inline']);
  });

  it('a memory limit that a 100 MB replace_metadata would exceed; a body cap raised past the limit; a short grace period', () => {
    expect(resourceProblems(broken((objects) => (containerOf(objects).resources.limits.memory = '512Mi')))).toEqual(['the memory limit 512Mi is under 572 MB']);
    const bigger = broken((objects) => containerOf(objects).env.push({ name: 'PROXY_MAX_BODY_BYTES', value: String(200 * 2 ** 20) }));
    expect(resourceProblems(bigger)).toEqual(['the memory limit 768Mi is under 992 MB']);
    expect(bodySizeProblems(bigger, ADMIN_HOST)).toHaveLength(2);
    expect(shutdownProblems(broken((objects) => (guardOf(objects).spec.template.spec.terminationGracePeriodSeconds = 15)))).toEqual([
      'terminationGracePeriodSeconds 15 is not longer than 15 s (preStop + SHUTDOWN_TIMEOUT_MS)',
    ]);
  });

  it('a budget that blocks every drain; a NetworkPolicy open to all, to an IP block, or on another port', () => {
    expect(budgetProblems(broken((objects) => (objects.find((o) => o.kind === 'PodDisruptionBudget').spec.minAvailable = 2)))).toEqual(['minAvailable 2 with 2 replicas']);
    const policy = (objects: any[]) => objects.find((o) => o.kind === 'NetworkPolicy').spec;
    expect(networkPolicyProblems(broken((objects) => policy(objects).ingress.push({})))).toEqual(['rule 2 admits every source', 'rule 2 admits ports other than 8080']);
    expect(networkPolicyProblems(broken((objects) => policy(objects).ingress[1].from.push({ ipBlock: { cidr: '10.0.0.0/8' } })))).toEqual(['rule 1 admits {"ipBlock":{"cidr":"10.0.0.0/8"}}']);
    expect(networkPolicyProblems(broken((objects) => (policy(objects).ingress[0].ports[0].port = 9999)))).toEqual(['rule 0 admits ports other than 8080']);
  });

  it('the admin host split by path, an admin path on the application host, a prefix to Hasura', () => {
    const split = broken((objects) => {
      const paths = ingress(objects, 'hasura-admin').spec.rules[0].http.paths;
      paths[0].path = '/v1/metadata';
      paths.push({ path: '/', pathType: 'Prefix', backend: { service: { name: 'hasura', port: { number: 80 } } } });
    });
    expect(routingProblems(split, ADMIN_HOST)).toEqual([
      `the admin host ${ADMIN_HOST} does not send / to the guard`,
      `Ingress/hasura-admin: ${ADMIN_HOST} Prefix / → hasura: Hasura on the admin host`,
    ]);
    const metadata = broken((objects) => (ingress(objects, 'hasura-graphql').spec.rules[0].http.paths[2].path = '/v1/metadata'));
    expect(routingProblems(metadata, ADMIN_HOST)).toEqual(['Ingress/hasura-graphql: hasura.example.com Exact /v1/metadata → hasura: not an application path']);
    const prefix = broken((objects) => (ingress(objects, 'hasura-graphql').spec.rules[0].http.paths[0].pathType = 'Prefix'));
    expect(routingProblems(prefix, ADMIN_HOST)).toEqual(['Ingress/hasura-graphql: hasura.example.com Prefix /v1/graphql → hasura: not an application path']);
    const anyHost = broken((objects) => (ingress(objects, 'hasura-graphql').spec.defaultBackend = { service: { name: 'hasura', port: { number: 80 } } }));
    expect(routingProblems(anyHost, ADMIN_HOST)).toEqual(['Ingress/hasura-graphql: * Prefix / → hasura: Hasura on the admin host']);
  });

  it('an HTTPRoute rule to Hasura without matches (every path)', () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'everything' },
      spec: { hostnames: ['hasura.example.com'], rules: [{ backendRefs: [{ name: 'hasura', port: 80 }] }] },
    };
    expect(routingProblems([...ownResources('base'), route], ADMIN_HOST)).toEqual(['HTTPRoute/everything: hasura.example.com PathPrefix / → hasura: not an application path']);
  });
});

const kubectl = kubectlVersion();

/**
 * Every kustomization is rendered and checked with kubectl, which these machines and CI have. Without it the renderings
 * cannot be vouched for, so the test fails and says what to install (never a skip).
 */
if (kubectl) describeRenderings(kubectl);
else {
  describe('every kustomization, rendered by kubectl kustomize', () => {
    it('needs kubectl on the PATH, to render deploy/kubernetes', () => {
      expect.fail('kubectl is not on the PATH: install it (kubectl kustomize renders offline) to check deploy/kubernetes, see docs/kubernetes.md');
    });
  });
}

function describeRenderings(kubectl: string) {
  describe(`every kustomization, rendered by kubectl kustomize (${kubectl})`, () => {
    let rendered = new Map<string, KubeObject[]>();
    beforeAll(() => {
      rendered = renderAll();
      console.log(`kubectl ${kubectl} kustomize rendered ${[...rendered].map(([dir, objects]) => `${dir} (${objects.length} objects)`).join(', ')}`);
    });

    it('renders the base and both overlays', () => {
      expect([...rendered.keys()]).toEqual(['base', 'overlays/gateway-api', 'overlays/trial']);
    });

    it.each(kustomizations())('%s renders objects that pass the Kubernetes API schema, with no unknown field', (dir) => {
      expect(rendered.get(dir)!.flatMap(schemaProblems)).toEqual([]);
    });

    for (const dir of kustomizations()) {
      it.each(Object.entries(promisesOf(dir)))(`${dir} keeps its promise: %s`, (_promise, problems) => {
        expect(problems(rendered.get(dir)!)).toEqual([]);
      });
    }

    it('the Gateway API overlay routes with HTTPRoutes only: no Ingress is left', () => {
      const objects = rendered.get('overlays/gateway-api')!;
      expect(ofKind(objects, 'Ingress')).toEqual([]);
      expect(ofKind(objects, 'HTTPRoute').map((route) => route.metadata.name).sort()).toEqual(['hasura-admin', 'hasura-graphql']);
      const appPaths = ofKind(objects, 'HTTPRoute').flatMap((route) => route.spec.rules.flatMap((rule: any) => rule.matches.map((m: any) => m.path.value)));
      expect(appPaths.sort()).toEqual(['/', ...APPLICATION_PATHS].sort());
    });

    it("the trial runs the compose stack's Hasura and PostgreSQL, and the NetworkPolicy fences exactly its Hasura", () => {
      const objects = rendered.get('overlays/trial')!;
      const hasura = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'hasura')!;
      const postgres = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'postgres')!;
      const composeHasura = /image: hasura\/graphql-engine:(v[\d.]+)\.cli-migrations-v3/.exec(COMPOSE)![1];
      expect(hasura.spec.template.spec.containers[0].image).toBe(`hasura/graphql-engine:${composeHasura}`);
      expect(postgres.spec.template.spec.containers[0].image).toBe(/image: (postgres:[\d.]+)/.exec(COMPOSE)![1]);
      expect(selects(HASURA_LABELS, hasura.spec.template.metadata.labels)).toBe(true);
      expect(hasura.spec.template.spec.containers[0].ports).toContainEqual({ name: 'http', containerPort: HASURA_PORT, protocol: 'TCP' });
      const service = ofKind(objects, 'Service').find((s) => s.metadata.name === hasuraService(objects).name)!;
      expect(service.spec.ports[0].port).toBe(hasuraService(objects).port);
      expect(selects(service.spec.selector, hasura.spec.template.metadata.labels)).toBe(true);
      expect(ofKind(objects, 'Namespace').map((n) => n.metadata.name)).toEqual(['hasura-trial']);
      expect(ofKind(objects, 'Ingress')).toEqual([]);
      expect(ofKind(objects, 'HTTPRoute')).toEqual([]);
    });

    it('the trial reads every secret from a generated Secret that holds the key, and no base Secret is made up', () => {
      const objects = rendered.get('overlays/trial')!;
      const secrets = new Map(ofKind(objects, 'Secret').map((secret) => [secret.metadata.name, Object.keys(secret.data ?? {})]));
      const references = ofKind(objects, 'Deployment').flatMap((d) =>
        d.spec.template.spec.containers.flatMap((c: any) => (c.env ?? []).map((v: any) => v.valueFrom?.secretKeyRef).filter(Boolean)),
      );
      expect(references.length).toBe(7);
      for (const { name, key } of references) expect(secrets.get(name), `${name}/${key}`).toContain(key);
      expect(ofKind(rendered.get('base')!, 'Secret')).toEqual([]);
      expect(ofKind(rendered.get('overlays/gateway-api')!, 'Secret')).toEqual([]);
    });
  });

}

it('documents the namespace label that admits applications to Hasura', () => {
  expect(readFileSync(new URL('../../docs/kubernetes.md', import.meta.url), 'utf8')).toContain(`${GRAPHQL_CLIENT_LABEL}=true`);
});
