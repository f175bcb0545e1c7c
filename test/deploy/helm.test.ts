/**
 * The Helm chart (charts/logship) with a real helm: lint, and what it
 * renders with its default values and a few variations, checked as the
 * plain manifests are (Kubernetes schemas, the agent's configuration, its
 * pod, its memory limit); invalid values fail with the values schema's error.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { Service } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { repoPath } from '../support/repo-path.ts';
import { agentConfig, agentContainer, assertAgentPod, assertMemoryRoom, only, parseManifests, podEnv, validateKubernetes } from './agent-manifests.ts';
import type { Manifest } from './agent-manifests.ts';

const chart = repoPath('charts/logship');
const release = 'logship';
const releaseNamespace = 'logship';

/** The helm scripts/setup builds (ensure_helm in scripts/lib.sh), else one on PATH. */
function findHelm(): { path?: string; looked: string } {
  const cached = execFileSync('bash', ['-c', 'source scripts/lib.sh && printf %s "$LOGSHIP_CACHE/helm-v$HELM_VERSION/bin/helm"'], { cwd: repoPath('.'), encoding: 'utf8' });
  if (existsSync(cached)) return { path: cached, looked: cached };
  const onPath = spawnSync('bash', ['-c', 'command -v helm'], { encoding: 'utf8' }).stdout.trim();
  return { path: onPath || undefined, looked: `${cached} and PATH` };
}
const helm = findHelm();
// Without helm the tests are skipped on a developer's machine, but in CI a missing helm is a failure.
const skip = helm.path === undefined && !process.env.CI ? `no helm at ${helm.looked}: scripts/setup builds it` : false;

/** Runs helm, with values if given (YAML on stdin, as `-f -`). */
function runHelm(args: string[], values?: object): { status: number | null; stdout: string; stderr: string } {
  assert.ok(helm.path, `no helm at ${helm.looked}: scripts/setup builds it (ensure_helm)`);
  const withValues = values === undefined ? args : [...args, '-f', '-'];
  const result = spawnSync(helm.path, withValues, { input: values === undefined ? '' : stringify(values), encoding: 'utf8' });
  if (result.error) throw result.error;
  return result;
}

function render(values: object = {}, namespace = releaseNamespace): Manifest[] {
  const { status, stdout, stderr } = runHelm(['template', release, chart, '--namespace', namespace], values);
  assert.equal(status, 0, `helm template failed: ${stderr}`);
  return parseManifests(stdout);
}

/** Everything a rendering must hold, whatever the values: returns the agent's configuration (valueFrom: what the pod's Secrets hold). */
function checkRendering(docs: Manifest[], namespace: string, valueFrom: Record<string, string> = {}) {
  validateKubernetes(docs, ['monitoring.coreos.com/v1/ServiceMonitor']);
  for (const doc of docs.filter((d) => d.kind !== 'Namespace')) assert.equal(doc.metadata.namespace, namespace, `${doc.kind} ${doc.metadata.name}'s namespace`);
  const ds = only(docs, 'DaemonSet');
  const configMap = only(docs, 'ConfigMap');
  const spec = new DaemonSet(ds).spec!;
  const podLabels = spec.template.metadata!.labels!;
  for (const [key, value] of Object.entries(spec.selector.matchLabels!)) assert.equal(podLabels[key], value, `the selector's ${key} is on the pods`);
  assert.match(spec.template.metadata!.annotations!['checksum/config']!, /^[0-9a-f]{64}$/);
  const serviceAccount = only(docs, 'ServiceAccount');
  assert.equal(spec.template.spec!.serviceAccountName, serviceAccount.metadata.name);
  assert.equal(serviceAccount.automountServiceAccountToken, false);
  const config = agentConfig(configMap, podEnv(ds, valueFrom));
  assertAgentPod(ds, configMap, config);
  assertMemoryRoom(ds, config);
  return { ds, configMap, config };
}

const kinds = (docs: Manifest[]) => docs.map((d) => d.kind).sort();

