import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { pull, pulledNames } from '../../api/pull.js';
import { layerProgress } from '../render/progress.js';
import { boolFlag } from '../flag-values.js';

export function register(parent: Command, cli: CliContext, name = 'pull'): void {
  parent
    .command(name)
    .description('Download an image from a registry')
    .argument('<image>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable (os/arch[/variant])')
    .option('-q, --quiet', 'Suppress verbose output; print only the pulled manifest digest')
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates (default true)', boolFlag)
    .option('--cert-dir <dir>', 'Directory of CA certificates (certs.d layout: <host:port>/ca.crt)')
    .option('--creds <user:password>', 'Credentials for the registry')
    .option('--authfile <file>', 'Path of an auth file (docker config.json format)')
    .action(async (image: string, o: { platform?: string; quiet?: boolean; tlsVerify?: boolean; certDir?: string; creds?: string; authfile?: string }) => {
      const progress = o.quiet ? undefined : layerProgress(cli);
      if (!o.quiet && !/[:@][^/]*$/.test(image)) cli.out('Using default tag: latest');
      const ctx = cli.api();
      ctx.progress = progress?.onEvent;
      const result = await pull({ reference: image, platform: o.platform, tlsVerify: o.tlsVerify, certDir: o.certDir, creds: o.creds, authFile: o.authfile }, ctx);
      progress?.done();
      if (o.quiet) {
        cli.out(result.digest);
        return;
      }
      const { full, shown } = pulledNames(result);
      cli.out(`Digest: ${result.digest}`);
      cli.out(result.status === 'up-to-date' ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}`);
      cli.out(full);
    });
}
