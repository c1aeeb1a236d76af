import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../state/atomic.js';
import { IntegrityError } from '../../errors.js';
import { sha256Digest } from '../digest.js';

/** Content-addressed store of small blobs (manifests, configs): blobs/<algo>/<hex>, verified on write and read. */
export class BlobStore {
  constructor(readonly dir: string) {}

  pathOf(digest: string): string {
    const [algo, hex] = digest.split(':');
    if (!algo || !hex || !/^[a-f0-9]+$/.test(hex)) throw new IntegrityError(`invalid digest "${digest}"`);
    return path.join(this.dir, algo, hex);
  }

  has(digest: string): boolean {
    return fs.existsSync(this.pathOf(digest));
  }

  async put(digest: string, bytes: Buffer): Promise<void> {
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw new IntegrityError(`digest mismatch storing blob: expected ${digest}, got ${actual}`);
    if (this.has(digest)) return;
    // synchronous, as the write is: a pull stores its manifest and config while the layers download, and a
    // thread-pool hop there waits behind the unpacking for its turn
    fs.mkdirSync(path.dirname(this.pathOf(digest)), { recursive: true });
    // images.json (fsynced) will reference it: it must not come back empty after a crash
    await writeFileAtomic(this.pathOf(digest), bytes, { fsync: true });
  }

  async get(digest: string): Promise<Buffer> {
    const bytes = await fs.promises.readFile(this.pathOf(digest));
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw new IntegrityError(`stored blob ${digest} is corrupt (content hashes to ${actual})`);
    return bytes;
  }

  async remove(digest: string): Promise<void> {
    await fs.promises.rm(this.pathOf(digest), { force: true });
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const algo of await readdirSafe(this.dir)) {
      for (const hex of await readdirSafe(path.join(this.dir, algo))) if (!hex.startsWith('.')) out.push(`${algo}:${hex}`);
    }
    return out;
  }
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
