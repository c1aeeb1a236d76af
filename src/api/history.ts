import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import { loadConfig } from './image-inspect.js';

export interface HistoryRow {
  /** the image id for the newest entry, '<missing>' for the others (as docker shows them) */
  id: string;
  created?: string;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

/** Newest first, one row per config history entry, each non-empty entry owning the next layer. */
export async function imageHistory(name: string, ctx: Context): Promise<HistoryRow[]> {
  const store = new ImageStore(ctx.root);
  const img = await store.resolve(name);
  const config = await loadConfig(store, img);
  const entries = config.history?.length ? config.history : img.layers.map(() => ({ created: config.created, created_by: '', empty_layer: false, comment: '' }));
  let layer = 0;
  const rows: HistoryRow[] = entries.map((h) => {
    const size = h.empty_layer ? 0 : (img.layers[layer++]?.size ?? 0);
    return { id: '<missing>', created: h.created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '', tags: [] };
  });
  rows.reverse();
  if (rows[0]) {
    rows[0].id = img.id;
    rows[0].tags = img.repoTags;
  }
  return rows;
}
