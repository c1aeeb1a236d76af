import fs from 'node:fs';
import os from 'node:os';

export interface SubIdRange {
  start: number;
  count: number;
}

/** Parse /etc/subuid or /etc/subgid content; entries name the user or its numeric id. */
export function parseSubIds(content: string, user: string, id: number): SubIdRange[] {
  const ranges: SubIdRange[] = [];
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    if (owner !== user && owner !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) ranges.push({ start: s, count: c });
  }
  return ranges;
}

export function readSubIds(file: '/etc/subuid' | '/etc/subgid' | string, id: number): SubIdRange[] {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  let user = String(id);
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry: match numeric ids only
  }
  return parseSubIds(content, user, id);
}
