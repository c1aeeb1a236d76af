/**
 * The typed Dockerfile: one discriminated union member per instruction (`inst.kind`), as the parser returns them.
 * Words are kept as written (quotes, escapes and `$VAR` references intact) wherever docker expands them later
 * (ADD COPY ENV EXPOSE LABEL STOPSIGNAL USER VOLUME WORKDIR ARG, FROM's image and platform, RUN --mount values):
 * `expand-instruction.ts` gives the values a builder uses. Command lines (RUN CMD ENTRYPOINT SHELL HEALTHCHECK)
 * are never expanded by the builder: the shell does that when they run.
 */

/** 1-based lines of the instruction in the Dockerfile, first to last (continuations and heredoc bodies included). */
export interface Located {
  readonly startLine: number;
  readonly endLine: number;
}

/** Exec form (`["a", "b"]`, run as is) or shell form (the text, run by the stage's SHELL). */
export type CommandLine = { readonly form: 'exec'; readonly args: readonly string[] } | { readonly form: 'shell'; readonly command: string };

/** A here-document: `<<EOF` (expanded), `<<"EOF"`/`<<'EOF'` (not), `<<-EOF` (leading tabs removed). */
export interface Heredoc {
  readonly name: string;
  /** the body, line endings kept, leading tabs already removed when `chomp` */
  readonly content: string;
  /** unquoted delimiter: variables in the content are expanded (by the shell for RUN, the builder for ADD/COPY) */
  readonly expand: boolean;
  readonly chomp: boolean;
  /** the file descriptor written before `<<` (`3<<EOF`), 0 when none */
  readonly fd: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface ArgDecl {
  readonly name: string;
  /** the default as written; undefined for `ARG NAME` */
  readonly default?: string;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type MountSharing = 'shared' | 'private' | 'locked';

/** `RUN --mount=...`, buildkit's fields and defaults (`readonly` is true for bind, secret and ssh unless told). */
export interface RunMount {
  /** the flag's value as written, for expanding its fields later (`parseMount` again with an expander) */
  readonly spec: string;
  readonly type: MountType;
  readonly target?: string;
  readonly source?: string;
  readonly from?: string;
  readonly id?: string;
  readonly sharing?: MountSharing;
  readonly readonly: boolean;
  readonly required: boolean;
  /** tmpfs size in bytes */
  readonly size?: number;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** secret: the environment variable to expose it as */
  readonly env?: string;
}

/** Heredoc sources of ADD/COPY (`COPY <<EOF /dest`). */
export interface InlineSource {
  readonly name: string;
  readonly content: string;
  readonly expand: boolean;
}

export interface FromInstruction extends Located {
  readonly kind: 'from';
  readonly image: string;
  /** lowercased (stage names are case-insensitive) */
  readonly stageName?: string;
  readonly platform?: string;
}

export interface RunInstruction extends Located {
  readonly kind: 'run';
  readonly command: CommandLine;
  readonly heredocs: readonly Heredoc[];
  readonly mounts: readonly RunMount[];
  readonly network?: 'default' | 'none' | 'host';
  readonly security?: 'sandbox' | 'insecure';
}

export interface CmdInstruction extends Located {
  readonly kind: 'cmd';
  readonly command: CommandLine;
}

export interface EntrypointInstruction extends Located {
  readonly kind: 'entrypoint';
  readonly command: CommandLine;
}

export interface ShellInstruction extends Located {
  readonly kind: 'shell';
  readonly shell: readonly string[];
}

export interface EnvInstruction extends Located {
  readonly kind: 'env';
  readonly pairs: readonly KeyValue[];
}

export interface LabelInstruction extends Located {
  readonly kind: 'label';
  readonly pairs: readonly KeyValue[];
}

export interface MaintainerInstruction extends Located {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

export interface ExposeInstruction extends Located {
  readonly kind: 'expose';
  /** sorted as docker sorts them, before expansion */
  readonly ports: readonly string[];
}

interface Transfer extends Located {
  readonly sources: readonly string[];
  readonly inline: readonly InlineSource[];
  readonly dest: string;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly exclude: readonly string[];
}

export interface AddInstruction extends Transfer {
  readonly kind: 'add';
  readonly keepGitDir?: boolean;
  readonly checksum?: string;
  readonly unpack?: boolean;
}

export interface CopyInstruction extends Transfer {
  readonly kind: 'copy';
  /** a stage name or index, or an image */
  readonly from?: string;
  readonly parents: boolean;
}

export interface VolumeInstruction extends Located {
  readonly kind: 'volume';
  readonly paths: readonly string[];
}

export interface UserInstruction extends Located {
  readonly kind: 'user';
  readonly user: string;
}

export interface WorkdirInstruction extends Located {
  readonly kind: 'workdir';
  readonly path: string;
}

export interface ArgInstruction extends Located {
  readonly kind: 'arg';
  readonly args: readonly ArgDecl[];
}

export interface OnbuildInstruction extends Located {
  readonly kind: 'onbuild';
  /** the trigger, parsed (and checked) now */
  readonly trigger: Instruction;
  /** the trigger's text as docker stores it in the image config's OnBuild (heredoc bodies appended) */
  readonly expression: string;
}

export interface StopsignalInstruction extends Located {
  readonly kind: 'stopsignal';
  readonly signal: string;
}

/** Durations in nanoseconds, 0 when not given (the image default applies), as the image config's Healthcheck. */
export type Healthcheck =
  | { readonly type: 'none' }
  | {
      readonly type: 'cmd';
      /** `["CMD", ...args]` (exec form) or `["CMD-SHELL", command]` */
      readonly test: readonly string[];
      readonly interval: number;
      readonly timeout: number;
      readonly startPeriod: number;
      readonly startInterval: number;
      readonly retries: number;
    };

export interface HealthcheckInstruction extends Located {
  readonly kind: 'healthcheck';
  readonly health: Healthcheck;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | AddInstruction
  | CopyInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction;

export type InstructionKind = Instruction['kind'];

/** What the parser found at the top of the file (`# syntax=` and `# check=` are kept, not acted on). */
export interface Directives {
  readonly escape: '\\' | '`';
  readonly syntax?: string;
  readonly check?: string;
}

export interface Dockerfile {
  readonly directives: Directives;
  readonly instructions: readonly Instruction[];
  /** docker's warnings (empty continuation lines), with their line */
  readonly warnings: readonly { readonly line: number; readonly message: string }[];
}
