/**
 * A real single-node Apache Kafka (KRaft, broker+controller in one JVM) for
 * the tests, the demo and the benchmarks. Jars come from Maven Central via
 * fetch.sh; storage lives in a temporary directory that stop() removes.
 *
 * Kafka 3.x (from 3.5) and 4.x both run: the `version` option or
 * LOGSHIP_KAFKA_VERSION picks one, else the default of scripts/kafka/pom.xml.
 * What differs between them is in kafkaRuntime(): the configs command's main
 * class and the logging back-end (reload4j in 3.x, log4j2 in 4.x). The broker
 * configuration is the same KRaft one for both: it uses no setting 4.0 removed.
 *
 * With `security: true` the same JVM also listens with TLS and SASL: SSL
 * (server certificate only), MTLS (SSL that requires a client certificate)
 * and SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), with a throwaway CA and
 * users whose passwords are new on every run. The SCRAM users are created
 * with Kafka's own tools: the storage tool at format time and the configs
 * command against the running broker. PLAINTEXT stays, for the tests' admin.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { createTestPki, tlsOptions, type TestPki } from './tls.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface LocalKafkaOptions {
  /** Apache Kafka version, e.g. '4.4.0' (default: defaultKafkaVersion(), i.e. LOGSHIP_KAFKA_VERSION, else pom.xml's first). */
  version?: string;
  /** Extra server.properties lines, e.g. auto.create.topics.enable=false. */
  properties?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
  /** Also open the SSL, MTLS and SASL_SSL listeners (see KafkaSecurity). */
  security?: boolean;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/**
 * A SASL user of the test broker, shaped as a kafkajs `sasl` option. Hand kafkajs
 * a copy, not this object: it caches its authenticator on the object (see kafkajsSecurityConfig).
 */
export interface SaslUser {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** What a client needs to reach the broker's TLS and SASL listeners. */
export interface KafkaSecurity {
  /** host:port of each listener; the broker advertises 127.0.0.1 (in the certificate's SAN, with localhost and ::1). */
  listeners: {
    plaintext: string;
    /** TLS, server certificate only. */
    ssl: string;
    /** TLS that requires a client certificate signed by the CA (ssl.client.auth=required). */
    mtls: string;
    /** SASL over TLS (server certificate only): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512. */
    saslSsl: string;
  };
  /** PEM files: the CA that signed the broker's and the client's certificates, the client's certificate and key (unencrypted PKCS#8). */
  tls: { caFile: string; clientCertFile: string; clientKeyFile: string; dir: string };
  /**
   * One user per mechanism, passwords `s3cr3t-<mechanism>-<random hex>`, new on
   * every run: plain from the listener's JAAS config, scramSha256 created by
   * `kafka-storage format --add-scram`, scramSha512 by `kafka-configs --alter`.
   */
  users: { plain: SaslUser; scramSha256: SaslUser; scramSha512: SaslUser };
}

/**
 * The environment variable that carries a LocalKafka's security description to
 * test processes (see securityEnv): the path of a JSON file (mode 0600) in the
 * broker's directory, so the passwords themselves never sit in an environment
 * that agents under test inherit.
 */
export const KAFKA_SECURITY_ENV = 'LOGSHIP_TEST_KAFKA_SECURITY';

/** The KafkaSecurity that a parent process announced with LocalKafka.securityEnv(), if any. */
export function securityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity | undefined {
  const file = env[KAFKA_SECURITY_ENV];
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as KafkaSecurity) : undefined;
}

/**
 * kafkajs settings for one of the secured listeners: `ssl` trusts the CA;
 * for 'mtls' it also presents the client certificate; for 'saslSsl' `user`
 * (default: the SCRAM-SHA-512 user) authenticates.
 */
