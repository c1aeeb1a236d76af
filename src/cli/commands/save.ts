import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { saveImages, type ArchiveFormat } from '../../api/save.js';
import { writeOutput } from '../io/output-file.js';

export function register(parent: Command, cli: CliContext, name = 'save'): void {
  parent
    .command(name)
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>', 'IMAGE [IMAGE...]')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .addOption(new Option('--format <format>', 'Archive format: docker-archive (with an OCI layout inside) or oci-archive').choices(['docker-archive', 'oci-archive']).default('docker-archive'))
    .action(async (images: string[], o: { output?: string; format: ArchiveFormat }) => {
      const ctx = cli.api();
      await writeOutput(cli, o.output, (out) => saveImages({ images, format: o.format, out }, ctx));
    });
}
