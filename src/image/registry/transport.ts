/**
 * One registry endpoint: scheme resolution (ping, https → http fallback for insecure hosts), TLS, auth.
 * `send` makes an authorized request and transparently handles one auth challenge per request.
 */
import { Readable } from 'node:stream';
import { TsdockError } from '../../errors.js';
import { Authorizer, type TokenCache } from './auth.js';
import type { Credentials } from './credentials.js';
import { AuthError, NetworkError, RegistryError, describeErrorBody, errorCodes } from './errors.js';
import { isRetryStatus, readErrorBody, request, type HttpRequestOptions, type HttpResponse } from './http.js';
import { sniffTls } from './sniff.js';
import { UNTRUSTED_CHAIN_CODES } from './trust.js';
import { rememberScheme, transportPolicy, type TransportPolicy } from './tls.js';

export interface TransportOptions {
  /** the registry as named in references (docker.io), for messages */
  registry: string;
  /** the host API calls go to (registry-1.docker.io) */
  host: string;
  /** for messages: `docker.io/library/alpine` */
  target: string;
  scopes: string[];
  tlsVerify?: boolean;
  insecure?: boolean;
  certDirs?: string[];
  env: NodeJS.ProcessEnv;
  credentials: () => Promise<Credentials | undefined>;
  signal?: AbortSignal;
  userAgent: string;
  attempts?: number;
  retryDelayMs?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  tokenCache?: TokenCache;
  /** which scheme each host answered on, kept across processes (tls.ts loadSchemeCache) */
  schemeCacheFile?: string;
}

export class RegistryTransport {
  private readonly policy: TransportPolicy;
  private readonly auth: Authorizer;
  private origin: URL | undefined;
  private pinging: Promise<void> | undefined;

  constructor(private readonly opts: TransportOptions) {
    const policyOpts: Parameters<typeof transportPolicy>[1] = { env: opts.env };
    if (opts.tlsVerify !== undefined) policyOpts.tlsVerify = opts.tlsVerify;
    if (opts.insecure !== undefined) policyOpts.insecure = opts.insecure;
    if (opts.certDirs !== undefined) policyOpts.certDirs = opts.certDirs;
    if (opts.schemeCacheFile !== undefined) policyOpts.schemeCacheFile = opts.schemeCacheFile;
    this.policy = transportPolicy(opts.host, policyOpts);
    this.auth = new Authorizer({
      target: opts.target,
      origin: () => this.origin ?? new URL(`https://${opts.host}`),
      scopes: opts.scopes,
      credentials: opts.credentials,
      send: (o) => this.http(o),
      ...(opts.tokenCache ? { cache: opts.tokenCache } : {}),
    });
  }

  /** A plain request with this registry's settings; TLS options only for the registry's own origin. */
  http(o: HttpRequestOptions): Promise<HttpResponse> {
    const url = new URL(o.url);
    const full: HttpRequestOptions = {
      ...o,
      headers: { 'user-agent': this.opts.userAgent, ...o.headers },
    };
    if (url.host === this.opts.host && url.protocol === 'https:') full.tls = this.policy.tls;
    if (this.opts.signal) full.signal = this.opts.signal;
    if (full.attempts === undefined && this.opts.attempts !== undefined) full.attempts = this.opts.attempts;
    if (this.opts.retryDelayMs !== undefined) full.retryDelayMs = this.opts.retryDelayMs;
    if (this.opts.connectTimeoutMs !== undefined) full.connectTimeoutMs = this.opts.connectTimeoutMs;
    if (this.opts.idleTimeoutMs !== undefined) full.idleTimeoutMs = this.opts.idleTimeoutMs;
    return request(full);
  }

  /** GET /v2/ once per transport: decides the scheme and learns the auth challenge. */
  ready(): Promise<void> {
    this.pinging ??= this.ping().catch((err: unknown) => {
      this.pinging = undefined;
      throw err;
    });
    return this.pinging;
  }

  private async ping(): Promise<void> {
    const schemes = this.policy.schemes;
    let firstError: NetworkError | undefined;
    for (const [i, scheme] of schemes.entries()) {
      const url = new URL(`${scheme}://${this.opts.host}/v2/`);
      const last = i === schemes.length - 1;
      // https with http still to try (a loopback or insecure registry not seen before): a port that answers a
      // ClientHello in http is not asked over TLS at all (sniff.ts); any other answer tries https as before
      if (!last && scheme === 'https' && (await sniffTls(this.opts.host, 1000, this.opts.signal)) === 'http') continue;
      let res: HttpResponse;
      try {
        // still a probe (http.ts): an https server needs no trust store to fail against, an http one does
        res = await this.http({ url, ...(last ? {} : { attempts: 1, ...(scheme === 'https' ? { probe: true } : {}) }) });
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        if (scheme === 'https' && isCertificateError(err)) {
          throw new NetworkError(
            `tls verification failed for registry ${this.opts.registry}: ${err.message} (install its CA as /etc/docker/certs.d/${this.opts.host}/ca.crt, or use --tls-verify=false)`,
            err.code,
            { cause: err },
          );
        }
        firstError ??= err;
        if (!last) continue;
        const why = firstError === err ? err.message : `${firstError.message}; ${err.message}`;
        throw new NetworkError(`cannot reach registry ${this.opts.registry}: ${why}`, firstError.code, { cause: err });
      }
      // plain http tried first (the scheme this host answered on before) and an https server on that port now:
      // Go's TLS servers answer such a request with 400; the next scheme decides
      if (!last && scheme === 'http' && res.status === 400) {
        res.body.resume();
        continue;
      }
      this.origin = new URL(url.origin);
      rememberScheme(this.opts.host, scheme, this.opts.schemeCacheFile);
      if (!last && (res.status >= 500 || res.status === 429)) {
        res.body.resume();
        res = await this.http({ url });
      }
      if (res.status === 401) {
        await readErrorBody(res);
        this.auth.learn(res);
        return;
      }
      if (res.status >= 200 && res.status < 300) {
        res.body.resume();
        return;
      }
      const detail = describeErrorBody(await readErrorBody(res));
      throw new RegistryError(
        `registry ${this.opts.registry} (${url.origin}) answered ${res.status} to GET /v2/${detail ? `: ${detail}` : ''}`,
        res.status,
      );
    }
    throw new TsdockError(`no scheme to reach registry ${this.opts.registry}`);
  }

