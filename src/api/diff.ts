import fs from 'node:fs';
import path from 'node:path';
import type { Context } from './context.js';
import { imageLayerDirs, isOpaqueDir, isWhiteoutStat, openContainerView, type ContainerView } from '../container/rootfs-view.js';
import { lookupImagePath } from '../storage/imagefs.js';

export type ChangeKind = 'C' | 'A' | 'D';
export interface Change {
  kind: ChangeKind;
  path: string;
}

/** docker diff: what the container changed relative to its image, sorted by path. */
export async function containerDiff(ref: string, ctx: Context): Promise<Change[]> {
  const view = await openContainerView(ctx.root, ref);
  const image = view.driver === 'vfs' ? await imageLayerDirs(ctx.root, view.image) : view.imageLayers;
  const changes = view.driver === 'vfs' ? vfsChanges(view, image) : upperChanges(view, image);
  return changes.sort((a, b) => cmpPath(a.path, b.path));
}

/** docker sorts by path component-wise ("/a/b" before "/a-b") */
export function cmpPath(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

function inImage(image: string[], p: string): fs.Stats | undefined {
  if (image.length === 0) return undefined;
  try {
    return lookupImagePath(image, p, { followFinal: false })?.stat;
  } catch {
    return undefined;
  }
}

/** Overlay: walk the upper directory. A 0/0 char device is a deletion; a directory of the image present in upper is a change. */
export function upperChanges(view: ContainerView, image: string[]): Change[] {
  const out: Change[] = [];
  const walk = (abs: string, p: string): boolean => {
    let reported = false;
    let names: string[];
    try {
      names = fs.readdirSync(abs).sort();
    } catch {
      return false;
    }
    for (const name of names) {
      const cp = `${p}/${name}`;
      const ca = path.join(abs, name);
      const st = fs.lstatSync(ca, { throwIfNoEntry: false });
      if (!st) continue;
      if (isWhiteoutStat(st)) {
        if (inImage(image, cp)) {
          out.push({ kind: 'D', path: cp });
          reported = true;
        }
        continue;
      }
      const lower = inImage(image, cp);
      const mountTarget = view.mountTargets.has(cp);
      if (st.isDirectory()) {
        const childReported = walk(ca, cp);
        if (!lower || !lower.isDirectory()) {
          if (mountTarget && !lower && !childReported && fs.readdirSync(ca).length === 0) continue;
          out.push({ kind: 'A', path: cp });
          reported = true;
          continue;
        }
        const meta = (lower.mode & 0o7777) !== (st.mode & 0o7777) || lower.uid !== st.uid || lower.gid !== st.gid;
        if (childReported || meta || opaque(ca)) {
          out.push({ kind: 'C', path: cp });
          reported = true;
        }
        continue;
      }
      if (mountTarget && st.isFile() && st.size === 0) continue;
      out.push({ kind: lower ? 'C' : 'A', path: cp });
      reported = true;
    }
    return reported;
  };
  walk(view.upper, '');
  return out;
}

function opaque(abs: string): boolean {
  try {
    return isOpaqueDir(abs);
  } catch {
    return false;
  }
}

/** vfs (best effort): compare the private copy with the image by type, size, mode, owner and mtime. */
function vfsChanges(view: ContainerView, image: string[]): Change[] {
  const out: Change[] = [];
  const seen = new Set<string>();
  const walk = (abs: string, p: string): boolean => {
    let reported = false;
    for (const name of fs.readdirSync(abs).sort()) {
      const cp = `${p}/${name}`;
      const ca = path.join(abs, name);
      const st = fs.lstatSync(ca);
      seen.add(cp);
      const lower = inImage(image, cp);
      if (st.isDirectory()) {
        const child = walk(ca, cp);
        if (!lower || !lower.isDirectory()) {
          if (view.mountTargets.has(cp) && !child) continue;
          out.push({ kind: 'A', path: cp });
          reported = true;
        } else if (child || (lower.mode & 0o7777) !== (st.mode & 0o7777) || lower.uid !== st.uid || lower.gid !== st.gid) {
          out.push({ kind: 'C', path: cp });
          reported = true;
        }
        continue;
      }
      if (!lower) {
        if (view.mountTargets.has(cp) && st.isFile() && st.size === 0) continue;
        out.push({ kind: 'A', path: cp });
        reported = true;
      } else if ((lower.mode & 0o170000) !== (st.mode & 0o170000) || lower.size !== st.size || (lower.mode & 0o7777) !== (st.mode & 0o7777) || lower.uid !== st.uid || lower.gid !== st.gid || Math.floor(lower.mtimeMs) !== Math.floor(st.mtimeMs)) {
        out.push({ kind: 'C', path: cp });
        reported = true;
      }
    }
    return reported;
  };
  walk(view.upper, '');
  // deletions: image entries missing from the copy (their parents are reported as changed above only if other changes exist)
  const walkImage = (p: string) => {
    const e = lookupImagePath(image, p || '/', { followFinal: false });
    if (!e?.stat.isDirectory()) return;
    for (const name of listNames(image, p || '/')) {
      const cp = `${p}/${name}`;
      if (!seen.has(cp)) {
        out.push({ kind: 'D', path: cp });
        continue;
      }
      walkImage(cp);
    }
  };
  if (image.length) walkImage('');
  return out;
}

function listNames(image: string[], p: string): string[] {
  const e = lookupImagePath(image, p, { followFinal: false });
  if (!e?.stat.isDirectory()) return [];
  const names = new Set<string>();
  for (const layer of e.mergedFrom ?? [e.layerDir]) {
    try {
      for (const n of fs.readdirSync(path.join(layer, e.relPath))) names.add(n);
    } catch {
      // absent in this layer
    }
  }
  return [...names].filter((n) => lookupImagePath(image, `${p === '/' ? '' : p}/${n}`, { followFinal: false })).sort();
}
