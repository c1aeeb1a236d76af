// Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost signed by it, and a
// self-signed RSA certificate used to sign registry bearer tokens (it is also the registry's rootcertbundle).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { run } from './proc.js';

export interface TestCA {
  certPath: string;
  keyPath: string;
}

export interface CertPair {
  certPath: string;
  keyPath: string;
}

export async function makeTestCA(dir: string, cn = 'tsdock test CA'): Promise<TestCA> {
  mkdirSync(dir, { recursive: true });
  const keyPath = path.join(dir, 'ca.key');
  const certPath = path.join(dir, 'ca.crt');
  await run('openssl', [
    'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '7', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { certPath, keyPath };
}

/** Server certificate for the given IPs / DNS names, signed by `ca`. */
export async function makeServerCert(
  dir: string,
  ca: TestCA,
  sans: { ips?: string[]; dns?: string[] } = { ips: ['127.0.0.1'], dns: ['localhost'] },
  name = 'server',
): Promise<CertPair> {
  mkdirSync(dir, { recursive: true });
  const keyPath = path.join(dir, `${name}.key`);
  const csrPath = path.join(dir, `${name}.csr`);
  const certPath = path.join(dir, `${name}.crt`);
  const extPath = path.join(dir, `${name}.ext`);
  const san = [...(sans.ips ?? []).map((i) => `IP:${i}`), ...(sans.dns ?? []).map((d) => `DNS:${d}`)].join(',');
  writeFileSync(
    extPath,
    [
      `subjectAltName=${san}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await run('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${sans.ips?.[0] ?? sans.dns?.[0] ?? 'localhost'}`,
  ]);
  await run('openssl', [
    'x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath,
    '-set_serial', '0x' + randomBytes(8).toString('hex'), '-days', '7', '-sha256',
    '-extfile', extPath, '-out', certPath,
  ]);
  return { certPath, keyPath };
}

/** Self-signed RSA-2048 certificate + key for RS256 token signing. */
export async function makeTokenSigningCert(dir: string): Promise<CertPair> {
  mkdirSync(dir, { recursive: true });
  const keyPath = path.join(dir, 'token-signer.key');
  const certPath = path.join(dir, 'token-signer.crt');
  await run('openssl', [
    'req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256',
    '-keyout', keyPath, '-out', certPath, '-days', '7', '-subj', '/CN=tsdock-test-token-signer',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
  ]);
  return { certPath, keyPath };
}

/** Whether the openssl CLI is here (the unit tests that need a certificate skip without it). */
export function opensslPresent(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed EC certificate for one IP (its own CA, valid 2 days), made synchronously in `dir`. */
export function makeSelfSignedCert(dir: string, ip = '127.0.0.1'): CertPair {
  mkdirSync(dir, { recursive: true });
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`,
  ], { stdio: 'ignore' });
  return { certPath, keyPath };
}
