import type { DoctorSubject, HostView } from './types.js';

/** a user's uid, gid by name from /etc/passwd (faked in tests) */
export function passwdEntry(passwd: string | undefined, match: (name: string, uid: number) => boolean): { name: string; uid: number; gid: number } | undefined {
  for (const line of (passwd ?? '').split('\n')) {
    const [name = '', , uid, gid] = line.split(':');
    if (name && uid !== undefined && gid !== undefined && match(name, Number(uid))) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

export interface SubjectInput {
  rootful: boolean;
  /** host uid and gid of the invoking user (outside tsdock's user namespace) */
  uid: number;
  gid: number;
  root: string;
  runRoot: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Whom the rootless checks are for: the user running tsdock; as root, $SUDO_USER (who most likely asked), else
 * nobody: those checks are skipped with a note.
 */
export function doctorSubject(host: HostView, input: SubjectInput): DoctorSubject {
  const passwd = host.read('/etc/passwd');
  const base = { rootful: input.rootful, root: input.root, runRoot: input.runRoot, env: input.env };
  if (!input.rootful) {
    const name = passwdEntry(passwd, (_, uid) => uid === input.uid)?.name ?? input.env.USER;
    return { ...base, rootless: true, user: { uid: input.uid, gid: input.gid, name } };
  }
  const sudo = input.env.SUDO_USER;
  const entry = sudo && sudo !== 'root' ? passwdEntry(passwd, (name) => name === sudo) : undefined;
  return entry ? { ...base, rootless: true, user: entry } : { ...base, rootless: false };
}
