/**
 * What `manifest create/add` put in a list for an IMAGE argument: a local image (its stored manifest's
 * descriptor, the platform from its config), or a registry reference (`docker://` or a plain reference not
 * found locally): its manifest and config are read from the registry (no layer is fetched). A remote list gives
 * the entry for the wanted platform, or with `all` every entry.
 */
import type { Context } from '../../context.js';
import { NotFoundError, TsdockError } from '../../errors.js';
import { loadRegistriesConf } from '../../config/registries.js';
import { hostPlatform, parseImageConfig, parseManifest, selectManifest, type Descriptor, type ImageConfig, type Platform } from '../manifest.js';
import { formatReference, parseReference } from '../reference.js';
import { clientFor, type RegistryAccess } from '../registry-access.js';
import { ImageStore, findImage, repoName } from '../store/images.js';
import type { ManifestListSource } from '../store/types.js';
import { entryPlatform } from './list.js';

export interface ResolvedEntries {
  entries: Descriptor[];
  sources: Record<string, ManifestListSource>;
}

const MAX_CONFIG = 8 * 1024 * 1024;
const TRANSPORT = 'docker://';

/** `wanted`: the platform to take from a remote list (default the host's). */
export async function resolveEntries(image: string, opts: RegistryAccess & { all?: boolean; wanted?: Platform }, ctx: Context): Promise<ResolvedEntries> {
  if (!image.startsWith(TRANSPORT)) {
    const store = new ImageStore(ctx.root);
    const local = findImage(await store.read(), image);
    if (local) {
      const manifest = await store.blobs.get(local.manifestDigest);
      const config = parseImageConfig(await store.blobs.get(local.configDigest));
      const entry: Descriptor = { mediaType: local.manifestMediaType, digest: local.manifestDigest, size: manifest.length, platform: platformOf(config) };
      return { entries: [entry], sources: { [entry.digest]: { image: local.id } } };
    }
  }
  return remoteEntries(image.startsWith(TRANSPORT) ? image.slice(TRANSPORT.length) : image, opts, ctx);
}

async function remoteEntries(name: string, opts: RegistryAccess & { all?: boolean; wanted?: Platform }, ctx: Context): Promise<ResolvedEntries> {
  const conf = loadRegistriesConf(ctx.env);
  const ref = parseReference(name, { searchRegistries: conf.unqualifiedSearchRegistries });
  const client = clientFor(ref, opts, conf, ctx);
  const top = await client.getManifest(ref.digest ?? ref.tag ?? 'latest');
  const parsed = parseManifest(top.bytes, top.mediaType);
  const source: ManifestListSource = { repository: repoName(ref) };
  if (parsed.kind === 'index') {
    const entries = opts.all ? parsed.index.manifests : [selectManifest(parsed.index, opts.wanted ?? hostPlatform())];
    if (entries.length === 0) throw new NotFoundError(`${formatReference(ref)}: the manifest list is empty`);
    return { entries: entries.map((d) => ({ ...d })), sources: Object.fromEntries(entries.map((d) => [d.digest, source])) };
  }
  const configBytes = await client.getBlobBytes(parsed.manifest.config.digest, MAX_CONFIG);
  let config: ImageConfig;
  try {
    config = parseImageConfig(configBytes);
  } catch (err) {
    throw new TsdockError(`${formatReference(ref)}: ${(err as Error).message}`);
  }
  const entry: Descriptor = { mediaType: parsed.mediaType, digest: top.digest, size: top.bytes.length, platform: platformOf(config) };
  return { entries: [entry], sources: { [entry.digest]: source } };
}

function platformOf(config: ImageConfig): Platform {
  const p: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) p.variant = config.variant;
  if (config['os.version']) p['os.version'] = config['os.version'];
  if (config['os.features']) p['os.features'] = config['os.features'];
  return entryPlatform(p);
}
