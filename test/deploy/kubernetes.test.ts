/**
 * The plain Kubernetes manifests (kubernetes/) against the Kubernetes
 * schemas, the ConfigMap's logship configuration against ours, and the
 * DaemonSet's memory limit against the agent's bound.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { repoPath } from '../support/repo-path.ts';
import { agentConfig, assertAgentPod, assertMemoryRoom, only, parseManifests, podEnv, validateKubernetes } from './agent-manifests.ts';

const docs = ['kubernetes/daemonset.yaml', 'kubernetes/configmap.yaml'].flatMap((file) => parseManifests(readFileSync(repoPath(file), 'utf8')));
const daemonSet = only(docs, 'DaemonSet');
const configMap = only(docs, 'ConfigMap');

test('Kubernetes manifests are valid against the Kubernetes schemas, in a namespace whose Pod Security level allows hostPath', () => {
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'DaemonSet', 'Namespace']);
  validateKubernetes(docs);
  const namespace = only(docs, 'Namespace');
  assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  for (const doc of [daemonSet, configMap]) assert.equal(doc.metadata.namespace, namespace.metadata.name);
});

test("the ConfigMap's logship.yaml is a valid logship configuration, with the DaemonSet's environment", () => {
  const config = agentConfig(configMap, podEnv(daemonSet));
  assert.equal(config.inputs[0]!.container, 'cri');
  assert.equal(config.inputs[0]!.format, 'upstreaminfo');
  assert.deepEqual(config.kafka.brokers, ['kafka-0.kafka.kafka.svc:9092']);
});

test('the DaemonSet: probes on the agent endpoints, hardened, its mounts where the configuration reads and writes', () => {
  assertAgentPod(daemonSet, configMap, agentConfig(configMap, podEnv(daemonSet)));
});

test("the DaemonSet's memory limit leaves room above the agent's memory bound for the ConfigMap's settings", () => {
  assertMemoryRoom(daemonSet, agentConfig(configMap, podEnv(daemonSet)));
});
