import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { openInputFile } from '../../api/import.js';
import { familiarTag, loadImages } from '../../api/load.js';
import { TsdockError } from '../../errors.js';

export function register(parent: Command, cli: CliContext, name = 'load'): void {
  parent
    .command(name)
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output (the loaded names are still printed)')
    .action(async (o: { input?: string }) => {
      const ctx = cli.api();
      if (!o.input && (!ctx.stdin || ctx.stdin.isTTY)) throw new TsdockError('requested load from stdin, but stdin is empty');
      const input = o.input ? openInputFile(o.input) : ctx.stdin!;
      const loaded = await loadImages({ input, source: o.input ?? 'stdin' }, ctx);
      for (const img of loaded) {
        if (img.tags.length === 0) cli.out(`Loaded image ID: ${img.id}`);
        for (const t of img.tags) cli.out(`Loaded image: ${familiarTag(t)}`);
      }
    });
}
