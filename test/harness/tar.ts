// A deliberately naive tar writer for crafting layers that well-behaved tools refuse to produce
// (`../` entries, absolute hardlink targets, files below symlinks). Names are written VERBATIM.
// ustar headers; a PAX 'x' header is emitted only when a name or linkname does not fit in 100 bytes.

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

export interface TarEntry {
  name: string;
  type?: TarEntryType;
  /** Content for files. */
  data?: Buffer | string;
  /** Target for symlinks and hardlinks (written verbatim). */
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

const TYPEFLAG: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', dir: '5' };

function octal(buf: Buffer, off: number, len: number, value: number): void {
  // len-1 octal digits, NUL-terminated
  buf.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

function header(fields: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}): Buffer {
  const h = Buffer.alloc(512);
  h.write(fields.name, 0, 100, 'utf8');
  octal(h, 100, 8, fields.mode);
  octal(h, 108, 8, fields.uid);
  octal(h, 116, 8, fields.gid);
  octal(h, 124, 12, fields.size);
  octal(h, 136, 12, fields.mtime);
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  h.write(fields.typeflag, 156, 1, 'ascii');
  h.write(fields.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(fields.uid === 0 ? 'root' : '', 265, 32, 'ascii');
  h.write(fields.gid === 0 ? 'root' : '', 297, 32, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function pad(len: number): Buffer {
  const rem = len % 512;
  return Buffer.alloc(rem === 0 ? 0 : 512 - rem);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Serialize entries into an uncompressed tar stream (with the two terminating zero blocks). */
export function makeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = type === 'file' ? Buffer.from(e.data ?? '') : Buffer.alloc(0);
    const linkname = e.linkname ?? '';
    const mode = e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
    const mtime = e.mtime ?? 1700000000;
    const nameTooLong = Buffer.byteLength(e.name) > 100;
    const linkTooLong = Buffer.byteLength(linkname) > 100;
    if (nameTooLong || linkTooLong) {
      let pax = '';
      if (nameTooLong) pax += paxRecord('path', e.name);
      if (linkTooLong) pax += paxRecord('linkpath', linkname);
      const paxBuf = Buffer.from(pax, 'utf8');
      parts.push(
        header({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: paxBuf.length, mtime, typeflag: 'x', linkname: '' }),
        paxBuf,
        pad(paxBuf.length),
      );
    }
    parts.push(
      header({
        name: nameTooLong ? e.name.slice(0, 100) : e.name,
        mode,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        size: data.length,
        mtime,
        typeflag: TYPEFLAG[type],
        linkname: linkTooLong ? linkname.slice(0, 100) : linkname,
      }),
      data,
      pad(data.length),
    );
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
