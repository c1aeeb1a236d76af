import fs from 'node:fs';
import { closeQuiet, isOpaqueFd, lstatAt, openDirAt, readDirFd } from './fdwalk.js';
import { walkChild, type TreeVisitor } from './fdtree.js';
import { isWhiteoutStat } from './imagefs.js';

/**
 * The merged view of overlay layers (a container's upper directory over its image's layers), walked by directory
 * fds only: each directory is a chain of open fds, one per layer that has it (top first, down to the first opaque
 * one); whiteouts (0/0 character devices) hide a name in every lower layer; a non-directory hides lower ones. What
 * the container changes in its upper directory meanwhile (a directory renamed, a symlink put in its place) is
 * seen as it is when reached — a link stays a link — and never leads outside the layers.
 */
export async function walkMergedLayers(layerDirs: readonly string[], v: TreeVisitor, signal?: AbortSignal): Promise<void> {
  const chain: number[] = [];
  try {
    for (const dir of layerDirs) {
      const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
      chain.push(fd);
      if (chain.length < layerDirs.length && isOpaqueFd(fd)) break;
    }
    await walkChain(chain, '', v, signal);
  } finally {
    for (const fd of chain) closeQuiet(fd);
  }
}

async function walkChain(chain: number[], prefix: string, v: TreeVisitor, signal?: AbortSignal): Promise<void> {
  const names = new Set<string>();
  for (const fd of chain) for (const n of readDirFd(fd)) names.add(n);
  for (const name of [...names].sort()) {
    signal?.throwIfAborted();
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    let top: { fd: number; st: fs.Stats } | undefined;
    const sub: number[] = [];
    try {
      for (const [i, fd] of chain.entries()) {
        const st = lstatAt(fd, name);
        if (!st) continue;
        if (isWhiteoutStat(st)) break;
        if (!top) {
          top = { fd, st };
          if (!st.isDirectory()) break;
        } else if (!st.isDirectory()) break;
        let dfd: number;
        try {
          dfd = openDirAt(fd, name);
        } catch {
          if (sub.length === 0) top = { fd, st: lstatAt(fd, name) ?? st }; // swapped in the top layer: report what it is now
          break;
        }
        sub.push(dfd);
        if (i < chain.length - 1 && isOpaqueFd(dfd)) break;
      }
      if (!top) continue;
      if (sub.length === 0) {
        await walkChild(top.fd, name, rel, v, signal);
        continue;
      }
      const st = fs.fstatSync(sub[0]!);
      if ((await v.dir(rel, st, sub[0]!)) === false) continue;
      await walkChain(sub, rel, v, signal);
      await v.dirDone?.(rel, st, sub[0]!);
    } finally {
      for (const fd of sub) closeQuiet(fd);
    }
  }
}