export function kafkajsSecurityConfig(
  security: KafkaSecurity,
  listener: 'ssl' | 'mtls' | 'saslSsl',
  user: SaslUser = security.users.scramSha512,
): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  const client = listener === 'mtls' ? { certFile: security.tls.clientCertFile, keyFile: security.tls.clientKeyFile } : undefined;
  return {
    brokers: [security.listeners[listener]],
    ssl: tlsOptions(security.tls.caFile, client),
    // A fresh object: kafkajs caches its authenticator, bound to these credentials, on the
    // `sasl` object it is given (sasl.authenticationProvider), so a shared one would leak
    // the first credentials into every later copy, e.g. `{ ...user, password: 'wrong' }`.
    ...(listener === 'saslSsl' ? { sasl: { mechanism: user.mechanism, username: user.username, password: user.password } as SASLOptions } : {}),
  };
}

/** The environment variable that picks the Kafka version LocalKafka runs when its `version` option does not. */
export const KAFKA_VERSION_ENV = 'LOGSHIP_KAFKA_VERSION';

/** The versions the project tests against (pom.xml's kafka.versions); the first is the default. */
export function testedKafkaVersions(): string[] {
  const pom = readFileSync(join(here, 'pom.xml'), 'utf8');
  const versions = /<kafka\.versions>([^<]*)<\/kafka\.versions>/.exec(pom)?.[1]?.trim().split(/\s+/) ?? [];
  if (!versions[0]) throw new Error(`LocalKafka: no <kafka.versions> in ${join(here, 'pom.xml')}`);
  return versions;
}

/** The version LocalKafka runs: LOGSHIP_KAFKA_VERSION if set, else the first of pom.xml's kafka.versions. */
export function defaultKafkaVersion(env: NodeJS.ProcessEnv = process.env): string {
  return env[KAFKA_VERSION_ENV] || testedKafkaVersions()[0]!;
}

