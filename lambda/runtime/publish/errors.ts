/**
 * The publishers' errors. A publisher reports what AWS refused entry by entry in its result and
 * throws only when it cannot start (a bad option, bad entries) or when asked to
 * (`throwOnFailure`, `assertAllPublished`).
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';
import type { FailedEntry, PublishResult } from './result';

/** Base of the publishers' errors. */
export class PublishError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** Thrown when a publisher is constructed with an invalid option (the option and the value are in the message). */
export class PublishConfigurationError extends PublishError {
  /** The option at fault, e.g. `maxAttempts`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions = {}) {
    super(`${option} ${message}`, { ...options, context: { option, ...options.context } });
    this.name = 'PublishConfigurationError';
    this.option = option;
  }
}

/** Thrown by `publish` before anything is sent when the entries are unusable: not an array, an entry without an id, two entries with one id. */
export class PublishInputError extends PublishError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'PublishInputError';
  }
}

/**
 * Thrown by `assertAllPublished` (and `publish` with `throwOnFailure`) when some entries were
 * not published; the whole result is attached. `retryable` when every failure may succeed later
 * (throttled, held back), false when one was refused for good (validation, too large).
 */
export class PublishFailedError<P = unknown> extends PublishError {
  /** The ids of the entries not published, in input order. */
  public readonly failedIds: readonly string[];
  /** The entries not published, with their reasons. */
  public readonly failed: readonly FailedEntry[];
  /** The whole result: what was published too. */
  public readonly result: PublishResult<P>;

  constructor(result: PublishResult<P>) {
    const ids = result.failed.map((f) => f.id);
    const shown = ids.slice(0, 10).join(', ') + (ids.length > 10 ? `, ... (${ids.length - 10} more)` : '');
    super(`${ids.length} of ${ids.length + result.published.length} entries were not published: ${shown}`, {
      retryable: result.failed.every((f) => f.retryable),
      context: { failedIds: ids, publishedCount: result.published.length },
    });
    this.name = 'PublishFailedError';
    this.failedIds = ids;
    this.failed = result.failed;
    this.result = result;
  }
}
