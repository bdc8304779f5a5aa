/**
 * The idempotency library's errors. Every error the library throws is an {@link IdempotencyError};
 * errors thrown by your own code pass through unchanged.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Options of every {@link IdempotencyError}. */
export interface IdempotencyErrorOptions extends RuntimeErrorOptions {
  /** The idempotency record id concerned, when known. */
  readonly idempotencyKey?: string;
}

/** Base of the idempotency library's errors. */
export class IdempotencyError extends MessagingPatternsRuntimeError {
  /** The idempotency record id (`<keyPrefix>#<hash>`) concerned, when known. */
  public readonly idempotencyKey?: string;

  constructor(message: string, options: IdempotencyErrorOptions = {}) {
    const { idempotencyKey, ...rest } = options;
    super(message, {
      ...rest,
      context: { ...(idempotencyKey === undefined ? {} : { idempotencyKey }), ...rest.context },
    });
    this.name = 'IdempotencyError';
    this.idempotencyKey = idempotencyKey;
  }
}

/**
 * Thrown when the library is configured or called wrongly: no table name, an invalid JMESPath
 * selector, a non-positive expiry, too many effect items, lock mode without the Lambda context.
 * Fix the code; retrying does not help.
 */
export class IdempotencyConfigurationError extends IdempotencyError {
  /** The option at fault, e.g. `tableName`. */
  public readonly option: string;

  constructor(option: string, message: string, options: { cause?: unknown; value?: unknown } = {}) {
    super(`${option}: ${message}`, { cause: options.cause, retryable: false, context: { option, value: options.value } });
    this.name = 'IdempotencyConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown when no idempotency key can be read from a message: the selector found nothing, or the
 * body it reads is not valid JSON. Such a message can never succeed: it reaches the dead-letter
 * queue after `maxReceiveCount` receives.
 */
export class IdempotencyKeyError extends IdempotencyError {
  /** The selector that found nothing (`default`, a JMESPath expression or `function`). */
  public readonly selector: string;

  constructor(selector: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retryable: false, context: { selector } });
    this.name = 'IdempotencyKeyError';
    this.selector = selector;
  }
}

/**
 * Thrown when a message carries the key of an earlier message but a different payload (payload
 * validation on): the producer reused a key, which would silently drop the second message.
 */
export class IdempotencyPayloadMismatchError extends IdempotencyError {
  /** Hash of the payload stored with the first message. */
  public readonly storedPayloadHash?: string;
  /** Hash of this message's payload. */
  public readonly payloadHash?: string;

  constructor(idempotencyKey: string | undefined, options: { cause?: unknown; storedPayloadHash?: string; payloadHash?: string } = {}) {
    super(`payload does not match the payload stored for idempotency key ${idempotencyKey ?? '(unknown)'}`, {
      cause: options.cause,
      idempotencyKey,
      retryable: false,
      context: { storedPayloadHash: options.storedPayloadHash, payloadHash: options.payloadHash },
    });
    this.name = 'IdempotencyPayloadMismatchError';
    this.storedPayloadHash = options.storedPayloadHash;
    this.payloadHash = options.payloadHash;
  }
}

/**
 * Thrown when another invocation holds the lock on the same key (lock mode). Transient: report
 * the message as failed and it is retried after the visibility timeout, when the other invocation
 * has completed (its result is returned then) or its lock has expired.
 */
export class IdempotencyInProgressError extends IdempotencyError {
  /** When the other invocation's lock expires (epoch milliseconds), if known. */
  public readonly inProgressExpiresAt?: number;

  constructor(idempotencyKey: string | undefined, options: { cause?: unknown; inProgressExpiresAt?: number } = {}) {
    super(`another invocation is processing idempotency key ${idempotencyKey ?? '(unknown)'}`, {
      cause: options.cause,
      idempotencyKey,
      retryable: true,
      context: { inProgressExpiresAt: options.inProgressExpiresAt },
    });
    this.name = 'IdempotencyInProgressError';
    this.inProgressExpiresAt = options.inProgressExpiresAt;
  }
}

/**
 * Thrown in transactional mode when a condition of one of your effect items failed (for example
 * `attribute_not_exists(pk)` or `balance >= :amount`): nothing was written, the idempotency record
 * neither. Catch it to treat the message as a business rejection, or let it fail the message.
 */
export class IdempotencyEffectConditionError extends IdempotencyError {
  /** Index of the failed item in your effect's `items`. */
  public readonly itemIndex: number;
  /** DynamoDB's cancellation reason code (`ConditionalCheckFailed`). */
  public readonly reasonCode: string;
  /** The item as it was, when the effect item asked for `ReturnValuesOnConditionCheckFailure`. */
  public readonly item?: Record<string, unknown>;

  constructor(
    idempotencyKey: string,
    itemIndex: number,
    reasonCode: string,
    options: { cause?: unknown; reasonMessage?: string; item?: Record<string, unknown> } = {},
  ) {
    super(
      `effect item ${itemIndex} was rejected (${reasonCode}${options.reasonMessage ? `: ${options.reasonMessage}` : ''}); nothing was written for idempotency key ${idempotencyKey}`,
      { cause: options.cause, idempotencyKey, retryable: false, context: { itemIndex, reasonCode } },
    );
    this.name = 'IdempotencyEffectConditionError';
    this.itemIndex = itemIndex;
    this.reasonCode = reasonCode;
    this.item = options.item;
  }
}

/**
 * Thrown when DynamoDB could not be read or written (throttling, transaction conflicts that kept
 * recurring, a missing table, missing permissions). Transient in most cases, so retryable: the
 * message is retried.
 */
export class IdempotencyPersistenceError extends IdempotencyError {
  /** What the library was doing, e.g. `TransactWriteItems`. */
  public readonly operation: string;

  constructor(operation: string, message: string, options: { cause?: unknown; idempotencyKey?: string } = {}) {
    super(`${operation} failed: ${message}`, { ...options, retryable: true, context: { operation } });
    this.name = 'IdempotencyPersistenceError';
    this.operation = operation;
  }
}
