/**
 * What the plain manifests (kubernetes/) and the Helm chart's rendered
 * objects (charts/logship) are both checked for: the Kubernetes schemas, the
 * agent's pod (hardening, probes, mounts), its logship configuration, and a
 * memory limit with room above the agent's bound.
 */
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { buildConfig } from '../../src/config/load.ts';
import { interpolateTree } from '../../src/config/interpolate.ts';
import type { Config } from '../../src/config/types.ts';
import { memoryBound, memorySettings } from '../../src/observe/memory-bound.ts';
import { inputRouting } from '../../src/pipeline.ts';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

const models: Record<string, new (doc: object) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'apps/v1/DaemonSet': DaemonSet,
};

/** The objects of a multi-document YAML stream (empty documents, as Helm leaves between templates, skipped). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], 'YAML errors');
      return doc.toJS() as Manifest | null;
    })
    .filter((doc): doc is Manifest => doc !== null);
}

/** Validates each object against its Kubernetes schema (kubernetes-models); a kind without one is an error, except those the caller checks itself. */
export function validateKubernetes(docs: readonly Manifest[], checkedElsewhere: readonly string[] = []): void {
  for (const doc of docs) {
    const key = `${doc.apiVersion}/${doc.kind}`;
    if (checkedElsewhere.includes(key)) continue;
    const Model = models[key];
    assert.ok(Model, `${key} ${doc.metadata.name}: no Kubernetes schema to check it against`);
    try {
      new Model(doc).validate();
    } catch (err) {
      assert.fail(`${key} ${doc.metadata.name}: ${(err as Error).message}`);
    }
  }
}

export function only(docs: readonly Manifest[], kind: string): Manifest {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind} among ${docs.map((d) => d.kind).join(', ')}`);
  return found[0]!;
}

export function agentContainer(ds: Manifest): IContainer {
  const containers = new DaemonSet(ds).spec!.template.spec!.containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
}

/**
 * The environment the pod gives the agent: literal values, and for each one
 * from a Secret or the downward API, what `valueFrom` says it holds, else a stand-in.
 */
export function podEnv(ds: Manifest, valueFrom: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = agentContainer(ds).env ?? [];
  for (const name of Object.keys(valueFrom)) assert.ok(env.some((e) => e.name === name && e.valueFrom), `the pod sets ${name} from valueFrom`);
  return Object.fromEntries(env.map((e) => [e.name, e.value ?? valueFrom[e.name] ?? `<${e.name} from valueFrom>`]));
}

/**
 * The ConfigMap's logship.yaml as the agent in that pod reads it: ${VAR}
 * from the pod's environment, validated (defaults filled), and each input's
 * log format compiled with its topic and key templates, as `logship check` does.
 */
export function agentConfig(configMap: Manifest, env: NodeJS.ProcessEnv): Config {
  const text = new ConfigMap(configMap).data?.['logship.yaml'];
  assert.ok(text, `ConfigMap ${configMap.metadata.name} has no logship.yaml`);
  const config = buildConfig(interpolateTree(parseAllDocuments(text)[0]!.toJS(), env), {}, `ConfigMap ${configMap.metadata.name}`);
  config.inputs.forEach((input, index) => inputRouting(input, index, config));
  return config;
}

/** What every way of installing the agent must hold: the config's paths readable in the pod, probes, hardening. */
export function assertAgentPod(ds: Manifest, configMap: Manifest, config: Config): void {
  const spec = new DaemonSet(ds).spec!.template.spec!;
  const container = agentContainer(ds);
  const mounts = container.volumeMounts ?? [];
  const volume = (name: string) => spec.volumes?.find((v) => v.name === name);

  assert.ok(mounts.some((m) => m.mountPath === '/var/log' && m.readOnly && volume(m.name)?.hostPath?.path === '/var/log'), "the node's /var/log, read-only");
  const state = mounts.find((m) => m.mountPath === config.state_dir);
  assert.ok(state && volume(state.name)?.hostPath?.type === 'DirectoryOrCreate', `state_dir ${config.state_dir} on a hostPath`);
  const configMount = mounts.find((m) => m.mountPath === '/etc/logship');
  assert.equal(volume(configMount!.name)?.configMap?.name, configMap.metadata.name);
  assert.deepEqual(container.args, ['run', '--config', '/etc/logship/logship.yaml']);
  assert.equal(container.env!.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');

  // Probes on the agent's endpoints, on the port metrics.listen names.
  assert.equal(config.metrics.enabled, true);
  const port = container.ports!.find((p) => p.name === 'metrics')!.containerPort;
  assert.equal(config.metrics.listen, `0.0.0.0:${port}`);
  assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'metrics' });
  assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'metrics' });

  // Hardening: root only to read root-owned logs, nothing else.
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.priorityClassName, 'system-node-critical');
  assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.deepEqual(container.securityContext, { runAsUser: 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  // The kubelet waits for the agent's drain before it kills it.
  assert.ok(spec.terminationGracePeriodSeconds! * 1000 >= config.shutdown_timeout_ms + 10_000, `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} for shutdown_timeout_ms ${config.shutdown_timeout_ms}`);

  // Docker's json-file logs live outside /var/log: the links to them must resolve in the pod.
  if (config.inputs.some((input) => input.container === 'docker' || input.container === 'auto')) {
    const docker = mounts.find((m) => m.mountPath === '/var/lib/docker/containers');
    assert.ok(docker?.readOnly && volume(docker.name)?.hostPath?.path === '/var/lib/docker/containers', 'docker inputs: /var/lib/docker/containers mounted read-only at the same path');
  }
}

const units: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };

/** The container's memory limit in bytes. */
export function memoryLimitBytes(ds: Manifest): number {
  const limit = String(agentContainer(ds).resources?.limits?.memory);
  const [, amount, unit] = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G|)$/.exec(limit) ?? [];
  assert.ok(amount !== undefined && unit !== undefined, `memory limit ${limit}: a quantity in bytes, Ki, Mi, Gi, k, M or G`);
  return Number(amount) * units[unit]!;
}

/** The limit leaves 20% above the agent's bound for its settings (a node runs a few ingress controllers' log files; 64 followed files is generous). */
export function assertMemoryRoom(ds: Manifest, config: Config): void {
  const bound = memoryBound(memorySettings(config), 64);
  const limit = memoryLimitBytes(ds);
  assert.ok(limit >= bound * 1.2, `limit ${agentContainer(ds).resources?.limits?.memory} is not 20% above the bound of ${Math.ceil(bound / 2 ** 20)} MiB`);
}
