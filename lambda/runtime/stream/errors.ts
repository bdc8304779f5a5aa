/**
 * The stream batch helper's errors. Errors thrown by your record handler pass through unchanged
 * (they fail the record); these are the helper's own.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the stream batch helper's errors. */
export class StreamBatchError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'StreamBatchError';
  }
}

/** Thrown when `processStreamBatch` or `streamBatchHandler` is given an invalid option (the option and the value are in the message). */
export class StreamBatchConfigurationError extends StreamBatchError {
  /** The option at fault, e.g. `onRecordFailure`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions = {}) {
    super(`${option} ${message}`, { ...options, context: { option, ...options.context } });
    this.name = 'StreamBatchConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown before any record is processed when the event is not a Kinesis or DynamoDB Streams batch
 * (a record's `eventSource` is neither `aws:kinesis` nor `aws:dynamodb`, or they differ): the
 * function is wired to the wrong source. The invocation fails as a whole.
 */
export class UnsupportedStreamEventError extends StreamBatchError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'UnsupportedStreamEventError';
  }
}

/**
 * Thrown for a Kinesis record that starts with the KPL aggregation magic bytes but is not a valid
 * aggregated record: its MD5 trailer does not match, its protobuf is malformed, or a sub-record
 * points outside the key tables. Retrying does not help: the record fails every time until the
 * event source mapping's retry limit or maximum record age sends it to the on-failure destination.
 */
export class KinesisDeaggregationError extends StreamBatchError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'KinesisDeaggregationError';
  }
}

/**
 * Thrown when a record's content cannot be decoded: `json()` of Kinesis data that is not JSON, a
 * DynamoDB image that cannot be unmarshalled (a fraction beyond double precision without
 * `unmarshallOptions: { wrapNumbers: true }`). Fails the record; retrying does not help.
 */
export class MalformedStreamRecordError extends StreamBatchError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'MalformedStreamRecordError';
  }
}
