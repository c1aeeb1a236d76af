import type { LinuxDeviceCgroup } from './types.js';

/**
 * The device cgroup rules every container gets (runc's AllowedDevices, which docker uses): everything denied,
 * then mknod of any node allowed (creating is harmless; opening is what counts) and read/write/mknod of the
 * default devices: null, zero, full, random, urandom, tty, console, ptmx, the pty slaves and /dev/net/tun.
 * --privileged: everything allowed. Without these, root in a rootful container could mknod the host's disk.
 */
export function deviceRules(privileged: boolean): LinuxDeviceCgroup[] {
  if (privileged) return [{ allow: true, access: 'rwm' }];
  const c = (major: number, minor?: number): LinuxDeviceCgroup => ({ allow: true, type: 'c', major, ...(minor === undefined ? {} : { minor }), access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    c(1, 3), c(1, 5), c(1, 7), c(1, 8), c(1, 9),
    c(5, 0), c(5, 1), c(5, 2),
    c(136),
    c(10, 200),
  ];
}
