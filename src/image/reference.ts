/**
 * Image references, parsed and normalized the way docker does (distribution/reference):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component [ "/" path-component ]*
 *
 * The first component is a registry when it contains "." or ":", is "localhost", or contains an uppercase
 * letter (docker's rule: path components are lowercase, so an uppercase first component can only be a host).
 * Unqualified names resolve to docker.io — or, when registries.conf lists `unqualified-search-registries`,
 * to the FIRST of them (tsdock behaves like podman with short-name-mode "disabled": no prompting, no trying
 * each registry in turn). Names on docker.io with a single path component get the "library/" prefix.
 */
import { UsageError } from '../errors.js';
import { parseDigest } from './digest.js';

export { isDigest } from './digest.js';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export interface ParseReferenceOptions {
  /** registries.conf `unqualified-search-registries`; the first entry replaces docker.io for short names */
  searchRegistries?: string[];
  /** add the "latest" tag when neither tag nor digest is given (default true) */
  defaultTag?: boolean;
}

export const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^\w[\w.-]{0,127}$/;
const HEX_ID = /^[a-f0-9]{64}$/;

function invalid(detail: string): UsageError {
  return new UsageError(`invalid reference format: ${detail}`);
}

/** Parse and normalize an image reference. Throws UsageError on anything docker would reject. */
export function parseReference(input: string, opts: ParseReferenceOptions = {}): ImageReference {
  if (input === '') throw invalid('empty image reference');
  if (HEX_ID.test(input)) {
    throw new UsageError(`invalid repository name "${input}": cannot specify 64-byte hexadecimal strings`);
  }
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigestSyntax(digest)) throw invalid(`invalid digest "${digest}" in "${input}"`);
    try {
      parseDigest(digest);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(`invalid tag "${tag}" in "${input}"`);
  }
  if (rest === '') throw invalid(`missing repository name in "${input}"`);

  const { registry, repository } = splitName(rest, input, opts.searchRegistries);
  if (registry.length + 1 + repository.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters: "${input}"`);
  }
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) ref.tag = 'latest';
  return ref;
}

function isDigestSyntax(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(s);
}

function splitName(name: string, input: string, searchRegistries?: string[]): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  let registry: string;
  let remainder: string;
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    registry = first;
    remainder = name.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw invalid(`invalid registry host "${registry}" in "${input}"`);
  } else {
    registry = searchRegistries?.find((r) => r !== '') ?? DOCKER_HUB;
    remainder = name;
  }
  registry = normalizeRegistry(registry);
  validatePath(remainder, input);
  if (registry === DOCKER_HUB && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { registry, repository: remainder };
}

function validatePath(path: string, input: string): void {
  if (path === '') throw invalid(`missing repository name in "${input}"`);
  for (const component of path.split('/')) {
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) throw invalid(`repository name must be lowercase: "${input}"`);
    if (component === '') throw invalid(`empty path component in "${input}"`);
    throw invalid(`invalid repository name component "${component}" in "${input}"`);
  }
}

/** `index.docker.io` is docker.io's legacy name; everything else is kept as written. */
export function normalizeRegistry(registry: string): string {
  return registry === LEGACY_DOCKER_HUB ? DOCKER_HUB : registry;
}

/** `registry/repository`, e.g. `docker.io/library/alpine`. */
export function fullName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full form: `docker.io/library/alpine:latest`, `host:5000/x@sha256:…`, or both tag and digest. */
export function formatReference(ref: ImageReference): string {
  let out = fullName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** Docker's FamiliarName: `alpine`, `user/app`, `localhost:5000/x`, `quay.io/a/b`. */
export function familiarName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  if (normalizeRegistry(ref.registry) !== DOCKER_HUB) return fullName(ref);
  if (ref.repository.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.repository.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.repository;
}

/** Docker's FamiliarString: familiar name plus `:tag` and/or `@digest`. */
export function familiarString(ref: ImageReference): string {
  let out = familiarName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}
