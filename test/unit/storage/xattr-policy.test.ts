import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xattrFailureTolerated } from '../../../src/storage/xattr-policy.js';
import { SysError } from '../../../src/sys/index.js';

const E = { EPERM: 1, EACCES: 13, EINVAL: 22, ENOSPC: 28, EIO: 5, ENOTSUP: 95 } as const;
const err = (code: keyof typeof E) => new SysError('lsetxattr', E[code], '/x');

test('one xattr-tolerance rule for unpacking, volume seeding and marker reads', () => {
  const rows: Array<[keyof typeof E, 'read' | 'write', string, boolean, boolean]> = [
    ['ENOTSUP', 'write', 'user.foo', true, true],
    ['ENOTSUP', 'read', 'trusted.overlay.opaque', true, true],
    // rootless: trusted.* refused
    ['EPERM', 'write', 'trusted.overlay.opaque', true, true],
    ['EPERM', 'read', 'trusted.overlay.opaque', true, true],
    ['EACCES', 'write', 'security.selinux', true, true],
    ['EINVAL', 'write', 'security.selinux', true, true],
    ['EPERM', 'write', 'system.posix_acl_access', true, true],
    // user.* where the kernel never allows it (a symlink) vs on a regular file
    ['EPERM', 'write', 'user.foo', false, true],
    ['EPERM', 'write', 'user.foo', true, false],
    ['EINVAL', 'write', 'user.foo', false, false],
    ['ENOSPC', 'write', 'trusted.foo', true, false],
    ['EIO', 'read', 'user.overlay.opaque', true, false],
  ];
  for (const [code, op, name, userAllowed, want] of rows) assert.equal(xattrFailureTolerated(err(code), op, name, userAllowed), want, `${op} ${name} ${code} ${userAllowed}`);
  // only a syscall's failure can be tolerated
  assert.equal(xattrFailureTolerated(new Error('ENOTSUP'), 'write', 'user.foo'), false);
});
