/**
 * The base of every error the run-time library throws. Each feature has one root that extends it
 * (`BatchError`, `IdempotencyError`, ...), and each root's subclasses say when they are thrown.
 * Re-exported by every `runtime/<feature>` subpath, so `instanceof MessagingPatternsRuntimeError`
 * catches any of them whichever subpath threw.
 */

/** Options of {@link MessagingPatternsRuntimeError} and every error that extends it. */
export interface RuntimeErrorOptions {
  /** The error that caused this one. */
  readonly cause?: unknown;
  /**
   * Whether trying the same operation again may succeed (a throttle, a timeout, a lost race), as
   * opposed to an error that repeats until something is fixed (a bad option, a malformed message).
   *
   * @default false
   */
  readonly retryable?: boolean;
  /** Fields that identify what failed (message id, key, queue...), logged with the error. */
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * Base of the run-time library's errors: a `name` of its own (kept under minification), the
 * `cause`, whether a retry may help (`retryable`) and `context` fields for the log.
 */
export class MessagingPatternsRuntimeError extends Error {
  /** Whether trying again may succeed. */
  public readonly retryable: boolean;
  /** Fields that identify what failed. */
  public readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MessagingPatternsRuntimeError';
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }

  /** True for any error of the run-time library, from whichever copy of it (`instanceof` across bundles fails). */
  public static isMessagingPatternsRuntimeError(error: unknown): error is MessagingPatternsRuntimeError {
    return (
      error instanceof MessagingPatternsRuntimeError ||
      (error instanceof Error && typeof (error as { retryable?: unknown }).retryable === 'boolean' && 'context' in error)
    );
  }
}

/** Whether `error` says a retry may help: `retryable` of a library error, else false. */
export function isRetryable(error: unknown): boolean {
  return MessagingPatternsRuntimeError.isMessagingPatternsRuntimeError(error) && error.retryable;
}
