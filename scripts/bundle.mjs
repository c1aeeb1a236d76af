#!/usr/bin/env node
// Bundles the CLI into one CommonJS file, dist/bundle/tsdock.cjs, that bin/tsdock loads through vm.Script with
// a V8 code cache (Node 20 has no module compile cache): a start reads one file and skips parsing and compiling
// what an earlier run of the same verb already compiled. Measured on `run --rm busybox true`: ~100 ms, against
// ~120 ms for an ESM bundle and ~235 ms for the ~100 separate modules tsc emits. koffi stays external (a native
// addon). Type checking and the per-file build used by the tests stay with tsc.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(repo, 'dist/bundle');
// a new bundle invalidates every cached compilation of the old one
fs.rmSync(out, { recursive: true, force: true });
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  logLevel: 'warning',
  legalComments: 'none',
  // the sources are ESM: give them an import.meta.url that points at the bundle
  define: { 'import.meta.url': '__tsdockImportMetaUrl' },
  banner: { js: "const __tsdockImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...common, entryPoints: [path.join(repo, 'src/cli/main.ts')], outfile: path.join(out, 'tsdock.cjs') });
await build({ ...common, entryPoints: [path.join(repo, 'src/version.ts')], outfile: path.join(out, 'version.cjs') });
await build({ ...common, entryPoints: [path.join(repo, 'src/cli/userns-entry.ts')], outfile: path.join(out, 'userns.cjs') });
