import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import type { Context } from './context.js';
import { TsdockError, UsageError, cleanupFailed } from '../errors.js';
import { openContainerView } from '../container/rootfs-view.js';
import { tarChanges } from '../container/changes.js';
import { containerDiff } from './diff.js';
import { TarWriter } from '../storage/tarwriter.js';
import { makeTmpDir, removeTree } from '../storage/tmp.js';
import { unpackLayer } from '../storage/unpack.js';
import { acquireLock, withLock, type LockHandle } from '../state/lock.js';
import { ImageStore, detachTag } from '../image/store/images.js';
import type { ImageRecord, LayerRef } from '../image/store/types.js';
import { MediaType, chainIds, hostPlatform, type ContainerConfig, type ImageConfig } from '../image/manifest.js';
import { formatReference, parseReference } from '../image/reference.js';
import { unpackOptionsFor } from '../image/unpack-mode.js';
import { sha256Digest } from '../image/digest.js';
import { loadConfig } from './image-inspect.js';

export interface CommitOptions {
  container: string;
  reference?: string;
  changes?: string[];
  message?: string;
  author?: string;
}

export interface CommitResult {
  id: string;
  tag?: string;
}

/**
 * docker commit: the container's changes become one new layer (whiteouts as `.wh.` entries, opaque
 * directories as `.wh..wh..opq`) on top of its image's layers, with a new config.
 */
export async function commitContainer(opts: CommitOptions, ctx: Context): Promise<CommitResult> {
  const changes = (opts.changes ?? []).map(parseChange);
  const tag = opts.reference ? formatReference({ ...parseReference(opts.reference), digest: undefined }) : undefined;
  if (opts.reference && parseReference(opts.reference).digest) throw new UsageError(`invalid reference format: ${opts.reference} (a digest cannot be committed to)`);
  const view = await openContainerView(ctx.root, opts.container);
  const store = new ImageStore(ctx.root);
  const parentImage = view.image;
  const parentConfig: ImageConfig = parentImage
    ? await loadConfig(store, parentImage)
    : { architecture: hostPlatform().architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };

  const work = await makeTmpDir(ctx.root, 'commit');
  // held shared from the new layer's commit until the image is recorded: GC cannot take the layer in between
  let layersLock: LockHandle | undefined;
  try {
    // 1. the layer tar, hashed as it is written
    const tarPath = path.join(work, 'layer.tar');
    const hash = crypto.createHash('sha256');
    const pass = new PassThrough({ highWaterMark: 1 << 20 });
    pass.on('data', (c: Buffer) => hash.update(c));
    const done = pipeline(pass, fs.createWriteStream(tarPath));
    const tar = new TarWriter(pass);
    await tarChanges(view, await containerDiff(view.id, ctx), tar, ctx.signal);
    await tar.finish();
    pass.end();
    await done;
    const diffId = `sha256:${hash.digest('hex')}`;
    const tarSize = fs.statSync(tarPath).size;

    // 2. the layer in the store, keyed by its chain id
    const parentLayers = parentImage?.layers ?? [];
    const diffIds = [...parentLayers.map((l) => l.diffId), diffId];
    const chains = chainIds(diffIds);
    const chainId = chains[chains.length - 1]!;
    layersLock = await acquireLock(store.lockPath('layers'), 'shared');
    const size = await withLock(store.lockPath('layers'), 'shared', async () => {
      if (store.layers.has(chainId)) return (await store.layers.meta(chainId))?.size ?? 0;
      const { work: lwork, diff } = await store.layers.prepare();
      try {
        const stats = await unpackLayer(fs.createReadStream(tarPath), diff, unpackOptionsFor(ctx));
        await store.layers.commit(lwork, {
          chainId,
          diffId,
          parent: chains.length > 1 ? chains[chains.length - 2] : undefined,
          size: stats.bytes,
          digest: diffId,
          mediaType: MediaType.ociLayer,
          createdAt: new Date().toISOString(),
          opaqueDirs: stats.opaqueDirs.map((d) => (d === '.' ? '' : d.replace(/^\.?\/+|\/+$/g, ''))),
        });
        return stats.bytes;
      } catch (err) {
        await removeTree(lwork).catch(cleanupFailed(ctx, `remove ${lwork}`));
        throw err;
      }
    });

    // 3. the config: the parent's, the container's settings, then the -c changes
    const created = new Date().toISOString();
    const cfg: ContainerConfig = { ...(parentConfig.config ?? {}) };
    const rc = view.record.Config;
    if (rc.Env?.length) cfg.Env = rc.Env.filter((e) => !e.startsWith('HOSTNAME='));
    if (rc.Cmd) cfg.Cmd = rc.Cmd;
    if (rc.Entrypoint) cfg.Entrypoint = rc.Entrypoint;
    if (rc.WorkingDir) cfg.WorkingDir = rc.WorkingDir;
    if (rc.User) cfg.User = rc.User;
    if (rc.Labels && Object.keys(rc.Labels).length) cfg.Labels = { ...(cfg.Labels ?? {}), ...rc.Labels };
    for (const apply of changes) apply(cfg);
    const config: ImageConfig = {
      ...parentConfig,
      created,
      ...(opts.author ? { author: opts.author } : {}),
      config: cfg,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [
        ...(parentConfig.history ?? []),
        {
          created,
          created_by: [view.record.Path, ...view.record.Args].join(' '),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { comment: opts.message } : {}),
        },
      ],
    };
    delete (config as Record<string, unknown>).container_config;
    delete (config as Record<string, unknown>).container;
    const configBytes = Buffer.from(JSON.stringify(config));
    const id = sha256Digest(configBytes);
    const layers: LayerRef[] = [
      ...parentLayers,
      { chainId, diffId, digest: diffId, mediaType: MediaType.ociLayer, compressedSize: tarSize, size },
    ];
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: configBytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.compressedSize })),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256Digest(manifestBytes);
    await store.blobs.put(id, configBytes);
    await store.blobs.put(manifestDigest, manifestBytes);
    await store.update((index) => {
      if (tag) detachTag(index, tag);
      const record: ImageRecord = index.images[id] ?? {
        id,
        repoTags: [],
        repoDigests: [],
        manifestDigest,
        manifestMediaType: MediaType.ociManifest,
        configDigest: id,
        layers,
        size: layers.reduce((a, l) => a + l.size, 0),
        created,
        architecture: config.architecture,
        os: config.os,
        variant: config.variant,
        storedAt: created,
      };
      if (tag && !record.repoTags.includes(tag)) record.repoTags.push(tag);
      index.images[id] = record;
    });
    return { id, tag };
  } finally {
    layersLock?.release();
    await removeTree(work).catch(cleanupFailed(ctx, `remove ${work}`));
  }
}

