import type { Context } from '../context.js';
import { IntegrityError, TsdockError } from '../errors.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { withLock } from '../state/lock.js';
import { sweepTmp } from '../storage/tmp.js';
import { chainIds, hostPlatform, parseManifest, parsePlatform, selectManifest, type ImageConfig, type Platform } from './manifest.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import { imageEvent } from './events.js';
import { warmDigests } from './digest.js';
import { clientFor, type RegistryAccess } from './registry-access.js';
import { loadRegistriesConf } from '../config/registries.js';
import { fetchLayer, type LayerIdentity, type LayerJob } from './layer-fetch.js';
import { detachTag, ImageStore, repoName } from './store/images.js';
import type { ImageIndexFile, ImageRecord, LayerRef } from './store/types.js';
import { unpackOptionsFor } from './unpack-mode.js';
import type { ManifestResult, RegistryClient } from './registry/client.js';

export interface PullOptions extends RegistryAccess {
  reference: string;
  platform?: string;
}

export interface PullResult {
  image: ImageRecord;
  reference: ImageReference;
  /** the digest the reference resolved to (an index/list digest when the registry served one) */
  digest: string;
  status: 'downloaded' | 'up-to-date';
}

const MAX_CONFIG = 8 * 1024 * 1024;
const PARALLEL_LAYERS = 3;

/**
 * Resolve a reference on its registry, fetch what is missing, and record the image. The whole pull holds
 * layers.lock shared until the image is in images.json: layer GC (exclusive) between the unpack and the record
 * would otherwise see the new layers unreferenced and remove them.
 */
export async function pullImage(opts: PullOptions, ctx: Context): Promise<PullResult> {
  const conf = loadRegistriesConf(ctx.env);
  const ref = parseReference(opts.reference, { searchRegistries: conf.unqualifiedSearchRegistries });
  const wanted: Platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const client = clientFor(ref, opts, conf, ctx);
  // asked before the lock and the tmp sweep, which then happen while the registry answers: it touches no store
  const top = client.getManifest(ref.digest ?? ref.tag ?? 'latest');
  top.catch(() => {}); // awaited under the lock; a failure there is the one reported
  await nextTurn(); // the event loop connects and sends the request before the synchronous work below
  return withLock(new ImageStore(ctx.root).lockPath('layers'), 'shared', () => pullUnderLayersLock({ opts, ref, wanted, client, top }, ctx));
}

interface Started {
  opts: PullOptions;
  ref: ImageReference;
  wanted: Platform;
  client: RegistryClient;
  top: Promise<ManifestResult>;
}

