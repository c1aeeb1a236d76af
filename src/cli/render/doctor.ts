import type { CheckResult, CheckStatus } from '../../api/doctor.js';

type Paint = (status: CheckStatus, text: string) => string;

/** chalk, loaded only when colour is on (a TTY, no NO_COLOR, not TERM=dumb) */
export async function painter(color: boolean): Promise<Paint> {
  if (!color) return (_, text) => text;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  const by: Record<CheckStatus, (s: string) => string> = { PASS: c.green, WARN: c.yellow, FAIL: c.red.bold, SKIP: c.dim };
  return (status, text) => by[status](text);
}

/** one block per check: status, name and what it means; the fix below it */
export function renderChecks(results: CheckResult[], paint: Paint): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${paint(r.status, r.status.padEnd(4))}  ${r.name.padEnd(width)}  ${r.message}`);
    if (r.fix && r.status !== 'PASS') lines.push(`${' '.repeat(width + 8)}fix: ${r.fix}`);
  }
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const fails = count('FAIL');
  const warns = count('WARN');
  lines.push('', fails ? paint('FAIL', `${fails} failed, ${warns} warning${warns === 1 ? '' : 's'}`) : paint(warns ? 'WARN' : 'PASS', `no failures${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}`));
  return lines.join('\n');
}
