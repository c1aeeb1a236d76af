/**
 * push: an image of the store to a registry — its layers' kept blobs and its config (push-blob.ts), then the
 * manifest (as stored, or converted by `--format`) by tag or digest; the pushed repository joins RepoDigests,
 * which also tell later pushes where the image's blobs already are (cross-repository mounts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { NotFoundError, TsdockError, UsageError } from '../errors.js';
import { loadRegistriesConf } from '../config/registries.js';
import { withLock } from '../state/lock.js';
import { sha256Digest } from './digest.js';
import { Readable } from 'node:stream';
import { rebuildLayerTar } from '../storage/tar-layout.js';
import { MediaType, layerCompression, parseManifest, type Descriptor, type ImageManifest } from './manifest.js';
import { pushCompressed, type StreamedLayer } from './push-compressed.js';
import { convertManifest, inFormat, type PushFormat } from './manifest-convert.js';
import { pushBlob, type BlobOutcome, type BlobSource } from './push-blob.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import { imageEvent } from './events.js';
import { clientFor, type RegistryAccess } from './registry-access.js';
import { ImageStore, repoName } from './store/images.js';
import type { ImageRecord } from './store/types.js';

export interface PushOptions extends RegistryAccess {
  /** the local image: a name, `name:tag` or id */
  image: string;
  /** where to push; defaults to the image's name */
  destination?: string;
  format?: PushFormat;
  /** push the manifest by its own digest (a manifest list's entry), not by a tag */
  byDigest?: boolean;
}

export interface PushResult {
  reference: ImageReference;
  /** the pushed manifest's digest, size and media type */
  digest: string;
  size: number;
  mediaType: string;
}

const PARALLEL_BLOBS = 3;

/** Layers are read from the store under layers.lock shared, so rmi/prune cannot remove them mid-push. */
export async function pushImage(opts: PushOptions, ctx: Context): Promise<PushResult> {
  const store = new ImageStore(ctx.root);
  return withLock(store.lockPath('layers'), 'shared', () => pushUnderLock(store, opts, ctx));
}

