/**
 * A real single-node Apache Kafka (KRaft, broker+controller in one JVM) for
 * the tests, the demo and the benchmarks. Jars come from Maven Central via
 * fetch.sh; storage lives in a temporary directory that stop() removes.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface LocalKafkaOptions {
  /** Extra server.properties lines, e.g. auto.create.topics.enable=false. */
  properties?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
}

/** Resolves (and on first use downloads) the broker's jars; returns the libs dir. */
export function fetchKafkaJars(): string {
  return execFileSync('bash', [join(here, 'fetch.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class LocalKafka {
  readonly dir: string;
  brokers: string[] = [];
  private jvm: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly options: LocalKafkaOptions;

  constructor(options: LocalKafkaOptions = {}) {
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'logship-kafka-'));
  }

  get logFile(): string {
    return join(this.dir, 'broker.log');
  }

  async start(): Promise<string[]> {
    const libs = fetchKafkaJars();
    const [port, controllerPort] = [await freePort(), await freePort()];
    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': join(this.dir, 'data'),
      'num.partitions': 1,
      'offsets.topic.replication.factor': 1,
      'offsets.topic.num.partitions': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'group.initial.rebalance.delay.ms': 0,
      'auto.create.topics.enable': true,
      ...this.options.properties,
    };
    const serverProps = join(this.dir, 'server.properties');
    writeFileSync(serverProps, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const log4j = join(this.dir, 'log4j.properties');
    writeFileSync(
      log4j,
      [
        'log4j.rootLogger=WARN, file',
        'log4j.appender.file=org.apache.log4j.FileAppender',
        `log4j.appender.file.File=${this.logFile}`,
        'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.server.BrokerServer=INFO',
      ].join('\n') + '\n',
    );
    const jvmArgs = [
      '-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1', '-Xshare:auto',
      '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${log4j}`, '-cp', join(libs, '*'),
    ];
    // KRaft storage must be formatted with a cluster id before the first start.
    // As Kafka's own Uuid.randomUuid: never start with '-', which the tool would read as an option.
    let clusterId;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    execFileSync('java', [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', serverProps], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });

    const out = openSync(join(this.dir, 'jvm.out'), 'a');
    // run-with-parent.sh stops the JVM when our stdin pipe closes, i.e. when
    // this process exits for any reason.
    this.jvm = spawn('bash', [join(here, 'run-with-parent.sh'), 'java', ...jvmArgs, 'kafka.Kafka', serverProps], {
      stdio: ['pipe', out, out],
    });
    closeSync(out);
    this.exited = new Promise((resolve) => this.jvm!.once('exit', (code) => resolve(code)));
    this.brokers = [`127.0.0.1:${port}`];
    await this.waitUntilReady(this.options.startTimeoutMs ?? 60_000);
    return this.brokers;
  }

  /** Ready means: the broker answers a metadata request. */
  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const admin = new Kafka({ brokers: this.brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    let exitCode: number | null | undefined;
    void this.exited!.then((code) => (exitCode = code));
    try {
      while (true) {
        if (exitCode !== undefined) throw new Error(`Kafka broker exited with ${exitCode} before it was ready; see ${this.dir}/jvm.out and ${this.logFile}`);
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length > 0) return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`Kafka broker at ${this.brokers} not ready after ${timeoutMs} ms: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Stops the JVM (controlled shutdown, then SIGKILL after a grace time) and removes its storage. */
  async stop(graceMs = 20_000): Promise<void> {
    const jvm = this.jvm;
    if (jvm && jvm.exitCode === null && jvm.signalCode === null) {
      jvm.kill('SIGTERM');
      const timer = setTimeout(() => {
        // The wrapper forwards TERM; a JVM stuck past the grace time gets killed outright.
        try { execFileSync('pkill', ['-KILL', '-P', String(jvm.pid)]); } catch { /* already gone */ }
        jvm.kill('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.jvm = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// `node scripts/kafka/local-kafka.ts fetch` resolves the jars (used by set-up).
if (import.meta.main && process.argv[2] === 'fetch') {
  console.log(fetchKafkaJars());
}
