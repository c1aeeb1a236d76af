/**
 * Go's text/tabwriter as docker configures it (minwidth 10, padding 3, padchar ' '):
 * every cell but the last of a row is padded to its column's width.
 */
export function tabwrite(rows: string[][], opts: { minWidth?: number; padding?: number } = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(minWidth, width(cell) + padding));
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell + ' '.repeat(widths[i]! - width(cell)) : cell)).join(''))
    .map((line) => `${line}\n`)
    .join('');
}

function width(s: string): number {
  return [...s].length;
}
