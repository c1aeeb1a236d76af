import { SysError } from '../sys/index.js';

/**
 * The one rule for which xattr failures are expected rather than errors, when unpacking a layer, seeding a
 * volume from the image, or reading overlay markers (imagefs, fdwalk):
 * - any operation: the filesystem has no xattr support (ENOTSUP/EOPNOTSUPP);
 * - reading: EPERM/EACCES as well (trusted.* is refused to an unprivileged reader: not marked in that namespace);
 * - writing trusted.*, security.*, system.* (ACLs): EPERM/EACCES/EINVAL (refused to an unprivileged user, e.g.
 *   trusted.* rootless, or by an LSM);
 * - writing user.*: EPERM/EACCES only where the kernel never allows them (symlinks, devices: `userAllowed`
 *   false); a user.* refused on a regular file or directory is an error.
 */
export function xattrFailureTolerated(err: unknown, op: 'read' | 'write', name = '', userAllowed = true): boolean {
  if (!(err instanceof SysError)) return false;
  const code = err.code;
  if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') return true;
  const refused = code === 'EPERM' || code === 'EACCES';
  if (op === 'read') return refused;
  if (name.startsWith('user.')) return !userAllowed && refused;
  return refused || code === 'EINVAL';
}
