import { result, type Check } from '../types.js';

/** docker's default seccomp profile is compiled to BPF and loaded by the executor: the kernel needs SECCOMP_FILTER. */
export const checkSeccomp: Check = (host) => {
  const status = host.read('/proc/self/status') ?? '';
  if (!/^Seccomp:/m.test(status)) {
    return result('seccomp', 'FAIL', 'the kernel has no seccomp (no Seccomp field in /proc/self/status): containers cannot start with the default profile', 'use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y (or run with --security-opt seccomp=unconfined)');
  }
  const config = host.kernelConfig();
  if (config !== undefined && !/^CONFIG_SECCOMP_FILTER=y/m.test(config)) {
    return result('seccomp', 'FAIL', 'the kernel has seccomp but not CONFIG_SECCOMP_FILTER: the default profile cannot be loaded', 'use a kernel built with CONFIG_SECCOMP_FILTER=y (or run with --security-opt seccomp=unconfined)');
  }
  return result('seccomp', 'PASS', `seccomp filters available${config === undefined ? ' (kernel config not readable: assumed from /proc/self/status)' : ''}`);
};
