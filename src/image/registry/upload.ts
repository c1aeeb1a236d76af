/**
 * Blob uploads and manifest puts (OCI distribution spec, push side): a session is opened with POST (or a
 * cross-repository mount: 201 mounted, 202 a session to continue), filled with PATCH chunks carrying
 * `Content-Range` (no smaller than the registry's `OCI-Chunk-Min-Length`) or sent whole with the closing PUT
 * `?digest=`. Each answer's `Location` (relative or on another host) names where the session goes on; a session
 * that outlived its process is asked where it stands (GET → `Range`) and continued from there.
 */
import type { Readable } from 'node:stream';
import { TsdockError } from '../../errors.js';
import { RegistryError, describeErrorBody, errorCodes } from './errors.js';
import { readErrorBody, type HttpResponse } from './http.js';

export type Send = (method: string, pathOrUrl: string, headers?: Record<string, string>, body?: Buffer | Readable) => Promise<HttpResponse>;

/** An upload's `Location` as an absolute URL: relative ones are resolved against the url that answered. */
export function resolveLocation(location: string | string[] | undefined, answered: URL, what: string): string {
  const value = Array.isArray(location) ? location[0] : location;
  if (!value) throw new TsdockError(`${what}: the registry answered without a Location for the upload`);
  const url = new URL(value, answered);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TsdockError(`${what}: unsupported upload location ${value}`);
  return url.href;
}

/** `Content-Range` of a chunk: inclusive byte positions, as the spec (and distribution) write them. */
export function contentRange(start: number, length: number): string {
  if (length <= 0) throw new RangeError(`empty chunk at ${start}`);
  return `${start}-${start + length - 1}`;
}

/** The next offset after a session's `Range` header (`0-1023` or `bytes=0-1023` → 1024; absent → 0). */
export function nextOffset(range: string | string[] | undefined): number {
  const value = Array.isArray(range) ? range[0] : range;
  if (!value) return 0;
  const m = /^(?:bytes=)?(\d+)-(\d+)$/.exec(value.trim());
  if (!m) throw new TsdockError(`unexpected upload range "${value}"`);
  return Number(m[2]) + 1;
}

/** The session url with `digest=` added to whatever query it already carries. */
export function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

/** The chunk size to use: ours, raised to the registry's minimum when it names one. */
export function chunkSize(preferred: number, minHeader: string | string[] | undefined): number {
  const min = Number(Array.isArray(minHeader) ? minHeader[0] : minHeader);
  return Number.isSafeInteger(min) && min > preferred ? min : preferred;
}

export type UploadStart = { mounted: true } | { mounted: false; location: string; minChunk?: string };

export class Uploads {
  constructor(
    private readonly send: Send,
    private readonly repository: string,
    private readonly target: string,
  ) {}

  private async failure(res: HttpResponse, what: string): Promise<RegistryError> {
    const body = await readErrorBody(res);
    const detail = describeErrorBody(body);
    return new RegistryError(`${what}: registry answered ${res.status}${detail ? `: ${detail}` : ''}`, res.status, errorCodes(body));
  }

  /** POST a new session; with `mountFrom`, ask to mount the blob from that repository of the same registry. */
  async start(digest: string, mountFrom?: string): Promise<UploadStart> {
    const what = `uploading ${this.target}@${digest}`;
    const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const res = await this.send('POST', `/v2/${this.repository}/blobs/uploads/${query}`, { 'content-length': '0' });
    if (mountFrom && res.status === 201) {
      res.body.resume();
      return { mounted: true };
    }
    if (res.status !== 202) throw await this.failure(res, what);
    res.body.resume();
    const min = res.headers['oci-chunk-min-length'];
    return { mounted: false, location: resolveLocation(res.headers.location, res.url, what), ...(typeof min === 'string' ? { minChunk: min } : {}) };
  }

  /** Where a session stands: the next offset, or undefined when the registry no longer knows it. */
  async status(location: string): Promise<{ offset: number; location: string } | undefined> {
    const res = await this.send('GET', location);
    res.body.resume();
    if (res.status === 404 || res.status === 400 || res.status === 410) return undefined;
    if (res.status !== 204 && res.status !== 200) throw new RegistryError(`checking upload ${this.target}: registry answered ${res.status}`, res.status);
    const next = res.headers.location ? resolveLocation(res.headers.location, res.url, `upload to ${this.target}`) : location;
    return { offset: nextOffset(res.headers.range), location: next };
  }

  /** PATCH one chunk at `start`; → the session's next location. */
  async patch(location: string, chunk: Readable, start: number, length: number, digest: string): Promise<string> {
    const what = `uploading ${this.target}@${digest}`;
    const res = await this.send('PATCH', location, { 'content-type': 'application/octet-stream', 'content-length': String(length), 'content-range': contentRange(start, length) }, chunk);
    if (res.status !== 202) throw await this.failure(res, what);
    res.body.resume();
    return res.headers.location ? resolveLocation(res.headers.location, res.url, what) : location;
  }

  /** The closing PUT `?digest=`, with the whole blob (monolithic) or nothing (after chunks). */
  async finish(location: string, digest: string, body?: Readable, length = 0): Promise<void> {
    const res = await this.send('PUT', withDigest(location, digest), { 'content-type': 'application/octet-stream', 'content-length': String(length) }, body ?? Buffer.alloc(0));
    if (res.status !== 201 && res.status !== 204) throw await this.failure(res, `uploading ${this.target}@${digest}`);
    res.body.resume();
  }

  /** PUT a manifest by tag or digest; the Content-Type is its mediaType. → the digest the registry reports. */
  async putManifest(ref: string, bytes: Buffer, mediaType: string): Promise<string | undefined> {
    const what = `pushing manifest ${this.target}${ref.includes(':') ? '@' : ':'}${ref}`;
    const res = await this.send('PUT', `/v2/${this.repository}/manifests/${ref}`, { 'content-type': mediaType }, bytes);
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await this.failure(res, what);
    res.body.resume();
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : undefined;
  }
}
