import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_CAPABILITIES,
  AUDIT_ARCH,
  KERNEL_INT_ARGS,
  compileSeccomp,
  defaultProfile,
  seccompFor,
  type SeccompProfile,
  type SeccompRule,
} from '../../../src/ocispec/seccomp/index.js';
import { SYSCALLS_AARCH64 } from '../../../src/ocispec/seccomp/syscalls-aarch64.js';
import { SYSCALLS_I386, SYSCALLS_X86_64 } from '../../../src/ocispec/seccomp/syscalls-x86_64.js';
import { RET, decode, describeRet, errno, run, verify, type Insn } from './interp.js';
import { DOCKER_CAPS, expected, keptRules, type ModelCtx } from './model.js';

const X64 = AUDIT_ARCH.X86_64;
const I386 = AUDIT_ARCH.I386;
const A64 = AUDIT_ARCH.AARCH64;
const EPERM = errno(1);
const ENOSYS = errno(38);

const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWNET = 0x40000000;
const SIGCHLD = 17;
const CLONE_VM = 0x100;
const CLONE_THREAD = 0x10000;

function prog(caps: Iterable<string> | bigint = DOCKER_CAPS, arch: 'x86_64' | 'aarch64' = 'x86_64', kernel: [number, number] = [6, 8], profile: SeccompProfile = defaultProfile): Insn[] {
  const p = decode(compileSeccomp(profile, { arch, capabilities: caps, kernel }));
  verify(p);
  return p;
}

const x64 = (p: Insn[], name: string, ...args: (number | bigint)[]) => describeRet(run(p, { nr: SYSCALLS_X86_64[name]!, arch: X64, args }));

