import fs from 'node:fs';

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

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const ts = timestamp();
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      const head = Buffer.from(`${ts} ${stream} ${nl < 0 ? 'P' : 'F'} `);
      const body = chunk.subarray(start, end);
      const record = nl < 0 ? Buffer.concat([head, body, Buffer.from('\n')]) : Buffer.concat([head, body]);
      this.append(record);
      start = end;
    }
  }

  private append(record: Buffer): void {
    if (this.maxSize && this.size > 0 && this.size + record.length > this.maxSize) {
      fs.closeSync(this.fd);
      fs.renameSync(this.file, `${this.file}.1`);
      this.fd = fs.openSync(this.file, 'w', 0o640);
      this.size = 0;
    }
    fs.writeSync(this.fd, record);
    this.size += record.length;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
