import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the sequential convoy helper's errors. */
export class SequentialConvoyError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'SequentialConvoyError';
  }
}

/**
 * Thrown by `ConvoyProducer` before anything is sent, when `groupBy` or `deduplicationId` gives a
 * value SQS would reject for some message (missing, not a string or number, too long, or with
 * characters outside SQS's alphabet).
 */
export class ConvoyMessageIdError extends SequentialConvoyError {
  /** Position of the offending message in the list given. */
  public readonly index: number;
  /** Which id: `MessageGroupId` or `MessageDeduplicationId`. */
  public readonly field: 'MessageGroupId' | 'MessageDeduplicationId';

  constructor(field: 'MessageGroupId' | 'MessageDeduplicationId', index: number, problem: string) {
    super(`message ${index}: ${field} ${problem}`, { retryable: false, context: { index, field } });
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
 * Retryable when SQS blames none of the refused entries on the request (`senderFault` false).
 */
export class ConvoySendError extends SequentialConvoyError {
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
      {
        retryable: failures.length > 0 && failures.every((f) => !f.senderFault),
        context: { failedIndexes: failures.map((f) => f.index), groups: [...new Set(failures.map((f) => f.groupId))], outOfOrderGroups },
      },
    );
    this.name = 'ConvoySendError';
    this.failures = failures;
    this.sent = sent;
    this.unsent = unsent;
    this.outOfOrderGroups = outOfOrderGroups;
  }
}

/**
 * Thrown by `processConvoyBatch` when the batch does not come from a FIFO queue (the order of a
 * standard queue is best effort, so nothing is processed and the whole batch fails: a wiring
 * mistake that must be loud), and by `ConvoyProducer` and `processConvoyBatch` when an option is
 * missing or invalid.
 */
export class SequentialConvoyConfigurationError extends SequentialConvoyError {
  /** The option at fault, e.g. `queueUrl` (`eventSourceARN` for a batch that is not from a FIFO queue). */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'SequentialConvoyConfigurationError';
    this.option = option;
  }
}
