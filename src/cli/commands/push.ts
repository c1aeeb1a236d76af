import fs from 'node:fs';
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parsePushFormat, push, pushedName, pushedReference } from '../../api/push.js';
import { layerProgress } from '../render/progress.js';
import { boolFlag } from '../flag-values.js';

interface PushFlags {
  format?: string;
  digestfile?: string;
  quiet?: boolean;
  tlsVerify?: boolean;
  certDir?: string;
  creds?: string;
  authfile?: string;
}

export function register(parent: Command, cli: CliContext, name = 'push'): void {
  parent
    .command(name)
    .description('Upload an image to a registry')
    .argument('<image>', 'NAME[:TAG] or IMAGE ID of a local image')
    .argument('[destination]', 'REGISTRY/REPOSITORY[:TAG|@DIGEST] to push to (default: the image name)')
    .option('-f, --format <format>', 'Manifest format to push: oci or v2s2 (default: as stored)')
    .option('--digestfile <file>', 'Write the pushed manifest digest to this file')
    .option('-q, --quiet', 'Suppress verbose output; print only the pushed reference')
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates (default true)', boolFlag)
    .option('--cert-dir <dir>', 'Directory of CA certificates (certs.d layout: <host:port>/ca.crt)')
    .option('--creds <user:password>', 'Credentials for the registry')
    .option('--authfile <file>', 'Path of an auth file (docker config.json format)')
    .action(async (image: string, dest: string | undefined, o: PushFlags) => {
      const format = o.format !== undefined ? parsePushFormat(o.format) : undefined;
      const progress = o.quiet ? undefined : layerProgress(cli);
      const ctx = cli.api();
      ctx.progress = progress?.onEvent;
      const result = await push({ image, destination: dest, format, tlsVerify: o.tlsVerify, certDir: o.certDir, creds: o.creds, authFile: o.authfile }, ctx);
      progress?.done();
      if (o.digestfile) fs.writeFileSync(o.digestfile, result.digest);
      cli.out(o.quiet ? pushedReference(result) : `${pushedName(result)}: digest: ${result.digest} size: ${result.size}`);
    });
}
