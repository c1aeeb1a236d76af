/**
 * Phase timings for `TSDOCK_TRACE=1`: each mark prints the time since the previous one (and since the process
 * started) on stderr, for the per-phase breakdown of a start. Free when the variable is unset.
 */
export interface Tracer {
  mark(phase: string): void;
}

const noop: Tracer = { mark() {} };

export function tracer(env: NodeJS.ProcessEnv, out: () => { write(s: string): unknown }): Tracer {
  if (!env.TSDOCK_TRACE) return noop;
  let last = performance.now();
  return {
    mark(phase: string) {
      const now = performance.now();
      out().write(`trace: ${phase.padEnd(24)} ${(now - last).toFixed(1).padStart(7)} ms  (at ${now.toFixed(1)} ms since start)\n`);
      last = now;
    },
  };
}
