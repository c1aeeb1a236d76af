import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLONE, MS, type ExecPlan, type MonitorPlan, type PlanProcess, type PlanStep } from '../../../src/runtime/plan-types.js';

/** busybox applets linked in the fixture (busybox --install -s style: relative symlinks to /bin/busybox) */
export const APPLETS = ['sh', 'echo', 'cat', 'ls', 'id', 'hostname', 'sleep', 'true', 'false', 'mount', 'ps', 'readlink', 'kill', 'stty', 'test', 'grep', 'wc', 'pwd', 'ln', 'head', 'cut', 'tr'];

export const BUSYBOX = '/bin/busybox';

export function haveBusybox(): boolean {
  try {
    fs.accessSync(BUSYBOX, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RootfsFixture {
  dir: string;
  cleanup(): void;
}

/**
 * A minimal root filesystem: /bin/busybox plus applet symlinks, /etc/passwd (root, app:1000), /etc/group,
 * empty /proc /dev /sys /tmp /root, and /etc/not-executable (mode 0644) for exec-failure tests.
 * `owner` chowns everything (for rootless tests, where it becomes the container's root).
 */
export function makeRootfs(options: { owner?: { uid: number; gid: number } } = {}): RootfsFixture {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-rootfs-'));
  const dir = path.join(base, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'dev', 'sys', 'tmp', 'root', 'home/app']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\napp:x:1000:\n');
  fs.writeFileSync(path.join(dir, 'etc', 'not-executable'), '#!/bin/sh\necho no\n', { mode: 0o644 });
  fs.chmodSync(base, 0o755);
  if (options.owner) {
    const { uid, gid } = options.owner;
    const walk = (p: string) => {
      fs.lchownSync(p, uid, gid);
      if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    };
    walk(base);
  }
  return { dir, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

/** docker's default capability set */
export const DOCKER_CAPS = 0xa80425fbn;

/** the ordinary steps: rprivate, bind the rootfs onto itself, /proc, a tmpfs /dev with /dev/null, pivot_root, hostname */
export function setupSteps(root: string, extra: PlanStep[] = [], hostname = 'tsdock-box'): PlanStep[] {
  return [
    { op: 'propagation', path: '/', flags: MS.REC | MS.PRIVATE },
    { op: 'mount', source: root, target: root, fstype: '', flags: MS.BIND | MS.REC, data: '', label: 'bind rootfs' },
    { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: '', root },
    { op: 'mount', source: 'tmpfs', target: '/dev', fstype: 'tmpfs', flags: MS.NOSUID | MS.NOEXEC, data: 'mode=755', root },
    { op: 'mount', source: '/dev/null', target: '/dev/null', fstype: '', flags: MS.BIND, data: '', root, create: 'file' },
    ...extra,
    { op: 'pivot_root', root },
    { op: 'sethostname', name: hostname },
  ];
}

/** a busybox process: PATH lookup done for /usr/local/bin and /bin, root with docker's capabilities */
export function testProcess(args: string[]): PlanProcess {
  const cmd = args[0]!;
  return {
    args,
    candidates: cmd.includes('/') ? [cmd] : [`/usr/local/bin/${cmd}`, `/bin/${cmd}`],
    env: ['PATH=/usr/local/bin:/bin', 'HOME=/root'],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [],
    noNewPrivileges: false,
    capabilities: { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS, inheritable: 0n, ambient: 0n },
    rlimits: [],
    terminal: false,
  };
}

/** a container plan for the fixture rootfs (pid, mount, uts, ipc namespaces unless told otherwise) */
export function testPlan(root: string, args: string[], o: { cloneFlags?: number; monitor?: MonitorPlan; hostname?: string; extraSteps?: PlanStep[] } = {}): ExecPlan {
  const plan: ExecPlan = {
    cloneFlags: o.cloneFlags ?? CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC,
    init: false,
    steps: setupSteps(root, o.extraSteps, o.hostname),
    process: testProcess(args),
  };
  if (o.monitor) plan.monitor = o.monitor;
  return plan;
}

/** Everything a stream yields, as text (resolves on end or error). */
export const collect = (s: NodeJS.ReadableStream | null) =>
  new Promise<string>((resolve) => {
    if (!s) return resolve('');
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', () => resolve(out));
  });
