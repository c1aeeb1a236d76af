/**
 * Local manifest lists: a record in images.json's `manifestLists` (id, names, the current list's digest, each
 * entry's source) and the list JSON as a blob (blobs/<digest>, kept by GC while a record names it).
 */
import crypto from 'node:crypto';
import { NotFoundError, UsageError } from '../../errors.js';
import { sha256Digest } from '../digest.js';
import { parseManifest, type ImageIndex } from '../manifest.js';
import { formatReference, parseReference } from '../reference.js';
import type { ImageStore } from '../store/images.js';
import type { ImageIndexFile, ManifestListRecord, ManifestListSource } from '../store/types.js';
import { serializeList } from './list.js';

/** A list's name as stored: podman's rule, an unqualified name is `localhost/NAME:latest`. */
export function listName(name: string): string {
  return formatReference(parseReference(name, { searchRegistries: ['localhost'] }));
}

/** The record a name or id (or unique id prefix) names, or undefined. */
export function findList(index: ImageIndexFile, nameOrId: string): ManifestListRecord | undefined {
  const lists = Object.values(index.manifestLists ?? {});
  const hex = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(nameOrId)?.[1];
  let name: string | undefined;
  try {
    name = listName(nameOrId);
  } catch {
    name = undefined;
  }
  const byName = name ? lists.find((l) => l.names.includes(name!)) : undefined;
  if (byName) return byName;
  if (!hex) return undefined;
  const hits = lists.filter((l) => l.id.slice(7).startsWith(hex));
  if (hits.length > 1) throw new UsageError(`short id "${nameOrId}" is ambiguous: it matches ${hits.length} manifest lists`);
  return hits[0];
}

export interface LoadedList {
  record: ManifestListRecord;
  list: ImageIndex;
}

export async function loadList(store: ImageStore, nameOrId: string): Promise<LoadedList> {
  const record = findList(await store.read(), nameOrId);
  if (!record) throw new NotFoundError(`${nameOrId}: no such manifest list`);
  const parsed = parseManifest(await store.blobs.get(record.digest), record.mediaType);
  if (parsed.kind !== 'index') throw new NotFoundError(`${nameOrId}: stored manifest list ${record.digest} is not a list`);
  return { record, list: parsed.index };
}

/** A new list under `name` (refused when one exists, unless `amend`: then that one is returned to edit). */
export async function createList(store: ImageStore, name: string, list: ImageIndex, amend: boolean): Promise<LoadedList> {
  const full = listName(name);
  const existing = findList(await store.read(), full);
  if (existing) {
    if (!amend) throw new UsageError(`manifest list ${full} already exists: use --amend to modify it`);
    return loadList(store, existing.id);
  }
  const bytes = serializeList(list);
  const digest = sha256Digest(bytes);
  await store.blobs.put(digest, bytes);
  const record: ManifestListRecord = {
    id: `sha256:${crypto.randomBytes(32).toString('hex')}`,
    names: [full],
    digest,
    mediaType: list.mediaType!,
    created: new Date().toISOString(),
    sources: {},
  };
  await store.update((index) => {
    if (findList(index, full)) throw new UsageError(`manifest list ${full} already exists: use --amend to modify it`);
    index.manifestLists = { ...index.manifestLists, [record.id]: record };
  });
  return { record, list };
}

/** Store the edited list (and the sources of entries added) as the record's new content. */
export async function saveList(store: ImageStore, id: string, list: ImageIndex, sources: Record<string, ManifestListSource> = {}): Promise<ManifestListRecord> {
  const bytes = serializeList(list);
  const digest = sha256Digest(bytes);
  await store.blobs.put(digest, bytes);
  return store.update((index) => {
    const record = index.manifestLists?.[id];
    if (!record) throw new NotFoundError(`manifest list ${id} was removed meanwhile`);
    const kept = new Set(list.manifests.map((d) => d.digest));
    const merged = { ...record.sources, ...sources };
    record.sources = Object.fromEntries(Object.entries(merged).filter(([d]) => kept.has(d)));
    record.digest = digest;
    record.mediaType = list.mediaType!;
    return record;
  });
}

/** Remove a list's record (its blob goes with the next GC); returns the record removed. */
export async function removeList(store: ImageStore, nameOrId: string): Promise<ManifestListRecord> {
  return store.update((index) => {
    const record = findList(index, nameOrId);
    if (!record) throw new NotFoundError(`${nameOrId}: no such manifest list`);
    delete index.manifestLists![record.id];
    return record;
  });
}
