import os from 'node:os';

/** An error shaped like Node's SystemError: code, errno, syscall, path. */
export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  constructor(syscall: string, errno: number, path?: string) {
    const code = errnoName(errno);
    super(`${syscall}${path ? ` ${path}` : ''}: ${code} (${describeErrno(errno)})`);
    this.name = 'SysError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }
}

const names = new Map<number, string>();
for (const [name, num] of Object.entries(os.constants.errno)) names.set(num, name);

export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

function describeErrno(errno: number): string {
  try {
    // util.getSystemErrorMessage exists on Node >= 22 only; fall back to the code.
    return (os as unknown as { getSystemErrorMessage?: (n: number) => string }).getSystemErrorMessage?.(-errno) ?? errnoName(errno).toLowerCase();
  } catch {
    return errnoName(errno).toLowerCase();
  }
}
