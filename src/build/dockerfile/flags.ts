/**
 * An instruction's `--flags` (buildkit's BFlags): each instruction declares the flags it takes; anything else is
 * an error, as is a repeated single-valued flag, a string flag without `=value`, or a boolean that is not
 * true/false.
 */

export type FlagKind = 'bool' | 'string' | 'strings';

export class Flags {
  private readonly strings = new Map<string, string>();
  private readonly lists = new Map<string, string[]>();
  private readonly bools = new Map<string, boolean>();

  constructor(args: readonly string[], spec: Readonly<Record<string, FlagKind>>) {
    const used = new Set<string>();
    for (const a of args) {
      if (a === '--') break;
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flagName = eq < 0 ? a : a.slice(0, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      const name = flagName.slice(2);
      const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
      if (kind === undefined) throw new Error(`unknown flag: ${flagName}`);
      if (used.has(name) && kind !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      used.add(name);
      if (kind === 'bool') {
        if (value === '') throw new Error(`missing a value on flag: ${flagName}`);
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
        this.bools.set(name, v === 'true');
        continue;
      }
      if (value === undefined) throw new Error(`missing a value on flag: ${flagName}`);
      if (kind === 'string') this.strings.set(name, value);
      else this.lists.set(name, [...(this.lists.get(name) ?? []), value]);
    }
  }

  string(name: string): string | undefined {
    return this.strings.get(name);
  }

  /** A string flag, undefined when absent or given empty (docker treats both as unset). */
  nonEmpty(name: string): string | undefined {
    const v = this.strings.get(name);
    return v === '' ? undefined : v;
  }

  list(name: string): string[] {
    return this.lists.get(name) ?? [];
  }

  /** A boolean flag: undefined when not given. */
  bool(name: string): boolean | undefined {
    return this.bools.get(name);
  }
}
