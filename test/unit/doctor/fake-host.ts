import type { DoctorSubject, FileInfo, HostView } from '../../../src/doctor/types.js';

export interface FakeHost {
  files?: Record<string, string>;
  stats?: Record<string, Partial<FileInfo>>;
  commands?: Record<string, string>;
  caps?: string[];
  free?: number;
  /** overlay probe's failure, by rootless */
  probe?: { rootful?: string; rootless?: string };
  devices?: Record<string, string>;
  config?: string;
}

/** a HostView over faked files: everything not given is absent */
export function fakeHost(f: FakeHost = {}): HostView & { probes: boolean[] } {
  const probes: boolean[] = [];
  return {
    probes,
    read: (p) => f.files?.[p],
    lstat: (p) => {
      const s = f.stats?.[p];
      return s ? { mode: 0o100644, uid: 0, gid: 0, isDirectory: false, isSymbolicLink: false, ...s } : undefined;
    },
    freeBytes: () => f.free,
    which: (c) => f.commands?.[c],
    hasFileCaps: (p) => f.caps?.includes(p) ?? false,
    openDevice: (p) => f.devices?.[p],
    probeOverlay: (rootless) => {
      probes.push(rootless);
      return rootless ? f.probe?.rootless : f.probe?.rootful;
    },
    kernelConfig: () => f.config,
  };
}

export const alice = { uid: 1000, gid: 1000, name: 'alice' };

export function rootless(extra: Partial<DoctorSubject> = {}): DoctorSubject {
  return { rootless: true, rootful: false, user: alice, root: '/home/alice/.local/share/tsdock', runRoot: '/run/user/1000/tsdock', env: { HOME: '/home/alice' }, ...extra };
}

export function rootful(extra: Partial<DoctorSubject> = {}): DoctorSubject {
  return { rootless: false, rootful: true, root: '/var/lib/tsdock', runRoot: '/run/tsdock', env: { HOME: '/root' }, ...extra };
}

export const asArray = <T>(r: T | T[]): T[] => (Array.isArray(r) ? r : [r]);
