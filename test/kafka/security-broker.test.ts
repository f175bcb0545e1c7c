/**
 * The test broker's TLS and SASL listeners (LocalKafka with `security: true`),
 * checked with kafkajs and with kcat, an independent client: produce and
 * consume over SSL, mTLS and SASL_SSL with PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512; wrong credentials, an untrusted CA and a missing client
 * certificate are rejected. Runs its own broker, not the suite's, of the
 * version LOGSHIP_KAFKA_VERSION names (3.x or 4.x).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { KAFKA_SECURITY_ENV, LocalKafka, kafkajsSecurityConfig, securityFromEnv, type KafkaSecurity, type SaslUser } from '../../scripts/kafka/local-kafka.ts';
import { createCa, issueCertificate, tlsOptions } from '../../scripts/kafka/tls.ts';

const run = promisify(execFile);

type ClientConfig = Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>;

/** A kafkajs client; `retries: 0` for the checks that expect a rejection (the group coordinator needs a few retries at first). */
function client(config: ClientConfig, retries = 5): Kafka {
  return new Kafka({ ...config, clientId: 'security-broker-test', logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 100 }, connectionTimeout: 5_000 });
}

/** Creates a topic, produces one message and consumes it back, all with kafkajs over `config`; returns the topic and the value. */
async function roundTrip(config: ClientConfig, label: string): Promise<{ topic: string; value: string }> {
  const kafka = client(config);
  const topic = `security-${label}-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const value = `hello over ${label} ${randomUUID()}`;
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `security-${label}-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = await new Promise<string>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') }).catch(reject);
    });
    assert.equal(received, value);
  } finally {
    await consumer.disconnect();
  }
  return { topic, value };
}

/** kcat's -X settings for a listener (and SASL user). */
function kcatSecurity(security: KafkaSecurity, listener: 'ssl' | 'mtls' | 'saslSsl', user?: SaslUser): string[] {
  const x = (setting: string) => ['-X', setting];
  return [
    '-b', security.listeners[listener],
    ...x(`security.protocol=${listener === 'saslSsl' ? 'sasl_ssl' : 'ssl'}`),
    ...x(`ssl.ca.location=${security.tls.caFile}`),
    ...(listener === 'mtls' ? [...x(`ssl.certificate.location=${security.tls.clientCertFile}`), ...x(`ssl.key.location=${security.tls.clientKeyFile}`)] : []),
    ...(user ? [...x(`sasl.mechanisms=${user.mechanism.toUpperCase()}`), ...x(`sasl.username=${user.username}`), ...x(`sasl.password=${user.password}`)] : []),
  ];
}

/** The librdkafka that kcat runs on, as [major, minor, patch] (from `kcat -V`). */
function kcatLibrdkafka(): number[] {
  const banner = execFileSync('kcat', ['-V'], { encoding: 'utf8' });
  const version = /librdkafka (\d+)\.(\d+)\.(\d+)/.exec(banner);
  if (!version) throw new Error(`no librdkafka version in kcat -V: ${banner}`);
  return version.slice(1).map(Number);
}

/**
 * Whether kcat can log in with SCRAM to a Kafka of this major version. librdkafka
 * before 2.6.1 appends its nonce twice in the SCRAM client-final message
 * (confluentinc/librdkafka#4895). Kafka 3.8.1 began checking that nonce (CVE-2024-56128)
 * leniently (it must end with the server's); 4.0 wants it exactly, as RFC 5802 says,
 * and rejects such a client as "invalid credentials". Debian 12's kcat runs on
 * librdkafka 2.0.2. kafkajs (what the agent uses) sends it right.
 */
function kcatCanScram(kafkaMajor: number): boolean {
  const [major = 0, minor = 0, patch = 0] = kcatLibrdkafka();
  return kafkaMajor < 4 || major > 2 || (major === 2 && (minor > 6 || (minor === 6 && patch >= 1)));
}

