import fs from 'node:fs';

const NEWLINE = Buffer.from('\n');

/** RFC 3339 in UTC with nanoseconds, as the executor's monitor-log.c writes it (sub-millisecond digits from hrtime) */
function timestamp(): string {
  const iso = new Date().toISOString(); // 2006-01-02T15:04:05.000Z
  const sub = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return `${iso.slice(0, -1)}${sub}Z`;
}

/**
 * A container's k8s-file log written from TypeScript: the output of a foreground `run -t`, which the CLI copies from
 * the pty master (a relayed run is logged by the executor, a detached one by its monitor). The same records and
 * rotation rule as native/monitor-log.c: one timestamp per chunk, a full line is an `F` record, a trailing part a
 * `P` record; past `maxSize` bytes (0: never) the log moves to `<path>.1` and a new one starts, never splitting a
 * record. Writes are synchronous and appended: the records are on disk when the run reports its exit.
 */
export class K8sFileLog {
  private fd: number;
  private size: number;

  constructor(private readonly file: string, private readonly maxSize: number) {
    this.fd = fs.openSync(file, 'a', 0o640);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** the chunk's records, written in one write (as monitor-log.c batches them), split only where the log rotates */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const ts = timestamp();
    const full = Buffer.from(`${ts} ${stream} F `);
    const partial = Buffer.from(`${ts} ${stream} P `);
    let batch: Buffer[] = [];
    let pending = 0;
    for (let start = 0; start < chunk.length;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      const record = nl < 0 ? [partial, chunk.subarray(start, end), NEWLINE] : [full, chunk.subarray(start, end)];
      const len = record.reduce((n, b) => n + b.length, 0);
      if (this.maxSize && this.size + pending > 0 && this.size + pending + len > this.maxSize) {
        this.flush(batch, pending);
        batch = [];
        pending = 0;
        this.rotate();
      }
      batch.push(...record);
      pending += len;
      start = end;
    }
    this.flush(batch, pending);
  }

  private flush(batch: Buffer[], len: number): void {
    if (!len) return;
    fs.writeSync(this.fd, Buffer.concat(batch, len));
    this.size += len;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, 'w', 0o640);
    this.size = 0;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