/** Resolves (and on first use downloads) the jars of a Kafka version (default: defaultKafkaVersion()); returns the libs dir. */
export function fetchKafkaJars(version = defaultKafkaVersion()): string {
  return execFileSync('bash', [join(here, 'fetch.sh'), version], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
}

/** What differs between the Kafka major versions LocalKafka runs. */
interface KafkaRuntime {
  storageTool: string;
  configCommand: string;
  /** The logging configuration file's name, its content, and the JVM flag that points at it. */
  logging(logFile: string): { fileName: string; content: string; jvmFlag: (path: string) => string };
}

function kafkaRuntime(version: string): KafkaRuntime {
  const major = Number(/^(\d+)\.\d+\.\d+$/.exec(version)?.[1]);
  // Both log WARN and up to broker.log, plus BrokerServer's INFO lines: they
  // show how far a broker that is slow to start got.
  if (major === 3) {
    return {
      storageTool: 'kafka.tools.StorageTool',
      configCommand: 'kafka.admin.ConfigCommand',
      logging: (logFile) => ({
        fileName: 'log4j.properties',
        jvmFlag: (path) => `-Dlog4j.configuration=file:${path}`,
        content: [
          'log4j.rootLogger=WARN, file',
          'log4j.appender.file=org.apache.log4j.FileAppender',
          `log4j.appender.file.File=${logFile}`,
          'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
          'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
          'log4j.logger.kafka.server.BrokerServer=INFO',
        ].join('\n') + '\n',
      }),
    };
  }
  if (major === 4) {
    return {
      // Still the Scala object in kafka_2.13 in 4.x.
      storageTool: 'kafka.tools.StorageTool',
      // 4.0 rewrote it in Java, in kafka-tools (fetched with the kafka4 profile).
      configCommand: 'org.apache.kafka.tools.ConfigCommand',
      // 4.0 dropped reload4j for log4j2 (KIP-653), which reads neither
      // log4j.configuration nor log4j 1 properties. Its own properties format
      // needs no extra jar (YAML, Kafka's default, would need Jackson's).
      logging: (logFile) => ({
        fileName: 'log4j2.properties',
        jvmFlag: (path) => `-Dlog4j2.configurationFile=${path}`,
        content: [
          'status = warn',
          'appender.file.type = File',
          'appender.file.name = file',
          `appender.file.fileName = ${logFile}`,
          'appender.file.layout.type = PatternLayout',
          'appender.file.layout.pattern = [%d] %p %m (%c)%n',
          'rootLogger.level = warn',
          'rootLogger.appenderRef.file.ref = file',
          'logger.broker.name = kafka.server.BrokerServer',
          'logger.broker.level = info',
        ].join('\n') + '\n',
      }),
    };
  }
  throw new Error(`LocalKafka: Kafka ${version} is not supported (3.5 … 4.x)`);
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
  /** The Apache Kafka version this broker runs. */
  readonly version: string;
  private readonly runtime: KafkaRuntime;
  brokers: string[] = [];
  private jvm: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly options: LocalKafkaOptions;
  private securityInfo: KafkaSecurity | undefined;
  private jvmArgs: string[] = [];
  private serverProps = '';

  constructor(options: LocalKafkaOptions = {}) {
    this.options = options;
    this.version = options.version ?? defaultKafkaVersion();
    this.runtime = kafkaRuntime(this.version);
    this.dir = mkdtempSync(join(tmpdir(), 'logship-kafka-'));
  }

  get logFile(): string {
    return join(this.dir, 'broker.log');
  }

  /** The TLS and SASL listeners, certificates and users; only after start() with `security: true`. */
  get security(): KafkaSecurity {
    if (!this.securityInfo) throw new Error(this.options.security ? 'LocalKafka: start() it first' : 'LocalKafka: started without `security: true`');
    return this.securityInfo;
  }

  /** { [KAFKA_SECURITY_ENV]: file } for test processes to read back with securityFromEnv(); empty without security. */
  securityEnv(): Record<string, string> {
    return this.securityInfo ? { [KAFKA_SECURITY_ENV]: join(this.dir, 'security.json') } : {};
  }

  async start(): Promise<string[]> {
    const libs = fetchKafkaJars(this.version);
    // The cache is keyed by version only: make sure it holds the broker asked for.
    if (!existsSync(join(libs, `kafka_2.13-${this.version}.jar`))) throw new Error(`LocalKafka: no kafka_2.13-${this.version}.jar in ${libs}`);
    const [port, controllerPort] = [await freePort(), await freePort()];
    const plaintext = `127.0.0.1:${port}`;
    const listeners = [`PLAINTEXT://${plaintext}`];
    const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
    let securityProps: Record<string, string> = {};
    let security: KafkaSecurity | undefined;
    if (this.options.security) {
      const pki = createTestPki(join(this.dir, 'tls'));
      security = this.planSecurity(pki, plaintext, await freePort(), await freePort(), await freePort());
      listeners.push(`SSL://${security.listeners.ssl}`, `MTLS://${security.listeners.mtls}`, `SASL_SSL://${security.listeners.saslSsl}`);
      protocols.push('SSL:SSL', 'MTLS:SSL', 'SASL_SSL:SASL_SSL');
      securityProps = this.securityProperties(pki, security);
    }
    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
      listeners: [...listeners, `CONTROLLER://127.0.0.1:${controllerPort}`].join(','),
      'advertised.listeners': listeners.join(','),
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': protocols.join(','),
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': join(this.dir, 'data'),
      'num.partitions': 1,
      'offsets.topic.replication.factor': 1,
      'offsets.topic.num.partitions': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'group.initial.rebalance.delay.ms': 0,
      'auto.create.topics.enable': true,
      ...securityProps,
      ...this.options.properties,
    };
    const serverProps = join(this.dir, 'server.properties');
    writeFileSync(serverProps, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    const logging = this.runtime.logging(this.logFile);
    const loggingConfig = join(this.dir, logging.fileName);
    writeFileSync(loggingConfig, logging.content);
    const jvmArgs = [
      '-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1', '-Xshare:auto',
      '-Djava.awt.headless=true', logging.jvmFlag(loggingConfig), '-cp', join(libs, '*'),
    ];
    this.jvmArgs = jvmArgs;
    // KRaft storage must be formatted with a cluster id before the first start.
    // As Kafka's own Uuid.randomUuid: never start with '-', which the tool would read as an option.
    let clusterId;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    // The SCRAM-SHA-256 user goes into the first metadata records, as `kafka-storage format --add-scram` does.
    const scram = security ? ['--add-scram', scramCredential(security.users.scramSha256, true)] : [];
    execFileSync('java', [...jvmArgs, this.runtime.storageTool, 'format', '-t', clusterId, '-c', serverProps, ...scram], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });

    this.serverProps = serverProps;
    this.spawnJvm();
    this.brokers = [plaintext];
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    await this.waitUntilReady({ brokers: this.brokers }, deadline);
    if (security) {
      // The SCRAM-SHA-512 user is added to the running cluster, as `kafka-configs --alter` does.
      await this.setScramUser(security.users.scramSha512, deadline);
      // Ready means every secured listener, and every user, gets an answer too.
      for (const listener of ['ssl', 'mtls'] as const) await this.waitUntilReady(kafkajsSecurityConfig(security, listener), deadline);
      for (const user of Object.values(security.users)) await this.waitUntilReady(kafkajsSecurityConfig(security, 'saslSsl', user), deadline);
      writeFileSync(join(this.dir, 'security.json'), JSON.stringify(security, null, 2) + '\n', { mode: 0o600 });
      this.securityInfo = security;
    }
    return this.brokers;
  }

  /** Creates a SCRAM user on the running cluster, or sets its password (`kafka-configs --alter`), as an operator fixing credentials does. */
  async setScramUser(user: SaslUser, deadline = Date.now() + 60_000): Promise<void> {
    await this.runTool(deadline, this.runtime.configCommand, [
      '--bootstrap-server', this.brokers[0]!, '--alter', '--entity-type', 'users', '--entity-name', user.username,
      '--add-config', scramCredential(user, false),
    ]);
  }

  /** Listener addresses, the client's view of the certificates, and users with new passwords. */
  private planSecurity(pki: TestPki, plaintext: string, sslPort: number, mtlsPort: number, saslPort: number): KafkaSecurity {
    const user = (mechanism: SaslMechanism, username: string): SaslUser => ({
      mechanism,
      username,
      password: `s3cr3t-${mechanism}-${randomBytes(12).toString('hex')}`,
    });
    return {
      listeners: { plaintext, ssl: `127.0.0.1:${sslPort}`, mtls: `127.0.0.1:${mtlsPort}`, saslSsl: `127.0.0.1:${saslPort}` },
      tls: { dir: pki.dir, caFile: pki.caFile, clientCertFile: pki.client.certFile, clientKeyFile: pki.client.keyFile },
      users: { plain: user('plain', 'plain-user'), scramSha256: user('scram-sha-256', 'scram256-user'), scramSha512: user('scram-sha-512', 'scram512-user') },
    };
  }

  /** The broker side of the SSL, MTLS and SASL_SSL listeners. Key and trust stores are PEM files. */
  private securityProperties(pki: TestPki, security: KafkaSecurity): Record<string, string> {
    const { plain } = security.users;
    return {
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pki.broker.keystoreFile,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pki.caFile,
      'ssl.client.auth': 'none',
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_ssl.plain.sasl.jaas.config':
        `org.apache.kafka.common.security.plain.PlainLoginModule required user_${plain.username}="${plain.password}";`,
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    };
  }

  /**
   * Runs one of Kafka's command-line tools (a main class from the jars) under
   * run-with-parent.sh like the broker, killed at the deadline; its output goes to this.dir/tools.out.
   */
  private async runTool(deadline: number, mainClass: string, args: string[]): Promise<void> {
    const out = join(this.dir, 'tools.out');
    const fd = openSync(out, 'a');
    const child = spawn('bash', [join(here, 'run-with-parent.sh'), 'java', ...this.jvmArgs, mainClass, ...args], { stdio: ['pipe', fd, fd] });
    closeSync(fd);
    const timer = setTimeout(() => child.kill('SIGTERM'), Math.max(0, deadline - Date.now()));
    try {
      const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', (c) => resolve(c)));
      if (code !== 0) throw new Error(`${mainClass} exited with ${code}: ${readFileSync(out, 'utf8').trim().split('\n').slice(-5).join('\n')}`);
    } finally {
      clearTimeout(timer);
      child.stdin?.destroy();
    }
  }

  private spawnJvm(): void {
    const out = openSync(join(this.dir, 'jvm.out'), 'a');
    // run-with-parent.sh stops the JVM when our stdin pipe closes, i.e. when
    // this process exits for any reason.
    this.jvm = spawn('bash', [join(here, 'run-with-parent.sh'), 'java', ...this.jvmArgs, 'kafka.Kafka', this.serverProps], {
      stdio: ['pipe', out, out],
    });
    closeSync(out);
    const jvm = this.jvm;
    this.exited = new Promise((resolve) => jvm.once('exit', (code) => resolve(code)));
  }

  /** Stops the broker process but keeps its data and ports: an outage, for tests. */
  async pause(graceMs = 20_000): Promise<void> {
    await this.stopJvm(graceMs);
  }

  /**
   * Freezes the broker (SIGSTOP of the JVM): it keeps its connections but
   * answers nothing, as a broker in a long GC pause or on a hung disk does.
   */
  freeze(): void {
    this.signalJvm('SIGSTOP');
  }

  /** Lets a frozen broker go on (SIGCONT). */
  thaw(): void {
    this.signalJvm('SIGCONT');
  }

  /** The JVM is the child of run-with-parent.sh: signal it, not the wrapper. */
  private signalJvm(signal: 'SIGSTOP' | 'SIGCONT'): void {
    const wrapper = this.jvm?.pid;
    if (wrapper === undefined) throw new Error('LocalKafka: the broker is not running');
    const children = execFileSync('pgrep', ['-P', String(wrapper), '-x', 'java'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    if (children.length === 0) throw new Error(`LocalKafka: no java process under ${wrapper}`);
    for (const pid of children) process.kill(Number(pid), signal);
  }

  /** Starts the broker again after pause(), on the same ports with the same data. */
  async resume(): Promise<void> {
    if (this.jvm) return;
    this.spawnJvm();
    await this.waitUntilReady({ brokers: this.brokers }, Date.now() + (this.options.startTimeoutMs ?? 60_000));
  }

  /** Ready means: a kafkajs admin with this config gets an answer to a metadata request. */
  private async waitUntilReady(config: Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>, deadline: number): Promise<void> {
    const admin = new Kafka({ ...config, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    let exitCode: number | null | undefined;
    void this.exited!.then((code) => (exitCode = code));
    const what = `Kafka broker at ${String(config.brokers)}${config.sasl ? ` (SASL ${config.sasl.mechanism})` : config.ssl ? ' (TLS)' : ''}`;
    try {
      while (true) {
        if (exitCode !== undefined) throw new Error(`Kafka broker exited with ${exitCode} before it was ready; see ${this.dir}/jvm.out and ${this.logFile}`);
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length > 0) return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw new Error(`${what} not ready after ${this.options.startTimeoutMs ?? 60_000} ms: ${String(err)}; see ${this.logFile}`);
          }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Stops the JVM (controlled shutdown, then SIGKILL after a grace time) and removes its storage. */
  async stop(graceMs = 20_000): Promise<void> {
    await this.stopJvm(graceMs);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async stopJvm(graceMs: number): Promise<void> {
    const jvm = this.jvm;
    if (jvm && jvm.exitCode === null && jvm.signalCode === null) {
      try { this.thaw(); } catch { /* not frozen, or already gone */ }
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
  }
}

/**
 * A SCRAM credential as Kafka's tools take it: `SCRAM-SHA-256=[name=alice,password=...]`
 * for `kafka-storage format --add-scram`, `SCRAM-SHA-512=[password=...]` for `kafka-configs --add-config`.
 */
function scramCredential(user: SaslUser, withName: boolean): string {
  const fields = [...(withName ? [`name=${user.username}`] : []), `password=${user.password}`];
  return `${user.mechanism.toUpperCase()}=[${fields.join(',')}]`;
}

// `node scripts/kafka/local-kafka.ts fetch [VERSION]` resolves the jars (default: defaultKafkaVersion()).
if (import.meta.main && process.argv[2] === 'fetch') {
  console.log(fetchKafkaJars(process.argv[3]));
}
