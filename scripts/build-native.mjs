#!/usr/bin/env node
// Builds native/tsdock-exec.c (and the native/*.h it includes) into native/build/tsdock-exec with the system C compiler (run by `npm run build`).
// Static when the C library's libc.a is installed (Debian: libc6-dev), dynamic otherwise. Skips the compile when
// the binary is newer than its source and this script. Usage: node scripts/build-native.mjs [--force]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url);
const repo = path.dirname(path.dirname(script));
const source = path.join(repo, 'native', 'tsdock-exec.c');
const outDir = path.join(repo, 'native', 'build');
const output = path.join(outDir, 'tsdock-exec');
const force = process.argv.includes('--force');

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};

const headers = fs.readdirSync(path.join(repo, 'native')).filter((f) => f.endsWith('.h')).map((f) => path.join(repo, 'native', f));
if (!force && mtime(output) > Math.max(mtime(source), mtime(script), ...headers.map(mtime))) {
  console.log('native/build/tsdock-exec is up to date');
  process.exit(0);
}

const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
const cc = candidates.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!cc) {
  console.error('tsdock needs a C compiler (apt-get install gcc) to build native/tsdock-exec');
  process.exit(1);
}

// `cc -print-file-name=libc.a` prints an absolute path only when the static C library is installed
const libcA = spawnSync(cc, ['-print-file-name=libc.a'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const isStatic = path.isAbsolute(libcA) && fs.existsSync(libcA);

fs.mkdirSync(outDir, { recursive: true });
const tmp = `${output}.tmp-${process.pid}`;
const args = ['-O2', '-Wall', '-Wextra', ...(isStatic ? ['-static'] : []), '-o', tmp, source];
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.status !== 0) {
  fs.rmSync(tmp, { force: true });
  console.error(`building native/tsdock-exec failed: ${cc} ${args.join(' ')}`);
  process.exit(1);
}
fs.renameSync(tmp, output);
console.log(`built native/build/tsdock-exec (${isStatic ? 'static' : 'dynamic'}, ${cc})`);
