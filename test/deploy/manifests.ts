// Reading deploy/kubernetes: every manifest file, each kustomization rendered with `kubectl kustomize`, and each
// object checked against the Kubernetes API schemas offline (the kubernetes-models packages), unknown fields refused.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy, Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';

export const KUBERNETES_DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

/** A Kubernetes object as read from YAML: only apiVersion, kind and metadata.name are sure to be there. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The kinds these manifests may hold, each with its model. Any other kind is refused: it could not be checked. */
const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

/**
 * What is wrong with one object, as the API server would see it: a kind nobody can check, a schema error (types,
 * enums, required fields: the model's validation), or a field the schema does not know. The models' validators
 * (compiled JSON schemas) do not refuse unknown fields, and the API server drops or refuses them, so a typo such as
 * `livenesProbe` would pass silently. The check: a validator reads every property its schema declares (and every
 * key of a map), so a key it never read is one the schema does not know.
 */
export function schemaProblems(object: KubeObject): string[] {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return [`${describe(object)}: kind ${object.apiVersion}/${object.kind} cannot be checked here`];
  const read = new Set<string>();
  try {
    model.prototype.validate.call(recordingReads(asTheApiServerReadsIt(object), '', read));
  } catch (err) {
    return [`${describe(object)}: ${(err as Error).message}`];
  }
  const unknown = fieldPaths(object, '').filter((path) => !read.has(path));
  // Under an unknown field everything is unknown: name the field only.
  return unknown
    .filter((path) => !unknown.some((outer) => path.startsWith(`${outer}/`)))
    .map((path) => `${describe(object)}: unknown field ${path}`);
}

/**
 * kustomize's secretGenerator wraps base64 at 70 characters; the API server decodes `data` with Go's encoding/base64,
 * which ignores line breaks, while the model's `byte` format does not. Validated without them.
 */
function asTheApiServerReadsIt(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) return object;
  const data = Object.fromEntries(Object.entries(object.data).map(([key, value]) => [key, typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value]));
  return { ...object, data };
}

function recordingReads(value: unknown, path: string, read: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return child;
      read.add(`${path}/${key}`);
      return recordingReads(child, `${path}/${key}`, read);
    },
  });
}

function fieldPaths(value: unknown, path: string): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [`${path}/${key}`, ...fieldPaths(child, `${path}/${key}`)]);
}

export const describe = (object: KubeObject) => `${object.kind}/${object.metadata?.name}`;

export function parseManifests(text: string, source: string): KubeObject[] {
  const documents = loadAll(text).filter((document) => document !== null && document !== undefined);
  for (const document of documents) {
    const object = document as Partial<KubeObject>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
      throw new Error(`${source}: a document without apiVersion, kind and metadata.name`);
    }
  }
  return documents as KubeObject[];
}

/** Every YAML file under deploy/kubernetes that is not a kustomization, with the objects it holds. */
export function manifestFiles(): { file: string; objects: KubeObject[] }[] {
  return yamlFiles(KUBERNETES_DIR)
    .filter((file) => !file.endsWith('/kustomization.yaml'))
    .map((file) => ({ file: relative(KUBERNETES_DIR, file), objects: parseManifests(readFileSync(file, 'utf8'), file) }));
}

/** The folders holding a kustomization.yaml, relative to deploy/kubernetes: base, overlays/…. */
export function kustomizations(): string[] {
  return yamlFiles(KUBERNETES_DIR)
    .filter((file) => file.endsWith('/kustomization.yaml'))
    .map((file) => relative(KUBERNETES_DIR, file).replace(/\/kustomization\.yaml$/, ''))
    .sort();
}

/** The objects a kustomization lists in `resources:` that are files of its own folder (a base without patches). */
export function ownResources(dir: string): KubeObject[] {
  const kustomization = loadAll(readFileSync(join(KUBERNETES_DIR, dir, 'kustomization.yaml'), 'utf8'))[0] as { resources?: string[] };
  return (kustomization.resources ?? [])
    .filter((resource) => resource.endsWith('.yaml'))
    .flatMap((resource) => parseManifests(readFileSync(join(KUBERNETES_DIR, dir, resource), 'utf8'), resource));
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yaml'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** kubectl's client version, or undefined when there is no kubectl on the PATH. */
export function kubectlVersion(): string | undefined {
  const result = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return undefined;
  return (JSON.parse(result.stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
}

/**
 * Renders every kustomization with `kubectl kustomize`, offline, from a copy of deploy/kubernetes in which the trial's
 * make-secrets.sh has run (its secretGenerator reads the files that script writes).
 */
export function renderAll(): Map<string, KubeObject[]> {
  const copy = mkdtempSync(join(tmpdir(), 'guard-kustomize-'));
  try {
    cpSync(KUBERNETES_DIR, copy, { recursive: true });
    const secrets = spawnSync(join(copy, 'overlays/trial/make-secrets.sh'), { encoding: 'utf8', timeout: 10_000 });
    if (secrets.status !== 0 || !existsSync(join(copy, 'overlays/trial/guard.env'))) {
      throw new Error(`make-secrets.sh failed: ${secrets.stderr}`);
    }
    return new Map(kustomizations().map((dir) => [dir, render(join(copy, dir), dir)]));
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

function render(path: string, dir: string): KubeObject[] {
  const result = spawnSync('kubectl', ['kustomize', path], { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr.trim()}`);
  return parseManifests(result.stdout, `kubectl kustomize ${dir}`);
}
