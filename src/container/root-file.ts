/**
 * A small file of a running container, read as the container itself sees it (exec -u: /etc/passwd, /etc/group).
 *
 * `/proc/<pid>/root/<path>` read through the host's path resolution would follow an absolute symlink in the
 * container to the host's file, and block forever on a FIFO or read /dev/zero until memory runs out. Instead
 * the path is opened with openat2(RESOLVE_IN_ROOT) below an fd of /proc/<pid>/root (symlinks and `..` stay
 * inside the container, magic links are refused), non-blocking and without becoming a controlling terminal;
 * fstat must say regular file, and at most `maxBytes` are read (runc and moby bound these files too).
 */
import fs from 'node:fs';
import { TsdockError } from '../errors.js';
import { RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, SysError, openat2 } from '../sys/index.js';

export const ROOT_FILE_MAX = 4 << 20;

const KIND: [(s: fs.Stats) => boolean, string][] = [
  [(s) => s.isFIFO(), 'a fifo'],
  [(s) => s.isCharacterDevice(), 'a character device'],
  [(s) => s.isBlockDevice(), 'a block device'],
  [(s) => s.isSocket(), 'a socket'],
  [(s) => s.isDirectory(), 'a directory'],
];

/** The file's content, or undefined when it does not exist in the container. */
export function readRootFile(pid: number, rel: string, maxBytes = ROOT_FILE_MAX): string | undefined {
  const shown = `/${rel.replace(/^\/+/, '')}`;
  const where = `${shown} of the container (init pid ${pid})`;
  let rootFd: number;
  try {
    rootFd = fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    throw new TsdockError(`reading ${where}: ${(err as Error).message}`, { cause: err });
  }
  let fd: number;
  try {
    fd = openat2(rootFd, shown.slice(1), {
      flags: fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY,
      resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    });
  } catch (err) {
    if (err instanceof SysError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw new TsdockError(`reading ${where}: ${(err as Error).message}`, { cause: err });
  } finally {
    fs.closeSync(rootFd);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new TsdockError(`reading ${where}: not a regular file (${KIND.find(([is]) => is(st))?.[1] ?? 'not a file'})`);
    const buf = Buffer.allocUnsafe(maxBytes + 1); // not st.size: the file may grow while it is read
    let got = 0;
    for (let n; got < buf.length && (n = fs.readSync(fd, buf, got, buf.length - got, got)) > 0; ) got += n;
    if (got > maxBytes) throw new TsdockError(`reading ${where}: larger than ${maxBytes} bytes`);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
