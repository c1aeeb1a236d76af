import fs from 'node:fs';
import path from 'node:path';
import { LookupError, NotFoundError } from '../errors.js';
import { parseNameFile } from './names.js';
import { containerExists, listContainerIds } from './state.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const FULL_ID = /^[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]+$/;

/** docker's truncindex error for a prefix that matches several containers. */
export class AmbiguousPrefixError extends LookupError {
  constructor(readonly prefix: string) {
    super(`Multiple IDs found with provided prefix: ${prefix}`);
  }
}

export function noSuchContainer(ref: string): NotFoundError {
  return new NotFoundError(`No such container: ${ref}`);
}

/** The id holding `name` in the names index (names/<name>), when its container still exists. */
export function idByName(root: string, name: string): string | undefined {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME.test(n)) return undefined;
  let id: string;
  try {
    id = parseNameFile(fs.readFileSync(path.join(root, 'names', n), 'utf8')).id;
  } catch {
    return undefined;
  }
  // a reservation without its container names nothing yet: a creation in progress, or a crash between the steps
  return containerExists(root, id) ? id : undefined;
}

/**
 * Docker's lookup order (daemon.GetContainer): a full id, then a name ("/name" accepted), then a unique id
 * prefix. Throws `No such container: x` or `Multiple IDs found with provided prefix: x`.
 */
export function resolveContainer(root: string, ref: string): string {
  if (FULL_ID.test(ref) && containerExists(root, ref)) return ref;
  const byName = idByName(root, ref);
  if (byName) return byName;
  if (!HEX.test(ref)) throw noSuchContainer(ref);
  const hits = listContainerIds(root).filter((id) => id.startsWith(ref));
  if (hits.length > 1) throw new AmbiguousPrefixError(ref);
  if (hits.length === 0) throw noSuchContainer(ref);
  return hits[0]!;
}
