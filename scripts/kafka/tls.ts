/**
 * A throwaway PKI for the test broker, made with the openssl command line:
 * a CA, a server certificate for the loopback names (SAN) and a client
 * certificate for mTLS, all PEM, keys unencrypted PKCS#8, valid for a few
 * days. Nothing here is ever committed: every run makes new keys.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';

export interface CertificateAuthority {
  /** The CA certificate, the trust anchor to hand to clients (and to the broker, for client certs). */
  certFile: string;
  keyFile: string;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  /** The key, then the certificate, then the CA: what Kafka's PEM key store (ssl.keystore.type=PEM) reads. */
  keystoreFile: string;
}

export interface TestPki {
  dir: string;
  /** The CA that signed the broker and client certificates. */
  caFile: string;
  broker: IssuedCertificate;
  /** A client certificate (CN=logship-client) for mTLS. */
  client: IssuedCertificate;
}

/** The names the broker certificate is valid for. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::LOGSHIP_TLS_SAN
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const DAYS = '7';

function openssl(args: string[], env: NodeJS.ProcessEnv = {}): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOGSHIP_TLS_SAN: 'DNS:localhost', ...env } });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`, { cause: err });
  }
}

function configFile(dir: string): string {
  const file = join(dir, 'openssl.cnf');
  writeFileSync(file, CONFIG);
  return file;
}

/** A new self-signed CA in `dir`, files `<name>.pem` and `<name>-key.pem`. */
export function createCa(dir: string, name = 'ca'): CertificateAuthority {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  openssl([
    'req', '-x509', '-config', configFile(dir), '-extensions', 'ca_ext',
    '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', DAYS,
    '-subj', `/O=logship test/CN=logship throwaway CA ${name} ${randomBytes(4).toString('hex')}`,
  ]);
  return { certFile, keyFile };
}

/**
 * A certificate signed by `ca`: a server certificate valid for `hosts`
 * (subjectAltName, DNS or IP), or a client certificate with CN `name`.
 */
export function issueCertificate(
  ca: CertificateAuthority,
  dir: string,
  name: string,
  usage: { server: string[] } | { client: true },
): IssuedCertificate {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const config = configFile(dir);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  openssl(['req', '-new', '-config', config, '-key', keyFile, '-subj', `/O=logship test/CN=${'server' in usage ? usage.server[0] : name}`, '-out', csr]);
  const san = 'server' in usage ? usage.server.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',') : 'DNS:localhost';
  openssl(
    [
      'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
      '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', DAYS,
      '-extfile', config, '-extensions', 'server' in usage ? 'server_ext' : 'client_ext', '-out', certFile,
    ],
    { LOGSHIP_TLS_SAN: san },
  );
  rmSync(csr);
  const keystoreFile = join(dir, `${name}-keystore.pem`);
  writeFileSync(keystoreFile, [keyFile, certFile, ca.certFile].map((f) => readFileSync(f, 'utf8').trim()).join('\n') + '\n', { mode: 0o600 });
  return { certFile, keyFile, keystoreFile };
}

/** A CA, a broker certificate for the loopback names and a client certificate, in `dir`. */
export function createTestPki(dir: string, brokerHosts: string[] = LOOPBACK_NAMES): TestPki {
  const ca = createCa(dir, 'ca');
  return {
    dir,
    caFile: ca.certFile,
    broker: issueCertificate(ca, dir, 'broker', { server: brokerHosts }),
    client: issueCertificate(ca, dir, 'client', { client: true }),
  };
}

/**
 * Node TLS options (kafkajs takes them as `ssl`) that trust `caFile` and,
 * when given, present a client certificate.
 */
export function tlsOptions(caFile: string, client?: { certFile: string; keyFile: string }): ConnectionOptions {
  return {
    ca: [readFileSync(caFile, 'utf8')],
    ...(client ? { cert: readFileSync(client.certFile, 'utf8'), key: readFileSync(client.keyFile, 'utf8') } : {}),
  };
}