type Change = (cfg: ContainerConfig) => void;

/** One `-c` instruction in Dockerfile syntax. */
export function parseChange(instr: string): Change {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(instr);
  if (!m) throw new UsageError(`invalid change: ${JSON.stringify(instr)}`);
  const kw = m[1]!.toUpperCase();
  const rest = m[2]!.trim();
  const list = (shell: boolean): string[] => {
    if (rest.startsWith('[')) {
      try {
        const v = JSON.parse(rest) as unknown;
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      } catch {
        // not JSON: shell form
      }
    }
    return shell ? ['/bin/sh', '-c', rest] : splitWords(rest);
  };
  switch (kw) {
    case 'CMD':
      return (c) => void (c.Cmd = list(true));
    case 'ENTRYPOINT':
      return (c) => void (c.Entrypoint = list(true));
    case 'WORKDIR':
      return (c) => void (c.WorkingDir = rest.startsWith('/') ? rest : path.posix.join(c.WorkingDir || '/', rest));
    case 'USER':
      return (c) => void (c.User = rest);
    case 'STOPSIGNAL':
      return (c) => void (c.StopSignal = rest);
    case 'ENV': {
      const pairs = keyValues(rest, 'ENV');
      return (c) => {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
      };
    }
    case 'LABEL': {
      const pairs = keyValues(rest, 'LABEL');
      return (c) => {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs) c.Labels[k] = v;
      };
    }
    case 'EXPOSE': {
      const ports = splitWords(rest).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
      for (const p of ports) if (!/^\d+(-\d+)?\/(tcp|udp|sctp)$/.test(p)) throw new UsageError(`invalid containerPort: ${p}`);
      return (c) => {
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of ports) c.ExposedPorts[p] = {};
      };
    }
    case 'VOLUME': {
      const vols = list(false);
      return (c) => {
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) c.Volumes[v] = {};
      };
    }
    case 'ONBUILD':
      return (c) => void (c.OnBuild = [...(c.OnBuild ?? []), rest]);
    default:
      throw new TsdockError(`${kw} is not a valid change command`);
  }
}

/** Words with "double" and 'single' quotes and backslash escapes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let any = false;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (q) {
      if (ch === q) q = undefined;
      else if (ch === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      q = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      any = true;
    } else if (/\s/.test(ch)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (q) throw new UsageError(`unterminated quote in ${JSON.stringify(s)}`);
  if (any) out.push(cur);
  return out;
}

/** `K=V K2="v 2"` or the legacy `K value with spaces`. */
function keyValues(rest: string, kw: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length === 0) throw new UsageError(`${kw} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw new UsageError(`${kw} names can not be blank`);
    return [[m[1]!, splitWords(m[2]!).join(' ')]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new UsageError(`${kw} needs key=value pairs: ${w}`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}
