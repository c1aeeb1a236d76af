import type { CgroupHost } from './detect.js';
import { detectCgroups } from './detect.js';
import type { Cgroup, CgroupLocation } from './types.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2 } from './v2.js';

export type { Cgroup, CgroupLocation, CgroupStats, CgroupVersion } from './types.js';
export { CgroupError } from './fsutil.js';
export { detectCgroups, type CgroupHost, type CgroupMode } from './detect.js';
export { placeCgroup, v2MountFor, deviceControlMissing, CGROUP_PARENT, type Placement } from './location.js';
export { neededControllers } from './v2.js';

/** The manager for a recorded location (v1 looks its hierarchies up in the host's mounts). */
export function openCgroup(loc: CgroupLocation, host: CgroupHost = detectCgroups()): Cgroup {
  if (loc.version === 2) return new CgroupV2(loc.mount ?? host.v2Mount ?? '/sys/fs/cgroup', loc.path);
  return new CgroupV1(host.v1, loc.path);
}
