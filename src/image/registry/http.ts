/**
 * A small HTTP(S) client on node:http/node:https (not fetch: per-host CAs and client certs, streaming bodies).
 *
 * - Redirects (301/302/303/307/308) are followed, up to 10. Authorization is dropped when the origin changes
 *   (blob downloads redirect to storage backends with their own signed URLs); TLS options apply only to the
 *   original origin, other origins use the system CAs.
 * - Retries, with backoff `retryDelayMs · 2^n` (default 200 ms, 3 attempts in total), on 429/500/502/503/504
 *   and on transient network errors: ECONNRESET (incl. "socket hang up"), EPIPE, ETIMEDOUT, ECONNABORTED,
 *   EAI_AGAIN and our own timeouts. Not retried: ECONNREFUSED, ENOTFOUND and TLS failures — they are
 *   deterministic, and failing fast on them is what makes the https → http probe for insecure hosts quick.
 *   `Retry-After` (seconds, capped at 10) is honoured on 429/503. Only whole requests are retried: once the
 *   response is handed over, a broken body stream is the caller's to resume (Range).
 * - Timeouts: `connectTimeoutMs` (default 30 s) until the socket connects; `idleTimeoutMs` (default 60 s)
 *   without socket activity, also while the caller streams the body. Both fail with NetworkError ETIMEDOUT.
 * - An AbortSignal aborts the request, the body stream and any backoff sleep (AbortError propagates as is).
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsdockError } from '../../errors.js';
import { NetworkError } from './errors.js';
import { extraCaDeferred, isUntrustedChain, noteTrustNeeded, tlsConnectionFor, trustNeeded, type Trust } from './trust.js';

export interface TlsOptions {
  /** full CA list (system roots plus extras), or undefined for the system roots */
  ca?: (string | Buffer)[];
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

export interface HttpRequestOptions {
  method?: string;
  url: string | URL;
  headers?: Record<string, string>;
  /** a stream body is sent once: no retries, no redirects (uploads); give its content-length in `headers` */
  body?: Buffer | string | Readable;
  /** applied to requests to the original url's origin only */
  tls?: TlsOptions;
  signal?: AbortSignal;
  /** total attempts (default 3) */
  attempts?: number;
  retryDelayMs?: number;
  maxRedirects?: number;
  followRedirects?: boolean;
  /** a first contact where plain http is likely (trust.ts): the https attempt carries no trust store, and a server
   * that presents a chain is verified again with one */
  probe?: boolean;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  /** the final url, after redirects */
  url: URL;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/** a status answered to a request that is worth sending again after a pause */
export function isRetryStatus(status: number): boolean {
  return RETRY_STATUS.has(status);
}

export function isRetryableError(err: unknown): boolean {
  return err instanceof NetworkError && RETRY_CODES.has(err.code);
}

export async function request(opts: HttpRequestOptions): Promise<HttpResponse> {
  const attempts = opts.body instanceof Readable ? 1 : Math.max(1, opts.attempts ?? 3);
  const baseDelay = opts.retryDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    let res: HttpResponse;
    try {
      res = await requestFollowingRedirects(opts);
    } catch (err) {
      if (attempt >= attempts || opts.signal?.aborted || !isRetryableError(err)) throw err;
      await sleep(baseDelay * 2 ** (attempt - 1), undefined, opts.signal ? { signal: opts.signal } : undefined);
      continue;
    }
    if (attempt >= attempts || !RETRY_STATUS.has(res.status)) return res;
    res.body.resume();
    await sleep(retryDelay(res, baseDelay * 2 ** (attempt - 1)), undefined, opts.signal ? { signal: opts.signal } : undefined);
  }
}

function retryDelay(res: HttpResponse, backoff: number): number {
  const header = res.headers['retry-after'];
  const seconds = header !== undefined ? Number(header) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 10) * 1000 : backoff;
}

async function requestFollowingRedirects(opts: HttpRequestOptions): Promise<HttpResponse> {
  const origin = new URL(opts.url);
  let url = origin;
  let method = opts.method ?? 'GET';
  let body = opts.body;
  const headers: Record<string, string> = { ...opts.headers };
  const maxRedirects = opts.maxRedirects ?? 10;
  for (let redirects = 0; ; redirects++) {
    const sameOrigin = url.origin === origin.origin;
    const res = await requestTrusting(url, method, headers, body, sameOrigin ? opts.tls : undefined, opts);
    const location = res.headers.location;
    if (opts.followRedirects === false || body instanceof Readable || !REDIRECT_STATUS.has(res.statusCode ?? 0) || !location) {
      return { status: res.statusCode ?? 0, headers: res.headers, body: res, url };
    }
    res.resume();
    if (redirects >= maxRedirects) throw new TsdockError(`too many redirects (more than ${maxRedirects}) for ${origin.href}`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new TsdockError(`refusing redirect from ${url.href} to unsupported url ${next.href}`);
    }
    if (next.origin !== url.origin) delete headers.authorization;
    if (res.statusCode === 303 && method !== 'HEAD') {
      method = 'GET';
      body = undefined;
      delete headers['content-type'];
      delete headers['content-length'];
    }
    url = next;
  }
}