// Two inputs (one of them auto-detecting its runtime, with its own format and topic), brokers and a
// SASL password from a Secret, bigger batches, a longer drain, a namespace of the chart's own.
const custom = {
  namespace: { create: true, name: 'logship-system' },
  inputs: [
    { name: 'ingress-nginx', paths: ['/var/log/containers/*_ingress-nginx_controller-*.log'], on_error: 'raw' },
    {
      name: 'gateway',
      paths: ['/var/log/containers/*_gateway_nginx-*.log'],
      container: 'auto',
      format: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent $request_time',
      topic: 'gateway-{{ source.namespace }}',
    },
  ],
  kafka: { brokers: ['${KAFKA_BROKERS}'], topic: 'ingress-access', tls: { enabled: true }, sasl: { mechanism: 'scram-sha-512', username: 'logship', password_env: 'KAFKA_PASSWORD' } },
  extraEnv: [
    { name: 'KAFKA_BROKERS', valueFrom: { secretKeyRef: { name: 'kafka', key: 'brokers' } } },
    { name: 'KAFKA_PASSWORD', valueFrom: { secretKeyRef: { name: 'kafka', key: 'password' } } },
  ],
  extraConfig: { batch: { max_bytes: 2_000_000 }, shutdown_timeout_ms: 60_000, log_level: 'debug' },
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
};

test('helm lint --strict passes, with the default values and the variations below', { skip }, (t) => {
  t.diagnostic(`${helm.path}: ${runHelm(['version', '--short']).stdout.trim()}`);
  for (const values of [{}, { containerRuntime: 'docker' }, { serviceMonitor: { enabled: true } }, custom]) {
    const { status, stdout, stderr } = runHelm(['lint', '--strict', chart], values);
    assert.equal(status, 0, `helm lint ${JSON.stringify(values)}:\n${stdout}${stderr}`);
  }
});

test('default values: a DaemonSet, its ConfigMap and ServiceAccount in the release namespace, the same agent as kubernetes/', { skip }, () => {
  const docs = render();
  assert.deepEqual(kinds(docs), ['ConfigMap', 'DaemonSet', 'ServiceAccount']);
  const { ds, config } = checkRendering(docs, releaseNamespace);

  const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
  const chartYaml = parse(readFileSync(repoPath('charts/logship/Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
  assert.equal(chartYaml.appVersion, version, "Chart.yaml's appVersion is package.json's version");
  assert.equal(chartYaml.version, '0.1.0');
  assert.equal(agentContainer(ds).image, `ghcr.io/logship/logship:${version}`);
  assert.equal(new DaemonSet(ds).spec!.template.spec!.terminationGracePeriodSeconds, 45);

  // The chart's defaults are the plain manifests' agent: same settings, same resources.
  const plain = ['kubernetes/daemonset.yaml', 'kubernetes/configmap.yaml'].flatMap((file) => parseManifests(readFileSync(repoPath(file), 'utf8')));
  const plainDs = only(plain, 'DaemonSet');
  assert.deepEqual(config, agentConfig(only(plain, 'ConfigMap'), podEnv(plainDs)));
  assert.deepEqual(agentContainer(ds).resources, agentContainer(plainDs).resources);
  assert.ok(!agentContainer(ds).volumeMounts!.some((m) => m.mountPath === '/var/lib/docker/containers'), 'no docker mount on cri nodes');
});

test("containerRuntime docker: inputs unwrap docker's json-file lines, whose files are mounted read-only", { skip }, () => {
  const { ds, config } = checkRendering(render({ containerRuntime: 'docker' }), releaseNamespace);
  assert.deepEqual(
    config.inputs.map((i) => i.container),
    ['docker'],
  );
  // (assertAgentPod checked the mount; here its host side too.)
  const spec = new DaemonSet(ds).spec!.template.spec!;
  const mount = agentContainer(ds).volumeMounts!.find((m) => m.mountPath === '/var/lib/docker/containers')!;
  assert.equal(spec.volumes!.find((v) => v.name === mount.name)?.hostPath?.path, '/var/lib/docker/containers');
});

test('serviceMonitor on: a headless Service on the metrics port, and a ServiceMonitor that selects it', { skip }, () => {
  const docs = render({ serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } });
  assert.deepEqual(kinds(docs), ['ConfigMap', 'DaemonSet', 'Service', 'ServiceAccount', 'ServiceMonitor']);
  const { ds } = checkRendering(docs, releaseNamespace);
  const service = new Service(only(docs, 'Service'));
  assert.equal(service.spec!.clusterIP, 'None');
  const podLabels = new DaemonSet(ds).spec!.template.metadata!.labels!;
  for (const [key, value] of Object.entries(service.spec!.selector!)) assert.equal(podLabels[key], value, `the Service's selector ${key} is on the pods`);
  assert.deepEqual(
    service.spec!.ports!.map((p) => [p.name, p.targetPort]),
    [['metrics', 'metrics']],
  );

  // A CRD: no schema in kubernetes-models, so its shape is checked here.
  const monitor = only(docs, 'ServiceMonitor') as Manifest & {
    spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: { port: string; path: string; interval: string }[] };
  };
  assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(monitor.metadata.labels?.release, 'prometheus');
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata!.labels![key], value, `the ServiceMonitor's selector ${key} is on the Service`);
  assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [releaseNamespace]);
  assert.equal(monitor.spec.endpoints.length, 1);
  assert.equal(monitor.spec.endpoints[0]!.port, 'metrics');
  assert.equal(monitor.spec.endpoints[0]!.path, '/metrics');
  assert.match(monitor.spec.endpoints[0]!.interval, /^\d+s$/);
});

