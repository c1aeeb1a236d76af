#!/usr/bin/env node
// Bundles the CLI into dist/bundle/ (one file per lazily loaded command chunk) so a `tsdock` start reads a
// handful of files instead of ~100 modules: module resolution and file I/O were half of a `run`'s Node time.
// koffi stays external (native addon). Type checking and the per-file build for tests stay with tsc.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// stale chunks from earlier builds would otherwise pile up (names carry content hashes)
fs.rmSync(path.join(repo, 'dist/bundle'), { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(repo, 'src/cli/main.ts'), version: path.join(repo, 'src/version.ts') },
  outdir: path.join(repo, 'dist/bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  // bundled CommonJS dependencies call require() for Node builtins
  banner: { js: "import { createRequire as __tsdockCreateRequire } from 'node:module'; const require = __tsdockCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'none',
});
