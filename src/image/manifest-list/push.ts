/**
 * `manifest push`: with `all` (the default, as podman's), every entry first — a local image through push's own
 * code, by its digest; an entry read from a registry copied from there (blobs mounted when it is the same
 * registry, else streamed through a temporary file, never held in memory) — then the list itself by tag, in
 * `format` (default: as created). An entry pushed in another format gets its new digest in the list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Context } from '../../context.js';
import { NotFoundError, TsdockError, withCleanup } from '../../errors.js';
import { loadRegistriesConf } from '../../config/registries.js';
import { makeTmpDir, removeTree } from '../../storage/tmp.js';
import { DigestVerifier, sha256Digest } from '../digest.js';
import { parseManifest, type Descriptor } from '../manifest.js';
import type { PushFormat } from '../manifest-convert.js';
import { pushBlob } from '../push-blob.js';
import { pushImage } from '../push.js';
import { formatReference, parseReference, type ImageReference } from '../reference.js';
import type { RegistryClient } from '../registry/client.js';
import { clientFor, type RegistryAccess } from '../registry-access.js';
import { ImageStore, repoName } from '../store/images.js';
import type { ManifestListSource } from '../store/types.js';
import { convertList, formatOfList, serializeList } from './list.js';
import { loadList, removeList } from './store.js';

export interface ManifestPushOptions extends RegistryAccess {
  list: string;
  /** default: the list's own name */
  destination?: string;
  format?: PushFormat;
  /** push every entry's image first (default true) */
  all?: boolean;
  /** remove the local list once pushed */
  rm?: boolean;
}

export interface ManifestPushResult {
  reference: ImageReference;
  digest: string;
  size: number;
}

export async function pushList(opts: ManifestPushOptions, ctx: Context): Promise<ManifestPushResult> {
  const store = new ImageStore(ctx.root);
  const { record, list } = await loadList(store, opts.list);
  const conf = loadRegistriesConf(ctx.env);
  const ref = parseReference(opts.destination ?? record.names[0]!, { searchRegistries: conf.unqualifiedSearchRegistries });
  if (ref.digest) throw new TsdockError(`cannot push manifest list ${opts.list} to ${formatReference(ref)}: give a tag, not a digest`);
  const client = clientFor(ref, opts, conf, ctx, { actions: ['pull', 'push'] });
  const format = opts.format ?? formatOfList(record.mediaType);

  const pushed = new Map<string, Descriptor>();
  if (opts.all !== false) {
    for (const entry of list.manifests) {
      const source = record.sources[entry.digest] ?? {};
      const d = await pushEntry(store, entry, source, ref, client, opts, ctx);
      if (d.digest !== entry.digest || d.mediaType !== entry.mediaType) pushed.set(entry.digest, d);
    }
  }
  const out = convertList(list, format, pushed);
  const bytes = serializeList(out);
  const digest = sha256Digest(bytes);
  ctx.progress?.({ kind: 'status', message: `Writing manifest list to ${formatReference(ref)}` });
  const reported = await client.uploads().putManifest(ref.tag ?? 'latest', bytes, out.mediaType!);
  if (reported && reported !== digest) throw new TsdockError(`pushing ${formatReference(ref)}: the registry stored manifest ${reported}, not ${digest}`);
  if (opts.rm) await removeList(store, record.id);
  return { reference: ref, digest, size: bytes.length };
}

/** One entry's manifest (and blobs) into the destination repository; its descriptor as pushed. */
async function pushEntry(
  store: ImageStore,
  entry: Descriptor,
  source: ManifestListSource,
  dest: ImageReference,
  client: RegistryClient,
  opts: ManifestPushOptions,
  ctx: Context,
): Promise<Descriptor> {
  const index = await store.read();
  const local = (source.image ? index.images[source.image] : undefined) ?? Object.values(index.images).find((i) => i.manifestDigest === entry.digest);
  if (local) {
    const r = await pushImage({ ...opts, image: local.id, destination: `${repoName(dest)}:${dest.tag ?? 'latest'}`, format: opts.format, byDigest: true }, ctx);
    return { ...entry, mediaType: r.mediaType, digest: r.digest, size: r.size };
  }
  if (!source.repository) {
    throw new NotFoundError(`manifest list entry ${entry.digest}: its image is no longer in the store; add it again or push with --all=false`);
  }
  await copyRemote(entry, source.repository, dest, client, opts, ctx);
  return entry;
}

/** An entry read from a registry: its config and layers, then its manifest as it is (same digest). */
async function copyRemote(entry: Descriptor, from: string, dest: ImageReference, client: RegistryClient, opts: RegistryAccess, ctx: Context): Promise<void> {
  const srcRef = parseReference(`${from}@${entry.digest}`);
  if (srcRef.registry === dest.registry && srcRef.repository === dest.repository) return;
  const conf = loadRegistriesConf(ctx.env);
  const src = clientFor(srcRef, opts, conf, ctx);
  const m = await src.getManifest(entry.digest);
  const parsed = parseManifest(m.bytes, m.mediaType);
  if (parsed.kind !== 'manifest') throw new TsdockError(`manifest list entry ${entry.digest} of ${from} is itself a list`);
  const sameRegistry = srcRef.registry === dest.registry;
  ctx.progress?.({ kind: 'status', message: `Copying ${entry.digest.slice(7, 19)} from ${from}` });
  const tmp = await makeTmpDir(ctx.root, 'manifest-push');
  await withCleanup(async () => {
    for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) {
      const file = path.join(tmp, blob.digest.replace(':', '-'));
      const id = blob.digest.slice(7, 19);
      const outcome = await pushBlob(
        client,
        { digest: blob.digest, size: blob.size, fetch: () => download(src, blob, file) },
        {
          mountFrom: sameRegistry ? [srcRef.repository] : [],
          sessionDir: path.join(ctx.root, 'uploads'),
          progress: (current, total) => ctx.progress?.({ kind: 'push', id, phase: 'pushing', current, total }),
        },
      );
      ctx.progress?.({ kind: 'push', id, phase: outcome.kind === 'exists' ? 'present' : outcome.kind === 'mounted' ? 'mounted' : 'pushed', ...(outcome.kind === 'mounted' ? { from: outcome.from } : {}) });
      await fs.promises.rm(file, { force: true });
    }
  }, () => removeTree(tmp));
  await client.uploads().putManifest(entry.digest, m.bytes, parsed.mediaType);
}

/** A blob of the source registry into `file`, checked against its digest and size while it streams. */
async function download(src: RegistryClient, blob: Descriptor, file: string): Promise<string> {
  const { stream } = await src.getBlob(blob.digest);
  await pipeline(stream, new DigestVerifier({ expected: blob.digest, size: blob.size, what: `blob ${blob.digest}` }), fs.createWriteStream(file, { mode: 0o600 }));
  return file;
}
