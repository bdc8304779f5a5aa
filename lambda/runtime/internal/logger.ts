/**
 * How every run-time helper logs: structured lines through a Powertools `Logger`. A helper takes a
 * `logger` option (the user's own Powertools `Logger`, or anything with the same methods, such as
 * `console`), uses one shared default Logger when none is given, and logs nothing when given `null`.
 * Messages are plain strings and fields are objects, never pre-serialised JSON (a Logger would
 * encode it a second time).
 */
import { Logger } from '@aws-lambda-powertools/logger';

/** Fields of one log line. */
export type LogFields = Record<string, unknown>;

/** The logger shape every helper accepts: a Powertools `Logger` fits, and so does `console`. */
export interface RuntimeLogger {
  warn(message: string, ...extra: LogFields[]): void;
  info?(message: string, ...extra: LogFields[]): void;
  error?(message: string, ...extra: LogFields[]): void;
  debug?(message: string, ...extra: LogFields[]): void;
}

let shared: Logger | undefined;

/** The Logger used when a helper is given none: one per process, service `POWERTOOLS_SERVICE_NAME` or `cdk-messaging-patterns`. */
export function defaultLogger(): Logger {
  shared ??= new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cdk-messaging-patterns' });
  return shared;
}

/**
 * A Powertools Logger for one of the kit's handlers: service `POWERTOOLS_SERVICE_NAME` when set
 * (so an app can name its functions' logs), else `serviceName`.
 */
export function handlerLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || serviceName });
}

/** The logger a helper uses: the given one, the shared Powertools Logger when none is given, none at all for `null`. */
export function resolveLogger(logger: RuntimeLogger | null | undefined): RuntimeLogger | null {
  return logger === undefined ? defaultLogger() : logger;
}

/** The fields of an error for a log line: name, message, and the library's `retryable` and `context`. */
export function errorFields(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  const { retryable, context } = error as { retryable?: unknown; context?: unknown };
  return {
    errorName: error.name,
    errorMessage: error.message,
    ...(typeof retryable === 'boolean' ? { retryable } : {}),
    ...(context && typeof context === 'object' ? { errorContext: context } : {}),
  };
}
