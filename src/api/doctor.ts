import type { Context } from '../context.js';
import { doctorSubject, invokingIds, realHost, runChecks, type CheckResult } from '../doctor/index.js';

export type { CheckResult, CheckStatus } from '../doctor/index.js';

/** Every check of this host for the invoking user (and, as root, for $SUDO_USER's rootless use). */
export function doctor(ctx: Context): CheckResult[] {
  const host = realHost(ctx.env, ctx.root);
  const subject = doctorSubject(host, { rootful: ctx.rootful, ...invokingIds(), root: ctx.root, runRoot: ctx.runRoot, env: ctx.env });
  return runChecks(host, subject);
}

/** `info`'s short form: "ok", or the failing (then warning) checks' names. */
export function doctorSummary(results: CheckResult[]): { failures: string[]; warnings: string[] } {
  const names = (s: string) => [...new Set(results.filter((r) => r.status === s).map((r) => r.name))];
  return { failures: names('FAIL'), warnings: names('WARN') };
}
