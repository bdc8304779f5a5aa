import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Base of the claim check helper's errors. */
export class ClaimCheckError extends MessagingPatternsRuntimeError {
  constructor(message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.name = 'ClaimCheckError';
  }
}

/**
 * Thrown when the helper lacks its settings or one is invalid (no bucket name given nor in
 * `CLAIM_CHECK_BUCKET_NAME`, a threshold out of range, ...). Fix the configuration; retrying does
 * not help.
 */
export class ClaimCheckConfigurationError extends ClaimCheckError {
  /** The option (or environment variable) at fault, e.g. `thresholdBytes`. */
  public readonly option: string;

  constructor(option: string, message: string, options: RuntimeErrorOptions & { readonly value?: unknown } = {}) {
    super(message, { ...options, retryable: false, context: { option, value: options.value, ...options.context } });
    this.name = 'ClaimCheckConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown by `checkOut` when the stored payload is gone: the bucket's lifecycle rule expired it, or
 * a consumer released it. The message can never succeed; it reaches the dead-letter queue.
 */
export class ClaimNotFoundError extends ClaimCheckError {
  public readonly bucket: string;
  public readonly key: string;

  constructor(bucket: string, key: string, options: { cause?: unknown } = {}) {
    super(`claimed payload s3://${bucket}/${key} does not exist: it expired (lifecycle rule) or was released`, {
      cause: options.cause,
      retryable: false,
      context: { bucket, key },
    });
    this.name = 'ClaimNotFoundError';
    this.bucket = bucket;
    this.key = key;
  }
}

/** Thrown by `checkOut` when the stored payload's size or SHA-256 differs from the claim's. */
export class ClaimIntegrityError extends ClaimCheckError {
  public readonly bucket: string;
  public readonly key: string;

  constructor(bucket: string, key: string, problem: string) {
    super(`claimed payload s3://${bucket}/${key} ${problem}`, { retryable: false, context: { bucket, key } });
    this.name = 'ClaimIntegrityError';
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * Thrown by `checkOut` when a claim points at a bucket this consumer does not trust (not its own
 * nor one in `trustedBuckets`): a message must not make a consumer read where it chooses.
 */
export class UntrustedClaimError extends ClaimCheckError {
  public readonly bucket: string;

  constructor(bucket: string) {
    super(`claim points at bucket '${bucket}', which this consumer does not trust`, { retryable: false, context: { bucket } });
    this.name = 'UntrustedClaimError';
    this.bucket = bucket;
  }
}
