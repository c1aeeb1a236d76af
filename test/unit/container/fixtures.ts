import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerRecord, ContainerState, ExitFile } from '../../../src/container/record.js';

/** A fresh store root; removed at process exit. */
export function tempStore(label: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tsdock-unit-${label}-`));
  process.once('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

export function record(id: string, name: string, over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    Id: id,
    Name: name,
    Created: new Date().toISOString(),
    Image: 'sha256:' + 'ab'.repeat(32),
    ImageName: 'busybox',
    Path: 'sh',
    Args: ['-c', 'exit 3'],
    Driver: 'overlay',
    Config: { Hostname: id.slice(0, 12), User: '', Env: [], Cmd: null, Entrypoint: null, WorkingDir: '/', Labels: {}, Tty: false, OpenStdin: false },
    HostConfig: {
      AutoRemove: false,
      NetworkMode: 'none',
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      Binds: [],
      ReadonlyRootfs: false,
      Privileged: false,
      CapAdd: [],
      CapDrop: [],
      SecurityOpt: [],
      Init: false,
      LogConfig: { Type: 'k8s-file', Config: {} },
    },
    Mounts: [],
    AnonymousVolumes: [],
    Request: {},
    ...over,
  };
}

/** Lay out a container directory the way `run` does (container.json, state.json, exit.json, names/<name>). */
export function fakeContainer(root: string, opts: { id?: string; name?: string; record?: Partial<ContainerRecord>; state?: ContainerState; exit?: ExitFile; orphan?: boolean } = {}): string {
  const id = opts.id ?? crypto.randomBytes(32).toString('hex');
  const dir = path.join(root, 'containers', id);
  fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
  const name = opts.name ?? `c_${id.slice(0, 6)}`;
  if (!opts.orphan) fs.writeFileSync(path.join(dir, 'container.json'), JSON.stringify(record(id, name, opts.record)));
  if (opts.state) fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(opts.state));
  if (opts.exit) fs.writeFileSync(path.join(dir, 'exit.json'), JSON.stringify(opts.exit));
  fs.mkdirSync(path.join(root, 'names'), { recursive: true });
  fs.writeFileSync(path.join(root, 'names', name), id);
  return id;
}

/** This process's /proc/self/stat start time: a pid that is certainly alive, with its real start time. */
export function ownStartTime(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** A pid that is not running (a child that has exited and been reaped). */
export function deadPid(): number {
  let pid = 4_000_000;
  while (fs.existsSync(`/proc/${pid}`)) pid--;
  return pid;
}
