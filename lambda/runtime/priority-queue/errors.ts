/** Base of the priority-queue helpers' errors. */
export class PriorityQueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
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
    super(`unknown priority '${priority}': the levels are ${levels.map((l) => `'${l}'`).join(', ')}`);
    this.name = 'UnknownPriorityError';
    this.priority = priority;
    this.levels = levels;
  }
}

/** Thrown when the producer's or dispatcher's configuration is missing or malformed. */
export class PriorityQueueConfigError extends PriorityQueueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PriorityQueueConfigError';
  }
}
