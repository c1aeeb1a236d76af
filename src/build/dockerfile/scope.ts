/**
 * Build-arg scoping, as docker's builder does it. Global scope: the ARGs before the first FROM (their defaults
 * expanded in order), overridden by `--build-arg`, plus the automatic platform args; only FROM lines see it.
 * A stage sees an ARG only after its `ARG` line (a bare `ARG NAME` takes the global value, the platform arg's,
 * or the `--build-arg`); `--build-arg` values override defaults only of declared ARGs; ENV (the base image's
 * and the stage's) shadows ARG; the proxy args are visible without declaration when given.
 */
import { expand, type VarLookup } from './expand.js';
import type { ArgDecl } from './types.js';

/** Automatic platform args, as the caller resolved them (`linux/amd64`, `linux`, `amd64`, ``). */
export const PLATFORM_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'] as const;
export type PlatformArgs = Partial<Record<(typeof PLATFORM_ARGS)[number], string>>;

/** Usable in RUN without an ARG line (docker leaves them out of the image's history unless declared). */
export const PROXY_ARGS: ReadonlySet<string> = new Set(['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((n) => [n, n.toLowerCase()]));

export interface ArgInput {
  /** `--build-arg NAME=VALUE` */
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly platform?: PlatformArgs;
}

const own = (rec: Readonly<Record<string, string>> | undefined, k: string): string | undefined => (rec && Object.prototype.hasOwnProperty.call(rec, k) ? rec[k] : undefined);

/** Global values by name (undefined: declared without one). */
export type ArgValues = ReadonlyMap<string, string | undefined>;

/** The global scope: the platform args, then each global ARG with its build-arg or default (expanded in order). */
export function globalArgs(decls: readonly ArgDecl[], input: ArgInput): ArgValues {
  const scope = new Map<string, string | undefined>();
  for (const name of PLATFORM_ARGS) {
    const v = input.platform?.[name];
    if (v !== undefined) scope.set(name, v);
  }
  for (const d of decls) {
    let value = own(input.buildArgs, d.name);
    if (value === undefined && d.default !== undefined) value = expand(d.default, (n) => scope.get(n)).value;
    scope.set(d.name, value);
  }
  return scope;
}

/** One stage's variables while its instructions are dispatched in order. */
export class StageScope {
  private readonly env = new Map<string, string>();
  private readonly args = new Map<string, string | undefined>();

  /** `baseEnv`: the base image's Env (`KEY=VALUE`). */
  constructor(
    private readonly globals: ArgValues,
    private readonly input: ArgInput,
    baseEnv: readonly string[] = [],
  ) {
    for (const kv of baseEnv) {
      const eq = kv.indexOf('=');
      if (eq > 0) this.env.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
  }

  /** ENV first, then the ARGs declared so far, then the proxy args given as build args. */
  readonly lookup: VarLookup = (name) => {
    if (this.env.has(name)) return this.env.get(name);
    if (this.args.has(name)) return this.args.get(name);
    return PROXY_ARGS.has(name) ? own(this.input.buildArgs, name) : undefined;
  };

  /** An `ARG` line: the build arg, else the default (expanded now), else the global or platform value. */
  declare(decl: ArgDecl): string | undefined {
    let value = own(this.input.buildArgs, decl.name);
    if (value === undefined && decl.default !== undefined) value = expand(decl.default, this.lookup).value;
    if (value === undefined) value = this.globals.get(decl.name);
    this.args.set(decl.name, value);
    return value;
  }

  setEnv(key: string, value: string): void {
    this.env.set(key, value);
  }

  /** The ARGs declared so far that have a value (what RUN sees in its environment besides ENV). */
  declaredArgs(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of this.args) if (v !== undefined) out.set(k, v);
    return out;
  }
}
