import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, readJson, writeJsonAtomic } from '../state/atomic.js';
import { makeTmpDir, removeTree } from './tmp.js';
import { TAR_LAYOUT_FILE } from './tar-layout.js';

export interface LayerMeta {
  chainId: string;
  diffId: string;
  parent?: string;
  /** unpacked size: sum of regular file sizes */
  size: number;
  /** compressed digest it was pulled as */
  digest?: string;
  mediaType?: string;
  createdAt: string;
  /** directories the layer makes opaque (relative; '' = its root); absent in layers unpacked before it existed */
  opaqueDirs?: string[];
  /** a layer kept uncompressed (or not kept): the gzip blob push made of it while streaming, as pushed */
  pushedGzip?: { digest: string; size: number };
}

/**
 * Unpacked layers keyed by chain ID: layers/<algo>/<hex>/{diff/, layer.json}. A layer appears only by the
 * rename of a fully unpacked, verified directory, so readers never see a half layer.
 */
export class LayerStore {
  readonly dir: string;
  constructor(readonly root: string) {
    this.dir = path.join(root, 'layers');
  }

  dirOf(chainId: string): string {
    const [algo, hex] = chainId.split(':');
    return path.join(this.dir, algo!, hex!);
  }

  diffDir(chainId: string): string {
    return path.join(this.dirOf(chainId), 'diff');
  }

  /** The layer's blob as pulled (compressed as its `mediaType` says; `digest` is its digest), kept for push. */
  blobPath(chainId: string): string {
    return path.join(this.dirOf(chainId), 'blob');
  }

  /** the recorded tar layout of the layer (tar-layout.ts); absent in layers unpacked before it existed */
  layoutFile(chainId: string): string {
    return path.join(this.dirOf(chainId), TAR_LAYOUT_FILE);
  }

  has(chainId: string): boolean {
    return fs.existsSync(path.join(this.dirOf(chainId), 'layer.json'));
  }

  async meta(chainId: string): Promise<LayerMeta | undefined> {
    return readJson<LayerMeta>(path.join(this.dirOf(chainId), 'layer.json'));
  }

  /**
   * A short relative name for a layer's diff dir, `l/<20 hex>` under `dir`, for overlay's lowerdir option:
   * with a chdir into `dir`, 128 layers fit in the one-page mount option limit (full paths would not).
   */
  shortLink(chainId: string): string {
    const hex = chainId.split(':')[1]!;
    const rel = path.join('l', hex.slice(0, 20));
    const link = path.join(this.dir, rel);
    try {
      fs.symlinkSync(path.join('..', chainId.split(':')[0]!, hex, 'diff'), link);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        fs.mkdirSync(path.dirname(link), { recursive: true });
        return this.shortLink(chainId);
      }
      if (code !== 'EEXIST') throw err;
    }
    return rel;
  }

  /** A fresh work directory with an empty diff/ inside, to unpack into and then `commit`. */
  async prepare(): Promise<{ work: string; diff: string }> {
    const work = await makeTmpDir(this.root, 'layer');
    const diff = path.join(work, 'diff');
    await fs.promises.mkdir(diff, { mode: 0o755 });
    return { work, diff };
  }

  /** Remember the gzip blob a push made of this layer (the same bytes each time: the next push HEADs it first). */
  async recordPushedGzip(chainId: string, blob: { digest: string; size: number }): Promise<void> {
    const meta = await this.meta(chainId);
    if (!meta || (meta.pushedGzip?.digest === blob.digest && meta.pushedGzip.size === blob.size)) return;
    await writeJsonAtomic(path.join(this.dirOf(chainId), 'layer.json'), { ...meta, pushedGzip: blob });
  }

  /** Move a prepared directory into place. If another pull won the race, keep theirs and drop ours. */
  async commit(work: string, meta: LayerMeta): Promise<void> {
    await writeJsonAtomic(path.join(work, 'layer.json'), meta);
    const final = this.dirOf(meta.chainId);
    // synchronous: the pull waits for nothing else here, and two thread-pool hops cost more than the calls
    fs.mkdirSync(path.dirname(final), { recursive: true });
    try {
      fs.renameSync(work, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && this.has(meta.chainId)) {
        await removeTree(work);
        return;
      }
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        // a leftover without layer.json (cannot happen through commit, but be safe): replace it
        await this.remove(meta.chainId);
        await fs.promises.rename(work, final);
        await fsyncDir(path.dirname(final));
        return;
      }
      throw err;
    }
    // the layer exists once this rename is durable (images.json, fsynced later, will point at it)
    await fsyncDir(path.dirname(final));
  }

  /** Remove atomically from view first (rename into tmp), then delete. */
  async remove(chainId: string): Promise<void> {
    const dir = this.dirOf(chainId);
    const trash = await makeTmpDir(this.root, 'rm');
    try {
      await fs.promises.rename(dir, path.join(trash, 'layer'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await removeTree(trash);
    const [algo, hex] = chainId.split(':');
    if (algo && hex) await fs.promises.rm(path.join(this.dir, 'l', hex.slice(0, 20)), { force: true });
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    let algos: string[] = [];
    try {
      algos = await fs.promises.readdir(this.dir);
    } catch {
      return out;
    }
    for (const algo of algos.filter((a) => a === 'sha256' || a === 'sha512')) {
      for (const hex of await fs.promises.readdir(path.join(this.dir, algo))) out.push(`${algo}:${hex}`);
    }
    return out;
  }
}
