/**
 * NODE_EXTRA_CA_CERTS, applied where tsdock speaks TLS instead of at Node's start. Node reads and parses that file
 * before any JavaScript runs (~40 ms for Debian's whole bundle on this machine, more than half of `node -e 0`), and
 * most commands never open a TLS connection. So bin/tsdock's launcher hands the variable over as
 * TSDOCK_EXTRA_CA_CERTS (native/launch), the loader puts NODE_EXTRA_CA_CERTS back for what tsdock starts, and https
 * requests here trust those certificates as Node would have: the bundled roots plus the file's.
 *
 * Even then they are parsed only when a server's chain needs them (another ~50 ms: OpenSSL 3 parses each of the
 * ~280 certificates): a connection is first made with the bundled roots, and one whose chain does not verify is
 * made again with the extras (http.ts), which its origin then keeps using. A plain-http registry's https probe or a
 * public registry never pays for them.
 */
import fs from 'node:fs';
import https from 'node:https';
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

/** Whether extra certificates are deferred at all (the file is only read when they are needed). */
export function extraCaDeferred(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.TSDOCK_EXTRA_CA_CERTS);
}

/** the codes of a chain that did not verify for want of a trusted issuer (not expiry or a wrong name) */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_UNTRUSTED']);

export function isUntrustedChain(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return UNTRUSTED.has(e?.code ?? '') || UNTRUSTED.has(e?.cause?.code ?? '');
}

const extrasNeeded = new Set<string>();

/** An origin whose chain needed the extra certificates: its next connections trust them at once. */
export function needsExtraCa(origin: string): boolean {
  return extrasNeeded.has(origin);
}

export function markNeedsExtraCa(origin: string): void {
  extrasNeeded.add(origin);
}

export interface TlsConnection {
  secureContext: tls.SecureContext;
  /** its own connection pool: https.Agent keys pooled sockets by host and options, not by the secure context, so a
   * socket verified under one CA list must not be handed to a request made under another */
  agent: https.Agent;
}

export interface HostTls {
  ca?: (string | Buffer)[];
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

const made = new WeakMap<object, { plain?: TlsConnection; extras?: TlsConnection }>();
const NO_OPTIONS = {};

/**
 * The TLS context (and its pool) for connections made with `options` (a host's CAs and client certificate, tls.ts),
 * made once per options object, with or without the deferred extra certificates. Undefined where Node's default
 * context does the same: no CA or client certificate of the host's own, and no extras asked for (or no CA looked at:
 * verification off).
 */
export function tlsConnectionFor(options: HostTls | undefined, withExtras: boolean): TlsConnection | undefined {
  const more = withExtras && options?.rejectUnauthorized !== false ? deferredExtraCa() : [];
  if (!options?.ca && !options?.cert && more.length === 0) return undefined;
  const key = options ?? NO_OPTIONS;
  const both = made.get(key) ?? {};
  made.set(key, both);
  const which = more.length ? 'extras' : 'plain';
  let conn = both[which];
  if (!conn) {
    const ca = options?.ca || more.length ? [...(options?.ca ?? tls.rootCertificates), ...more] : undefined;
    const secureContext = tls.createSecureContext({ ...(ca ? { ca } : {}), ...(options?.cert ? { cert: options.cert } : {}), ...(options?.key ? { key: options.key } : {}) });
    conn = { secureContext, agent: new https.Agent({ keepAlive: true }) };
    both[which] = conn;
  }
  return conn;
}
