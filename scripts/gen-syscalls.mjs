#!/usr/bin/env node
// Generates the syscall name → number tables the seccomp compiler uses:
//   src/ocispec/seccomp/syscalls-x86_64.ts   x86_64 (asm/unistd_64.h) and i386 (asm/unistd_32.h)
//   src/ocispec/seccomp/syscalls-aarch64.ts  arm64 = the asm-generic table (asm-generic/unistd.h) preprocessed
//                                         with arm64's __ARCH_WANT_* switches (needs gcc for `gcc -E -dM`)
// from the kernel headers of linux-libc-dev (Debian: /usr/include). Syscalls newer than the installed headers
// are added from SUPPLEMENT below (numbers of the kernel's own syscall tables); a header that already defines
// one of them must agree with it, or the script fails.
//
// Usage: node scripts/gen-syscalls.mjs [--check]
//   --check  only compare with the committed files (exit 1 when they differ)
// Environment: TSDOCK_KERNEL_HEADERS overrides the include root (default /usr/include).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const inc = process.env.TSDOCK_KERNEL_HEADERS ?? '/usr/include';
const check = process.argv.includes('--check');

/**
 * Syscalls added after linux-libc-dev 6.1 (Debian 12). Since Linux 5.1 new syscalls get the same number on
 * every architecture (the unified table, 424 and up); the x86_64-only ones are listed separately.
 */
const SUPPLEMENT = {
  common: {
    cachestat: 451, // 6.5
    fchmodat2: 452, // 6.6
    map_shadow_stack: 453, // 6.6
    futex_wake: 454, // 6.7
    futex_wait: 455,
    futex_requeue: 456,
    statmount: 457, // 6.8
    listmount: 458,
    lsm_get_self_attr: 459,
    lsm_set_self_attr: 460,
    lsm_list_modules: 461,
    mseal: 462, // 6.10
    setxattrat: 463, // 6.13
    getxattrat: 464,
    listxattrat: 465,
    removexattrat: 466,
    open_tree_attr: 467, // 6.15
    file_getattr: 468, // 6.17
    file_setattr: 469,
    listns: 470, // 6.19
    rseq_slice_yield: 471,
  },
  x86_64: {
    uretprobe: 335, // 6.11
    uprobe: 336, // 6.18
  },
};

/** arm64's arch/arm64/include/uapi/asm/unistd.h switches before it includes the generic table */
const ARM64_WANT = [
  '__ARCH_WANT_RENAMEAT',
  '__ARCH_WANT_NEW_STAT',
  '__ARCH_WANT_SET_GET_RLIMIT',
  '__ARCH_WANT_TIME32_SYSCALLS',
  '__ARCH_WANT_SYS_CLONE3',
  '__ARCH_WANT_MEMFD_SECRET',
];

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`gen-syscalls: cannot read ${file} (install linux-libc-dev): ${err.message}`);
  }
}

/** `#define __NR_name <number>` lines of a flat unistd_*.h */
function parseFlat(file) {
  const table = new Map();
  for (const m of read(file).matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) table.set(m[1], Number(m[2]));
  if (table.size < 300) throw new Error(`gen-syscalls: ${file}: only ${table.size} syscalls found`);
  return table;
}