async function pullUnderLayersLock(started: Started, ctx: Context): Promise<PullResult> {
  const { opts, ref, wanted, client } = started;
  const store = new ImageStore(ctx.root);
  await sweepTmp(ctx.root);
  ctx.progress?.({ kind: 'status', message: `${ref.digest ?? ref.tag}: Pulling from ${ref.repository}` });
  warmDigests(); // while the registry answers

  const top = await started.top;
  let manifestBytes = top.bytes;
  let manifestDigest = top.digest;
  let manifestType = top.mediaType;
  let parsed = parseManifest(top.bytes, top.mediaType);
  let indexDigest: string | undefined;
  if (parsed.kind === 'index') {
    indexDigest = top.digest;
    const desc = selectManifest(parsed.index, wanted);
    const m = await client.getManifest(desc.digest);
    manifestBytes = m.bytes;
    manifestDigest = m.digest;
    manifestType = m.mediaType;
    parsed = parseManifest(m.bytes, m.mediaType);
    if (parsed.kind !== 'manifest') throw new TsdockError(`${formatReference(ref)}: index entry ${desc.digest} is itself an index`);
  }
  const manifest = parsed.manifest;
  // The config (diff_ids, hence chain ids) and the layers are fetched at once: a layer no image in the store
  // was pulled as cannot be in the layer store under a chain id we would find, so its download starts without
  // waiting for the config, which is needed only to verify it and to name it. A layer some image has is looked
  // up by chain id first, as before.
  const known = knownLayerDigests(await store.read());
  // the config failing ends the layer downloads still running (and the pull waits for their clean-up)
  const stop = new AbortController();
  const configP = (async () => {
    // after the layers' requests: they are what the pull waits for, and the first takes the open connection
    await nextTurn();
    // stored while the registry answers, not after the layers: GC keeps it for as long as the pull holds
    // layers.lock; a pull that fails leaves it unreferenced, for the next GC
    await store.blobs.put(manifestDigest, manifestBytes);
    if (indexDigest) await store.blobs.put(indexDigest, top.bytes);
    const bytes = store.blobs.has(manifest.config.digest) ? await store.blobs.get(manifest.config.digest) : await client.getBlobBytes(manifest.config.digest, MAX_CONFIG);
    const config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new IntegrityError(`${formatReference(ref)}: the config lists ${diffIds.length} diff_ids but the manifest has ${manifest.layers.length} layers`);
    }
    if (!indexDigest && opts.platform && (config.architecture !== wanted.architecture || config.os !== wanted.os)) {
      ctx.warn?.(`image platform (${config.os}/${config.architecture}) does not match the requested platform (${wanted.os}/${wanted.architecture})`);
    }
    const chains = chainIds(diffIds);
    const ids: LayerIdentity[] = diffIds.map((diffId, i) => ({ diffId, chainId: chains[i]!, parent: i > 0 ? chains[i - 1] : undefined }));
    await store.blobs.put(manifest.config.digest, bytes);
    return { bytes, config, ids };
  })();
  configP.catch((err: unknown) => stop.abort(err));
  const jobs: LayerJob[] = manifest.layers.map((l, i) => {
    const identity = configP.then((c) => c.ids[i]!);
    identity.catch(() => {}); // a layer that fails first, or is never reached, does not await it
    return { digest: l.digest, mediaType: l.mediaType, size: l.size, identity };
  });

  // the layers, PARALLEL_LAYERS at a time, under layers.lock (shared, since pullImage): GC (rmi/prune) takes it
  // exclusive and cannot remove them
  const unpack = unpackOptionsFor(ctx);
  const sizes = new Map<string, number>();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const short = job.digest.slice(7, 19);
      if (known.has(job.digest)) {
        const { chainId } = await job.identity;
        if (store.layers.has(chainId)) {
          sizes.set(chainId, (await store.layers.meta(chainId))?.size ?? 0);
          ctx.progress?.({ kind: 'layer', id: short, phase: 'exists' });
          continue;
        }
      }
      const { chainId, size } = await fetchLayer(client, store.layers, job, unpack, (phase, current, total) => ctx.progress?.({ kind: 'layer', id: short, phase, current, total }), signal);
      sizes.set(chainId, size);
    }
  };
  for (const j of jobs) ctx.progress?.({ kind: 'layer', id: j.digest.slice(7, 19), phase: 'waiting' });
  const workers = Array.from({ length: Math.min(PARALLEL_LAYERS, jobs.length) }, worker);
  const settled = await Promise.allSettled([configP, ...workers]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const { config, ids } = await configP;

  const layers: LayerRef[] = jobs.map((j, i) => {
    const { chainId, diffId } = ids[i]!;
    return { chainId, diffId, digest: j.digest, mediaType: j.mediaType, compressedSize: j.size, size: sizes.get(chainId) ?? 0 };
  });
  const id = manifest.config.digest;
  const tag = ref.tag ? formatReference({ ...ref, digest: undefined }) : undefined;
  const repoDigest = `${repoName(ref)}@${indexDigest ?? manifestDigest}`;
  const { image, existed } = await store.update((index) => {
    const existing = index.images[id];
    const hadTag = Boolean(existing && tag && existing.repoTags.includes(tag));
    if (tag) detachTag(index, tag);
    const record: ImageRecord = existing ?? {
      id,
      repoTags: [],
      repoDigests: [],
      manifestDigest,
      manifestMediaType: manifestType,
      indexDigest,
      configDigest: id,
      layers,
      size: layers.reduce((a, l) => a + l.size, 0),
      created: config.created,
      architecture: config.architecture,
      os: config.os,
      variant: config.variant,
      storedAt: new Date().toISOString(),
    };
    if (tag && !record.repoTags.includes(tag)) record.repoTags.push(tag);
    if (!record.repoDigests.includes(repoDigest)) record.repoDigests.push(repoDigest);
    index.images[id] = record;
    return { image: record, existed: hadTag || (!tag && Boolean(existing)) };
  });
  imageEvent(ctx.root, 'pull', formatReference(ref));
  return { image, reference: ref, digest: indexDigest ?? manifestDigest, status: existed ? 'up-to-date' : 'downloaded' };
}

/** The compressed digests of every layer the store's images and build cache entries hold. */
function knownLayerDigests(index: ImageIndexFile): Set<string> {
  const out = new Set<string>();
  const records = [...Object.values(index.images), ...Object.values(index.buildCache ?? {})];
  for (const record of records) for (const l of record.layers) out.add(l.digest);
  return out;
}
