import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fake cgroup tree: plain directories and files standing in for cgroupfs (unit tests only). */
export function fakeTree(files: Record<string, string>): { dir: string; read: (p: string) => string; write: (p: string, v: string) => void; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-fakecg-'));
  const write = (p: string, v: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), v);
  };
  for (const [p, v] of Object.entries(files)) write(p, v);
  return { dir, read: (p) => fs.readFileSync(path.join(dir, p), 'utf8'), write, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
