import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the batch helper's errors. */
export class BatchError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'BatchError';
  }
}

/** Thrown by `processSqsBatch` and `sqsBatchHandler` when one of their options is invalid. Nothing is processed. */
export class BatchConfigurationError extends BatchError {
  /** The option at fault, e.g. `fifoFailureMode`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'BatchConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown by {@link parseJsonBody} when a message body is not valid JSON. Such a message can never
 * succeed: it is reported as a failure and reaches the dead-letter queue after `maxReceiveCount`
 * receives.
 */
export class MalformedMessageError extends BatchError {
  /** The id of the message. */
  public readonly messageId: string;

  constructor(messageId: string, options: { cause?: unknown } = {}) {
    super(`message ${messageId} has a body that is not valid JSON`, { cause: options.cause, retryable: false, context: { messageId } });
    this.name = 'MalformedMessageError';
    this.messageId = messageId;
  }
}

/**
 * The reason given (to `onRecordFailure` and in the log) for a FIFO record that was not processed
 * because an earlier message failed: of its message group (`skip-group`) or of the batch
 * (`stop-batch`). SQS delivers it again, in order, after the failed message; retryable.
 */
export class SkippedBehindFailureError extends BatchError {
  /** The id of the skipped message. */
  public readonly messageId: string;
  /** The id of the message whose failure it waits behind. */
  public readonly failedMessageId: string | undefined;
  /** The skipped message's group. */
  public readonly messageGroupId: string | undefined;

  constructor(
    messageId: string,
    failedMessageId: string | undefined,
    options: { messageGroupId?: string; fifoFailureMode: 'skip-group' | 'stop-batch' },
  ) {
    const behind = failedMessageId === undefined ? 'an earlier message' : `message ${failedMessageId}`;
    const scope =
      options.fifoFailureMode === 'skip-group'
        ? `of its message group${options.messageGroupId ? ` '${options.messageGroupId}'` : ''}`
        : 'of the batch';
    super(
      `message ${messageId} was not processed: ${behind} ${scope} failed before it, and FIFO order holds it back until that one succeeds`,
      {
        retryable: true,
        context: { messageId, failedMessageId, messageGroupId: options.messageGroupId, fifoFailureMode: options.fifoFailureMode },
      },
    );
    this.name = 'SkippedBehindFailureError';
    this.messageId = messageId;
    this.failedMessageId = failedMessageId;
    this.messageGroupId = options.messageGroupId;
  }
}
