/**
 * commit's container side: the layer tar of a container's changes (hashed as it is written: its diff id) and
 * the new image config (the parent's, the container's settings, then the `-c` changes, one history entry).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerConfig, ImageConfig } from '../image/manifest.js';
import type { Change as ConfigChange } from '../image/config-change.js';
import { TarWriter } from '../storage/tarwriter.js';
import { tarChanges, type Change } from './changes.js';
import type { ContainerView } from './rootfs-view.js';
import type { ContainerRecord } from './record.js';

/** The changes as an uncompressed layer tar at `tarPath` (whiteouts as `.wh.` entries) → its diff id and size. */
export async function writeChangesTar(view: ContainerView, changes: Change[], tarPath: string, signal?: AbortSignal, opts: { clampMtime?: number } = {}): Promise<{ diffId: string; size: number }> {
  const hash = crypto.createHash('sha256');
  const pass = new PassThrough({ highWaterMark: 1 << 20 });
  pass.on('data', (c: Buffer) => hash.update(c));
  const done = pipeline(pass, fs.createWriteStream(tarPath));
  const tar = new TarWriter(pass, opts);
  await tarChanges(view, changes, tar, signal);
  await tar.finish();
  pass.end();
  await done;
  return { diffId: `sha256:${hash.digest('hex')}`, size: fs.statSync(tarPath).size };
}

/** The committed image's config over `diffIds` (the parent's layers and the new one). */
export function committedConfig(parent: ImageConfig, record: ContainerRecord, opts: { diffIds: string[]; changes: ConfigChange[]; author?: string; message?: string }): ImageConfig {
  const created = new Date().toISOString();
  const cfg: ContainerConfig = { ...(parent.config ?? {}) };
  const rc = record.Config;
  if (rc.Env?.length) cfg.Env = rc.Env.filter((e) => !e.startsWith('HOSTNAME='));
  if (rc.Cmd) cfg.Cmd = rc.Cmd;
  if (rc.Entrypoint) cfg.Entrypoint = rc.Entrypoint;
  if (rc.WorkingDir) cfg.WorkingDir = rc.WorkingDir;
  if (rc.User) cfg.User = rc.User;
  if (rc.Labels && Object.keys(rc.Labels).length) cfg.Labels = { ...(cfg.Labels ?? {}), ...rc.Labels };
  for (const apply of opts.changes) apply(cfg);
  const config: ImageConfig = {
    ...parent,
    created,
    ...(opts.author ? { author: opts.author } : {}),
    config: cfg,
    rootfs: { type: 'layers', diff_ids: opts.diffIds },
    history: [
      ...(parent.history ?? []),
      {
        created,
        created_by: [record.Path, ...record.Args].join(' '),
        ...(opts.author ? { author: opts.author } : {}),
        ...(opts.message ? { comment: opts.message } : {}),
      },
    ],
  };
  delete (config as Record<string, unknown>).container_config;
  delete (config as Record<string, unknown>).container;
  return config;
}
