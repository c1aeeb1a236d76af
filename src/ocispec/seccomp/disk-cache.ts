/**
 * Compiled seccomp programs kept on disk by digest, so a `run` or `exec` in a fresh process does not compile
 * docker's profile again (~8 ms here, each time). The key covers everything the program depends on: the profile's
 * JSON, the architecture, the host kernel, the capabilities, and the compiler itself (the size and mtime of the
 * file this code was loaded from: a rebuilt tsdock never reads an older build's program). The directory is the
 * caller's private runtime dir (`<runroot>/seccomp`, 0700): whoever could write there could weaken the filter, as
 * they could already do worse with the container state beside it. A missing, short or unreadable entry is compiled
 * again; a failed write only costs the next compile.
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
      const st = fs.statSync(fileURLToPath(import.meta.url));
      compilerId = `${st.size}-${st.mtimeMs}`;
    } catch {
      compilerId = '';
    }
  }
  return compilerId;
}

export function cacheKey(profile: SeccompProfile, opts: CompileOptions): string {
  const caps = typeof opts.capabilities === 'bigint' ? opts.capabilities.toString(16) : [...opts.capabilities].sort().join(',');
  const kernel = (opts.kernel ?? hostKernel()).join('.');
  return crypto.createHash('sha256').update(JSON.stringify(profile)).update(`\0${opts.arch}\0${kernel}\0${opts.enosysForNewer ?? true}\0${caps}\0${compiler()}`).digest('hex');
}

/** compileSeccomp through the disk cache in `dir` (none: compile) */
export function compileCached(profile: SeccompProfile, opts: CompileOptions, dir: string | undefined): Buffer {
  if (!dir || !compiler()) return compileSeccomp(profile, opts);
  const file = path.join(dir, `${cacheKey(profile, opts)}.bpf`);
  try {
    const prog = fs.readFileSync(file);
    if (prog.length >= 8 && prog.length % 8 === 0) return prog;
  } catch {
    // not cached yet
  }
  const prog = compileSeccomp(profile, opts);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, prog, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // not writable: compiled again next time
  }
  return prog;
}
