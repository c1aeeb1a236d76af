/**
 * The compiled programs against the real kernel: a tiny C loader (built with gcc at test time) sets no_new_privs,
 * loads the filter with seccomp(SECCOMP_SET_MODE_FILTER) and then makes the raw syscalls named on its command
 * line, printing each result and errno. Calls are chosen so that the kernel itself would answer differently
 * (EFAULT, EINVAL, ENOSYS, a value) when the filter lets them through: an EPERM can only come from the filter.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_CAPABILITIES, compileSeccomp, defaultProfile, parseProfile } from '../../../src/ocispec/seccomp/index.js';
import { SYSCALLS_I386, SYSCALLS_X86_64 } from '../../../src/ocispec/seccomp/syscalls-x86_64.js';
import { DOCKER_CAPS } from './model.js';

const LOADER_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* usage: loader <filter-file|-> <call>...   call = [int80:]<nr>[:<arg>...] (numbers in C syntax) */
static long call_int80(long nr, long *a) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]) : "memory");
  return ret;
#else
  (void)nr; (void)a;
  return -ENOSYS;
#endif
}

int main(int argc, char **argv) {
  if (argc < 2) return 64;
  if (strcmp(argv[1], "-") != 0) {
    static unsigned char buf[65536];
    FILE *f = fopen(argv[1], "rb");
    if (!f) { printf("open %d\n", errno); return 3; }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { printf("nnp %d\n", errno); return 3; }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) { printf("load %d\n", errno); return 2; }
    printf("loaded %u\n", prog.len);
  }
  for (int i = 2; i < argc; i++) {
    char *s = argv[i];
    int int80 = strncmp(s, "int80:", 6) == 0;
    if (int80) s += 6;
    long v[7] = {0};
    int k = 0;
    for (char *p = s; k < 7 && *p; k++) {
      v[k] = (long)strtoull(p, &p, 0);
      if (*p == ':') p++;
    }
    long r;
    int e = 0;
    if (int80) {
      r = call_int80(v[0], v + 1);
      if (r < 0 && r > -4096) { e = (int)-r; r = -1; }
    } else {
      errno = 0;
      r = syscall(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
      if (r == -1) e = errno;
    }
    printf("%s %ld %d\n", argv[i], r, e);
    fflush(stdout);
  }
  return 0;
}
`;

const supported = process.platform === 'linux' && process.arch === 'x64' && spawnSync('gcc', ['--version']).status === 0;

const NR = SYSCALLS_X86_64;
const CLONE_NEWUSER = 0x10000000;
const CLONE_THREAD = 0x10000;
const EPERM = 1;
const EFAULT = 14;
const EINVAL = 22;
const ENOSYS = 38;

describe('seccomp: real kernel', { skip: supported ? false : 'needs Linux x86_64 and gcc' }, () => {
  let dir: string;
  let loader: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-seccomp-'));
    fs.writeFileSync(path.join(dir, 'loader.c'), LOADER_C);
    loader = path.join(dir, 'loader');
    const cc = spawnSync('gcc', ['-O1', '-Wall', '-o', loader, path.join(dir, 'loader.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** runs the loader; returns the loaded length and, per call, [result, errno] */
  function exec(filter: Buffer | undefined, calls: string[]) {
    const file = path.join(dir, `filter-${Math.random().toString(36).slice(2)}.bpf`);
    if (filter) fs.writeFileSync(file, filter);
    const r = spawnSync(loader, [filter ? file : '-', ...calls], { encoding: 'utf8', timeout: 10_000 });
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    const out = new Map<string, [number, number]>();
    let loaded: number | undefined;
    for (const l of lines) {
      const [a, b, c] = l.split(' ');
      if (a === 'loaded') loaded = Number(b);
      else if (a === 'load') assert.fail(`the kernel refused the filter: errno ${b}`);
      else out.set(a!, [Number(b), Number(c)]);
    }
    return { loaded, out, status: r.status, signal: r.signal };
  }

  const calls = {
    getpid: `${NR.getpid}`,
    keyctl: `${NR.keyctl}:0:0`,
    kexec_load: `${NR.kexec_load}:0:0:0:0`,
    mount: `${NR.mount}:0:0:0:0:0`, // the kernel: EFAULT on the NULL target
    unshare0: `${NR.unshare}:0`, // the kernel: no-op, 0
    unshareUser: `${NR.unshare}:${CLONE_NEWUSER | 1}`, // the kernel: EINVAL (bit 0 is no unshare flag)
    cloneUser: `${NR.clone}:${CLONE_NEWUSER | CLONE_THREAD}`, // the kernel: EINVAL
    cloneThread: `${NR.clone}:${CLONE_THREAD}`, // no namespace flag: through the filter, then the kernel's EINVAL
    clone3: `${NR.clone3}:0:0`, // the kernel: EINVAL (size 0)
    personality123: `${NR.personality}:123`,
    personalityQuery: `${NR.personality}:0xffffffff`,
    vsock: `${NR.socket}:40:1:0`,
    vsockHigh: `${NR.socket}:0x100000028:1:0`,
    inet: `${NR.socket}:2:2:0`,
    x32getpid: `${0x40000000 | NR.getpid}`, // the kernel: ENOSYS (x32 disabled) or a pid
    openTreeAttr: `${NR.open_tree_attr}:0xffffffff:0:0:0:0`, // above the profile: ENOSYS
  };
  const all = Object.values(calls);

  it('docker’s default capabilities: the kernel accepts the program; denied calls fail with EPERM', () => {
    const prog = compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: DOCKER_CAPS });
    const { loaded, out, status } = exec(prog, all);
    assert.equal(status, 0);
    assert.equal(loaded, prog.length / 8);
    const r = (k: keyof typeof calls) => out.get(calls[k])!;
    assert.ok(r('getpid')[0] > 0);
    for (const k of ['keyctl', 'kexec_load', 'mount', 'unshare0', 'unshareUser', 'cloneUser', 'personality123', 'vsock', 'vsockHigh', 'x32getpid'] as const) {
      assert.deepEqual(r(k), [-1, EPERM], k);
    }
    assert.deepEqual(r('cloneThread'), [-1, EINVAL]);
    assert.deepEqual(r('clone3'), [-1, ENOSYS]);
    assert.deepEqual(r('openTreeAttr'), [-1, ENOSYS]);
    assert.ok(r('personalityQuery')[0] >= 0);
    assert.ok(r('inet')[0] >= 0, `socket(AF_INET): ${r('inet')}`);
  });

  it('all capabilities (privileged-like): namespace and mount calls reach the kernel', () => {
    const prog = compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: ALL_CAPABILITIES });
    const { loaded, out, status } = exec(prog, all);
    assert.equal(status, 0);
    assert.equal(loaded, prog.length / 8);
    const r = (k: keyof typeof calls) => out.get(calls[k])!;
    assert.deepEqual(r('mount'), [-1, EFAULT]);
    assert.deepEqual(r('unshare0'), [0, 0]);
    assert.deepEqual(r('unshareUser'), [-1, EINVAL]);
    assert.deepEqual(r('cloneUser'), [-1, EINVAL]);
    assert.deepEqual(r('clone3'), [-1, EINVAL]);
    // still outside the profile whatever the capabilities
    for (const k of ['keyctl', 'personality123', 'vsock', 'vsockHigh', 'x32getpid'] as const) assert.deepEqual(r(k), [-1, EPERM], k);
    assert.ok(r('getpid')[0] > 0);
  });

  it('without a filter the same calls behave as the kernel says (the EPERMs above came from the filter)', () => {
    const { out } = exec(undefined, [calls.getpid, calls.mount, calls.cloneUser, calls.clone3, calls.personalityQuery]);
    assert.ok(out.get(calls.getpid)![0] > 0);
    assert.notEqual(out.get(calls.mount)![1], EPERM);
    assert.deepEqual(out.get(calls.cloneUser), [-1, EINVAL]);
    assert.deepEqual(out.get(calls.clone3), [-1, EINVAL]);
  });

  it('32-bit (int 0x80) calls go through the i386 part of the filter', (t) => {
    const probe = exec(undefined, [`int80:${SYSCALLS_I386.getpid}`]);
    if (probe.signal || !(probe.out.get(`int80:${SYSCALLS_I386.getpid}`)?.[0]! > 0)) return t.skip('no IA32 emulation in this kernel');
    const prog = compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: DOCKER_CAPS });
    const i386 = [`int80:${SYSCALLS_I386.getpid}`, `int80:${SYSCALLS_I386.keyctl}:0:0`, `int80:${SYSCALLS_I386.personality}:123`, `int80:${SYSCALLS_I386.clone}:${CLONE_NEWUSER | CLONE_THREAD}`, `int80:${SYSCALLS_I386.clone}:${CLONE_THREAD}`];
    const { out, status } = exec(prog, i386);
    assert.equal(status, 0);
    assert.ok(out.get(i386[0]!)![0] > 0);
    assert.deepEqual(out.get(i386[1]!), [-1, EPERM]);
    assert.deepEqual(out.get(i386[2]!), [-1, EPERM]);
    assert.deepEqual(out.get(i386[3]!), [-1, EPERM]);
    assert.deepEqual(out.get(i386[4]!), [-1, EINVAL]);
  });

  it('a program for another architecture loads, and kills the process at its next syscall', () => {
    const prog = compileSeccomp(defaultProfile, { arch: 'aarch64', capabilities: DOCKER_CAPS });
    const r = exec(prog, [calls.getpid]);
    assert.equal(r.signal, 'SIGSYS');
    assert.equal(r.out.size, 0);
  });

  it('a long program (trampolines for far jumps) is accepted and decides right', () => {
    // every x86_64 syscall gets ERRNO(100 + i) when its argument i % 6 equals a 64-bit marker; otherwise allowed
    const names = Object.keys(NR);
    const marker = (i: number) => (0xdeadn << 32n) | BigInt(i);
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW' as const,
      syscalls: names.map((n, i) => ({ names: [n], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 100 + i, args: [{ index: i % 6, value: marker(i), op: 'SCMP_CMP_EQ' as const }] })),
    };
    const prog = compileSeccomp(profile, { arch: 'x86_64', capabilities: [] });
    assert.ok(prog.length / 8 > 1000, `${prog.length / 8} instructions`);
    const pick = ['getpid', 'dup', 'keyctl', 'lseek', 'uname', 'clone3'].map((n) => [n, names.indexOf(n)] as const);
    const c = pick.map(([n, i]) => `${NR[n]}${':0'.repeat(i % 6)}:0x${marker(i).toString(16)}`);
    const { loaded, out, status } = exec(prog, [...c, `${NR.getpid}`]);
    assert.equal(status, 0);
    assert.equal(loaded, prog.length / 8);
    pick.forEach(([n, i], j) => assert.deepEqual(out.get(c[j]!), [-1, 100 + i], n));
    assert.ok(out.get(`${NR.getpid}`)![0] > 0);
  });

  it('a parsed docker-format profile: denylist, 64-bit values, errnoRet', () => {
    const file = path.join(dir, 'profile.json');
    const text = JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
        { names: ['lseek'], action: 'SCMP_ACT_ERRNO', errnoRet: 77, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['dup'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1000, op: 'SCMP_CMP_GE' }] },
      ],
    }).replace('"value":0,', '"value":18446744073709551615,');
    fs.writeFileSync(file, text);
    const profile = parseProfile(fs.readFileSync(file, 'utf8'), file);
    assert.equal(profile.syscalls[1]!.args![0]!.value, 18446744073709551615n);
    const prog = compileSeccomp(profile, { arch: 'x86_64', capabilities: [] });
    const c = [`${NR.keyctl}:0:0`, `${NR.lseek}:0:-1:0`, `${NR.lseek}:0:0x7fffffffffffffff:0`, `${NR.dup}:1000`, `${NR.dup}:999`, `${NR.getpid}`];
    const { out, status } = exec(prog, c);
    assert.equal(status, 0);
    assert.deepEqual(out.get(c[0]!), [-1, 95]);
    assert.deepEqual(out.get(c[1]!), [-1, 77]);
    assert.notEqual(out.get(c[2]!)![1], 77);
    assert.deepEqual(out.get(c[3]!), [-1, EPERM]);
    assert.deepEqual(out.get(c[4]!), [-1, 9 /* EBADF */]);
    assert.ok(out.get(c[5]!)![0] > 0);
  });
});