async function pushUnderLock(store: ImageStore, opts: PushOptions, ctx: Context): Promise<PushResult> {
  const image = await store.resolve(opts.image);
  const ref = destination(opts, image);
  const conf = loadRegistriesConf(ctx.env);
  const mountFrom = mountSources(image, ref);
  const client = clientFor(ref, opts, conf, ctx, { actions: ['pull', 'push'], extraScopes: mountFrom.map((r) => `repository:${r}:pull`) });

  ctx.progress?.({ kind: 'status', message: `The push refers to repository [${repoName(ref)}]` });

  const stored = await store.blobs.get(image.manifestDigest);
  const parsed = parseManifest(stored, image.manifestMediaType);
  if (parsed.kind !== 'manifest') throw new TsdockError(`image ${image.id}: stored manifest ${image.manifestDigest} is an index`);
  const family: PushFormat = opts.format ?? (parsed.mediaType === MediaType.ociManifest ? 'oci' : 'v2s2');
  const plans = await layerPlans(store, image, parsed.manifest, family);
  const early = plans.every((p) => p.desc) ? manifestToPush(stored, parsed.manifest, parsed.mediaType, plans.map((p) => p.desc!), opts.format) : undefined;
  if (early) checkDigest(ref, sha256Digest(early.bytes), opts.format);
  for (const p of [...plans].reverse()) ctx.progress?.({ kind: 'push', id: p.id, phase: 'preparing' });

  const sessionDir = path.join(ctx.root, 'uploads');
  const report = (id: string, outcome: BlobOutcome): void => {
    if (outcome.kind === 'exists') ctx.progress?.({ kind: 'push', id, phase: 'present' });
    else if (outcome.kind === 'mounted') ctx.progress?.({ kind: 'push', id, phase: 'mounted', from: outcome.from });
    else ctx.progress?.({ kind: 'push', id, phase: 'pushed' });
  };
  const pushOne = async (plan: LayerPlan): Promise<Descriptor> => {
    const progress = (current: number, total?: number) => ctx.progress?.({ kind: 'push', id: plan.id, phase: 'pushing', current, ...(total !== undefined ? { total } : {}) });
    if (plan.blob) {
      report(plan.id, await pushBlob(client, plan.blob, { mountFrom, sessionDir, progress }));
      return plan.desc!;
    }
    const stream = plan.stream!;
    if (plan.desc && (await client.blobExists(plan.desc.digest))) {
      report(plan.id, { kind: 'exists' });
      return plan.desc;
    }
    const made = await pushCompressed(client, stream, { sessionDir, progress });
    await store.layers.recordPushedGzip(stream.chainId, made);
    report(plan.id, { kind: 'pushed' });
    return { mediaType: stream.mediaType, ...made };
  };
  const layers: Descriptor[] = new Array(plans.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plans.length) {
      const i = next++;
      layers[i] = await pushOne(plans[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_BLOBS, plans.length) }, worker));
  const config = await store.blobs.get(image.configDigest);
  await pushBlob(client, { digest: image.configDigest, size: config.length, bytes: config }, { mountFrom, sessionDir });

  const { bytes, manifest } = early && layers.every((l, i) => l.digest === plans[i]!.desc!.digest) ? early : manifestToPush(stored, parsed.manifest, parsed.mediaType, layers, opts.format);
  const digest = sha256Digest(bytes);
  checkDigest(ref, digest, opts.format);

  const reported = await client.uploads().putManifest(opts.byDigest ? digest : (ref.digest ?? ref.tag ?? 'latest'), bytes, manifest.mediaType!);
  if (reported && reported !== digest) throw new TsdockError(`pushing ${formatReference(ref)}: the registry stored manifest ${reported}, not ${digest}`);
  const repoDigest = `${repoName(ref)}@${digest}`;
  await store.update((index) => {
    const record = index.images[image.id];
    if (record && !record.repoDigests.includes(repoDigest)) record.repoDigests.push(repoDigest);
  });
  imageEvent(store.root, 'push', formatReference(ref));
  return { reference: opts.byDigest ? { ...ref, tag: undefined, digest } : ref, digest, size: bytes.length, mediaType: manifest.mediaType! };
}

/** A push by digest must name the manifest pushed. */
function checkDigest(ref: ImageReference, digest: string, format: PushFormat | undefined): void {
  if (ref.digest && ref.digest !== digest) {
    throw new UsageError(`cannot push ${formatReference(ref)}: the image's manifest${format ? ` in ${format} format` : ''} is ${digest}`);
  }
}

/** The destination reference: DESTINATION, else the image's own name; a push by digest must match the manifest. */
function destination(opts: PushOptions, image: ImageRecord): ImageReference {
  const name = opts.destination ?? opts.image;
  let ref: ImageReference;
  try {
    ref = parseReference(name);
  } catch (err) {
    if (opts.destination || !image.id.slice(7).startsWith(name.replace(/^sha256:/, ''))) throw err;
    throw new UsageError(`an image id cannot be pushed without a destination: tsdock push ${name} REGISTRY/REPOSITORY[:TAG]`);
  }
  if (!opts.destination && image.id.slice(7).startsWith(name.replace(/^sha256:/, ''))) {
    throw new UsageError(`an image id cannot be pushed without a destination: tsdock push ${name} REGISTRY/REPOSITORY[:TAG]`);
  }
  if (ref.digest && ref.tag) throw new UsageError(`push to ${name}: give a tag or a digest, not both`);
  return ref;
}

