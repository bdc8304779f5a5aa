/** Base of the dead-letter-queue operations' errors. */
export class DeadLetterQueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeadLetterQueueError';
  }
}

/**
 * Thrown when an operation meant for a dead-letter queue (redrive, purge) is given a queue that is
 * no queue's dead-letter queue: SQS refuses to redrive it, and purging it is most likely a mistake.
 */
export class NotADeadLetterQueueError extends DeadLetterQueueError {
  /** The queue given. */
  public readonly queue: string;

  constructor(queue: string, options?: { cause?: unknown }) {
    super(`${queue} is not the dead-letter queue of any queue (no queue names it in its redrive policy)`, options);
    this.name = 'NotADeadLetterQueueError';
    this.queue = queue;
  }
}

/** Thrown when a redrive (message move task) ends in status FAILED. */
export class RedriveFailedError extends DeadLetterQueueError {
  /** The dead-letter queue. */
  public readonly sourceArn: string;
  /** The reason SQS gives (for example `AccessDenied`, `KMS.AccessDeniedException`). */
  public readonly failureReason: string;
  /** Messages moved before the task failed. */
  public readonly moved: number;

  constructor(sourceArn: string, failureReason: string, moved: number) {
    super(`the redrive of ${sourceArn} failed after ${moved} messages: ${failureReason}`);
    this.name = 'RedriveFailedError';
    this.sourceArn = sourceArn;
    this.failureReason = failureReason;
    this.moved = moved;
  }
}
