/**
 * The outbox's errors. Every error the outbox writer and the relay throw is an {@link OutboxError};
 * errors thrown by your own code pass through unchanged.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the outbox's errors. */
export class OutboxError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'OutboxError';
  }
}

/** Thrown when the writer or the relay is given an invalid option or environment (the option and the value are in the message). */
export class OutboxConfigurationError extends OutboxError {
  /** The option at fault, e.g. `tableName`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message.startsWith(option) ? message : `${option} ${message}`, {
      ...options,
      retryable: false,
      context: { option, value: options.value, ...options.context },
    });
    this.name = 'OutboxConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown by `write` before anything is sent when the events or the writes are unusable: an event
 * without an aggregate id or type, data that is not JSON, more than the 100 items one
 * `TransactWriteItems` holds, more than its 4 MB. Nothing was written.
 */
export class OutboxInputError extends OutboxError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'OutboxInputError';
  }
}

/**
 * Thrown by `write` when a condition of one of your business writes failed (`attribute_not_exists`,
 * `balance >= :amount`, ...): nothing was written, neither the business items nor the outbox records
 * nor the command record, so nothing is published.
 */
export class OutboxConditionError extends OutboxError {
  /** Index of the failed write in the business writes you gave. */
  public readonly itemIndex: number;
  /** DynamoDB's cancellation reason code (`ConditionalCheckFailed`). */
  public readonly reasonCode: string;
  /** The item as it was, when the write asked for `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`. */
  public readonly item?: Record<string, unknown>;

  constructor(itemIndex: number, reasonCode: string, options: RuntimeErrorOptions & { item?: Record<string, unknown> } = {}) {
    super(`business write ${itemIndex} was rejected (${reasonCode}): nothing was written, nothing will be published`, {
      ...options,
      retryable: false,
      context: { itemIndex, reasonCode, ...options.context },
    });
    this.name = 'OutboxConditionError';
    this.itemIndex = itemIndex;
    this.reasonCode = reasonCode;
    this.item = options.item;
  }
}

/**
 * Thrown by `write` when an outbox record with the same aggregate id and sequence exists already: a
 * concurrent writer used the sequence (an optimistic-concurrency conflict when sequences are
 * versions). Nothing was written; load the aggregate again and retry.
 */
export class OutboxSequenceConflictError extends OutboxError {
  public readonly aggregateId: string;
  public readonly sequence: string | number;

  constructor(aggregateId: string, sequence: string | number, options: RuntimeErrorOptions = {}) {
    super(`aggregate ${aggregateId} has an outbox record with sequence ${sequence} already: nothing was written`, {
      ...options,
      retryable: true,
      context: { aggregateId, sequence, ...options.context },
    });
    this.name = 'OutboxSequenceConflictError';
    this.aggregateId = aggregateId;
    this.sequence = sequence;
  }
}

/**
 * Thrown when DynamoDB, SQS or the publish target could not be reached or kept failing (throttling,
 * transaction conflicts that kept recurring, missing permissions, a missing table). Retryable: for
 * `write`, nothing was written; for the relay, the batch is retried from its first unpublished record.
 */
export class OutboxPersistenceError extends OutboxError {
  /** What the outbox was doing, e.g. `TransactWriteItems`. */
  public readonly operation: string;

  constructor(operation: string, message: string, options: RuntimeErrorOptions = {}) {
    super(`${operation} failed: ${message}`, {
      ...options,
      retryable: options.retryable ?? true,
      context: { operation, ...options.context },
    });
    this.name = 'OutboxPersistenceError';
    this.operation = operation;
  }
}

/**
 * Why the relay could not publish an outbox record: a stream image that is not an outbox record the
 * writer wrote (missing attributes, data that is not JSON). The relay sends it to the on-failure
 * queue with this reason; retrying does not help.
 */
export class MalformedOutboxRecordError extends OutboxError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'MalformedOutboxRecordError';
  }
}
