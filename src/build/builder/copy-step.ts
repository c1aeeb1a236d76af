/**
 * COPY and ADD: sources from the context (`.dockerignore` applied), a stage or an image (`--from`), heredoc
 * bodies, and for ADD http(s) URLs (fetched) and local tar archives (extracted); docker's directory and
 * wildcard rules (copy-paths.ts), `--chown`/`--chmod`, `--link` accepted (the layer never depends on the
 * destination's content anyway). The entries become a layer written directly; the cache key holds their
 * content digest and metadata, never mtimes.
 */
import path from 'node:path';
import { layerDirs } from '../../image/layer-dirs.js';
import { readImageFile } from '../../storage/imagefs.js';
import { DockerfileError } from '../dockerfile/errors.js';
import { expandInstruction } from '../dockerfile/expand-instruction.js';
import type { AddInstruction, CopyInstruction } from '../dockerfile/types.js';
import { addArchiveItems, fetchUrl, isArchive, isUrl, parseChecksum, verifyChecksum } from './add-sources.js';
import { cacheKey, sourcesDigest } from './cache-key.js';
import { usedValues } from './config-step.js';
import { contentItem, orderItems, parentItems, sourceRecords, walkItems, type CopyItem, type ItemOptions } from './copy-items.js';
import { expandSource, hasWildcard, landing, resolveDest } from './copy-paths.js';
import { itemsLayer } from './layer-write.js';
import { parseChmod, resolveChown } from './owner.js';
import { imageFs, type SourceFs } from './source-fs.js';
import { cachedStep, stepConfig, type StageRun } from './state.js';

const rel = (abs: string): string => path.posix.relative('/', abs);

async function sourceFsOf(run: StageRun, from: string | undefined): Promise<{ fs: SourceFs; what: string }> {
  if (from === undefined) return { fs: run.settings.context, what: 'build context' };
  const state = await (run.settings.stageState(from) ?? run.settings.imageState(from));
  return { fs: imageFs(await layerDirs(run.settings.store, state.layers)), what: `stage or image ${from}` };
}

export async function copyStep(run: StageRun, raw: CopyInstruction | AddInstruction, text: string): Promise<void> {
  const { instruction: inst, used } = expandInstruction(raw, run.scope.lookup, run.settings.escape);
  const { store, ctx, epoch } = run.settings;
  const verb = inst.kind.toUpperCase();
  const fail = (message: string): never => {
    throw new DockerfileError(raw.startLine, `${verb} failed: ${message}`);
  };
  const targetDirs = await layerDirs(store, run.state.layers);
  const target = imageFs(targetDirs);
  const cfg = run.state.config.config ?? {};
  const dest = resolveDest(inst.dest, cfg.WorkingDir);
  const destIsDir = Boolean(target.lookup(rel(dest.path), true)?.stat.isDirectory());
  const opts: ItemOptions = {
    ...(inst.chown ? { owner: resolveChown(inst.chown, readImageFile(targetDirs, '/etc/passwd', 1 << 22)?.toString(), readImageFile(targetDirs, '/etc/group', 1 << 22)?.toString()) } : {}),
    ...(inst.chmod ? { chmod: parseChmod(inst.chmod) } : {}),
    ...(epoch !== undefined ? { epoch } : {}),
    ...(inst.kind === 'copy' && inst.from !== undefined ? { preserveOwner: true } : {}),
  };
  const now = epoch ?? Math.floor(Date.now() / 1000);
  const { fs: src, what } = await sourceFsOf(run, inst.kind === 'copy' ? inst.from : undefined);
  const items: CopyItem[] = [];
  let count = inst.inline.length;
  const urls = inst.sources.filter(isUrl);
  const paths = inst.sources.filter((s) => !isUrl(s));
  if (urls.length && inst.kind !== 'add') fail(`source can't be a URL for COPY`);
  const checksum = inst.kind === 'add' ? inst.checksum : undefined;
  if (checksum !== undefined) {
    // BuildKit's rule: the checksum is a single URL's (git sources are not supported here)
    if (paths.length || inst.inline.length || urls.length !== 1) fail("checksum can't be specified for multiple sources or non-HTTP(S) sources");
    try {
      parseChecksum(checksum);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  const matched = paths.flatMap((p) => {
    const found = expandSource(p, (d) => src.list(d)).filter((m) => src.lookup(m, !hasWildcard(p)) !== undefined);
    if (found.length === 0) fail(hasWildcard(p) ? `no source files were specified: ${p}` : `file not found in ${what}: ${p}`);
    return found;
  });
  count += matched.length + urls.length;
  if (count > 1 && !dest.dir && !destIsDir) fail('when using COPY with more than one source file, the destination must be a directory and end with a /');
  for (const m of matched) {
    const entry = src.lookup(m, true)!;
    if (inst.kind === 'add' && entry.stat.isFile() && (await isArchive(entry.hostPath))) {
      items.push(...(await addArchiveItems(entry.hostPath, dest.path, opts)));
      continue;
    }
    const at = landing(m, entry.stat.isDirectory(), dest, destIsDir);
    const before = items.length;
    walkItems(src, m, entry, at, opts, items);
    // a directory copied onto one the image has keeps the image's directory metadata
    if (entry.stat.isDirectory() && target.lookup(rel(at), true)?.stat.isDirectory()) items.splice(before, 1);
  }
  for (const url of urls) {
    const body = await fetchUrl(url).catch((err: Error) => fail(`${url}: ${err.message}`));
    if (checksum !== undefined) {
      try {
        verifyChecksum(body, checksum);
      } catch (err) {
        fail(`${url}: ${(err as Error).message}`);
      }
    }
    const name = path.posix.basename(new URL(url).pathname) || 'index.html';
    items.push(contentItem(dest.dir || destIsDir ? path.posix.join(dest.path, name) : dest.path, body, { ...opts, defaultMode: 0o600, mtime: now }));
  }
  for (const s of inst.inline) {
    items.push(contentItem(dest.dir || destIsDir ? path.posix.join(dest.path, s.name) : dest.path, Buffer.from(s.content), { ...opts, defaultMode: 0o644, mtime: now }));
  }
  const all = orderItems([...parentItems(items, (p) => target.lookup(rel(p), true)?.stat, now), ...items]);
  const sources = sourcesDigest(sourceRecords(all));
  const key = cacheKey({ parent: run.id, instruction: { ...inst, inline: [] }, args: usedValues(run, used), sources });
  await cachedStep(run, key, async () => {
    const layer = await itemsLayer(store, all, run.state.layers, ctx);
    return { config: stepConfig(run.state.config, `${text} # buildkit`, layer, epoch), layers: [...run.state.layers, layer] };
  });
}
