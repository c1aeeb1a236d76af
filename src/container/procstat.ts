import fs from 'node:fs';

/**
 * A process's start time (clock ticks since boot, /proc/<pid>/stat field 22): recorded with a pid so a
 * reused pid is never mistaken for our container. undefined when the process does not exist.
 */
export function pidStartTime(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) may contain spaces and parentheses: fields restart after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(fields[19]);
  return Number.isFinite(v) ? v : undefined;
}

/** true when `pid` runs and is the process that started at `startTime` */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  const now = pidStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}
