#!/usr/bin/env node
// Bundles the CLI into one CommonJS file, dist/bundle/tsdock.cjs, that bin/tsdock loads through vm.Script with
// a V8 code cache (Node 20 has no module compile cache): a start reads one file and skips parsing and compiling
// what an earlier run of the same verb already compiled. Measured on `run --rm busybox true`: ~100 ms, against
// ~120 ms for an ESM bundle and ~235 ms for the ~100 separate modules tsc emits. koffi stays external (a native
// addon), and so does tar (save/load's outer archives: only those verbs load it). Type checking and the per-file
// build used by the tests stay with tsc.
import { build, transform } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(repo, 'dist/bundle');
// a new bundle invalidates every cached compilation of the old one
fs.rmSync(out, { recursive: true, force: true });
// Node's heavier modules load on first use, not when the bundle's modules initialise (each verb's whole import graph
// does): `ps` or `inspect` never spawn, hash or speak http, yet importing child_process, crypto and their kin cost
// ~3 ms a start. Each becomes a stand-in whose every property access loads the real module; under esbuild's ESM
// interop (__toESM copies own keys, then reads the rest through the prototype) it has no own keys and a prototype
// that loads too, so default and named imports both resolve to the real module's values.
const LAZY = ['child_process', 'crypto', 'dgram', 'dns', 'http', 'https', 'net', 'readline', 'tls', 'tty', 'zlib'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY.join('|')})$`);
    b.onResolve({ filter }, (a) => (a.namespace === 'lazy-builtin' ? { path: a.path, external: true } : { path: a.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => ({
      loader: 'js',
      contents: `let real;
const load = () => (real ??= require('node:${a.path}'));
const proto = new Proxy({}, { get: (_, p) => load()[p], has: (_, p) => p in load() });
module.exports = new Proxy({}, {
  get: (_, p) => (p === '__esModule' ? undefined : load()[p]),
  has: (_, p) => p in load(),
  ownKeys: () => [],
  getOwnPropertyDescriptor: () => undefined,
  getPrototypeOf: () => proto,
});
`,
    }));
  },
};
// The other builtins our sources import (fs, path, os, ...) as ES modules with a default export and one named
// export per plain property: esbuild's interop would otherwise copy every property of `fs` into a fresh object
// for each of the ~80 modules importing it (~2 ms a start). Getters (fs.promises) stay off the named list, so
// reading them stays lazy; a named import of one fails the build. CommonJS dependencies keep plain require.
const requireHere = createRequire(import.meta.url);
const esmBuiltins = {
  name: 'esm-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => {
      if (a.kind !== 'import-statement' || !a.importer.startsWith(path.join(repo, 'src') + path.sep)) return undefined;
      return { path: a.path.slice(5), namespace: 'esm-builtin' };
    });
    b.onResolve({ filter: /^node:/, namespace: 'esm-builtin' }, (a) => ({ path: a.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'esm-builtin' }, (a) => {
      const m = requireHere(`node:${a.path}`);
      const names = Object.keys(m).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && !Object.getOwnPropertyDescriptor(m, k)?.get);
      return {
        loader: 'js',
        contents: `const m = require('node:${a.path}');\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
      };
    });
  },
};
const common = {
  plugins: [lazyBuiltins, esmBuiltins],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // tar (node-tar, ~80 KB) is loaded from node_modules by save/load only: bundled, every start would read it
  external: ['koffi', 'tar'],
  logLevel: 'warning',
  legalComments: 'none',
  // whitespace and syntax only: a smaller file to read at each start and a smaller code cache; identifiers keep
  // their names, so --log-level debug stack traces still read
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  // the sources are ESM: give them an import.meta.url that points at the bundle
  define: { 'import.meta.url': '__tsdockImportMetaUrl' },
  banner: { js: "const __tsdockImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...common, entryPoints: [path.join(repo, 'src/cli/main.ts')], outfile: path.join(out, 'tsdock.cjs') });
await buildVerbBundles();
await build({ ...common, entryPoints: [path.join(repo, 'src/version.ts')], outfile: path.join(out, 'version.cjs') });
await build({ ...common, entryPoints: [path.join(repo, 'src/cli/userns-entry.ts')], outfile: path.join(out, 'userns.cjs') });

// the loader reads the bundle as latin1 (a one-byte string, half the time of utf8 decoding): it must be ASCII.
// esbuild escapes strings and identifiers, not regular-expression literals: spell those with \u escapes
for (const f of fs.readdirSync(out).filter((n) => n.endsWith('.cjs'))) {
  const at = fs.readFileSync(path.join(out, f)).findIndex((b) => b > 0x7f);
  if (at >= 0) throw new Error(`bundle ${f} is not ASCII at byte ${at}: escape the character in its source`);
}

/**
 * One bundle per verb besides the whole CLI, dist/bundle/verbs/<verb>.cjs: the same main, with every other verb's
 * module left out (its `load` is never called: the loader picked this bundle by the verb). A command reads, and
 * deserialises the code cache of, about half as much (`inspect`: 545 KB and a 300 KB cache, against 1.2 MB and
 * 500 KB; ~4 ms a start). The whole bundle stays for help, unknown verbs and a package tree copied without verbs/.
 */
async function buildVerbBundles() {
  const index = path.join(repo, 'src/cli/commands/index.ts');
  const files = await verbModules(index);
  const others = (keep) => ({
    name: 'other-verbs',
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (a) => {
        if (a.importer !== index || a.kind !== 'dynamic-import' || a.path === keep) return undefined;
        return { path: a.path, namespace: 'other-verb' };
      });
      b.onLoad({ filter: /.*/, namespace: 'other-verb' }, () => ({ loader: 'js', contents: 'module.exports = {};' }));
    },
  });
  await Promise.all(
    [...files].map(([verb, file]) =>
      build({ ...common, plugins: [others(file), ...common.plugins], entryPoints: [path.join(repo, 'src/cli/main.ts')], outfile: path.join(out, 'verbs', `${verb}.cjs`) }),
    ),
  );
}

/** Each verb of the command index and the module its `load` imports (`kill` → ./stop.js), found by calling them. */
async function verbModules(index) {
  const { code } = await transform(fs.readFileSync(index, 'utf8'), { loader: 'ts', format: 'cjs', target: 'node20', supported: { 'dynamic-import': false } });
  const mod = { exports: {} };
  let last;
  const record = (p) => {
    last = p;
    return { register() {} };
  };
  new Function('module', 'exports', 'require', code)(mod, mod.exports, record);
  const files = new Map();
  for (const c of mod.exports.commands) {
    last = undefined;
    await c.load();
    if (!/^[a-z][a-z-]*$/.test(c.name) || !last) throw new Error(`command index: cannot tell the module of verb ${c.name}`);
    files.set(c.name, last);
  }
  return files;
}
