/**
 * What an unpacked image archive holds: docker-archive (manifest.json, old style `<id>/layer.tar` or docker
 * 25's paths into blobs/) or an OCI image layout (index.json, followed through nested indexes to the host's
 * platform). Only names what to verify; reading stays inside the archive's directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { IntegrityError } from '../../errors.js';
import { sha256Digest } from '../digest.js';
import { MAX_MANIFEST_SIZE, hostPlatform, parseImageConfig, parseManifest, selectManifest, type Descriptor, type ImageConfig } from '../manifest.js';
import { formatReference, parseReference } from '../reference.js';
import { nameOfDescriptor, parseDockerManifestJson, parseOciIndexJson } from './format.js';

export interface ArchiveLayer {
  /** relative path in the archive */
  file: string;
  /** the blob's digest when the archive names it (blobs/sha256/<hex>, an OCI descriptor) */
  digest?: string;
}

export interface ArchiveImage {
  configBytes: Buffer;
  config: ImageConfig;
  /** the image id: the config's digest */
  id: string;
  layers: ArchiveLayer[];
  /** full references */
  tags: string[];
}

const BLOB = /^blobs\/(sha256)\/([a-f0-9]{64})$/;

export async function readArchive(dir: string, where: string): Promise<ArchiveImage[]> {
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return readDockerArchive(dir, where);
  if (fs.existsSync(path.join(dir, 'index.json'))) return readOciLayout(dir, where);
  throw new IntegrityError(`${where}: neither a docker-archive (manifest.json) nor an OCI layout (index.json)`);
}

async function readDockerArchive(dir: string, where: string): Promise<ArchiveImage[]> {
  const entries = parseDockerManifestJson(await readInside(dir, 'manifest.json', where), `${where}: manifest.json`);
  return Promise.all(
    entries.map(async (e) => {
      const configBytes = await readInside(dir, e.Config, where);
      const named = nameDigest(e.Config);
      if (named && sha256Digest(configBytes) !== named) throw new IntegrityError(`${where}: config ${e.Config} does not hash to its name (${sha256Digest(configBytes)})`);
      const tags = (e.RepoTags ?? []).map((t) => formatReference(parseReference(t)));
      return image(configBytes, e.Layers.map((file) => ({ file: clean(file, where), digest: nameDigest(file) })), tags, `${where}: ${e.Config}`);
    }),
  );
}

async function readOciLayout(dir: string, where: string): Promise<ArchiveImage[]> {
  const index = parseOciIndexJson(await readInside(dir, 'index.json', where), `${where}: index.json`);
  const out = new Map<string, ArchiveImage>();
  for (const top of index.manifests) {
    const desc = await manifestFor(dir, top, where);
    const parsed = parseManifest(await readBlob(dir, desc, where), desc.mediaType);
    if (parsed.kind !== 'manifest') throw new IntegrityError(`${where}: ${desc.digest} is not an image manifest`);
    const m = parsed.manifest;
    const configBytes = await readBlob(dir, m.config, where);
    const name = nameOfDescriptor(top);
    const img = out.get(m.config.digest) ?? image(configBytes, m.layers.map((l) => ({ file: blobFile(l.digest), digest: l.digest })), [], `${where}: config ${m.config.digest}`);
    if (name && !img.tags.includes(name)) img.tags.push(name);
    out.set(m.config.digest, img);
  }
  return [...out.values()];
}

/** A nested index (podman, multi-platform skopeo copies) resolved to the host's manifest. */
async function manifestFor(dir: string, d: Descriptor, where: string, depth = 0): Promise<Descriptor> {
  const parsed = parseManifest(await readBlob(dir, d, where), d.mediaType);
  if (parsed.kind !== 'index') return d;
  if (depth > 4) throw new IntegrityError(`${where}: indexes nested too deeply at ${d.digest}`);
  return manifestFor(dir, selectManifest(parsed.index, hostPlatform()), where, depth + 1);
}

function image(configBytes: Buffer, layers: ArchiveLayer[], tags: string[], what: string): ArchiveImage {
  const config = parseImageConfig(configBytes);
  if (config.rootfs.diff_ids.length !== layers.length) {
    throw new IntegrityError(`${what}: the config lists ${config.rootfs.diff_ids.length} diff_ids for ${layers.length} layers`);
  }
  return { configBytes, config, id: sha256Digest(configBytes), layers, tags };
}

async function readBlob(dir: string, d: Descriptor, where: string): Promise<Buffer> {
  if (d.size > MAX_MANIFEST_SIZE) throw new IntegrityError(`${where}: blob ${d.digest} is too large for a manifest or config (${d.size} bytes)`);
  const bytes = await readInside(dir, blobFile(d.digest), where);
  if (sha256Digest(bytes) !== d.digest) throw new IntegrityError(`${where}: blob ${d.digest} does not match its digest (${sha256Digest(bytes)})`);
  return bytes;
}

function blobFile(digest: string): string {
  const [algo, hex] = digest.split(':');
  return `blobs/${algo}/${hex}`;
}

/** sha256:<hex> when the path names its content: blobs/sha256/<hex> or an old-style `<hex>.json` config. */
function nameDigest(file: string): string | undefined {
  const rel = path.posix.normalize(file);
  const m = BLOB.exec(rel) ?? /^()([a-f0-9]{64})\.json$/.exec(rel);
  return m ? `sha256:${m[2]}` : undefined;
}

function clean(file: string, where: string): string {
  const rel = path.posix.normalize(file);
  if (rel.startsWith('../') || rel === '..' || path.posix.isAbsolute(rel)) throw new IntegrityError(`${where}: member ${JSON.stringify(file)} is outside the archive`);
  return rel;
}

/** The real path of member `file`, refused when it (or a symlink on the way) leads out of `dir`. */
export function memberPath(dir: string, file: string, where: string): string {
  const root = fs.realpathSync(dir);
  const rel = clean(file, where);
  let real: string;
  try {
    real = fs.realpathSync(path.join(root, rel));
  } catch {
    throw new IntegrityError(`${where}: member ${JSON.stringify(file)} is missing`);
  }
  if (!real.startsWith(root + path.sep) || !fs.statSync(real).isFile()) throw new IntegrityError(`${where}: member ${JSON.stringify(file)} is not a file inside the archive`);
  return real;
}

async function readInside(dir: string, file: string, where: string): Promise<Buffer> {
  const p = memberPath(dir, file, where);
  if (fs.statSync(p).size > MAX_MANIFEST_SIZE) throw new IntegrityError(`${where}: ${file} is too large (${fs.statSync(p).size} bytes)`);
  return fs.promises.readFile(p);
}
