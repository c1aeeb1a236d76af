#!/usr/bin/env node
// Builds native/*.c (and the native/*.h they include) into native/build/tsdock-exec, native/launch/*.c into
// native/build/tsdock-launch (bin/tsdock's rootless launcher), and native/addon/*.c into native/build/tsdock-sys.node
// (the Node-API addon for the hot-path syscalls, sys/addon.ts), with the system C compiler (run by `npm run build`),
// warnings as errors. First regenerates native/codes.h from ExecStep (scripts/gen-native-codes.mjs).
// Programs are static when the C library's libc.a is installed (Debian: libc6-dev), dynamic otherwise; the addon is
// a shared object whose Node-API symbols resolve from the node binary that loads it. Skips the compile when
// the binary is newer than every source, header and these scripts. Usage: node scripts/build-native.mjs [--force]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url);
const repo = path.dirname(path.dirname(script));
const outDir = path.join(repo, 'native', 'build');
const force = process.argv.includes('--force');

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};

const gen = spawnSync(process.execPath, [path.join(repo, 'scripts', 'gen-native-codes.mjs')], { stdio: 'inherit' });
if (gen.status !== 0) process.exit(gen.status ?? 1);

const files = (dir) => fs.readdirSync(path.join(repo, dir)).sort().map((f) => path.join(repo, dir, f));
const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
let cc;

/** one binary from the .c files of `dir` (and its .h files), skipped when newer than all of them */
function build(name, dir, kind = 'program') {
  const output = path.join(outDir, name);
  const all = files(dir);
  const sources = all.filter((f) => f.endsWith('.c'));
  const inputs = [...sources, ...all.filter((f) => f.endsWith('.h')), script, path.join(repo, 'scripts', 'gen-native-codes.mjs')];
  if (!force && mtime(output) > Math.max(...inputs.map(mtime))) {
    console.log(`native/build/${name} is up to date`);
    return;
  }
  cc ??= candidates.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!cc) {
    console.error(`tsdock needs a C compiler (apt-get install gcc) to build native/build/${name}`);
    process.exit(1);
  }
  // `cc -print-file-name=libc.a` prints an absolute path only when the static C library is installed
  const libcA = spawnSync(cc, ['-print-file-name=libc.a'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const isStatic = kind === 'program' && path.isAbsolute(libcA) && fs.existsSync(libcA);
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${output}.tmp-${process.pid}`;
  const linkage = kind === 'addon' ? ['-shared', '-fPIC'] : isStatic ? ['-static'] : [];
  const args = ['-O2', '-Wall', '-Wextra', '-Werror', ...linkage, '-o', tmp, ...sources];
  const r = spawnSync(cc, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    console.error(`building native/build/${name} failed: ${cc} ${args.join(' ')}`);
    process.exit(1);
  }
  fs.renameSync(tmp, output);
  console.log(`built native/build/${name} (${kind === 'addon' ? 'node addon' : isStatic ? 'static' : 'dynamic'}, ${cc})`);
}

build('tsdock-exec', 'native');
build('tsdock-launch', 'native/launch');
build('tsdock-sys.node', 'native/addon', 'addon');
