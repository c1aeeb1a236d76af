import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { login } from '../../api/login.js';
import { boolFlag } from '../flag-values.js';
import { UsageError } from '../../errors.js';

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  authfile?: string;
  tlsVerify?: boolean;
  certDir?: string;
}

export function register(parent: Command, cli: CliContext): void {
  parent
    .command('login')
    .description('Log in to a registry')
    .argument('[server]', 'Registry host (default docker.io)')
    .option('-u, --username <username>', 'Username')
    .option('-p, --password <password>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .option('--authfile <file>', 'Path of the auth file to write (docker config.json format)')
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates (default true)', boolFlag)
    .option('--cert-dir <dir>', 'Directory of CA certificates (certs.d layout: <host:port>/ca.crt)')
    .action(async (server: string | undefined, o: LoginFlags) => {
      const ctx = cli.api();
      let password = o.password ?? '';
      if (o.passwordStdin) {
        if (o.password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
        if (!o.username) throw new UsageError('must provide --username with --password-stdin');
        password = (await readAll(ctx.stdin)).replace(/\r?\n$/, '');
      } else if (o.password !== undefined) {
        cli.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      }
      await login({ server, username: o.username ?? '', password, authFile: o.authfile, tlsVerify: o.tlsVerify, certDir: o.certDir }, ctx);
      cli.out('Login Succeeded');
    });
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}
