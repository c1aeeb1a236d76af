/**
 * Helper programs (nft, ip) run through execa, loaded only on the paths that need them. A missing helper is an
 * error that says what to install; a failing one carries its own stderr.
 */
import { TsdockError } from '../errors.js';

export async function runHelper(file: string, args: string[], input: string | undefined, what: string): Promise<string> {
  const { execa } = await import('execa');
  const r = await execa(file, args, { input, reject: false, stripFinalNewline: true, env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` }, extendEnv: true });
  if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { originalMessage?: string }).originalMessage ?? ''))) {
    throw new TsdockError(`${file} is not installed: needed to ${what}`);
  }
  if (r.exitCode !== 0) throw new TsdockError(`${file} ${args.join(' ')}: ${String(r.stderr || r.stdout || r.shortMessage).trim().split('\n')[0]!.slice(0, 300)} (to ${what})`);
  return String(r.stdout);
}
