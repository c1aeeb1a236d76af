import type { ProgressEvent } from '../../context.js';
import type { CliContext } from '../context.js';
import { layerProgress } from './progress.js';

/**
 * build's plain output, as podman prints it (on stdout, between the RUN commands' own output): `STEP 2/7: RUN ...`
 * (`[1/2] ` before it in a multi-stage build), `--> Using cache <id>` then `--> <short id>` per step; a pull's
 * lines as pull prints them. Nothing with -q / --progress=quiet.
 */
export function buildProgress(cli: CliContext, mode: 'plain' | 'quiet'): (e: ProgressEvent) => void {
  if (mode === 'quiet') return () => {};
  const pull = layerProgress(cli, 'stdout');
  const hex = (id: string) => id.replace(/^sha256:/, '');
  const prefix = (e: { stage: number; stages: number }) => (e.stages > 1 ? `[${e.stage}/${e.stages}] ` : '');
  return (e) => {
    if (e.kind === 'build-step') cli.out(`${prefix(e)}STEP ${e.step}/${e.total}: ${e.text}`);
    else if (e.kind === 'build-result') {
      if (e.cached) cli.out(`${prefix(e)}--> Using cache ${hex(e.id)}`);
      cli.out(`${prefix(e)}--> ${hex(e.id).slice(0, 12)}`);
    } else pull.onEvent(e);
  };
}
