/**
 * The build cache key of one step, as BuildKit keys its operations (content, never timestamps): the parent
 * state's digest (the base image's id or the previous step's config digest, which covers its layers' chain),
 * the instruction with its expanded arguments (line numbers left out: moving a step does not invalidate it),
 * the values of the build args it uses, and for COPY/ADD the digest of its sources' content and metadata.
 */
import crypto from 'node:crypto';
import type { Instruction } from '../dockerfile/types.js';

export interface CacheKeyInput {
  readonly parent: string;
  readonly instruction: Instruction;
  /** the build args the step depends on, by name */
  readonly args: Readonly<Record<string, string>>;
  /** COPY/ADD: sourcesDigest() of what is copied */
  readonly sources?: string;
  /** what else the step's result depends on (RUN: the network mode, the platform) */
  readonly extra?: Readonly<Record<string, string>>;
}

/** JSON with sorted keys and without the instruction's lines, so equal content gives equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === 'startLine' || key === 'endLine') return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function cacheKey(input: CacheKeyInput): string {
  const h = crypto.createHash('sha256');
  h.update(canonical({ v: 1, parent: input.parent, instruction: input.instruction, args: input.args, sources: input.sources ?? null, extra: input.extra ?? {} }));
  return `sha256:${h.digest('hex')}`;
}

/** One copied entry's identity for the key: where it lands, its type, mode, owner, and content digest or link. */
export interface SourceRecord {
  readonly dest: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** sha256 of a file's content, a symlink's target */
  readonly content?: string;
}

/** The digest of a COPY's entries (order-independent: sorted by destination). No mtime, no host path. */
export function sourcesDigest(records: readonly SourceRecord[]): string {
  const sorted = [...records].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  return `sha256:${crypto.createHash('sha256').update(canonical(sorted)).digest('hex')}`;
}
