import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the priority-queue helpers' errors. */
export class PriorityQueueError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'PriorityQueueError';
  }
}

/** Thrown when a producer names a priority that is not one of the queue's levels. Nothing is sent. */
export class UnknownPriorityError extends PriorityQueueError {
  /** The priority given. */
  public readonly priority: string;
  /** The levels of the queue, highest first. */
  public readonly levels: readonly string[];

  constructor(priority: string, levels: readonly string[]) {
    super(`unknown priority '${priority}': the levels are ${levels.map((l) => `'${l}'`).join(', ')}`, {
      retryable: false,
      context: { priority, levels },
    });
    this.name = 'UnknownPriorityError';
    this.priority = priority;
    this.levels = levels;
  }
}

/** Thrown when the producer's or dispatcher's configuration, or one of their options, is missing or malformed. */
export class PriorityQueueConfigurationError extends PriorityQueueError {
  /** The option (or configuration field, or environment variable) at fault. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'PriorityQueueConfigurationError';
    this.option = option;
  }
}
