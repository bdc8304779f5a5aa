/**
 * The event store's errors. Every error the event store, the projector and the rebuild throw is an
 * {@link EventStoreError}; errors thrown by your reducers, projections and upcasters are wrapped
 * ({@link ReducerError}, {@link UpcastError}) with the event they failed on.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the event store's errors. */
export class EventStoreError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'EventStoreError';
  }
}

/** Thrown when the event store or a projector is given an invalid option or environment (the option and the value are in the message). */
export class EventStoreConfigurationError extends EventStoreError {
  /** The option at fault, e.g. `snapshotEvery`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message.startsWith(option) ? message : `${option} ${message}`, {
      ...options,
      retryable: false,
      context: { option, value: options.value, ...options.context },
    });
    this.name = 'EventStoreConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown by `append` when the aggregate is not at `expectedVersion`: another writer appended first
 * (or the caller's view is stale). Nothing was written. Retryable: load the aggregate again, decide
 * again, append at the new version (`execute` does this for you).
 */
export class ConcurrencyError extends EventStoreError {
  public readonly aggregateId: string;
  /** The version the append expected. */
  public readonly expectedVersion: number;
  /** The aggregate's version when the conflict was seen (read after the cancelled append). */
  public readonly actualVersion: number;

  constructor(aggregateId: string, expectedVersion: number, actualVersion: number, options: RuntimeErrorOptions = {}) {
    super(`aggregate ${aggregateId} is at version ${actualVersion}, not ${expectedVersion}: nothing was appended`, {
      ...options,
      retryable: true,
      context: { aggregateId, expectedVersion, actualVersion, ...options.context },
    });
    this.name = 'ConcurrencyError';
    this.aggregateId = aggregateId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/**
 * Thrown before anything is sent when an append is unusable: an invalid aggregate id, an event
 * without a type, data that is not JSON, a payload too large with no payload bucket, more than the
 * 100 items of one transaction. Nothing was written.
 */
export class EventStoreInputError extends EventStoreError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'EventStoreInputError';
  }
}

/**
 * Thrown when DynamoDB or S3 could not be read or written (throttling, missing permissions, a
 * missing table or bucket). Retryable in most cases: for `append`, nothing was written.
 */
export class EventStorePersistenceError extends EventStoreError {
  /** What the store was doing, e.g. `TransactWriteItems`. */
  public readonly operation: string;

  constructor(operation: string, message: string, options: RuntimeErrorOptions = {}) {
    super(`${operation} failed: ${message}`, {
      ...options,
      retryable: options.retryable ?? true,
      context: { operation, ...options.context },
    });
    this.name = 'EventStorePersistenceError';
    this.operation = operation;
  }
}

/** Thrown when an upcaster threw for an event: the event's type, stored schema version and the upcaster's `fromVersion` are in the context. */
export class UpcastError extends EventStoreError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'UpcastError';
  }
}

/** Thrown when a reducer or a projection threw for an event (or returned what cannot be stored): the aggregate and version are in the context. */
export class ReducerError extends EventStoreError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'ReducerError';
  }
}

/** Thrown when a stored item is not what the event store writes (a missing attribute, data that is not JSON). */
export class MalformedEventError extends EventStoreError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = 'MalformedEventError';
  }
}
