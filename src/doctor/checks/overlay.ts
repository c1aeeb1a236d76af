import { result, type Check } from '../types.js';
import { kernelVersion } from './kernel.js';

const NAME = 'overlayfs';
const VFS = 'containers use vfs (a full copy of the image per container: slow to create, uses more disk)';

/**
 * tsdock's overlay driver: kernel overlayfs, rootless with `userxattr` in its user namespace (Linux 5.11).
 * The probe really mounts one, in a throwaway namespace; fuse-overlayfs is not supported (vfs is the fallback).
 */
export const checkOverlay: Check = (host, subject) => {
  const filesystems = host.read('/proc/filesystems') ?? '';
  if (!/\toverlay$/m.test(filesystems)) {
    return result(NAME, 'WARN', `the kernel has no overlayfs: ${VFS}`, 'sudo modprobe overlay && echo overlay | sudo tee /etc/modules-load.d/overlay.conf');
  }
  const out = [];
  if (subject.rootful) {
    const why = host.probeOverlay(false);
    out.push(why ? result(NAME, 'WARN', `mounting an overlay failed (${why}): ${VFS}`, 'check that the store is not itself on overlayfs or NFS (--root elsewhere), and dmesg for overlayfs errors')
      : result(NAME, 'PASS', 'kernel overlayfs mounts (probed)'));
  }
  if (!subject.rootless) return out;
  const v = kernelVersion(host);
  if (v && (v[0] < 5 || (v[0] === 5 && v[1] < 11))) {
    out.push(result(`${NAME} (rootless)`, 'WARN', `Linux ${v[0]}.${v[1]} cannot mount overlayfs in a user namespace (5.11+): rootless ${VFS}; fuse-overlayfs is not supported by tsdock`, 'upgrade the kernel to 5.11 or later'));
    return out;
  }
  const why = host.probeOverlay(true);
  out.push(why ? result(`${NAME} (rootless)`, 'WARN', `mounting an overlay with userxattr in a user namespace failed (${why}): rootless ${VFS}; fuse-overlayfs is not supported by tsdock`,
    'check that the store is not on overlayfs, NFS or a filesystem without user xattrs (XDG_DATA_HOME or --root elsewhere)')
    : result(`${NAME} (rootless)`, 'PASS', 'kernel overlayfs mounts in a user namespace with userxattr (probed)'));
  return out;
};
