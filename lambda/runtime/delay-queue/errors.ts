/** Base of the delay-queue helpers' errors. */
export class DelayQueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DelayQueueError';
  }
}

/** Thrown when `at`/`delaySeconds` are missing, both given, malformed or beyond a year. Nothing is sent. */
export class InvalidDelayError extends DelayQueueError {
  constructor(message: string) {
    super(message);
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
    super(`id '${id}' is already scheduled (schedule ${scheduleName}) with a different message body`);
    this.name = 'ScheduleConflictError';
    this.id = id;
    this.scheduleName = scheduleName;
  }
}

/** Thrown when the producer's configuration is missing or malformed. */
export class DelayQueueConfigError extends DelayQueueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DelayQueueConfigError';
  }
}
