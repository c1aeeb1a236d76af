import { result, type Check, type CheckResult, type HostView } from '../types.js';

export const LOW_DISK = 1024 ** 3;

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;

/** A store or runtime dir tsdock would refuse or tighten (src/config/dirs.ts): ours, a directory, 0700. */
function privateDir(host: HostView, label: string, dir: string, uid: number, runtime: boolean): CheckResult {
  const st = host.lstat(dir);
  const name = `${label} permissions`;
  if (!st) return result(name, 'PASS', `${dir} does not exist yet: it will be created 0700`);
  if (st.isSymbolicLink && runtime) return result(name, 'FAIL', `${dir} is a symlink: tsdock refuses it`, `rm ${dir}  (or choose another with --runroot or XDG_RUNTIME_DIR)`);
  if (!st.isDirectory && !st.isSymbolicLink) return result(name, 'FAIL', `${dir} is not a directory: tsdock refuses it`, `rm ${dir}`);
  if (st.isSymbolicLink) return result(name, 'PASS', `${dir} is a symlink (followed for the store)`);
  if (st.uid !== uid) return result(name, 'FAIL', `${dir} is owned by uid ${st.uid}, not ${uid}: tsdock refuses it`, `sudo chown ${uid} ${dir}  (or choose another with ${runtime ? '--runroot' : '--root'})`);
  const mode = st.mode & 0o7777;
  if (mode !== 0o700) {
    const m = mode.toString(8).padStart(4, '0');
    return runtime ? result(name, 'FAIL', `${dir} has mode ${m}, not 0700: tsdock refuses it`, `chmod 0700 ${dir}`)
      : result(name, 'WARN', `${dir} has mode ${m}: tsdock tightens it to 0700 at the next start`, `chmod 0700 ${dir}`);
  }
  return result(name, 'PASS', `${dir}: ours, 0700`);
}

export const checkStorage: Check = (host, subject) => {
  const out: CheckResult[] = [];
  const free = host.freeBytes(subject.root);
  if (free === undefined) out.push(result('disk space', 'WARN', `cannot tell the free space for ${subject.root}`, ''));
  else if (free < LOW_DISK) out.push(result('disk space', 'WARN', `${gib(free)} free for ${subject.root}: pulls and containers may fail with ENOSPC`, `tsdock image prune -a && tsdock container prune  (or use --root on a bigger disk)`));
  else out.push(result('disk space', 'PASS', `${gib(free)} free for ${subject.root}`));
  const uid = subject.rootful ? 0 : subject.user?.uid ?? 0;
  out.push(privateDir(host, 'store', subject.root, uid, false), privateDir(host, 'runtime dir', subject.runRoot, uid, true));
  return out;
};
