/**
 * Docker's default seccomp profile, as data: the content of moby's profiles/seccomp/default.json
 * (github.com/moby/profiles/seccomp v0.2.3, vendored by moby since May 2026) in this module's representation.
 * Compiled per container by ./bpf.ts with the container's capabilities, the host kernel and the architecture.
 *
 * Shape: one large unconditional allowlist; ptrace & co. from kernel 4.8 on (their seccomp bypass was fixed then);
 * socket() for every address family but AF_ALG (38) and AF_VSOCK (40); personality() only for the five personas
 * below; architecture-specific calls; then the syscalls each capability unlocks, and clone/clone3, whose
 * namespace-creating forms need CAP_SYS_ADMIN (clone3's flags live in memory seccomp cannot read, so without
 * CAP_SYS_ADMIN it fails with ENOSYS and glibc falls back to clone, whose flags are checked).
 * Everything else: EPERM.
 */
import type { SeccompProfile, SeccompRule, SeccompRuleFilter } from './profile.js';

const ENOSYS = 38;

/** socket(2) address families the profile refuses */
const AF_ALG = 38;
const AF_NFC = 39;
const AF_VSOCK = 40;

/** personality(2) personas a container may switch to */
const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;
const UNAME26 = 0x0020000;
const PER_QUERY = 0xffffffff; // personality(0xffffffff) only reads the current persona

/** every CLONE_NEW* flag: clone() without CAP_SYS_ADMIN must request none of them */
const CLONE_NEW_ANY =
  0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ | 0x08000000 /* NEWIPC */ | 0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ | 0x40000000; /* NEWNET */

