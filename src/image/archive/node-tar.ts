import { createRequire } from 'node:module';

let cached: typeof import('tar') | undefined;

/**
 * node-tar, loaded on first use through require (as koffi is): it stays out of the CLI bundle, so only save and
 * load read it, and a dynamic import() is not available to the bundle's vm.Script.
 */
export function nodeTar(): typeof import('tar') {
  cached ??= createRequire(import.meta.url)('tar') as typeof import('tar');
  return cached;
}