/** Other repositories of the destination's registry that hold this image's blobs (pulled from or pushed to). */
export function mountSources(image: ImageRecord, ref: ImageReference): string[] {
  const out: string[] = [];
  for (const d of image.repoDigests) {
    const name = d.slice(0, d.indexOf('@'));
    const slash = name.indexOf('/');
    const registry = name.slice(0, slash);
    const repository = name.slice(slash + 1);
    if (registry === ref.registry && repository !== ref.repository && !out.includes(repository)) out.push(repository);
  }
  return out;
}

/**
 * The manifest bytes to push: the stored ones when every layer is kept as the manifest names it and the format
 * is already right; else the manifest with the kept blobs' descriptors, in `format` (default: its own family).
 */
function manifestToPush(stored: Buffer, manifest: ImageManifest, mediaType: string, layers: Descriptor[], format: PushFormat | undefined): { bytes: Buffer; manifest: ImageManifest } {
  const same = layers.every((l, i) => l === manifest.layers[i]);
  if (same && inFormat(manifest, mediaType, format)) return { bytes: stored, manifest: { ...manifest, mediaType } };
  const family: PushFormat = format ?? (mediaType === MediaType.ociManifest ? 'oci' : 'v2s2');
  const converted = convertManifest({ ...manifest, mediaType, layers }, family);
  return { bytes: Buffer.from(JSON.stringify(converted)), manifest: converted };
}

/**
 * How each layer goes: its kept compressed blob (`blob`, under the manifest's own descriptor when it is the blob
 * the manifest names, else the blob's: a layer first pulled under another compression, same diff id, so the same
 * image id); or, when the layer is kept uncompressed (commit, build) or not kept as a blob at all, its tar gzip'd
 * while it streams (`stream`: the kept tar, or the tar rebuilt from diff/ and tar-layout.gz), with the `desc` an
 * earlier push of it made, when there was one.
 */
interface LayerPlan {
  id: string;
  desc?: Descriptor;
  blob?: BlobSource;
  stream?: StreamedLayer & { chainId: string; mediaType: string };
}

async function layerPlans(store: ImageStore, image: ImageRecord, manifest: ImageManifest, family: PushFormat): Promise<LayerPlan[]> {
  const gzipType = family === 'oci' ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip;
  return Promise.all(
    manifest.layers.map(async (desc, i): Promise<LayerPlan> => {
      const layer = image.layers[i];
      const meta = layer ? await store.layers.meta(layer.chainId) : undefined;
      if (!layer || !meta) throw new NotFoundError(`image ${image.id.slice(7, 19)}: layer ${desc.digest} is not in the store`);
      const file = store.layers.blobPath(layer.chainId);
      const size = await fs.promises.stat(file).then((s) => s.size, () => undefined);
      const kept = meta.digest && meta.mediaType && size !== undefined;
      if (kept && layerCompression(meta.mediaType!) !== 'none') {
        const own = meta.digest === desc.digest && size === desc.size;
        return { id: meta.digest!.slice(7, 19), blob: { digest: meta.digest!, size: size!, file }, desc: own ? desc : { mediaType: meta.mediaType!, digest: meta.digest!, size: size! } };
      }
      const layout = store.layers.layoutFile(layer.chainId);
      if (!kept && !fs.existsSync(layout)) {
        throw new NotFoundError(`image ${image.id.slice(7, 19)}: layer ${desc.digest} is kept neither as a blob nor as a tar layout (stored before push kept blobs): pull the image again`);
      }
      const diffDir = store.layers.diffDir(layer.chainId);
      const tar = kept ? () => fs.createReadStream(file, { highWaterMark: 1 << 20 }) : () => Readable.from(rebuildLayerTar(diffDir, layout), { objectMode: false, highWaterMark: 1 << 20 });
      return {
        id: layer.diffId.slice(7, 19),
        stream: { diffId: layer.diffId, chainId: layer.chainId, mediaType: gzipType, tar },
        ...(meta.pushedGzip ? { desc: { mediaType: gzipType, ...meta.pushedGzip } } : {}),
      };
    }),
  );
}
