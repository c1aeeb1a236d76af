/**
 * A client for one repository on one registry (OCI distribution spec, pull side).
 *
 * docker.io is reached at registry-1.docker.io while credentials are looked up under docker.io
 * (`https://index.docker.io/v1/`). Insecure/blocked come from registries.conf (loaded from `env` unless
 * passed in). Auth challenges are handled transparently; see transport.ts, auth.ts and tls.ts.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { loadRegistriesConf, isBlocked, isInsecure, type RegistriesConf } from '../../config/registries.js';
import { IntegrityError, NotFoundError, TsdockError, UsageError } from '../../errors.js';
import { digestOf, isDigest, parseDigest, verifyBytes } from '../digest.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_SIZE, stripMediaTypeParams } from '../manifest.js';
import type { TokenCache } from './auth.js';
import { getCredentials, type Credentials } from './credentials.js';
import { RegistryError, describeErrorBody, errorCodes } from './errors.js';
import { readBody, readErrorBody, readStream, type HttpResponse } from './http.js';
import { RegistryTransport } from './transport.js';
import { Uploads } from './upload.js';

export interface RegistryClientOptions {
  /** as in references: `docker.io`, `quay.io`, `127.0.0.1:5000` */
  registry: string;
  repository: string;
  env: NodeJS.ProcessEnv;
  /** true: https with verification only; false: skip verification, allow http; default: see tls.ts */
  tlsVerify?: boolean;
  certDirs?: string[];
  /** explicit credentials; null = anonymous; undefined = look up (credentials.ts) */
  credentials?: Credentials | null;
  /** replaces tsdock's auth file for the lookup (podman's --authfile) */
  authFile?: string;
  /** overrides registries.conf `insecure` */
  insecure?: boolean;
  registriesConf?: RegistriesConf;
  signal?: AbortSignal;
  userAgent?: string;
  /** defaults to ['pull'] */
  actions?: ('pull' | 'push')[];
  /** more token scopes, e.g. `repository:<from>:pull` for a cross-repository mount */
  extraScopes?: string[];
  retry?: { attempts?: number; delayMs?: number };
  timeouts?: { connectMs?: number; idleMs?: number };
  tokenCache?: TokenCache;
  /** which scheme each host answered on, kept across processes (a file in the user's runtime dir) */
  schemeCacheFile?: string;
}

export interface ManifestResult {
  bytes: Buffer;
  /** the body's mediaType when it has one, else the Content-Type header (without parameters) */
  mediaType: string;
  digest: string;
}

export interface BlobResult {
  /** the blob's bytes from the requested offset on; the caller verifies the digest */
  stream: Readable;
  /** bytes this stream will yield, when known */
  size?: number;
  /** size of the whole blob, when known */
  totalSize?: number;
}

export const USER_AGENT = `tsdock/0.1.0 (node ${process.version}; ${process.platform})`;

