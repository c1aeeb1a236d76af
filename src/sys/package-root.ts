import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The package root: the nearest ancestor of this file (the tsc output under dist/src, or a bundle under
 * dist/bundle) that holds package.json and native/. native/build's programs and addon are found from it.
 */
export function packageRoot(): string {
  if (cached) return cached;
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native'))) break;
    const up = path.dirname(dir);
    if (up === dir) {
      dir = path.resolve(here, '../../..');
      break;
    }
    dir = up;
  }
  cached = dir;
  return dir;
}

/** A file built by scripts/build-native.mjs: `native/build/<name>`. */
export function nativeBuildPath(name: string): string {
  return path.join(packageRoot(), 'native', 'build', name);
}
