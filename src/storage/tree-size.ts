import fs from 'node:fs';
import path from 'node:path';

const vanished = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Bytes used by what lies under `dir`, as docker's directory.Size counts them (a container's SizeRw, a volume's
 * size): every entry but directories (files, symlinks; devices, fifos and whiteouts weigh 0), each inode once
 * (hard links). Nothing is followed. An entry that disappears while we walk (the container still runs) is
 * skipped, a missing `dir` weighs 0; any other failure is thrown with its path.
 */
export function treeSize(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if (vanished(err)) return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch (err) {
        if (vanished(err)) continue;
        throw err;
      }
      if (st.isDirectory()) {
        walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  walk(dir);
  return total;
}

/**
 * Bytes `du -sbx PATH` reports: the apparent size of every entry, directories and PATH itself included, each
 * inode once, on PATH's filesystem only (a mounted container rootfs is not walked into). What `system df`
 * counts, so its figures are the store's footprint on disk. A missing PATH weighs 0.
 */
export function diskUsage(top: string): number {
  const seen = new Set<string>();
  let dev: number | undefined;
  const weigh = (p: string): number => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch (err) {
      if (vanished(err)) return 0;
      throw err;
    }
    dev ??= st.dev;
    if (st.dev !== dev) return 0;
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return 0;
      seen.add(key);
    }
    if (!st.isDirectory()) return st.size;
    let total = st.size;
    let names: string[];
    try {
      names = fs.readdirSync(p);
    } catch (err) {
      if (vanished(err)) return total;
      throw err;
    }
    for (const name of names) total += weigh(path.join(p, name));
    return total;
  };
  return weigh(top);
}