  /** The registry's API origin, once `ready()` resolved. */
  get base(): URL {
    if (!this.origin) throw new Error(`registry ${this.opts.registry} used before ping`);
    return this.origin;
  }

  /**
   * The first request goes out without a ping when the scheme is not in doubt (policy.known): it meets the same
   * auth challenge a ping would, and a ping costs a round trip on every pull. Requests made meanwhile wait for its
   * answer. If it cannot connect, or plain http meets a TLS server (Go answers 400), the ping decides as before
   * and undefined sends the request again after it. An upload (a stream body, sent once) always waits for a ping.
   */
  private async unpinged(once: (attempts?: number) => Promise<HttpResponse>): Promise<HttpResponse | undefined> {
    const known = this.policy.known!;
    let answered!: (schemeHeld: boolean) => void;
    this.pinging = new Promise<boolean>((resolve) => (answered = resolve))
      .then((held) => (held ? undefined : this.ping()))
      .catch((err: unknown) => {
        this.pinging = undefined;
        throw err;
      });
    this.origin = new URL(`${known}://${this.opts.host}`);
    let res: HttpResponse;
    try {
      res = await once(1);
    } catch (err) {
      const connected = !(err instanceof NetworkError);
      if (!connected) this.origin = undefined;
      answered(connected);
      if (connected) throw err;
      return undefined;
    }
    const wrongScheme = known === 'http' && res.status === 400;
    if (wrongScheme) this.origin = undefined;
    else rememberScheme(this.opts.host, known, this.opts.schemeCacheFile);
    answered(!wrongScheme);
    if (!wrongScheme && !isRetryStatus(res.status)) return res;
    res.body.resume();
    // a busy registry answered: the scheme holds, and the request goes again with the usual retries
    return wrongScheme ? undefined : once();
  }

  /** An authorized request to `path` on the registry; 401 → (re)authenticate and retry once; 403 → AuthError. */
  async send(method: string, path: string, headers: Record<string, string> = {}, body?: HttpRequestOptions['body']): Promise<HttpResponse> {
    // a path, or an upload's Location: relative to the registry, or absolute on another host (no credentials there)
    const target = (): { url: URL; own: boolean } => {
      const url = new URL(path, this.base);
      return { url, own: url.host === this.base.host };
    };
    const once = async (attempts?: number): Promise<HttpResponse> => {
      const { url, own } = target();
      const authorization = own ? await this.auth.header() : undefined;
      return this.http({ method, url, headers: authorization ? { ...headers, authorization } : headers, ...(body !== undefined ? { body } : {}), ...(attempts ? { attempts } : {}) });
    };
    let res = !this.pinging && this.policy.known && !(body instanceof Readable) ? await this.unpinged(once) : undefined;
    if (!res) {
      await this.ready();
      res = await once();
    }
    if (res.status === 401 && body instanceof Readable) {
      const detail = describeErrorBody(await readErrorBody(res));
      throw new AuthError(`authentication failed for ${this.opts.target} during an upload${detail ? `: ${detail}` : ''}`, 401);
    }
    if (res.status === 401) {
      const usedScheme = this.auth.scheme;
      const body = await readErrorBody(res);
      this.auth.invalidate();
      if (!this.auth.learn(res)) {
        throw new AuthError(`authentication failed for ${this.opts.target}: ${describeErrorBody(body) || 'no usable challenge'}`, 401, errorCodes(body));
      }
      res = await once();
      if (res.status === 401) {
        const detail = describeErrorBody(await readErrorBody(res));
        const creds = await this.opts.credentials();
        if (!creds) throw this.auth.authRequired();
        if (usedScheme === 'basic' || this.auth.scheme === 'basic') throw this.auth.invalidCredentials();
        throw this.auth.invalidCredentials(detail || 'insufficient scope');
      }
    }
    if (res.status === 403) {
      const body = await readErrorBody(res);
      const detail = describeErrorBody(body);
      throw new AuthError(`access denied to ${this.opts.target}${detail ? `: ${detail}` : ''}`, 403, errorCodes(body));
    }
    return res;
  }
}

/** an untrusted chain (trust.ts), or a certificate out of date or for another name */
const CERT_ERRORS = new Set([...UNTRUSTED_CHAIN_CODES, 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** A TLS server answered but its certificate did not verify: falling back to http would hide that. */
function isCertificateError(err: NetworkError): boolean {
  const code = err.code ?? (err.cause as { code?: string } | undefined)?.code;
  return code !== undefined && CERT_ERRORS.has(code);
}
