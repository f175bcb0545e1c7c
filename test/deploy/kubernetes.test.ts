/**
 * The Kubernetes manifests against the Kubernetes schemas, the ConfigMap's
 * logship configuration against ours, and the DaemonSet's memory limit
 * against the agent's bound.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { buildConfig } from '../../src/config/load.ts';
import { interpolateTree } from '../../src/config/interpolate.ts';
import type { Config } from '../../src/config/types.ts';
import { memoryBound, memorySettings } from '../../src/observe/memory-bound.ts';
import { repoPath } from '../support/repo-path.ts';

test('Kubernetes manifests are valid against the Kubernetes schemas; probes hit the agent endpoints', () => {
  const docs = ['kubernetes/daemonset.yaml', 'kubernetes/configmap.yaml'].flatMap((file) => parseAllDocuments(readFileSync(repoPath(file), 'utf8')).map((d) => d.toJS() as { kind: string }));
  const kinds = { Namespace, ConfigMap, DaemonSet } as Record<string, new (doc: object) => { validate(): void }>;
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'DaemonSet', 'Namespace']);
  for (const doc of docs) new kinds[doc.kind]!(doc).validate();
  const ds = new DaemonSet(docs.find((d) => d.kind === 'DaemonSet') as object);
  const container = ds.spec!.template.spec!.containers[0]!;
  assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
  assert.ok(ds.spec!.template.spec!.volumes!.some((v) => v.hostPath?.path === '/var/log'));
  assert.ok(container.volumeMounts!.some((m) => m.mountPath === '/var/log' && m.readOnly));
  assert.equal(container.env!.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
});

function configMapConfig(): Config {
  const cm = parseAllDocuments(readFileSync(repoPath('kubernetes/configmap.yaml'), 'utf8'))[0]!.toJS() as { data: Record<string, string> };
  const raw = interpolateTree(parseAllDocuments(cm.data['logship.yaml']!)[0]!.toJS(), { KAFKA_BROKERS: 'kafka:9092' });
  return buildConfig(raw);
}

test("the ConfigMap's logship.yaml is a valid logship configuration", () => {
  const config = configMapConfig();
  assert.equal(config.inputs[0]!.container, 'cri');
  assert.equal(config.metrics.listen, '0.0.0.0:9598');
});

test("the DaemonSet's memory limit leaves room above the agent's memory bound for the ConfigMap's settings", () => {
  const config = configMapConfig();
  const ds = parseAllDocuments(readFileSync(repoPath('kubernetes/daemonset.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string }).find((d) => d.kind === 'DaemonSet');
  const limit = new DaemonSet(ds as object).spec!.template.spec!.containers[0]!.resources!.limits!.memory as string;
  const limitBytes = Number(/^(\d+)Mi$/.exec(limit)?.[1]) * 2 ** 20;
  // A node runs a few ingress controllers' log files; 64 followed files is generous.
  const bound = memoryBound(memorySettings(config), 64);
  assert.ok(limitBytes >= bound * 1.2, `limit ${limit} is not 20% above the bound of ${Math.ceil(bound / 2 ** 20)} MiB`);
});
