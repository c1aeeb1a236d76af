import { parseSubIds, type SubIdRange } from '../../config/subids.js';
import { result, rootlessSeverity, type Check, type CheckResult, type DoctorSubject, type HostView } from '../types.js';

/** the size podman and docker's rootless set-up recommend: an image's ids 0..65535 all mapped */
export const RECOMMENDED_IDS = 65536;

interface Entry extends SubIdRange {
  owner: string;
}

function entries(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [owner = '', start, count] = line.split(':');
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) out.push({ owner, start: s, count: c });
  }
  return out;
}

const overlaps = (a: SubIdRange, b: SubIdRange) => a.start < b.start + b.count && b.start < a.start + a.count;

/** One file: the user's ranges (by name or uid), their size and overlap with other users' ranges. */
export function checkSubIdFile(host: HostView, subject: DoctorSubject, kind: 'uid' | 'gid'): CheckResult {
  const file = `/etc/sub${kind}`;
  const name = `/etc/sub${kind}`;
  const user = subject.user!;
  const id = kind === 'uid' ? user.uid : user.gid;
  const label = user.name ?? String(user.uid);
  const usermod = `sudo usermod --add-sub${kind}s 100000-165535 ${label}`;
  const text = host.read(file);
  const mine = text === undefined ? [] : parseSubIds(text, user.name ?? String(user.uid), kind === 'uid' ? user.uid : id);
  if (!mine.length) {
    return result(name, rootlessSeverity(subject), `no subordinate ${kind} range for ${label}${text === undefined ? ` (${file} is missing)` : ''}: containers get a single-id mapping: files that images give to other ${kind}s become yours and switching to them (USER, su, setuid) fails`,
      `${usermod}  (pick a range no other user has)`);
  }
  const total = mine.reduce((n, r) => n + r.count, 0);
  const others = entries(text!).filter((e) => e.owner !== user.name && e.owner !== String(user.uid));
  const clash = others.filter((o) => mine.some((m) => overlaps(m, o)));
  const shown = mine.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ');
  if (clash.length) {
    const whom = [...new Set(clash.map((c) => c.owner))].join(', ');
    return result(name, rootlessSeverity(subject), `${label}'s ${kind} range ${shown} overlaps the range of ${whom}: their containers' files are each other's`,
      `edit ${file} so that no two users' ranges overlap (sudo usermod --del-sub${kind}s ${shown.split(', ')[0]} ${label}, then ${usermod} with a free range)`);
  }
  if (total < RECOMMENDED_IDS) {
    return result(name, 'WARN', `${label} has ${total} subordinate ${kind}s (${shown}); images with ${kind}s above ${total} cannot be unpacked (${RECOMMENDED_IDS} recommended)`,
      `${usermod}  (pick a range no other user has)`);
  }
  return result(name, 'PASS', `${label}: ${total} subordinate ${kind}s (${shown})`);
}

export const checkSubIds: Check = (host, subject) => {
  if (!subject.user) return ['/etc/subuid', '/etc/subgid'].map((n) => result(n, 'SKIP', 'concerns rootless users: run tsdock doctor as the user, or through sudo (checks $SUDO_USER)'));
  return [checkSubIdFile(host, subject, 'uid'), checkSubIdFile(host, subject, 'gid')];
};
