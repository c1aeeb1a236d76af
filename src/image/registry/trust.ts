/**
 * Which CAs a TLS connection trusts, and each list built as late as it can be: OpenSSL 3 parses certificates
 * slowly (~20 ms for the ~140 bundled roots, ~50 ms more for a distribution's whole bundle), and many connections
 * never look at one.
 *
 * - **none**: no trust store at all, for a probe where plain http is likely (a loopback registry's first contact:
 *   an http server fails the handshake before any certificate) and where nothing is verified (`--tls-verify=false`).
 *   A server that presents a chain to a probe fails with an untrusted-chain error and is verified again (http.ts).
 * - **roots**: the host's own CAs (certs.d) or the bundled roots: Node's default context.
 * - **extras**: those plus NODE_EXTRA_CA_CERTS. Node reads and parses that file before any JavaScript runs (~40 ms
 *   here, more than half of `node -e 0`), and most commands never open a TLS connection, so bin/tsdock's launcher
 *   hands the variable over as TSDOCK_EXTRA_CA_CERTS (native/launch) and the loader puts NODE_EXTRA_CA_CERTS back for
 *   what tsdock starts. A connection whose chain does not verify against the roots is made again with the extras,
 *   and its origin keeps them, so the file is parsed only when a server needs it.
 */
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';

export type Trust = 'none' | 'roots' | 'extras';

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
export const UNTRUSTED_CHAIN_CODES: readonly string[] = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_UNTRUSTED'];
const UNTRUSTED = new Set(UNTRUSTED_CHAIN_CODES);

export function isUntrustedChain(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return UNTRUSTED.has(e?.code ?? '') || UNTRUSTED.has(e?.cause?.code ?? '');
}

/** what each origin needed so far: its next connections start there */
const needed = new Map<string, Trust>();

export function trustNeeded(origin: string): Trust | undefined {
  return needed.get(origin);
}

export function noteTrustNeeded(origin: string, trust: Trust): void {
  needed.set(origin, trust);
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

const made = new WeakMap<object, Partial<Record<Trust, TlsConnection>>>();
const NO_OPTIONS = {};

/**
 * The TLS context (and its pool) for connections made with `options` (a host's CAs and client certificate, tls.ts)
 * under `trust`, made once per options object and trust. Undefined where Node's default context is the same: roots
 * asked for, and no CA or client certificate of the host's own.
 */
export function tlsConnectionFor(options: HostTls | undefined, trust: Trust): TlsConnection | undefined {
  const more = trust === 'extras' ? deferredExtraCa() : [];
  if (trust !== 'none' && !options?.ca && !options?.cert && more.length === 0) return undefined;
  const key = options ?? NO_OPTIONS;
  const all = made.get(key) ?? {};
  made.set(key, all);
  let conn = all[trust];
  if (!conn) {
    const ca = trust === 'none' ? [] : options?.ca || more.length ? [...(options?.ca ?? tls.rootCertificates), ...more] : undefined;
    const secureContext = tls.createSecureContext({ ...(ca ? { ca } : {}), ...(options?.cert ? { cert: options.cert } : {}), ...(options?.key ? { key: options.key } : {}) });
    conn = { secureContext, agent: new https.Agent({ keepAlive: true }) };
    all[trust] = conn;
  }
  return conn;
}
