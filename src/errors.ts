/**
 * Shared error base. Every error tsdock raises on purpose is a TsdockError: its message is lowercase,
 * carries context, and `exitCode` follows docker (125 engine error, 126 cannot execute, 127 not found).
 */
export class TsdockError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 125;
  }

  /** already reported to the user: exit with the code but print nothing more */
  isSilent = false;
  silent(): this {
    this.isSilent = true;
    return this;
  }
}

/** Bad input from the user: a flag, an argument, a reference. */
export class UsageError extends TsdockError {}

/**
 * A reference that names no single object: its exit code is the kind's (1; 125 in run/create, src/cli/errors.ts),
 * whoever throws it.
 */
export class LookupError extends TsdockError {}

/** Something named does not exist (image, container, volume). */
export class NotFoundError extends LookupError {}

/** Content does not match its digest, or is otherwise malformed. */
export class IntegrityError extends TsdockError {}

/** A layer tar tried to write outside its directory, or is otherwise hostile. */
export class UnsafeArchiveError extends TsdockError {}

/**
 * Run `cleanup` after a failure without letting a cleanup failure hide the original error:
 * a cleanup error is attached to the original as `suppressed`.
 */
export async function withCleanup<T>(work: () => Promise<T>, cleanup: () => Promise<void> | void): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (err) {
    try {
      await cleanup();
    } catch (cleanupErr) {
      suppressInto(err)(cleanupErr);
    }
    throw err;
  }
  await cleanup();
  return result;
}

/**
 * The handler for a cleanup inside `catch (err)` where no api context is at hand (domain modules): the cleanup's
 * own failure is attached to `err` as `suppressed` (as withCleanup does), and the CLI's debug log shows it.
 */
export function suppressInto(original: unknown): (cleanupErr: unknown) => void {
  return (cleanupErr) => {
    if (original && typeof original === 'object' && (original as { suppressed?: unknown }).suppressed === undefined) (original as { suppressed?: unknown }).suppressed = cleanupErr;
  };
}

/**
 * The handler for a cleanup that runs after (or instead of) the real work and must not hide its error: the
 * cleanup's own failure goes to the debug log (`--log-level debug`: `DEBU: cleanup: <what>: <error>`), never
 * nowhere. `log` is an api Context (or anything with its `debug`).
 */
export function cleanupFailed(log: { debug?: (message: string) => void } | undefined, what: string): (err: unknown) => void {
  return (err) => log?.debug?.(`cleanup: ${what}: ${errorMessage(err)}`);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