describe('seccomp: default profile compiled (BPF interpreter)', () => {
  const dflt = prog();
  const admin = prog([...DOCKER_CAPS, 'CAP_SYS_ADMIN']);

  it('allows the allowlist and denies the rest with EPERM', () => {
    for (const name of ['read', 'write', 'openat', 'mmap', 'getpid', 'execve', 'exit_group', 'futex', 'epoll_pwait', 'rseq', 'arch_prctl', 'modify_ldt', 'fchmodat2', 'statx', 'chroot']) {
      assert.equal(x64(dflt, name), 'ALLOW', name);
    }
    for (const name of ['io_uring_setup', 'io_uring_enter', 'keyctl', 'add_key', 'request_key', 'kexec_load', 'open_by_handle_at', 'userfaultfd', 'pivot_root', 'swapon', 'reboot', 'init_module', 'setns', 'unshare', 'syslog', 'bpf', 'perf_event_open', 'lookup_dcookie', 'iopl', 'settimeofday', 'vhangup', 'acct', 'mbind', 'kcmp']) {
      assert.equal(x64(dflt, name), 'ERRNO(1)', name);
    }
  });

  it('mount needs CAP_SYS_ADMIN', () => {
    assert.equal(x64(dflt, 'mount', 0, 0, 0, 0, 0), 'ERRNO(1)');
    assert.equal(x64(dflt, 'umount2', 0, 0), 'ERRNO(1)');
    assert.equal(x64(admin, 'mount', 0, 0, 0, 0, 0), 'ALLOW');
    assert.equal(x64(admin, 'unshare', CLONE_NEWNS), 'ALLOW');
  });

  it('personality: only the five allowed personas', () => {
    for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.equal(x64(dflt, 'personality', v), 'ALLOW', `personality(${v})`);
    for (const v of [123, 1, 0x0040000 /* ADDR_NO_RANDOMIZE */, 0x20009, 0xfffffffe]) assert.equal(x64(dflt, 'personality', v), 'ERRNO(1)', `personality(${v})`);
  });

  it('clone: namespace flags need CAP_SYS_ADMIN; clone3 gets ENOSYS without it', () => {
    assert.equal(x64(dflt, 'clone', SIGCHLD), 'ALLOW');
    assert.equal(x64(dflt, 'clone', CLONE_VM | CLONE_THREAD | 0x3d0f00), 'ALLOW');
    for (const f of [CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, 0x02000000, 0x04000000, 0x08000000, 0x20000000]) {
      assert.equal(x64(dflt, 'clone', f | SIGCHLD), 'ERRNO(1)', `clone(0x${f.toString(16)})`);
      assert.equal(x64(admin, 'clone', f | SIGCHLD), 'ALLOW', `clone(0x${f.toString(16)}) with CAP_SYS_ADMIN`);
    }
    // the flags argument is 64-bit: bits above 31 do not hide a namespace flag, nor does a high half deny
    assert.equal(x64(dflt, 'clone', (1n << 40n) | BigInt(CLONE_NEWUSER)), 'ERRNO(1)');
    assert.equal(x64(dflt, 'clone', (1n << 40n) | BigInt(SIGCHLD)), 'ALLOW');
    assert.equal(x64(dflt, 'clone3', 0, 88), 'ERRNO(38)');
    assert.equal(x64(admin, 'clone3', 0, 88), 'ALLOW');
  });

  it('socket: every family but AF_ALG and AF_VSOCK, whatever the high half says', () => {
    for (const af of [1, 2, 10, 16, 17, 37, 39, 41, 45]) assert.equal(x64(dflt, 'socket', af, 1, 0), 'ALLOW', `AF ${af}`);
    for (const af of [38, 40]) assert.equal(x64(dflt, 'socket', af, 1, 0), 'ERRNO(1)', `AF ${af}`);
    // the kernel reads `int family`: 0x1_00000028 is AF_VSOCK to it
    assert.equal(x64(dflt, 'socket', (1n << 32n) | 40n, 1, 0), 'ERRNO(1)');
    assert.equal(x64(dflt, 'socket', (0xffffffffn << 32n) | 38n, 1, 0), 'ERRNO(1)');
  });

  it('ptrace from kernel 4.8 on only, or with CAP_SYS_PTRACE', () => {
    assert.equal(x64(prog(DOCKER_CAPS, 'x86_64', [4, 4]), 'ptrace'), 'ERRNO(1)');
    assert.equal(x64(prog(DOCKER_CAPS, 'x86_64', [4, 8]), 'ptrace'), 'ALLOW');
    assert.equal(x64(prog([...DOCKER_CAPS, 'CAP_SYS_PTRACE'], 'x86_64', [4, 4]), 'ptrace'), 'ALLOW');
    assert.equal(x64(prog([...DOCKER_CAPS, 'CAP_SYS_PTRACE']), 'kcmp'), 'ALLOW');
  });

  it('each capability unlocks its syscalls', () => {
    const cases: [string, string[]][] = [
      ['CAP_SYS_BOOT', ['reboot']],
      ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['CAP_SYS_PACCT', ['acct']],
      ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
      ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
      ['CAP_SYS_TTY_CONFIG', ['vhangup']],
      ['CAP_SYS_NICE', ['mbind', 'set_mempolicy', 'get_mempolicy', 'set_mempolicy_home_node']],
      ['CAP_SYSLOG', ['syslog']],
      ['CAP_BPF', ['bpf']],
      ['CAP_PERFMON', ['perf_event_open']],
      ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
    ];
    const without = prog([]);
    for (const [cap, names] of cases) {
      const p = prog([cap]);
      for (const n of names) {
        assert.equal(x64(p, n), 'ALLOW', `${n} with ${cap}`);
        assert.equal(x64(without, n), 'ERRNO(1)', `${n} without ${cap}`);
      }
    }
    assert.equal(x64(prog([]), 'chroot'), 'ERRNO(1)');
  });

  it('foreign architectures are killed; x32 calls are denied', () => {
    for (const arch of [AUDIT_ARCH.AARCH64, AUDIT_ARCH.ARM, 0x80000016 /* s390x */, 0]) {
      assert.equal(run(dflt, { nr: 39, arch }), RET.KILL_PROCESS, `arch 0x${arch.toString(16)}`);
    }
    for (const nr of [0, 1, 39, 60, 231, 512, 520]) assert.equal(run(dflt, { nr: 0x40000000 | nr, arch: X64 }), EPERM, `x32 ${nr}`);
    assert.equal(run(dflt, { nr: 0xffffffff, arch: X64 }), EPERM);
  });

  it('i386 programs get the same profile with i386 numbers', () => {
    const i = (name: string, ...args: number[]) => describeRet(run(dflt, { nr: SYSCALLS_I386[name]!, arch: I386, args }));
    for (const n of ['getpid', 'read', 'write', 'socketcall', 'ipc', 'mmap2', '_llseek', 'set_thread_area', 'modify_ldt', 'exit_group', 'fcntl64']) assert.equal(i(n), 'ALLOW', n);
    for (const n of ['keyctl', 'mount', 'unshare', 'kexec_load']) assert.equal(i(n), 'ERRNO(1)', n);
    assert.equal(i('personality', 123), 'ERRNO(1)');
    assert.equal(i('personality', 8), 'ALLOW');
    assert.equal(i('clone', CLONE_NEWUSER), 'ERRNO(1)');
    assert.equal(i('clone', SIGCHLD), 'ALLOW');
    assert.equal(i('clone3'), 'ERRNO(38)');
    assert.equal(i('socket', 40), 'ERRNO(1)');
    assert.equal(i('socket', 2), 'ALLOW');
  });

  it('aarch64: asm-generic numbers, the arm64-only rules, ARM compat killed', () => {
    const p = prog(DOCKER_CAPS, 'aarch64');
    const a = (name: string, ...args: number[]) => describeRet(run(p, { nr: SYSCALLS_AARCH64[name]!, arch: A64, args }));
    for (const n of ['getpid', 'openat', 'clone', 'rseq', 'fchmodat2', 'cachestat']) assert.equal(a(n, SIGCHLD), 'ALLOW', n);
    for (const n of ['keyctl', 'mount', 'unshare']) assert.equal(a(n), 'ERRNO(1)', n);
    assert.equal(a('personality', 123), 'ERRNO(1)');
    assert.equal(a('clone', CLONE_NEWUSER), 'ERRNO(1)');
    assert.equal(a('clone3'), 'ERRNO(38)');
    assert.equal(run(p, { nr: 20, arch: AUDIT_ARCH.ARM }), RET.KILL_PROCESS);
    assert.equal(run(p, { nr: 39, arch: X64 }), RET.KILL_PROCESS);
    assert.equal(a('mount'), 'ERRNO(1)');
    assert.equal(describeRet(run(prog(['CAP_SYS_ADMIN'], 'aarch64'), { nr: SYSCALLS_AARCH64.mount!, arch: A64 })), 'ALLOW');
  });

  it('syscalls newer than every syscall in the profile get ENOSYS (runc), unless disabled', () => {
    // the profile's highest x86_64 syscall is removexattrat (466)
    for (const n of ['open_tree_attr', 'file_getattr', 'listns']) assert.equal(x64(dflt, n), 'ERRNO(38)', n);
    assert.equal(run(dflt, { nr: 1000, arch: X64 }), ENOSYS);
    assert.equal(run(dflt, { nr: 0x3fffffff, arch: X64 }), ENOSYS);
    const strict = decode(compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: DOCKER_CAPS, kernel: [6, 8], enosysForNewer: false }));
    assert.equal(run(strict, { nr: 1000, arch: X64 }), EPERM);
    // below the highest one, unknown numbers are EPERM
    assert.equal(run(dflt, { nr: 400, arch: X64 }), EPERM);
  });

  it('capabilities may be given as a bit mask', () => {
    const mask = (1n << 21n) | (1n << 18n); // CAP_SYS_ADMIN, CAP_SYS_CHROOT
    assert.deepEqual(compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: mask, kernel: [6, 8] }), compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: ['CAP_SYS_CHROOT', 'CAP_SYS_ADMIN'], kernel: [6, 8] }));
  });

  it('matches the reference model for every syscall, both architectures, several capability sets', () => {
    const capSets = [DOCKER_CAPS, [], [...DOCKER_CAPS, 'CAP_SYS_ADMIN'], ALL_CAPABILITIES];
    const argSamples: bigint[][] = [[], [0n], [40n], [38n, 1n], [0xffffffffn], [BigInt(CLONE_NEWUSER)], [1n << 33n], [(1n << 32n) | 40n], [0x20008n], [17n, 1n << 40n]];
    for (const arch of ['x86_64', 'aarch64'] as const) {
      for (const caps of capSets) {
        const p = prog(caps, arch);
        const sections: [number, Readonly<Record<string, number>>, boolean][] = arch === 'x86_64' ? [[X64, SYSCALLS_X86_64, false], [I386, SYSCALLS_I386, true]] : [[A64, SYSCALLS_AARCH64, false]];
        for (const [audit, table, is32] of sections) {
          const ctx: ModelCtx = {
            native: arch === 'x86_64' ? 'amd64' : 'arm64',
            caps: new Set(caps),
            kernel: [6, 8],
            table,
            lowArgs: (name, i) => is32 || (KERNEL_INT_ARGS[name] ?? []).includes(i),
            enosys: true,
          };
          for (let nr = 0; nr < 560; nr++) {
            for (const args of argSamples) {
              const want = expected(defaultProfile, ctx, nr, args);
              const got = run(p, { nr, arch: audit, args });
              if (got !== want) assert.fail(`${arch}/${audit.toString(16)} caps=${caps.length} nr=${nr} args=${args}: got ${describeRet(got)}, want ${describeRet(want)}`);
            }
          }
        }
      }
    }
  });

  // its compile time is measured by bench/seccomp.mjs (a timed test flakes on a loaded machine)
  it('is small, and cached compiles are private copies of the same bytes', () => {
    const n = compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: DOCKER_CAPS }).length / 8;
    assert.ok(n < 600, `${n} instructions`);
    const copy = structuredClone(defaultProfile) as SeccompProfile;
    // cached: same bytes, a private copy
    const a = compileSeccomp(copy, { arch: 'x86_64', capabilities: DOCKER_CAPS });
    const b = compileSeccomp(copy, { arch: 'x86_64', capabilities: new Set([...DOCKER_CAPS].reverse()) });
    assert.deepEqual(a, b);
    a[0] = 0xff;
    assert.notDeepEqual(a, compileSeccomp(copy, { arch: 'x86_64', capabilities: DOCKER_CAPS }));
  });

  it('seccompFor: default, unconfined', () => {
    assert.equal(seccompFor('unconfined', DOCKER_CAPS, 'x86_64'), undefined);
    assert.deepEqual(seccompFor('default', DOCKER_CAPS, 'x86_64', [6, 8]), compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: DOCKER_CAPS, kernel: [6, 8] }));
  });
});