/** asm-generic/unistd.h through the preprocessor with arm64's switches, 64-bit; references resolved */
function parseGeneric() {
  const file = path.join(inc, 'asm-generic/unistd.h');
  read(file);
  // arm64's asm/bitsperlong.h says 64; a private include dir stands in for it (the host's is x86's)
  const shim = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-syscalls-'));
  fs.mkdirSync(path.join(shim, 'asm'));
  fs.writeFileSync(path.join(shim, 'asm/bitsperlong.h'), '#define __BITS_PER_LONG 64\n');
  let out;
  try {
    out = execFileSync('gcc', ['-E', '-dM', '-nostdinc', '-I', shim, '-isystem', inc, ...ARM64_WANT.map((d) => `-D${d}`), '-include', file, '-x', 'c', '/dev/null'], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`gen-syscalls: gcc -E -dM ${file} failed (gcc is needed for the asm-generic table): ${err.message}`);
  } finally {
    fs.rmSync(shim, { recursive: true, force: true });
  }
  const raw = new Map();
  for (const m of out.matchAll(/^#define (__NR\w*)\s+(\S+)\s*$/gm)) raw.set(m[1], m[2]);
  const resolve = (v, depth = 0) => {
    if (/^\d+$/.test(v)) return Number(v);
    if (depth > 8 || !raw.has(v)) throw new Error(`gen-syscalls: cannot resolve ${v}`);
    return resolve(raw.get(v), depth + 1);
  };
  const table = new Map();
  for (const [k, v] of raw) {
    if (!k.startsWith('__NR_') || k === '__NR_syscalls' || k === '__NR_arch_specific_syscall') continue;
    table.set(k.slice(5), resolve(v));
  }
  if (table.size < 250) throw new Error(`gen-syscalls: ${file}: only ${table.size} syscalls found`);
  return table;
}

function supplement(table, extra, label) {
  for (const [name, nr] of Object.entries(extra)) {
    if (table.has(name) && table.get(name) !== nr) throw new Error(`gen-syscalls: ${label}: headers say ${name}=${table.get(name)}, supplement says ${nr}`);
    for (const [other, n] of table) if (n === nr && other !== name) throw new Error(`gen-syscalls: ${label}: ${name}=${nr} collides with ${other}`);
    table.set(name, nr);
  }
  return table;
}

function headerVersion() {
  const text = read(path.join(inc, 'linux/version.h'));
  const code = Number(text.match(/#define LINUX_VERSION_CODE (\d+)/)?.[1]);
  if (!code) throw new Error('gen-syscalls: no LINUX_VERSION_CODE in linux/version.h');
  return `${code >> 16}.${(code >> 8) & 255}`;
}

function render(constName, table, doc) {
  const entries = [...table].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  const lines = entries.map(([name, nr]) => `  ${/^[a-z_][a-z0-9_]*$/.test(name) ? name : JSON.stringify(name)}: ${nr},`);
  return `/** ${doc} */\nexport const ${constName}: Readonly<Record<string, number>> = Object.freeze({\n${lines.join('\n')}\n});\n`;
}

const version = headerVersion();
const header = (what) =>
  `// GENERATED by scripts/gen-syscalls.mjs — do not edit. Source: ${what} of the Linux ${version} uapi headers\n` +
  `// (linux-libc-dev), plus the syscalls added since then (SUPPLEMENT in the script, up to Linux 6.19).\n\n`;

const x64 = supplement(supplement(parseFlat(path.join(inc, 'x86_64-linux-gnu/asm/unistd_64.h')), SUPPLEMENT.common, 'x86_64'), SUPPLEMENT.x86_64, 'x86_64');
const i386 = supplement(parseFlat(path.join(inc, 'x86_64-linux-gnu/asm/unistd_32.h')), SUPPLEMENT.common, 'i386');
const arm64 = supplement(parseGeneric(), SUPPLEMENT.common, 'aarch64');

const files = new Map([
  [
    'src/ocispec/seccomp/syscalls-x86_64.ts',
    header('asm/unistd_64.h and asm/unistd_32.h') +
      render('SYSCALLS_X86_64', x64, 'x86_64 (AUDIT_ARCH_X86_64) syscall numbers') +
      '\n' +
      render('SYSCALLS_I386', i386, 'i386 (AUDIT_ARCH_I386) syscall numbers: 32-bit programs on an x86_64 kernel'),
  ],
  ['src/ocispec/seccomp/syscalls-aarch64.ts', header(`asm-generic/unistd.h (with ${ARM64_WANT.join(', ')})`) + render('SYSCALLS_AARCH64', arm64, 'aarch64 (AUDIT_ARCH_AARCH64) syscall numbers')],
]);

let stale = 0;
for (const [rel, text] of files) {
  const file = path.join(repo, rel);
  if (check) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (old !== text) {
      console.error(`${rel} is stale: run node scripts/gen-syscalls.mjs`);
      stale++;
    }
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote ${rel}`);
  }
}
process.exit(stale ? 1 : 0);
