/**
 * The Kafka helper's errors. Errors thrown by your record handler pass through unchanged (they fail
 * the record); these are the helper's own.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the Kafka helper's errors. */
export class KafkaError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'KafkaError';
  }
}

/** Thrown when `processKafkaBatch`, `kafkaBatchHandler` or `kafkaDecoder` is given an invalid option (the option and the value are in the message). Nothing is processed. */
export class KafkaConfigurationError extends KafkaError {
  /** The option at fault, e.g. `onRecordFailure`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'KafkaConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown before any record is processed when the event is not a Kafka batch of an MSK or
 * self-managed Kafka event source mapping (no `records` map of arrays, or another `eventSource`):
 * the function is wired to the wrong source. The invocation fails as a whole.
 */
export class UnsupportedKafkaEventError extends KafkaError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'UnsupportedKafkaEventError';
  }
}

/**
 * Thrown when a record's content cannot be decoded: `json()` of a value that is not JSON,
 * a `kafkaDecoder` of a value that does not match its Avro or Protobuf schema or fails its
 * parser schema. Fails the record; retrying does not help, so it ends in the on-failure destination.
 */
export class MalformedKafkaRecordError extends KafkaError {
  /** The record, as `<topic>-<partition>:<offset>`. */
  public readonly recordId: string;

  constructor(recordId: string, message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false, context: { recordId, ...options.context } });
    this.name = 'MalformedKafkaRecordError';
    this.recordId = recordId;
  }
}