const allow = (names: string[], rest: Partial<SeccompRule> = {}): SeccompRule => ({ names, action: 'SCMP_ACT_ALLOW', ...rest });
const onlyWith = (caps: string, names: string[]): SeccompRule => allow(names, { includes: { caps: [caps] } });
const onlyOn = (arches: string[], names: string[]): SeccompRule => allow(names, { includes: { arches } });
const argIs = (op: 'SCMP_CMP_EQ' | 'SCMP_CMP_LT' | 'SCMP_CMP_GT', value: number) => ({ args: [{ index: 0, value, op }] });
/** for `excludes`: the rule applies only to containers without CAP_SYS_ADMIN */
const unlessSysAdmin: SeccompRuleFilter = { caps: ['CAP_SYS_ADMIN'] };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export const defaultProfile: SeccompProfile = deepFreeze({
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1, // EPERM
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
    { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
    { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
    { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
    { architecture: 'SCMP_ARCH_LOONGARCH64', subArchitectures: null },
  ],
  syscalls: [
    // names of every architecture; a name the target architecture lacks is skipped by the compiler
    allow([
      'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget', 'capset', 'chdir',
      'chmod', 'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64',
      'clock_gettime', 'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'close', 'close_range', 'connect',
      'copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old',
      'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit',
      'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fanotify_mark', 'fchdir',
      'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr',
      'flistxattr', 'flock', 'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs',
      'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64', 'futex', 'futex_requeue', 'futex_time64', 'futex_wait',
      'futex_waitv', 'futex_wake', 'futimesat', 'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32',
      'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getitimer', 'getpeername', 'getpgid',
      'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32',
      'getrlimit', 'get_robust_list', 'getrusage', 'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid',
      'gettimeofday', 'getuid', 'getuid32', 'getxattr', 'getxattrat', 'inotify_add_watch', 'inotify_init',
      'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'ioctl', 'io_destroy', 'io_getevents', 'io_pgetevents',
      'io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit', 'ipc', 'kill', 'landlock_add_rule',
      'landlock_create_ruleset', 'landlock_restrict_self', 'lchown', 'lchown32', 'lgetxattr', 'link', 'linkat', 'listen',
      'listmount', 'listxattr', 'listxattrat', 'llistxattr', '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat',
      'lstat64', 'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mkdir',
      'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect', 'mq_getsetattr',
      'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend', 'mq_timedsend_time64',
      'mq_unlink', 'mremap', 'mseal', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall', 'munmap',
      'name_to_handle_at', 'nanosleep', 'newfstatat', '_newselect', 'open', 'openat', 'openat2', 'pause', 'pidfd_open',
      'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64',
      'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64', 'process_mrelease', 'pselect6', 'pselect6_time64',
      'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom',
      'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'remap_file_pages', 'removexattr', 'removexattrat', 'rename', 'renameat',
      'renameat2', 'restart_syscall', 'riscv_hwprobe', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending',
      'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64',
      'rt_tgsigqueueinfo', 'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
      'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
      'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select',
      'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send', 'sendfile', 'sendfile64', 'sendmmsg',
      'sendmsg', 'sendto', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups',
      'setgroups32', 'setitimer', 'setpgid', 'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32',
      'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt',
      'set_thread_area', 'set_tid_address', 'setuid', 'setuid32', 'setxattr', 'setxattrat', 'shmat', 'shmctl', 'shmdt',
      'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask', 'sigreturn', 'socketcall',
      'socketpair', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statmount', 'statx', 'symlink', 'symlinkat',
      'sync', 'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete',
      'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64', 'timerfd_create',
      'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times', 'tkill', 'truncate',
      'truncate64', 'ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'uretprobe', 'utime', 'utimensat',
      'utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid', 'write', 'writev',
    ]),
    allow(['process_vm_readv', 'process_vm_writev', 'ptrace'], { includes: { minKernel: '4.8' } }),
    allow(['socket'], argIs('SCMP_CMP_LT', AF_ALG)),
    allow(['socket'], argIs('SCMP_CMP_EQ', AF_NFC)),
    allow(['socket'], argIs('SCMP_CMP_GT', AF_VSOCK)),
    allow(['personality'], argIs('SCMP_CMP_EQ', PER_LINUX)),
    allow(['personality'], argIs('SCMP_CMP_EQ', PER_LINUX32)),
    allow(['personality'], argIs('SCMP_CMP_EQ', UNAME26)),
    allow(['personality'], argIs('SCMP_CMP_EQ', UNAME26 | PER_LINUX32)),
    allow(['personality'], argIs('SCMP_CMP_EQ', PER_QUERY)),
    onlyOn(['ppc64le'], ['sync_file_range2', 'swapcontext']),
    onlyOn(['arm', 'arm64'], ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls']),
    onlyOn(['amd64', 'x32'], ['arch_prctl']),
    onlyOn(['amd64', 'x32', 'x86'], ['modify_ldt']),
    onlyOn(['s390', 's390x'], ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr']),
    onlyOn(['riscv64'], ['riscv_flush_icache']),
    onlyWith('CAP_DAC_READ_SEARCH', ['open_by_handle_at']),
    onlyWith('CAP_SYS_ADMIN', [
      'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
      'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount',
      'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog',
      'umount', 'umount2', 'unshare',
    ]),
    allow(['clone'], {
      args: [{ index: 0, value: CLONE_NEW_ANY, op: 'SCMP_CMP_MASKED_EQ' }], // (flags & CLONE_NEW_ANY) == 0
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    }),
    allow(['clone'], {
      args: [{ index: 1, value: CLONE_NEW_ANY, op: 'SCMP_CMP_MASKED_EQ' }],
      comment: 's390 parameter ordering for clone is different',
      includes: { arches: ['s390', 's390x'] },
      excludes: unlessSysAdmin,
    }),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: unlessSysAdmin },
    onlyWith('CAP_SYS_BOOT', ['reboot']),
    onlyWith('CAP_SYS_CHROOT', ['chroot']),
    onlyWith('CAP_SYS_MODULE', ['delete_module', 'init_module', 'finit_module']),
    onlyWith('CAP_SYS_PACCT', ['acct']),
    onlyWith('CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']),
    onlyWith('CAP_SYS_RAWIO', ['iopl', 'ioperm']),
    onlyWith('CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
    onlyWith('CAP_SYS_TTY_CONFIG', ['vhangup']),
    onlyWith('CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
    onlyWith('CAP_SYSLOG', ['syslog']),
    onlyWith('CAP_BPF', ['bpf']),
    onlyWith('CAP_PERFMON', ['perf_event_open']),
  ],
});
