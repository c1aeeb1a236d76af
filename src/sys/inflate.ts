import { addon } from './addon.js';

/**
 * ISA-L's gzip inflate (native/addon/inflate.c), one member at a time in a state the caller holds; undefined where
 * the addon or libisal.so.2 is missing, and storage/gunzip.ts uses zlib. ~2× zlib's speed here, and synchronous.
 */
export interface GzipInflate {
  /** a state for one stream (a Buffer that never moves), at the start of a member */
  newState(): Buffer;
  /** start the next member in `state` (after one ended) */
  reset(state: Buffer): void;
  /** inflate from `input` into `output`: ISA-L's status (0, or < 0 for corrupt input), and in `result` the bytes
   * consumed, the bytes written, and 1 when the member ended with its CRC-32 and size checked */
  inflate(state: Buffer, input: Buffer, output: Buffer, result: Int32Array): number;
}

let loaded: GzipInflate | null | undefined;

export function gzipInflate(): GzipInflate | undefined {
  if (loaded === undefined) loaded = make();
  return loaded ?? undefined;
}

function make(): GzipInflate | null {
  const a = addon();
  const size = a?.inflateStateSize?.() ?? 0;
  if (!a || size <= 0 || !a.inflateInit || !a.inflate) return null;
  const init = a.inflateInit.bind(a);
  const check = (rc: number) => {
    if (rc !== 0) throw new Error(`isa-l inflate state: status ${rc}`);
  };
  return {
    newState() {
      const state = Buffer.alloc(size);
      check(init(state, 0));
      return state;
    },
    reset: (state) => check(init(state, 1)),
    inflate: a.inflate.bind(a),
  };
}
