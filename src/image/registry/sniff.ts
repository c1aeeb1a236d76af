/**
 * Whether a port speaks TLS, asked without TLS: a registry reachable over plain http too (loopback, `insecure`) is
 * probed with https first, and a TLS attempt costs ~20 ms before the first byte (node:tls and OpenSSL 3 load and
 * initialise) only to fail against an http server. Here a fixed ClientHello goes over a plain socket: a TLS
 * server answers with a handshake or alert record (0x16, 0x15), an http server with `HTTP/`. Only that answer
 * skips https; anything else (silence, a close, other bytes) is no answer and the https attempt goes ahead as before,
 * so a TLS server is never taken for http.
 */
import net from 'node:net';

export type Spoken = 'http' | 'tls' | 'unknown';

/** A TLS 1.2 ClientHello with a zero random, no session and no extensions: enough for any TLS server to answer. */
const CLIENT_HELLO = (() => {
  const suites = [0xc02f, 0xc02b, 0xc030, 0xc02c, 0x009c, 0x009d, 0x002f, 0x0035];
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // client_version TLS 1.2
    Buffer.alloc(32), // random
    Buffer.from([0x00]), // session id
    Buffer.from([0x00, suites.length * 2]),
    Buffer.from(suites.flatMap((s) => [s >> 8, s & 0xff])),
    Buffer.from([0x01, 0x00]), // compression: null
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0x00, body.length >> 8, body.length & 0xff]), body]);
  // then CRLF CRLF: an http server reads a request line up to a line end before it answers (400); a TLS server has
  // answered the record before it gets to these bytes
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff]), handshake, Buffer.from('\r\n\r\n')]);
})();

/** `host:port` (or `[v6]:port`; port 443 when none) asked as above, giving up after `timeoutMs`. */
export function sniffTls(hostPort: string, timeoutMs = 1000, signal?: AbortSignal): Promise<Spoken> {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort) ?? /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!m) return Promise.resolve('unknown');
  const host = m[1]!;
  const port = Number(m[2] ?? 443);
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const socket = net.connect({ host, port });
    const done = (answer: Spoken): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(answer);
    };
    const onAbort = (): void => done('unknown');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => socket.write(CLIENT_HELLO));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got[0] === 0x16 || got[0] === 0x15) done('tls');
      else if (got.length >= 5) done(got.subarray(0, 5).toString('latin1') === 'HTTP/' ? 'http' : 'unknown');
    });
    socket.once('end', () => done('unknown'));
    socket.once('error', () => done('unknown'));
  });
}
