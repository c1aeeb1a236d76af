import fs from 'node:fs';
import { SysError } from './errors.js';
import { check, invoke, libc } from './libc.js';

// open(2) flags and ioctl/fcntl numbers (Linux, x86_64/aarch64 values)
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const F_GETFL = 3;
const F_SETFL = 4;

export interface Pty {
  /** the master side, close-on-exec, kept by tsdock */
  master: number;
  /** the slave side (opened O_NOCTTY, close-on-exec): the container's stdio; close it once the executor runs */
  slave: number;
  /** e.g. /dev/pts/3 */
  slavePath: string;
}

/** A new pseudo-terminal pair: posix_openpt, grantpt, unlockpt, ptsname_r, then open the slave. */
export function openPty(): Pty {
  const master = check('posix_openpt', '/dev/ptmx', () => libc().posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  try {
    check('grantpt', undefined, () => libc().grantpt(master));
    check('unlockpt', undefined, () => libc().unlockpt(master));
    const buf = Buffer.alloc(128);
    const err = libc().ptsname_r(master, buf, buf.length);
    if (err !== 0) throw new SysError('ptsname_r', err);
    const slavePath = buf.toString('utf8', 0, buf.indexOf(0));
    // Node opens every file close-on-exec
    const slave = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    return { master, slave, slavePath };
  } catch (err) {
    fs.closeSync(master);
    throw err;
  }
}

/** ioctl(TIOCSWINSZ): set a terminal's window size (the kernel sends SIGWINCH to its foreground group). */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8); // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }
  const v = new Uint16Array(ws.buffer, ws.byteOffset, 4); // host byte order
  v[0] = rows;
  v[1] = cols;
  check('ioctl(TIOCSWINSZ)', undefined, () => libc().ioctl(fd, TIOCSWINSZ, ws));
}

/** ioctl(TIOCGWINSZ): a terminal's window size. */
export function getWinsize(fd: number): { rows: number; cols: number } {
  const ws = Buffer.alloc(8);
  check('ioctl(TIOCGWINSZ)', undefined, () => libc().ioctl(fd, TIOCGWINSZ, ws));
  const v = new Uint16Array(ws.buffer, ws.byteOffset, 4);
  return { rows: v[0]!, cols: v[1]! };
}

/** fcntl(F_SETFL) O_NONBLOCK on or off (a pty master read through libuv must be non-blocking). */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = check('fcntl(F_GETFL)', undefined, () => libc().fcntl(fd, F_GETFL, 0));
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (next !== flags) check('fcntl(F_SETFL)', undefined, () => libc().fcntl(fd, F_SETFL, next));
}

/** isatty-like probe through TIOCGWINSZ: false for anything that is not a terminal */
export function isTerminal(fd: number): boolean {
  return invoke(() => libc().ioctl(fd, TIOCGWINSZ, Buffer.alloc(8))).errno === 0;
}