async function kcatRead(args: string[], topic: string): Promise<string[]> {
  const { stdout } = await run('kcat', [...args, '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], { timeout: 15_000 });
  return stdout.split('\n').filter(Boolean);
}

/** kcat -L (metadata) over `args`: resolves to its error output when it fails (after its 2 s metadata timeout), undefined when it succeeds. */
async function kcatMetadataError(args: string[]): Promise<string | undefined> {
  try {
    await run('kcat', [...args, '-L', '-m', '2'], { timeout: 15_000 });
    return undefined;
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

/** The error a kafkajs admin gets connecting with `config`. */
async function connectError(config: ClientConfig): Promise<Error & { cause?: unknown }> {
  const admin = client(config, 0).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (err) {
    return err as Error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  assert.fail(`connecting to ${String(config.brokers)} succeeded`);
}

test('LocalKafka with security: TLS, mTLS and SASL_SSL listeners of a real broker', { timeout: 90_000 }, async (t) => {
  const kafka = new LocalKafka({ security: true });
  t.after(() => kafka.stop());
  await kafka.start();
  const security = kafka.security;
  const { users } = security;

  await t.test('the users have distinctive passwords, new on every run', () => {
    const passwords = Object.values(users).map((u) => u.password);
    for (const password of passwords) assert.match(password, /^s3cr3t-[a-z0-9-]+-[0-9a-f]{24}$/);
    assert.equal(new Set(passwords).size, 3);
    assert.deepEqual(Object.values(users).map((u) => u.mechanism), ['plain', 'scram-sha-256', 'scram-sha-512']);
    assert.equal(kafka.brokers[0], security.listeners.plaintext, 'PLAINTEXT stays, for the tests themselves');
  });

  const cases: { label: string; listener: 'ssl' | 'mtls' | 'saslSsl'; user?: SaslUser }[] = [
    { label: 'ssl', listener: 'ssl' },
    { label: 'mtls', listener: 'mtls' },
    { label: 'sasl-plain', listener: 'saslSsl', user: users.plain },
    { label: 'sasl-scram-sha-256', listener: 'saslSsl', user: users.scramSha256 },
    { label: 'sasl-scram-sha-512', listener: 'saslSsl', user: users.scramSha512 },
  ];
  const scramWithKcat = kcatCanScram(Number(kafka.version.split('.')[0]));
  for (const { label, listener, user } of cases) {
    await t.test(`produce and consume over ${label}, with kafkajs and kcat`, { timeout: 20_000 }, async (t) => {
      const { topic, value } = await roundTrip(kafkajsSecurityConfig(security, listener, user), label);
      if (user?.mechanism.startsWith('scram') && !scramWithKcat) {
        // This kcat cannot log in with SCRAM here (see kcatCanScram): check that it is
        // refused for that reason, and read the message back over PLAINTEXT instead.
        t.diagnostic(`kcat's librdkafka ${kcatLibrdkafka().join('.')} < 2.6.1 cannot use SCRAM with Kafka ${kafka.version}: read back over PLAINTEXT`);
        assert.match((await kcatMetadataError(kcatSecurity(security, listener, user))) ?? 'kcat succeeded', /SASL authentication error: Authentication failed during authentication due to invalid credentials/);
        assert.deepEqual(await kcatRead(['-b', security.listeners.plaintext], topic), [value]);
        return;
      }
      assert.deepEqual(await kcatRead(kcatSecurity(security, listener, user), topic), [value]);
    });
  }

  await t.test('a wrong password is rejected, for every mechanism', async () => {
    const kcatError = kcatMetadataError(kcatSecurity(security, 'saslSsl', { ...users.scramSha512, password: 'wrong' }));
    for (const user of Object.values(users)) {
      const err = await connectError(kafkajsSecurityConfig(security, 'saslSsl', { ...user, password: `${user.password}-wrong` }));
      assert.equal(err.name, 'KafkaJSSASLAuthenticationError', `${user.mechanism}: ${err.message}`);
      const mechanism = user.mechanism === 'plain' ? 'PLAIN' : user.mechanism.toUpperCase().replace('SCRAM-SHA-', 'SCRAM SHA');
      assert.match(err.message, new RegExp(`^SASL ${mechanism} authentication failed: Authentication failed`));
      assert.doesNotMatch(err.message, /s3cr3t/, 'the error does not carry the password');
    }
    assert.match((await kcatError) ?? 'kcat succeeded', /SASL authentication error: Authentication failed during authentication due to invalid credentials/);
  });

  await t.test('each SCRAM user exists for its own mechanism only, and unknown users are rejected', async () => {
    // scram256-user was created by `kafka-storage format --add-scram SCRAM-SHA-256=[...]`,
    // scram512-user by `kafka-configs --alter --add-config SCRAM-SHA-512=[...]`.
    for (const user of [
      { ...users.scramSha256, mechanism: 'scram-sha-512' as const },
      { ...users.scramSha512, mechanism: 'scram-sha-256' as const },
      { ...users.plain, mechanism: 'scram-sha-256' as const },
      { mechanism: 'plain' as const, username: 'nobody', password: users.plain.password },
    ]) {
      const err = await connectError(kafkajsSecurityConfig(security, 'saslSsl', user));
      assert.equal(err.name, 'KafkaJSSASLAuthenticationError', `${user.username} over ${user.mechanism}: ${err.message}`);
    }
  });

  await t.test('a client that does not trust the CA is rejected', async () => {
    const stranger = createCa(join(kafka.dir, 'stranger'), 'stranger-ca');
    const kcatError = kcatMetadataError(['-b', security.listeners.ssl, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${stranger.certFile}`]);
    const untrusting: [string, ClientConfig][] = [
      ['the system trust store, over SSL', { brokers: [security.listeners.ssl], ssl: true }],
      ['another CA, over SSL', { brokers: [security.listeners.ssl], ssl: tlsOptions(stranger.certFile) }],
      ['another CA, over SASL_SSL', { ...kafkajsSecurityConfig(security, 'saslSsl'), ssl: tlsOptions(stranger.certFile) }],
    ];
    for (const [what, config] of untrusting) {
      const err = await connectError(config);
      // With retries: 0 kafkajs wraps the socket's error: KafkaJSNumberOfRetriesExceeded, cause KafkaJSConnectionError.
      assert.equal(err.name, 'KafkaJSNumberOfRetriesExceeded', `${what}: ${err.message}`);
      assert.equal((err.cause as Error | undefined)?.name, 'KafkaJSConnectionError', what);
      assert.equal(err.message, 'Connection error: self-signed certificate in certificate chain', what);
    }
    assert.match((await kcatError) ?? 'kcat succeeded', /SSL handshake failed: .*certificate verify failed/);
  });

  await t.test('the server name is checked: a name the broker certificate does not carry is rejected', async () => {
    const err = await connectError({ brokers: [security.listeners.ssl], ssl: { ...tlsOptions(security.tls.caFile), servername: 'kafka.example.com' } });
    assert.match(err.message, /^Connection error: Hostname\/IP does not match certificate's altnames/);
  });

  await t.test('the mTLS listener rejects a client without a certificate, or with one from another CA', async () => {
    const kcatError = kcatMetadataError(['-b', security.listeners.mtls, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${security.tls.caFile}`]);
    const noCert = await connectError({ brokers: [security.listeners.mtls], ssl: tlsOptions(security.tls.caFile) });
    assert.equal(noCert.name, 'KafkaJSNumberOfRetriesExceeded', noCert.message);
    assert.match(noCert.message, /^Connection error: .*alert bad certificate.*SSL alert number 42/s);

    const stranger = createCa(join(kafka.dir, 'stranger-mtls'), 'stranger-ca');
    const strangerClient = issueCertificate(stranger, join(kafka.dir, 'stranger-mtls'), 'client', { client: true });
    const foreign = await connectError({ brokers: [security.listeners.mtls], ssl: tlsOptions(security.tls.caFile, strangerClient) });
    assert.match(foreign.message, /^Connection error: .*alert certificate unknown.*SSL alert number 46/s);

    // kcat without a client certificate, which the SSL listener took above, is rejected too.
    assert.match((await kcatError) ?? 'kcat succeeded', /alert bad certificate/);
  });

  await t.test('securityEnv() hands the same description to another process, by file', () => {
    const env = kafka.securityEnv();
    assert.deepEqual(Object.keys(env), [KAFKA_SECURITY_ENV]);
    assert.doesNotMatch(JSON.stringify(env), /s3cr3t/, 'no password in the environment');
    assert.deepEqual(securityFromEnv(env), security);
  });
});
