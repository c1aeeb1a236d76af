/**
 * `tsdock doctor`'s checks see the host only through a HostView, so each check is a small function that unit
 * tests run on faked host files. A check returns one or more results: PASS, WARN (works, with less), FAIL (tsdock
 * cannot do something a user will ask of it), SKIP (does not concern this user; the message says why).
 */
export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'SKIP';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** what this means for the user, one line */
  message: string;
  /** the exact command (or edit) that fixes it; empty when there is nothing to fix */
  fix: string;
}

export interface FileInfo {
  mode: number;
  uid: number;
  gid: number;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export interface HostView {
  /** a file's text, or undefined when it cannot be read */
  read(path: string): string | undefined;
  /** lstat, or undefined when it does not exist */
  lstat(path: string): FileInfo | undefined;
  /** free bytes for unprivileged users on the filesystem holding path (its nearest existing ancestor) */
  freeBytes(path: string): number | undefined;
  /** the first executable of that name on PATH */
  which(command: string): string | undefined;
  /** true when the file carries file capabilities (security.capability) */
  hasFileCaps(path: string): boolean;
  /** open(2) of a device read-write: undefined when it works, else the errno code */
  openDevice(path: string): string | undefined;
  /** mount an overlay in a throwaway (user and) mount namespace: undefined when it worked, else why not */
  probeOverlay(rootless: boolean): string | undefined;
  /** the kernel's build configuration (/proc/config.gz or /boot/config-<release>), when readable */
  kernelConfig(): string | undefined;
}

/** whom the checks are about */
export interface DoctorSubject {
  /** the rootless checks apply (a non-root user, or root checking for $SUDO_USER) */
  rootless: boolean;
  /** tsdock itself runs as root */
  rootful: boolean;
  /** the user the rootless checks are for: host uid, gid, name; undefined as root without $SUDO_USER */
  user?: { uid: number; gid: number; name?: string };
  root: string;
  runRoot: string;
  env: NodeJS.ProcessEnv;
}

export type Check = (host: HostView, subject: DoctorSubject) => CheckResult | CheckResult[];

export const result = (name: string, status: CheckStatus, message: string, fix = ''): CheckResult => ({ name, status, message, fix });

/** how bad a rootless problem is: FAIL for a rootless user; WARN for root, whose own containers still work */
export const rootlessSeverity = (subject: DoctorSubject): CheckStatus => (subject.rootless && !subject.rootful ? 'FAIL' : 'WARN');
