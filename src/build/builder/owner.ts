/**
 * `--chown=user[:group]` and `--chmod=` of COPY/ADD, docker's rules: numeric ids as given, names looked up in the
 * image's /etc/passwd and /etc/group (pure over their text); a user without a group takes its primary group
 * (a numeric user: the same number as its gid). `--chmod` is octal.
 */
import type { Owner } from './copy-items.js';

function table(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

export function resolveChown(spec: string, passwd: string | undefined, group: string | undefined): Owner {
  const [user = '', grp] = spec.split(':');
  const users = table(passwd);
  const groups = table(group);
  let uid: number;
  let primary: number | undefined;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    primary = uid;
  } else {
    const row = users.find((r) => r[0] === user);
    if (!row) throw new Error(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${user}: no such user: ${user}`);
    uid = Number(row[2]);
    primary = Number(row[3]);
  }
  if (grp === undefined || grp === '') return { uid, gid: primary };
  if (/^\d+$/.test(grp)) return { uid, gid: Number(grp) };
  const row = groups.find((r) => r[0] === grp);
  if (!row) throw new Error(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${grp}: no such group: ${grp}`);
  return { uid, gid: Number(row[2]) };
}

export function parseChmod(spec: string): number {
  if (!/^[0-7]{1,4}$/.test(spec)) throw new Error(`invalid chmod parameter: ${spec}: only octal modes are supported`);
  return parseInt(spec, 8);
}
