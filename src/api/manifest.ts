/**
 * `tsdock manifest create|add|annotate|inspect|push|rm|exists`: local manifest lists (image/manifest-list/),
 * kept in the image store until pushed as an OCI index or a Docker manifest list.
 */
import type { Context } from '../context.js';
import { NotFoundError } from '../errors.js';
import { loadRegistriesConf } from '../config/registries.js';
import { withLock } from '../state/lock.js';
import { ImageStore, findImage } from '../image/store/images.js';
import { parseManifest, parsePlatform, type ImageIndex, type ImageManifest, type Platform } from '../image/manifest.js';
import { parseReference } from '../image/reference.js';
import { clientFor, type RegistryAccess } from '../image/registry-access.js';
import { parsePushFormat, type PushFormat } from '../image/manifest-convert.js';
import { resolveEntries, type ResolvedEntries } from '../image/manifest-list/entry.js';
import { annotateEntry, convertList, emptyList, withEntry, type EntryAnnotation } from '../image/manifest-list/list.js';
import { createList, findList, loadList, removeList, saveList } from '../image/manifest-list/store.js';
import { pushList, type ManifestPushOptions, type ManifestPushResult } from '../image/manifest-list/push.js';
import { collectLayersLocked } from './rmi.js';

export type { EntryAnnotation, ManifestPushOptions, ManifestPushResult, PushFormat, RegistryAccess };
export { parsePushFormat };

export interface ManifestCreateOptions extends RegistryAccess {
  list: string;
  images: string[];
  /** add to the list of that name if it exists */
  amend?: boolean;
  /** an image that is a list adds all its entries */
  all?: boolean;
  format?: PushFormat;
}

/** `manifest create LIST [IMAGE...]`: the new (or, with amend, existing) list's id. */
export async function manifestCreate(o: ManifestCreateOptions, ctx: Context): Promise<string> {
  const store = new ImageStore(ctx.root);
  return withLock(store.lockPath('layers'), 'shared', async () => {
    const resolved: ResolvedEntries[] = [];
    const access: RegistryAccess = { tlsVerify: o.tlsVerify, certDir: o.certDir, creds: o.creds, authFile: o.authFile };
    for (const image of o.images) resolved.push(await resolveEntries(image, { ...access, all: o.all }, ctx));
    const { record, list } = await createList(store, o.list, emptyList(o.format), Boolean(o.amend));
    let out: ImageIndex = o.format ? convertList(list, o.format) : list;
    const sources = {};
    for (const r of resolved) {
      for (const e of r.entries) out = withEntry(out, e);
      Object.assign(sources, r.sources);
    }
    await saveList(store, record.id, out, sources);
    return record.id;
  });
}

export interface ManifestAddOptions extends RegistryAccess, EntryAnnotation {
  list: string;
  image: string;
  /** a remote list adds all its entries */
  all?: boolean;
}

/** `manifest add LIST IMAGE`: the list's id. */
export async function manifestAdd(o: ManifestAddOptions, ctx: Context): Promise<string> {
  const store = new ImageStore(ctx.root);
  return withLock(store.lockPath('layers'), 'shared', async () => {
    const { record, list } = await loadList(store, o.list);
    const wanted = wantedPlatform(o);
    const access: RegistryAccess = { tlsVerify: o.tlsVerify, certDir: o.certDir, creds: o.creds, authFile: o.authFile };
    const r = await resolveEntries(o.image, { ...access, all: o.all, ...(wanted ? { wanted } : {}) }, ctx);
    let out = list;
    for (const e of r.entries) out = withEntry(out, r.entries.length === 1 ? annotateEntry(e, o) : e);
    await saveList(store, record.id, out, r.sources);
    return record.id;
  });
}

/** From a remote list, take the platform `--arch` (with `--os`, `--variant`) names, else the host's. */
function wantedPlatform(o: EntryAnnotation): Platform | undefined {
  if (!o.architecture) return undefined;
  return parsePlatform([o.os ?? 'linux', o.architecture, o.variant].filter((x) => x).join('/'));
}

export interface ManifestAnnotateOptions extends EntryAnnotation {
  list: string;
  /** the entry: its digest, or a local image whose manifest it is */
  image: string;
}

export async function manifestAnnotate(o: ManifestAnnotateOptions, ctx: Context): Promise<string> {
  const store = new ImageStore(ctx.root);
  return withLock(store.lockPath('layers'), 'shared', async () => {
    const { record, list } = await loadList(store, o.list);
    const digest = /^sha256:[a-f0-9]{64}$/.test(o.image) ? o.image : findImage(await store.read(), o.image)?.manifestDigest;
    const entry = list.manifests.find((d) => d.digest === digest);
    if (!entry) throw new NotFoundError(`${o.image}: not an entry of manifest list ${o.list}`);
    await saveList(store, record.id, withEntry(list, annotateEntry(entry, o)));
    return record.id;
  });
}

/** `manifest inspect NAME`: a local list's JSON, else the manifest or list the registry has under NAME. */
export async function manifestInspect(o: RegistryAccess & { name: string }, ctx: Context): Promise<ImageIndex | ImageManifest> {
  const store = new ImageStore(ctx.root);
  if (!o.name.startsWith('docker://') && findList(await store.read(), o.name)) return (await loadList(store, o.name)).list;
  const conf = loadRegistriesConf(ctx.env);
  const ref = parseReference(o.name.replace(/^docker:\/\//, ''), { searchRegistries: conf.unqualifiedSearchRegistries });
  const m = await clientFor(ref, o, conf, ctx).getManifest(ref.digest ?? ref.tag ?? 'latest');
  const parsed = parseManifest(m.bytes, m.mediaType);
  return parsed.kind === 'index' ? parsed.index : parsed.manifest;
}

export async function manifestPush(o: ManifestPushOptions, ctx: Context): Promise<ManifestPushResult> {
  return pushList(o, ctx);
}

export interface ManifestRmResult {
  untagged: string[];
  deleted: string;
}

/** `manifest rm LIST`: the list's record is removed and its blob collected; its images stay. */
export async function manifestRm(name: string, ctx: Context): Promise<ManifestRmResult> {
  const store = new ImageStore(ctx.root);
  return withLock(store.lockPath('layers'), 'exclusive', async () => {
    const record = await removeList(store, name);
    await collectLayersLocked(store);
    return { untagged: record.names, deleted: record.id };
  });
}

export async function manifestExists(name: string, ctx: Context): Promise<boolean> {
  return findList(await new ImageStore(ctx.root).read(), name) !== undefined;
}
