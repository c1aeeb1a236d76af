/**
 * Compiled seccomp programs kept on disk by key, so a `run` or `exec` in a fresh process does not compile
 * docker's profile again (~8 ms here, each time). The key covers everything the program depends on: the profile's
 * JSON, the architecture, the host kernel, the capabilities, and the compiler itself (the size and mtime of the
 * file this code was loaded from: a rebuilt tsdock never reads an older build's program). The directory is the
 * caller's private runtime dir (`<runroot>/seccomp`, 0700): whoever could write there could weaken the filter, as
 * they could already do worse with the container state beside it. A missing, short or unreadable entry is compiled
 * again; a failed write only costs the next compile. An entry is its key's full text, a newline, then the program:
 * the file name is the first 64 bits of the key's SHA-256 (OpenSSL's, ~30 µs for docker's profile, where a JavaScript
 * loop over its ~50 KB took ~1.3 ms in a fresh process), and a read uses the program only when the stored key equals
 * the wanted one, so a name collision costs a compile, never a wrong filter.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSeccomp, hostKernel, type CompileOptions } from './bpf.js';
import type { SeccompProfile } from './profile.js';

let compilerId: string | undefined;
function compiler(): string {
  if (compilerId === undefined) {
    try {
      // a verb's bundle (dist/bundle/verbs/) is built with the whole one: one id for all, so every verb shares the cache
      const self = fileURLToPath(import.meta.url);
      const st = fs.statSync(path.basename(path.dirname(self)) === 'verbs' ? path.join(path.dirname(self), '..', 'tsdock.cjs') : self);
      compilerId = `${st.size}-${st.mtimeMs}`;
    } catch {
      compilerId = '';
    }
  }
  return compilerId;
}

/** Everything the program depends on, as text (JSON has no raw newline; nor have the other fields). */
export function cacheKey(profile: SeccompProfile, opts: CompileOptions): string {
  const caps = typeof opts.capabilities === 'bigint' ? opts.capabilities.toString(16) : [...opts.capabilities].sort().join(',');
  const kernel = (opts.kernel ?? hostKernel()).join('.');
  return `${JSON.stringify(profile)}\0${opts.arch}\0${kernel}\0${opts.enosysForNewer ?? true}\0${caps}\0${compiler()}`;
}

/** The entry's file name: 64 bits of the key's SHA-256, in hex. */
export function cacheName(key: string | Buffer): string {
  return `${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}.bpf`;
}

/** compileSeccomp through the disk cache in `dir` (none: compile) */
export function compileCached(profile: SeccompProfile, opts: CompileOptions, dir: string | undefined): Buffer {
  if (!dir || !compiler()) return compileSeccomp(profile, opts);
  const key = Buffer.from(`${cacheKey(profile, opts)}\n`);
  const file = path.join(dir, cacheName(key));
  try {
    const entry = fs.readFileSync(file);
    const prog = entry.subarray(key.length);
    if (entry.length > key.length && key.equals(entry.subarray(0, key.length)) && prog.length % 8 === 0) return prog;
  } catch {
    // not cached yet
  }
  const prog = compileSeccomp(profile, opts);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([key, prog]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // not writable: compiled again next time
  }
  return prog;
}