/**
 * One request under the least trust store that can do (trust.ts): none for a probe or where nothing is verified,
 * else the roots, made again with the next store when the server's chain did not verify (none → roots → the
 * deferred extras); the origin keeps what it needed. A stream body cannot be sent twice: it goes with the most its
 * origin may need (an upload follows requests that found out already).
 */
async function requestTrusting(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | string | Readable | undefined,
  tls: TlsOptions | undefined,
  opts: HttpRequestOptions,
): Promise<http.IncomingMessage> {
  if (url.protocol !== 'https:') return requestOnce(url, method, headers, body, tls, opts, 'roots');
  if (tls?.rejectUnauthorized === false) return requestOnce(url, method, headers, body, tls, opts, 'none');
  const deferred = extraCaDeferred();
  let trust: Trust = trustNeeded(url.origin) ?? (opts.probe ? 'none' : 'roots');
  if (body instanceof Readable && trust !== 'extras') trust = deferred ? 'extras' : 'roots';
  for (;;) {
    try {
      return await requestOnce(url, method, headers, body, tls, opts, trust);
    } catch (err) {
      const next: Trust | undefined = trust === 'none' ? 'roots' : trust === 'roots' && deferred ? 'extras' : undefined;
      if (!next || body instanceof Readable || !isUntrustedChain(err)) throw err;
      noteTrustNeeded(url.origin, next);
      trust = next;
    }
  }
}

function requestOnce(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | string | Readable | undefined,
  tls: TlsOptions | undefined,
  opts: HttpRequestOptions,
  trust: Trust,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const options: https.RequestOptions = { method, headers: { ...headers } };
    if (secure) {
      const conn = tlsConnectionFor(tls, trust);
      if (conn) {
        // https passes it on to tls.connect (its typings leave it out of RequestOptions)
        (options as https.RequestOptions & { secureContext?: unknown }).secureContext = conn.secureContext;
        options.agent = conn.agent;
      }
      if (tls?.rejectUnauthorized === false) options.rejectUnauthorized = false;
    }
    if (body !== undefined && !(body instanceof Readable)) (options.headers as Record<string, string | number>)['content-length'] = Buffer.byteLength(body);
    const signal = opts.signal;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const req = (secure ? https : http).request(url, options);
    let response: http.IncomingMessage | undefined;
    const fail = (err: Error): void => {
      if (response) response.destroy(err);
      else req.destroy(err);
    };
    // our own abort handling (not the `signal` option) so the body stream fails with the AbortError too
    const onAbort = (): void => fail(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => {
      if (!response) signal?.removeEventListener('abort', onAbort);
    });
    const connectTimeout = opts.connectTimeoutMs ?? 30_000;
    const connectTimer = setTimeout(() => {
      fail(new NetworkError(`connection to ${url.host} timed out after ${connectTimeout} ms`, 'ETIMEDOUT'));
    }, connectTimeout);
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    const idleTimeout = opts.idleTimeoutMs ?? 60_000;
    req.setTimeout(idleTimeout, () => {
      fail(new NetworkError(`no data from ${url.host} for ${idleTimeout} ms`, 'ETIMEDOUT'));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (response) return; // the body stream reports it
      reject(toNetworkError(err, method, url));
    });
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      response = res;
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      resolve(res);
    });
    if (body instanceof Readable) {
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end(body);
  });
}

function abortReason(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error('the operation was aborted');
  err.name = 'AbortError';
  return err;
}

function toNetworkError(err: NodeJS.ErrnoException, method: string, url: URL): Error {
  if (err instanceof NetworkError || err.name === 'AbortError') return err;
  const code = err.code ?? 'EUNKNOWN';
  return new NetworkError(`${method} ${url.origin}${url.pathname}: ${err.message}`, code, { cause: err });
}

/** Read a whole body, failing when it is larger than `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const length = Number(res.headers['content-length']);
  if (Number.isFinite(length) && length > limit) {
    res.body.destroy();
    throw new TsdockError(`${what} is too large: ${length} bytes (limit ${limit})`);
  }
  return readStream(res.body, limit, what);
}

/**
 * Collect a stream into a Buffer, failing (and destroying the stream) past `limit` bytes. Plain events, not an
 * async iterator: a manifest is the first body a pull reads, and the iterator's machinery costs a cold CLI ~1 ms.
 */
export function readStream(stream: Readable, limit: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        finish();
        stream.destroy();
        reject(new TsdockError(`${what} is too large: more than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      finish();
      reject(err);
    };
    // a stream destroyed without an error (an abort elsewhere) ends neither way: it closes
    const onClose = (): void => {
      finish();
      reject(stream.errored ?? new TsdockError(`${what}: the connection closed before the end`));
    };
    const finish = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** Read at most `limit` bytes of an error body (for messages), discarding the rest. */
export async function readErrorBody(res: HttpResponse, limit = 64 * 1024): Promise<Buffer> {
  try {
    return await readBody(res, limit, 'error body');
  } catch {
    return Buffer.alloc(0);
  }
}
