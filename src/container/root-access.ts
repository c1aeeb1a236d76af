import fs from 'node:fs';
import { TsdockError } from '../errors.js';
import { ImageStore } from '../image/store/images.js';
import { startExecutor, type ExecutorHandle } from '../runtime/executor.js';
import type { Spec } from '../ocispec/types.js';
import { closeQuiet } from '../storage/fdwalk.js';
import { containerPlan } from './exec-plan.js';
import { resolveContainer } from './lookup.js';
import { runningPid } from './running.js';
import { loadRecord, withContainerLock } from './state.js';
import { containerPaths } from './store.js';

export interface RootAccessContext {
  root: string;
  rootful: boolean;
  signal?: AbortSignal;
}

export interface ContainerRoot {
  id: string;
  /** the container's `/` as the container sees it (volumes, binds, tmpfs mounted): an O_DIRECTORY fd */
  rootFd: number;
  running: boolean;
}

/**
 * Run `fn` with the container's root directory as the container sees it, through `/proc/<pid>/root`:
 *  - running (or paused): its init's root, opened once and checked to still be the init recorded in state.json
 *    (pid and start time) after the open, so a recycled pid cannot hand us another process's root;
 *  - created or exited: under the container's lock (a concurrent start cannot mount the same upper/work dirs), the
 *    executor sets up the container's mounts from its stored spec and holds them (`ExecPlan.hold`) until its stdin
 *    closes; the holder is ended and its mount namespace (everything it mounted) goes with it on every path.
 */
export async function withContainerRoot<T>(ctx: RootAccessContext, ref: string, fn: (c: ContainerRoot) => Promise<T>): Promise<T> {
  const id = resolveContainer(ctx.root, ref);
  const live = openLiveRoot(ctx.root, id);
  if (live !== undefined) return withFd(live, () => fn({ id, rootFd: live, running: true }));
  return withContainerLock(ctx.root, id, async () => {
    const again = openLiveRoot(ctx.root, id); // started while we waited for the lock
    if (again !== undefined) return withFd(again, () => fn({ id, rootFd: again, running: true }));
    const holder = await startHolder(ctx, id);
    try {
      const fd = fs.openSync(`/proc/${holder.pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      return await withFd(fd, () => fn({ id, rootFd: fd, running: false }));
    } finally {
      await holder.stop();
    }
  });
}

async function withFd<T>(fd: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    closeQuiet(fd);
  }
}

/** The running init's root fd, or undefined when the container is not running (or its init changed meanwhile). */
function openLiveRoot(root: string, id: string): number | undefined {
  const pid = runningPid(root, id);
  if (pid === undefined) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw new TsdockError(`opening the root of container ${id.slice(0, 12)} (/proc/${pid}/root): ${(err as Error).message}`);
  }
  if (runningPid(root, id) !== pid) {
    closeQuiet(fd);
    return undefined;
  }
  return fd;
}

interface Holder {
  pid: number;
  stop(): Promise<void>;
}

/**
 * What a stopped container's copy sees: its rootfs, volumes and binds, as docker mounts them for it. A `--tmpfs`
 * would be a fresh, empty one that vanishes with the holder (a copy into it lost): left out, so the copy reaches
 * the rootfs under its mount point, as with docker. The /dev tmpfs mounts stay (the executor builds /dev in them).
 */
function holderSpec(spec: Spec): Spec {
  return { ...spec, mounts: spec.mounts?.filter((m) => !(m.type === 'tmpfs' && m.destination !== '/dev' && !m.destination.startsWith('/dev/'))) };
}

async function startHolder(ctx: RootAccessContext, id: string): Promise<Holder> {
  const record = loadRecord(ctx.root, id);
  if (!record) throw new TsdockError(`container ${id.slice(0, 12)} is incomplete (no container.json): remove it with rm -f`);
  const paths = containerPaths(ctx.root, id, record.Name);
  const spec = JSON.parse(await fs.promises.readFile(paths.spec, 'utf8')) as Spec;
  const store = new ImageStore(ctx.root);
  const image = (await store.read()).images[record.Image];
  if (!image) throw new TsdockError(`cannot mount the file system of ${record.Name.replace(/^\//, '')}: its image ${record.Image.slice(7, 19)} was removed`);
  const plan = containerPlan({ spec: holderSpec(spec), store, image, paths, rootless: !ctx.rootful, driver: record.Driver ?? 'overlay', cgroup: record.Cgroup, privileged: record.HostConfig.Privileged });
  plan.hold = true;
  delete plan.pidFile;
  const handle: ExecutorHandle = startExecutor(plan, { stdio: ['pipe', 'ignore', 'pipe'], detached: true, signal: ctx.signal });
  let stderr = '';
  handle.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  handle.stdin?.on('error', () => {});
  const stop = async () => {
    handle.stdin?.end();
    const timer = setTimeout(() => handle.kill('SIGKILL'), 2000);
    await handle.exited;
    clearTimeout(timer);
  };
  try {
    return { pid: await handle.started, stop };
  } catch (err) {
    await stop();
    const msg = err instanceof Error ? err.message : String(err);
    throw new TsdockError(`mounting the file system of container ${id.slice(0, 12)}: ${msg}${stderr ? ` (${stderr.trim()})` : ''}`);
  }
}
