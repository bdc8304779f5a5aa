import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the delay-queue helpers' errors. */
export class DelayQueueError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'DelayQueueError';
  }
}

/** Thrown when `at`/`delaySeconds` are missing, both given, malformed or beyond a year. Nothing is sent. */
export class InvalidDelayError extends DelayQueueError {
  constructor(message: string, options: { readonly option?: string; readonly value?: unknown } = {}) {
    super(message, { retryable: false, context: { option: options.option, value: options.value } });
    this.name = 'InvalidDelayError';
  }
}

/**
 * Thrown when an id is scheduled again with a different body: the first message stays scheduled,
 * the second is not. Use a new id for a different message.
 */
export class ScheduleConflictError extends DelayQueueError {
  /** The caller's id. */
  public readonly id: string;
  /** The schedule holding the first message. */
  public readonly scheduleName: string;

  constructor(id: string, scheduleName: string) {
    super(`id '${id}' is already scheduled (schedule ${scheduleName}) with a different message body`, {
      retryable: false,
      context: { id, scheduleName },
    });
    this.name = 'ScheduleConflictError';
    this.id = id;
    this.scheduleName = scheduleName;
  }
}

/** Thrown when the producer's configuration or one of its options is missing or malformed. Nothing is sent. */
export class DelayQueueConfigurationError extends DelayQueueError {
  /** The option (or configuration field, or environment variable) at fault. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'DelayQueueConfigurationError';
    this.option = option;
  }
}
