import type { Context } from '../context.js';
import type { UnpackOptions } from '../storage/unpack.js';

/**
 * How layers are unpacked for this user. Rootful: overlayfs' trusted.* whiteout form and real ownership.
 * Rootless: tsdock runs inside its own user namespace (cli/userns.ts) where the user's subordinate ids are
 * mapped, so chown to image ids works and lands on subuid_start + id - 1 on the host; whiteouts use the
 * user.overlay.* xattrs that an overlay mounted with `userxattr` reads. With a single-id mapping (no
 * /etc/subuid range) every file is owned by the user.
 */
export function unpackOptionsFor(ctx: Context): Omit<UnpackOptions, 'signal'> {
  if (ctx.rootful) return { whiteouts: 'overlay-root', chown: true };
  return { whiteouts: 'overlay-user', chown: ctx.env.TSDOCK_USERNS === 'full' };
}
