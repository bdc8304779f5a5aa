/** Base of the sequential convoy helper's errors. */
export class ConvoyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConvoyError';
  }
}

/**
 * Thrown by `ConvoyProducer` before anything is sent, when `groupBy` or `deduplicationId` gives a
 * value SQS would reject for some message (missing, not a string or number, too long, or with
 * characters outside SQS's alphabet).
 */
export class ConvoyMessageIdError extends ConvoyError {
  /** Position of the offending message in the list given. */
  public readonly index: number;
  /** Which id: `MessageGroupId` or `MessageDeduplicationId`. */
  public readonly field: 'MessageGroupId' | 'MessageDeduplicationId';

  constructor(field: 'MessageGroupId' | 'MessageDeduplicationId', index: number, problem: string) {
    super(`message ${index}: ${field} ${problem}`);
    this.name = 'ConvoyMessageIdError';
    this.field = field;
    this.index = index;
  }
}

/** One entry SQS refused in a `SendMessageBatch` call. */
export interface ConvoySendFailure {
  /** Position of the message in the list given to `sendAll`. */
  readonly index: number;
  readonly groupId: string;
  readonly code?: string;
  readonly message?: string;
  /** Whether SQS blames the request (retrying the same entry fails again). */
  readonly senderFault: boolean;
}

/**
 * Thrown by `ConvoyProducer.sendAll` when SQS refused some entries of a batch. Sending stops
 * there, so every group's order is kept for what was sent: retry `unsent` (in order) after fixing
 * the cause. `outOfOrderGroups` names groups where a later message of the same batch was accepted
 * although an earlier one was refused; their order is already broken and needs attention.
 */
export class ConvoySendError extends ConvoyError {
  public readonly failures: readonly ConvoySendFailure[];
  /** Positions of the messages accepted by SQS. */
  public readonly sent: readonly number[];
  /** Positions of the messages not accepted (refused, or not attempted), in order. */
  public readonly unsent: readonly number[];
  /** Groups with a message accepted after a refused one. */
  public readonly outOfOrderGroups: readonly string[];

  constructor(
    failures: readonly ConvoySendFailure[],
    sent: readonly number[],
    unsent: readonly number[],
    outOfOrderGroups: readonly string[],
  ) {
    const first = failures[0];
    super(
      `SQS refused ${failures.length} message(s) (first: message ${first?.index} of group '${first?.groupId}': ${first?.code ?? 'error'} ${first?.message ?? ''}); ` +
        `${sent.length} sent, ${unsent.length} unsent` +
        (outOfOrderGroups.length > 0 ? `; order broken in group(s) ${outOfOrderGroups.join(', ')}` : ''),
    );
    this.name = 'ConvoySendError';
    this.failures = failures;
    this.sent = sent;
    this.unsent = unsent;
    this.outOfOrderGroups = outOfOrderGroups;
  }
}

/**
 * Thrown by `processConvoyBatch` when the batch does not come from a FIFO queue: the order of a
 * standard queue is best effort, so nothing is processed and the whole batch fails (a wiring
 * mistake that must be loud).
 */
export class ConvoyConfigurationError extends ConvoyError {
  constructor(message: string) {
    super(message);
    this.name = 'ConvoyConfigurationError';
  }
}
