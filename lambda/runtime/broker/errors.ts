/**
 * The broker helper's errors. Errors thrown by your message handler pass through (they fail the
 * message, and so the batch); these are the helper's own.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the broker helper's errors. */
export class BrokerError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/** Thrown when `processBrokerBatch` or `brokerBatchHandler` is given an invalid option (the option and the value are in the message). Nothing is processed. */
export class BrokerConfigurationError extends BrokerError {
  /** The option at fault, e.g. `stopAtFirstFailure`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'BrokerConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown before any message is processed when the event is not the batch of an Amazon MQ event
 * source mapping (`aws:rmq` with `rmqMessagesByQueue`, or `aws:amq` with `messages`): the function
 * is wired to the wrong source. The invocation fails as a whole.
 */
export class UnsupportedBrokerEventError extends BrokerError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'UnsupportedBrokerEventError';
  }
}

/** Thrown by `json()` for a message whose data is not JSON. Fails the message; retrying does not help. */
export class MalformedBrokerMessageError extends BrokerError {
  /** The message's id (or its queue and position when it has none). */
  public readonly messageId: string;

  constructor(messageId: string, message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false, context: { messageId, ...options.context } });
    this.name = 'MalformedBrokerMessageError';
    this.messageId = messageId;
  }
}

/** One failed message of a batch, in {@link BrokerBatchFailedError}. */
export interface BrokerMessageFailure {
  /** The message's id, or `<queue>#<position>` when it has none. */
  readonly messageId: string;
  readonly queue: string;
  /** Its position in the batch, from 0. */
  readonly position: number;
  readonly redelivered: boolean;
  readonly errorName: string;
  readonly errorMessage: string;
  readonly retryable: boolean;
}

/**
 * Thrown by `processBrokerBatch` when one or more messages of the batch failed: Amazon MQ mappings
 * have no partial batch response, so the invocation fails and the broker redelivers the whole batch
 * (ActiveMQ: 6 times, then `ActiveMQ.DLQ`; RabbitMQ: until the queue's delivery limit, if any, then
 * its dead-letter exchange). `failures` lists each failed message with its reason; the first
 * error is the `cause`.
 */
export class BrokerBatchFailedError extends BrokerError {
  /** The failed messages, in batch order. */
  public readonly failures: readonly BrokerMessageFailure[];

  constructor(failures: readonly BrokerMessageFailure[], total: number, options: { cause?: unknown } = {}) {
    const first = failures[0];
    super(
      `${failures.length} of ${total} messages failed; the broker redelivers the batch (first: ${first?.messageId}: ${first?.errorName}: ${first?.errorMessage})`,
      { cause: options.cause, retryable: failures.every((f) => f.retryable), context: { failed: failures.map((f) => f.messageId), total } },
    );
    this.name = 'BrokerBatchFailedError';
    this.failures = failures;
  }
}
