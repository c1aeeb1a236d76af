/** Content digests (`algorithm:hex`) and streaming verification. */
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError, UsageError } from '../errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

function checkDigest(s: string): ParsedDigest | string {
  const colon = s.indexOf(':');
  if (colon <= 0) return `invalid digest "${s}": expected algorithm:hex`;
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return `unsupported digest algorithm "${algorithm}" in "${s}"`;
  if (!new RegExp(`^[a-f0-9]{${HEX_LENGTH[algorithm]}}$`).test(hex)) {
    return `invalid digest "${s}": ${algorithm} needs ${HEX_LENGTH[algorithm]} lowercase hex characters`;
  }
  return { algorithm, hex };
}

/** Parse `sha256:<64 hex>` / `sha512:<128 hex>`; throws UsageError (user input) otherwise. */
export function parseDigest(s: string): ParsedDigest {
  const result = checkDigest(s);
  if (typeof result === 'string') throw new UsageError(result);
  return result;
}

/** Like parseDigest, for digests that came from a registry or a manifest: throws IntegrityError. */
export function assertDigest(s: unknown, what: string): string {
  if (typeof s !== 'string') throw new IntegrityError(`missing digest for ${what}`);
  const result = checkDigest(s);
  if (typeof result === 'string') throw new IntegrityError(`${result} for ${what}`);
  return s;
}

export function isDigest(s: string): boolean {
  return typeof checkDigest(s) !== 'string';
}

export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${crypto.createHash(algorithm).update(data).digest('hex')}`;
}

/**
 * Make the first digest cheap: a process's first hash loads and sets up Node's crypto (~2 ms in a CLI). A pull
 * calls this while it waits for the registry's first answer, whose digest it then takes at once.
 */
export function warmDigests(): void {
  crypto.createHash('sha256').update('').digest();
}

export function sha256Digest(data: Buffer | string): string {
  return digestOf(data, 'sha256');
}

/** Throw IntegrityError unless `data` hashes to `expected` (using expected's algorithm). */
export function verifyBytes(data: Buffer, expected: string, what: string): void {
  const { algorithm } = parseExpected(expected, what);
  const actual = digestOf(data, algorithm);
  if (actual !== expected) throw new IntegrityError(`digest mismatch for ${what}: expected ${expected}, got ${actual}`);
}

function parseExpected(expected: string, what: string): ParsedDigest {
  const result = checkDigest(expected);
  if (typeof result === 'string') throw new IntegrityError(`${result} for ${what}`);
  return result;
}

export interface DigestVerifierOptions {
  /** digest the data must have; checked when the stream ends */
  expected?: string;
  /** algorithm when no expected digest is given (default sha256) */
  algorithm?: DigestAlgorithm;
  /** exact byte count the data must have; more bytes fail early */
  size?: number;
  /** what is being verified, for messages: `layer sha256:… of docker.io/library/alpine` */
  what: string;
}

/**
 * A pass-through stream that hashes and counts what flows through it. With `expected`, the stream fails
 * with IntegrityError at its end (in flush, so a pipeline rejects before the consumer sees 'finish') when
 * the digest differs; with `size`, it fails as soon as the data is longer, or at the end if shorter.
 */
export class DigestVerifier extends Transform {
  readonly algorithm: DigestAlgorithm;
  readonly expected: string | undefined;
  private readonly hash: crypto.Hash;
  private readonly size: number | undefined;
  private readonly what: string;
  private count = 0;
  private result: string | undefined;

  constructor(opts: DigestVerifierOptions) {
    super();
    this.what = opts.what;
    this.expected = opts.expected;
    this.size = opts.size;
    this.algorithm = opts.expected !== undefined ? parseExpected(opts.expected, opts.what).algorithm : (opts.algorithm ?? 'sha256');
    this.hash = crypto.createHash(this.algorithm);
  }

  /** bytes seen so far */
  get bytes(): number {
    return this.count;
  }

  /** the computed digest; available once the stream has ended */
  get digest(): string {
    if (this.result === undefined) throw new Error(`digest of ${this.what} requested before the stream ended`);
    return this.result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) {
      callback(new IntegrityError(`size mismatch for ${this.what}: expected ${this.size} bytes, got more`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    if (this.size !== undefined && this.count !== this.size) {
      callback(new IntegrityError(`size mismatch for ${this.what}: expected ${this.size} bytes, got ${this.count}`));
      return;
    }
    if (this.expected !== undefined && this.result !== this.expected) {
      callback(new IntegrityError(`digest mismatch for ${this.what}: expected ${this.expected}, got ${this.result}`));
      return;
    }
    callback();
  }
}
