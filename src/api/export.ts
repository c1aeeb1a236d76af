import type { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { openContainerView } from '../container/rootfs-view.js';
import { exportFileSystem } from '../container/changes.js';

export interface ExportOptions {
  container: string;
  /** where the tar goes */
  out: Writable;
}

/** docker export: the container's file system as a tar stream (image layers + its changes, whiteouts applied; no volume contents). */
export async function exportContainer(opts: ExportOptions, ctx: Context): Promise<void> {
  const view = await openContainerView(ctx.root, opts.container);
  await exportFileSystem(view, opts.out, ctx.signal);
}