test('custom inputs, Kafka settings from a Secret, extra settings, a namespace of its own labelled for hostPath', { skip }, () => {
  const docs = render(custom, 'default');
  assert.deepEqual(kinds(docs), ['ConfigMap', 'DaemonSet', 'Namespace', 'ServiceAccount']);
  const namespace = only(docs, 'Namespace');
  assert.equal(namespace.metadata.name, 'logship-system');
  assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  const { ds, config } = checkRendering(docs, 'logship-system', { KAFKA_BROKERS: 'kafka-0.kafka.kafka.svc:9093' });

  assert.deepEqual(
    config.inputs.map((i) => [i.name, i.container, i.format === 'upstreaminfo', i.topic]),
    [
      ['ingress-nginx', 'cri', true, undefined],
      ['gateway', 'auto', false, 'gateway-{{ source.namespace }}'],
    ],
  );
  assert.equal(config.kafka.sasl?.password_env, 'KAFKA_PASSWORD');
  assert.equal(config.batch.max_bytes, 2_000_000);
  assert.equal(config.log_level, 'debug');
  assert.equal(new DaemonSet(ds).spec!.template.spec!.terminationGracePeriodSeconds, 75, 'shutdown_timeout_ms 60 s plus 15');

  // These settings' bound (~313 MiB) needs more than the default limit: the check above is not idle.
  const { resources: _ignored, ...withDefaultLimit } = custom;
  const tooSmall = only(render(withDefaultLimit, 'default'), 'DaemonSet');
  assert.throws(() => assertMemoryRoom(tooSmall, config), /limit 320Mi is not 20% above the bound of 314 MiB/);
});

test("invalid values fail with the values schema's error, or the chart's own", { skip }, () => {
  const schemaError = "values don't meet the specifications of the schema";
  const cases: [object, RegExp][] = [
    [{ containerRuntime: 'podman' }, /at '\/containerRuntime': value must be one of 'cri', 'docker'/],
    [{ kafka: { brokers: [], topic: 't' } }, /at '\/kafka\/brokers': minItems: got 0, want 1/],
    [{ inputs: [{ paths: ['/var/log/x.log'], container: 'containerd' }] }, /at '\/inputs\/0\/container': value must be one of/],
    [{ image: { pullPolicy: 'Sometimes' } }, /at '\/image\/pullPolicy'/],
    [{ resources: { limits: { memory: 'lots' } } }, /at '\/resources\/limits\/memory': 'lots' does not match pattern/],
    [{ containerRuntim: 'docker' }, /additional properties 'containerRuntim' not allowed/],
  ];
  for (const [values, message] of cases) {
    const { status, stderr } = runHelm(['template', release, chart], values);
    assert.notEqual(status, 0, `${JSON.stringify(values)} rendered`);
    assert.ok(stderr.includes(schemaError), `${JSON.stringify(values)}: ${stderr}`);
    assert.match(stderr, message);
  }
  // What a schema cannot say well: the chart fails with its own message.
  const chartCases: [object, RegExp][] = [
    [{ extraConfig: { metrics: { enabled: false } } }, /extraConfig\.metrics: the chart sets metrics \(values metrics\.port\)/],
    [{ namespace: { create: true } }, /namespace\.create: give namespace\.name/],
    [{ namespace: { create: true, name: releaseNamespace } }, /namespace\.create: logship is the release namespace/],
  ];
  for (const [values, message] of chartCases) {
    const { status, stderr } = runHelm(['template', release, chart, '--namespace', releaseNamespace], values);
    assert.notEqual(status, 0, `${JSON.stringify(values)} rendered`);
    assert.match(stderr, message);
  }
});