describe('seccomp: default profile content (docker / moby profiles/seccomp v0.2.3)', () => {
  it('has docker’s shape', () => {
    assert.equal(defaultProfile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(defaultProfile.defaultErrnoRet, 1);
    assert.equal(defaultProfile.syscalls[0]!.names.length, 361);
    assert.equal(defaultProfile.syscalls.length, 33);
    assert.deepEqual(defaultProfile.archMap?.find((m) => m.architecture === 'SCMP_ARCH_X86_64')?.subArchitectures, ['SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const clone = defaultProfile.syscalls.filter((r) => r.names.includes('clone') && r.args);
    assert.equal(clone[0]!.args![0]!.value, 2114060288);
    const clone3 = defaultProfile.syscalls.find((r) => r.names.length === 1 && r.names[0] === 'clone3')!;
    assert.deepEqual([clone3.action, clone3.errnoRet, clone3.excludes?.caps], ['SCMP_ACT_ERRNO', 38, ['CAP_SYS_ADMIN']]);
    assert.ok(Object.isFrozen(defaultProfile.syscalls[0]!.names));
  });

  it('names only syscalls some architecture knows (typos would be silently skipped)', () => {
    const known = new Set([...Object.keys(SYSCALLS_X86_64), ...Object.keys(SYSCALLS_I386), ...Object.keys(SYSCALLS_AARCH64)]);
    // names of architectures tsdock has no table for (ppc, arm, s390, riscv, mips) and the x86_64-only old ones
    const otherArch = new Set(['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls', 'swapcontext', 's390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr', 'riscv_flush_icache', 'riscv_hwprobe', 'recv', 'send', 'umount', 'clock_adjtime64', 'clock_getres_time64', 'clock_gettime64', 'clock_nanosleep_time64', 'futex_time64', 'io_pgetevents_time64', 'mq_timedreceive_time64', 'mq_timedsend_time64', 'ppoll_time64', 'pselect6_time64', 'recvmmsg_time64', 'rt_sigtimedwait_time64', 'sched_rr_get_interval_time64', 'semtimedop_time64', 'timer_gettime64', 'timer_settime64', 'timerfd_gettime64', 'timerfd_settime64', 'utimensat_time64', 'clock_settime64']);
    const unknown = defaultProfile.syscalls.flatMap((r) => r.names).filter((n) => !known.has(n) && !otherArch.has(n));
    assert.deepEqual([...new Set(unknown)], []);
  });
});

describe('seccomp: compiler', () => {
  const base = (syscalls: SeccompRule[], extra: Partial<SeccompProfile> = {}): SeccompProfile => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls, ...extra });

  it('compares 64-bit arguments exactly, for every operator, on both halves', () => {
    const ops = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ'] as const;
    const edges = [0n, 1n, 5n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 1n << 32n, (1n << 32n) + 5n, (5n << 32n) + 5n, (5n << 32n) + 4n, (5n << 32n) + 6n, (4n << 32n) + 6n, (6n << 32n) + 4n, (0xffffffffn << 32n), (1n << 64n) - 2n, (1n << 64n) - 1n];
    const values = [0n, 5n, 0xffffffffn, 1n << 32n, (5n << 32n) + 5n, (1n << 64n) - 1n, (0xffffffffn << 32n) + 7n];
    for (const op of ops) {
      for (const value of values) {
        const rule: SeccompRule = { names: ['lseek'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value, op, ...(op === 'SCMP_CMP_MASKED_EQ' ? { valueTwo: value & 0xf0000000fn } : {}) }] };
        const profile = base([rule]);
        const p = prog([], 'x86_64', [6, 8], profile);
        const ctx: ModelCtx = { native: 'amd64', caps: new Set(), kernel: [6, 8], table: SYSCALLS_X86_64, lowArgs: () => false, enosys: true };
        const pi = prog([], 'x86_64', [6, 8], base([rule], { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] }));
        const ctx32: ModelCtx = { ...ctx, table: SYSCALLS_I386, lowArgs: () => true };
        for (const a of edges) {
          const got = run(p, { nr: SYSCALLS_X86_64.lseek!, arch: X64, args: [0n, a] });
          assert.equal(describeRet(got), describeRet(expected(profile, ctx, SYSCALLS_X86_64.lseek!, [0n, a])), `${op} value=0x${value.toString(16)} arg=0x${a.toString(16)}`);
          const got32 = run(pi, { nr: SYSCALLS_I386.lseek!, arch: I386, args: [0n, a & 0xffffffffn] });
          assert.equal(describeRet(got32), describeRet(expected(profile, ctx32, SYSCALLS_I386.lseek!, [0n, a])), `i386 ${op} value=0x${value.toString(16)} arg=0x${a.toString(16)}`);
        }
      }
    }
  });

  it('first matching rule wins, in profile order; several conditions must all hold', () => {
    const profile = base([
      { names: ['dup'], action: 'SCMP_ACT_ERRNO', errnoRet: 11, args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }] },
      { names: ['dup'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 10, op: 'SCMP_CMP_LT' }] },
      { names: ['dup', 'dup2'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 100, op: 'SCMP_CMP_GE' }, { index: 1, value: 7, op: 'SCMP_CMP_NE' }] },
      { names: ['dup'], action: 'SCMP_ACT_TRAP' },
      { names: ['dup'], action: 'SCMP_ACT_ALLOW' },
      { names: ['dup2'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['dup3'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['getpid'], action: 'SCMP_ACT_KILL' },
    ]);
    const p = prog([], 'x86_64', [6, 8], profile);
    const r = (name: string, ...args: number[]) => run(p, { nr: SYSCALLS_X86_64[name]!, arch: X64, args });
    assert.equal(r('dup', 3), errno(11));
    assert.equal(r('dup', 4), RET.ALLOW);
    assert.equal(r('dup', 100, 1), errno(22));
    assert.equal(r('dup', 100, 7), RET.TRAP);
    assert.equal(r('dup', 50), RET.TRAP);
    assert.equal(r('dup2', 100, 1), errno(22));
    assert.equal(r('dup2', 1), RET.LOG);
    assert.equal(r('dup2', 2), EPERM);
    assert.equal(r('dup3'), RET.KILL_PROCESS);
    assert.equal(r('getpid'), RET.KILL_THREAD);
    assert.equal(r('read'), EPERM);
  });

  it('a denylist profile (default allow) still denies x32 calls and foreign architectures', () => {
    const p = prog([], 'x86_64', [6, 8], base([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }], { defaultAction: 'SCMP_ACT_ALLOW' }));
    assert.equal(x64(p, 'mkdir'), 'ERRNO(13)');
    assert.equal(x64(p, 'getpid'), 'ALLOW');
    assert.equal(run(p, { nr: 1000, arch: X64 }), RET.ALLOW); // no ENOSYS stub when the default allows
    assert.equal(run(p, { nr: 0x40000000 | SYSCALLS_X86_64.mkdir!, arch: X64 }), EPERM);
    assert.equal(run(p, { nr: 39, arch: I386 }), RET.KILL_PROCESS); // no i386 section without archMap / architectures
  });

  it('long programs: jumps beyond 255 instructions go through trampolines', () => {
    // every syscall its own rule with its own errno and an argument condition: nothing merges
    const names = Object.keys(SYSCALLS_X86_64).slice(0, 220);
    const rules: SeccompRule[] = names.map((n, i) => ({ names: [n], action: 'SCMP_ACT_ERRNO', errnoRet: 100 + (i % 900), args: [{ index: i % 6, value: i * 0x10001 + (i % 3 === 0 ? 2 ** 40 : 0), op: (['SCMP_CMP_GE', 'SCMP_CMP_LT', 'SCMP_CMP_NE'] as const)[i % 3] }] }));
    const profile = base(rules, { archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }] });
    const p = prog([], 'x86_64', [6, 8], profile);
    assert.ok(p.length > 1000, `${p.length} instructions`);
    // some conditional jumps had to be widened: a ja or a copied ret right after them
    const far = p.filter((ins, i) => ins.code === 0x05 && i > 0 && p[i - 1]!.code !== 0x06);
    assert.ok(far.length > 0, 'no trampolines');
    for (const [audit, table, low] of [[X64, SYSCALLS_X86_64, false], [I386, SYSCALLS_I386, true]] as const) {
      const ctx: ModelCtx = { native: 'amd64', caps: new Set(), kernel: [6, 8], table, lowArgs: (name, i) => low || (KERNEL_INT_ARGS[name] ?? []).includes(i), enosys: true };
      for (let nr = 0; nr < 600; nr++) {
        for (const args of [[], [5n, 5n, 5n, 5n, 5n, 5n], [1n << 41n, 1n << 41n, 1n << 41n, 1n << 41n, 1n << 41n, 1n << 41n], Array(6).fill(BigInt(nr) * 0x10001n)]) {
          const got = run(p, { nr, arch: audit, args });
          const want = expected(profile, ctx, nr, args);
          if (got !== want) assert.fail(`nr ${nr} args ${args}: got ${describeRet(got)} want ${describeRet(want)}`);
        }
      }
    }
  });

  it('refuses programs over 4096 instructions and SCMP_ACT_NOTIFY', () => {
    const huge = base(
      Object.keys(SYSCALLS_X86_64).map((n, j) => ({ names: [n], action: 'SCMP_ACT_ALLOW' as const, args: Array.from({ length: 6 }, (_, i) => ({ index: i, value: 2 ** 40 + j * 8 + i, op: 'SCMP_CMP_GT' as const })) })),
    );
    assert.throws(() => compileSeccomp(huge, { arch: 'x86_64', capabilities: [] }), /more than the kernel's 4096/);
    assert.throws(() => compileSeccomp(base([{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }]), { arch: 'x86_64', capabilities: [] }), /SCMP_ACT_NOTIFY/);
  });

  it('skips names the architecture lacks, and includes/excludes on arches use docker’s native names', () => {
    const profile = base([
      { names: ['no_such_call', 'getpid'], action: 'SCMP_ACT_ALLOW' },
      { names: ['getppid'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['gettid'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
      { names: ['uname'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_A', 'CAP_B'] } },
      { names: ['umask'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.10' } },
      { names: ['rseq'], action: 'SCMP_ACT_ALLOW' }, // above the others: they get EPERM, not ENOSYS
    ]);
    const px = prog(['CAP_A'], 'x86_64', [5, 4], profile);
    assert.equal(x64(px, 'getpid'), 'ALLOW');
    assert.equal(x64(px, 'getppid'), 'ERRNO(1)');
    assert.equal(x64(px, 'gettid'), 'ERRNO(1)');
    assert.equal(x64(px, 'uname'), 'ERRNO(1)');
    assert.equal(x64(px, 'umask'), 'ALLOW');
    assert.equal(x64(prog(['CAP_A', 'CAP_B'], 'x86_64', [5, 10], profile), 'uname'), 'ALLOW');
    assert.equal(x64(prog(['CAP_A', 'CAP_B'], 'x86_64', [5, 10], profile), 'umask'), 'ERRNO(1)');
    const pa = prog([], 'aarch64', [6, 8], profile);
    assert.equal(describeRet(run(pa, { nr: SYSCALLS_AARCH64.getppid!, arch: A64 })), 'ALLOW');
    assert.equal(describeRet(run(pa, { nr: SYSCALLS_AARCH64.gettid!, arch: A64 })), 'ALLOW');
    // the rules kept are the model's
    assert.equal(keptRules(profile, { native: 'arm64', caps: new Set(), kernel: [6, 8], table: SYSCALLS_AARCH64, lowArgs: () => false, enosys: true }).length, 4);
  });
});
