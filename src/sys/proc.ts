import fs from 'node:fs';

/** What /proc/<pid>/stat tells about a process. */
export interface ProcStat {
  /** field 3: R, S, D, Z (zombie), X (dead), ... */
  state: string;
  /** field 22: start time in clock ticks after boot */
  startTime: number;
  /** field 2, without the parentheses */
  comm: string;
}

/** The text of /proc/<pid>/stat → its fields; undefined when malformed. comm may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | undefined {
  // comm ends at the last ")"
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3, so field N is rest[N - 3]
  const startTime = Number(rest[22 - 3]);
  if (!rest[0] || !Number.isFinite(startTime) || rest[22 - 3] === '') return undefined;
  return { state: rest[0], startTime, comm: text.slice(open + 1, close) };
}

/**
 * /proc/<pid>/stat, or undefined when there is no such process: the one reader of it (a container's init and
 * monitor, a name reservation's creator, the rootless user namespace holder).
 */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}
