import type { CliContext } from '../context.js';

/** docker's prune prompt: only "y" or "Y" confirms; end of input is a no. */
export async function confirm(cli: CliContext, warning: string): Promise<boolean> {
  cli.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = await readLine(process.stdin);
  return answer.trim() === 'y' || answer.trim() === 'Y';
}

function readLine(input: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const finish = (line: string) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      input.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = () => finish(buf);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onEnd);
    input.resume();
  });
}
