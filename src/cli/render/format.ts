import { Template } from './template.js';
import { tabwrite } from './table.js';
import type { CliContext } from '../context.js';

export interface ListFormat {
  /** docker's default table, e.g. 'table {{.Repository}}\t{{.Tag}}' */
  table: string;
  /** column headers by field name, e.g. { ID: 'IMAGE ID' } */
  headers: Record<string, string>;
}

/**
 * Render rows the way docker's list commands do: a table (default or `table ...`), `json` (one object per
 * line), or a Go template applied to each row.
 */
export function renderList(cli: CliContext, rows: object[], format: string | undefined, spec: ListFormat): void {
  const f = format?.trim() || 'table';
  if (f === 'json') {
    for (const row of rows) cli.stdout.write(`${JSON.stringify(row)}\n`);
    return;
  }
  if (f === 'table' || f.startsWith('table ')) {
    const body = f === 'table' ? spec.table.slice('table '.length) : f.slice('table '.length);
    const tpl = new Template(unescapeTabs(body));
    const header = new Template(unescapeTabs(body).replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, name: string) => spec.headers[name] ?? splitCamel(name))).execute({});
    const lines = [header, ...rows.map((r) => tpl.execute(r))];
    cli.stdout.write(tabwrite(lines.map((l) => l.split('\t'))));
    return;
  }
  const tpl = new Template(unescapeTabs(f));
  for (const row of rows) cli.stdout.write(`${tpl.execute(row)}\n`);
}

/** docker inspect: an indented JSON array by default, or the template applied to each object. */
export function renderInspect(cli: CliContext, objects: object[], format: string | undefined): void {
  if (!format || format === 'json') {
    cli.stdout.write(`${JSON.stringify(objects, null, 4)}\n`);
    return;
  }
  const tpl = new Template(unescapeTabs(format));
  for (const o of objects) cli.stdout.write(`${tpl.execute(o)}\n`);
}

function unescapeTabs(s: string): string {
  return s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function splitCamel(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}
