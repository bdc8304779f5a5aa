import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the dead-letter-queue operations' errors. */
export class DeadLetterQueueError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'DeadLetterQueueError';
  }
}

/**
 * Thrown when an operation or the failure-reason store is given a missing or malformed option (a
 * redrive rate out of range, no bucket, a queue ARN that is not one). Nothing is done.
 */
export class DeadLetterQueueConfigurationError extends DeadLetterQueueError {
  /** The option (or environment variable) at fault, e.g. `maxMessagesPerSecond`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'DeadLetterQueueConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown when an operation meant for a dead-letter queue (redrive, purge) is given a queue that is
 * no queue's dead-letter queue: SQS refuses to redrive it, and purging it is most likely a mistake.
 */
export class NotADeadLetterQueueError extends DeadLetterQueueError {
  /** The queue given. */
  public readonly queue: string;

  constructor(queue: string, options: { cause?: unknown } = {}) {
    super(`${queue} is not the dead-letter queue of any queue (no queue names it in its redrive policy)`, {
      cause: options.cause,
      retryable: false,
      context: { queue },
    });
    this.name = 'NotADeadLetterQueueError';
    this.queue = queue;
  }
}

/**
 * Thrown when a redrive (message move task) ends in status FAILED. Not retryable as it is: the
 * reason (access to the queues or their keys) must be fixed first.
 */
export class RedriveFailedError extends DeadLetterQueueError {
  /** The dead-letter queue. */
  public readonly sourceArn: string;
  /** The reason SQS gives (for example `AccessDenied`, `KMS.AccessDeniedException`). */
  public readonly failureReason: string;
  /** Messages moved before the task failed. */
  public readonly moved: number;

  constructor(sourceArn: string, failureReason: string, moved: number) {
    super(`the redrive of ${sourceArn} failed after ${moved} messages: ${failureReason}`, {
      retryable: false,
      context: { sourceArn, failureReason, moved },
    });
    this.name = 'RedriveFailedError';
    this.sourceArn = sourceArn;
    this.failureReason = failureReason;
    this.moved = moved;
  }
}
