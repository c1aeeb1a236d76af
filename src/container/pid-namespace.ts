import fs from 'node:fs';
import { TsdockError } from '../errors.js';

/** The host pids in the container's pid namespace: every /proc/<pid> whose ns/pid link equals its init's. */
export function containerPids(initPid: number): number[] {
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch (err) {
    throw new TsdockError(`cannot read the pid namespace of process ${initPid}: ${(err as Error).message}`);
  }
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) === ns) out.push(Number(name));
    } catch {
      // gone, or not ours to see
    }
  }
  return out.sort((a, b) => a - b);
}