/** docker.io's API lives at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  readonly host: string;
  private readonly transport: RegistryTransport;
  private readonly conf: RegistriesConf;
  private credentialsPromise: Promise<Credentials | undefined> | undefined;

  constructor(private readonly opts: RegistryClientOptions) {
    this.registry = opts.registry;
    this.repository = opts.repository;
    this.host = apiHost(opts.registry);
    this.conf = opts.registriesConf ?? loadRegistriesConf(opts.env);
    const insecure = opts.insecure ?? (isInsecure(this.conf, this.registry) || isInsecure(this.conf, this.host));
    const actions = opts.actions ?? ['pull'];
    this.transport = new RegistryTransport({
      registry: this.registry,
      host: this.host,
      target: this.target,
      scopes: [...(this.repository ? [`repository:${this.repository}:${actions.join(',')}`] : []), ...(opts.extraScopes ?? [])],
      ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}),
      insecure,
      ...(opts.certDirs ? { certDirs: opts.certDirs } : {}),
      env: opts.env,
      credentials: () => this.credentials(),
      ...(opts.signal ? { signal: opts.signal } : {}),
      userAgent: opts.userAgent ?? USER_AGENT,
      ...(opts.retry?.attempts !== undefined ? { attempts: opts.retry.attempts } : {}),
      ...(opts.retry?.delayMs !== undefined ? { retryDelayMs: opts.retry.delayMs } : {}),
      ...(opts.timeouts?.connectMs !== undefined ? { connectTimeoutMs: opts.timeouts.connectMs } : {}),
      ...(opts.timeouts?.idleMs !== undefined ? { idleTimeoutMs: opts.timeouts.idleMs } : {}),
      ...(opts.tokenCache ? { tokenCache: opts.tokenCache } : {}),
      ...(opts.schemeCacheFile ? { schemeCacheFile: opts.schemeCacheFile } : {}),
    });
  }

  /** `docker.io/library/alpine` */
  get target(): string {
    return `${this.registry}/${this.repository}`;
  }

  private credentials(): Promise<Credentials | undefined> {
    if (this.opts.credentials !== undefined) return Promise.resolve(this.opts.credentials ?? undefined);
    this.credentialsPromise ??= getCredentials(this.registry, this.opts.env, this.opts.authFile ? { authFile: this.opts.authFile } : {});
    return this.credentialsPromise;
  }

  private describe(ref: string): string {
    return isDigest(ref) ? `${this.target}@${ref}` : `${this.target}:${ref}`;
  }

  /** GET /v2/: decide https/http and learn the auth challenge. Other methods need it only where the scheme is in doubt (transport.ts). */
  async ping(): Promise<void> {
    this.checkBlocked();
    await this.transport.ready();
  }

  private checkBlocked(): void {
    if (isBlocked(this.conf, this.registry, this.repository)) {
      throw new TsdockError(`registry ${this.target} is blocked in ${this.conf.path ?? 'registries.conf'}`);
    }
  }

  private async send(method: string, path: string, headers?: Record<string, string>, body?: Buffer | Readable): Promise<HttpResponse> {
    this.checkBlocked();
    return this.transport.send(method, path, headers, body);
  }

  private async failure(res: HttpResponse, what: string): Promise<RegistryError> {
    const body = await readErrorBody(res);
    const detail = describeErrorBody(body);
    return new RegistryError(`${what}: registry answered ${res.status}${detail ? `: ${detail}` : ''}`, res.status, errorCodes(body));
  }

  /** Fetch a manifest or index by tag or digest, verified against the digest when fetched by digest. */
  async getManifest(ref: string): Promise<ManifestResult> {
    const byDigest = this.checkRef(ref);
    const what = this.describe(ref);
    const res = await this.send('GET', `/v2/${this.repository}/manifests/${ref}`, { accept: MANIFEST_ACCEPT.join(', ') });
    if (res.status === 404) {
      res.body.resume();
      throw new NotFoundError(`manifest unknown: ${what}`);
    }
    if (res.status !== 200) throw await this.failure(res, `fetching manifest ${what}`);
    const bytes = await readBody(res, MAX_MANIFEST_SIZE, `manifest ${what}`);
    let digest: string;
    if (byDigest) {
      verifyBytes(bytes, ref, `manifest ${what}`);
      digest = ref;
    } else {
      digest = digestOf(bytes, 'sha256');
      const header = res.headers['docker-content-digest'];
      if (typeof header === 'string' && isDigest(header)) {
        const actual = digestOf(bytes, parseDigest(header).algorithm);
        if (actual !== header) throw new IntegrityError(`digest mismatch for manifest ${what}: registry said ${header}, got ${actual}`);
      }
    }
    return { bytes, mediaType: manifestMediaType(bytes, res.headers['content-type']), digest };
  }

  /** HEAD a manifest: its digest (when the registry says), media type and size; undefined when unknown. */
  async headManifest(ref: string): Promise<{ digest?: string; mediaType: string; size?: number } | undefined> {
    this.checkRef(ref);
    const res = await this.send('HEAD', `/v2/${this.repository}/manifests/${ref}`, { accept: MANIFEST_ACCEPT.join(', ') });
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new RegistryError(`checking manifest ${this.describe(ref)}: registry answered ${res.status}`, res.status);
    const out: { digest?: string; mediaType: string; size?: number } = { mediaType: stripMediaTypeParams(res.headers['content-type']) };
    const digest = res.headers['docker-content-digest'];
    if (typeof digest === 'string' && isDigest(digest)) out.digest = digest;
    const size = Number(res.headers['content-length']);
    if (Number.isSafeInteger(size)) out.size = size;
    return out;
  }

  /** Stream a blob (following redirects to storage), from `offset` on when given (Range). Not verified. */
  async getBlob(digest: string, opts: { offset?: number } = {}): Promise<BlobResult> {
    parseDigest(digest);
    const offset = opts.offset ?? 0;
    const what = `${this.target}@${digest}`;
    const res = await this.send('GET', `/v2/${this.repository}/blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {});
    if (res.status === 404) {
      res.body.resume();
      throw new NotFoundError(`blob unknown: ${what}`);
    }
    if (res.status !== 200 && res.status !== 206) throw await this.failure(res, `fetching blob ${what}`);
    const length = Number(res.headers['content-length']);
    const known = Number.isSafeInteger(length) && length >= 0;
    if (res.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!range || Number(range[1]) !== offset) {
        res.body.destroy();
        throw new IntegrityError(`unexpected content-range "${res.headers['content-range'] ?? ''}" for blob ${what} from offset ${offset}`);
      }
      const out: BlobResult = { stream: res.body, size: known ? length : Number(range[2]) - offset + 1 };
      if (range[3] !== '*') out.totalSize = Number(range[3]);
      return out;
    }
    const out: BlobResult = { stream: offset > 0 ? res.body.pipe(skipBytes(offset, res.body)) : res.body };
    if (known) {
      out.totalSize = length;
      out.size = Math.max(0, length - offset);
    }
    return out;
  }

  /** A small blob (an image config) read into memory and verified against its digest. */
  async getBlobBytes(digest: string, maxSize = MAX_MANIFEST_SIZE): Promise<Buffer> {
    const { stream, size } = await this.getBlob(digest);
    const what = `blob ${this.target}@${digest}`;
    if (size !== undefined && size > maxSize) {
      stream.destroy();
      throw new TsdockError(`${what} is too large: ${size} bytes (limit ${maxSize})`);
    }
    const bytes = await readStream(stream, maxSize, what);
    verifyBytes(bytes, digest, what);
    return bytes;
  }

  /** HEAD a blob: true when the registry has it. */
  async blobExists(digest: string): Promise<boolean> {
    parseDigest(digest);
    const res = await this.send('HEAD', `/v2/${this.repository}/blobs/${digest}`);
    res.body.resume();
    if (res.status === 404) return false;
    if (res.status === 200) return true;
    throw new RegistryError(`checking blob ${this.target}@${digest}: registry answered ${res.status}`, res.status);
  }

  /** login's check: GET /v2/ with the credentials (a client made with an empty repository asks no scope). */
  async checkLogin(): Promise<void> {
    const res = await this.send('GET', '/v2/');
    if (res.status !== 200) throw await this.failure(res, `logging in to ${this.registry}`);
    res.body.resume();
  }

  /** Blob uploads and manifest puts on this repository (upload.ts); push clients are made with actions pull+push. */
  uploads(): Uploads {
    return new Uploads((method, p, headers, body) => this.send(method, p, headers, body), this.repository, this.target);
  }

  /** true for a digest, false for a tag; UsageError for anything else. */
  private checkRef(ref: string): boolean {
    if (ref.includes(':')) {
      parseDigest(ref);
      return true;
    }
    if (!/^\w[\w.-]{0,127}$/.test(ref)) throw new UsageError(`invalid tag "${ref}" for ${this.target}`);
    return false;
  }
}

function manifestMediaType(bytes: Buffer, contentType: string | undefined): string {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    if (typeof doc?.mediaType === 'string' && doc.mediaType) return doc.mediaType;
  } catch {
    // parseManifest reports malformed bodies
  }
  return stripMediaTypeParams(contentType);
}

/** Drop the first `count` bytes (a server that ignored our Range header sent the whole blob). */
function skipBytes(count: number, source: Readable): Transform {
  let left = count;
  const t = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
      if (left >= chunk.length) {
        left -= chunk.length;
        cb();
        return;
      }
      const rest = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      cb(null, rest);
    },
  });
  source.on('error', (err) => t.destroy(err));
  return t;
}
