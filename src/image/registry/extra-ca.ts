/**
 * NODE_EXTRA_CA_CERTS, applied where tsdock speaks TLS instead of at Node's start. Node reads and parses that file
 * before any JavaScript runs (~40 ms for Debian's whole bundle on this machine, more than half of `node -e 0`), and
 * most commands never open a TLS connection. So bin/tsdock's launcher hands the variable over as
 * TSDOCK_EXTRA_CA_CERTS (native/launch), the loader puts NODE_EXTRA_CA_CERTS back for what tsdock starts, and every
 * https request here trusts those certificates as Node would have: the bundled roots plus the file's.
 */
import fs from 'node:fs';
import tls from 'node:tls';

let extra: string[] | undefined;

/** The deferred file's certificates (PEM), read once; none when Node loaded them itself or the file is unreadable. */
export function deferredExtraCa(env: NodeJS.ProcessEnv = process.env): string[] {
  if (extra) return extra;
  const file = env.TSDOCK_EXTRA_CA_CERTS;
  extra = [];
  if (!file) return extra;
  try {
    extra = fs.readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  } catch {
    // as Node does with an unreadable file: the bundled roots alone
  }
  return extra;
}

/** The CA list for a TLS connection: `ca` (or the bundled roots) plus the deferred extra certificates; undefined
 * when nothing is deferred, so Node's default store is used as it is. */
export function caWithExtras(ca: (string | Buffer)[] | undefined): (string | Buffer)[] | undefined {
  const more = deferredExtraCa();
  if (more.length === 0) return ca;
  return [...(ca ?? tls.rootCertificates), ...more];
}
