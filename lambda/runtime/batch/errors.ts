/** Base of the batch helper's errors. */
export class BatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BatchError';
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

  constructor(messageId: string, options?: { cause?: unknown }) {
    super(`message ${messageId} has a body that is not valid JSON`, options);
    this.name = 'MalformedMessageError';
    this.messageId = messageId;
  }
}
