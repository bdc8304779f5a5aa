import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { ENV, SHARED_DEFAULT } from '../../../lib/core/wire';
import type { RecordFailure } from '../batch/sqs';
import { type Fail, checkBucket, checkClient, checkInteger, checkOptionalText } from '../internal/options';
import { createS3Client } from '../internal/s3-client';
import { DeadLetterQueueConfigurationError } from './errors';

const fail: Fail = (option, message, value) => {
  throw new DeadLetterQueueConfigurationError(option, message, { value });
};
/** Longest key prefix: S3 keys are at most 1024 bytes, and `<messageId>.json` takes up to ~110 (ids are at most 100 characters). */
const MAX_PREFIX_LENGTH = 900;

/**
 * Why a message failed, recorded next to the message (by its id) so that an operator peeking the
 * dead-letter queue sees it. SQS keeps a message's id when it moves the message to the dead-letter
 * queue, but cannot add attributes to it; hence a side record.
 */
export interface FailureReason {
  /** The SQS message id (the same in the source queue and in its dead-letter queue). */
  readonly messageId: string;
  /** The queue the message failed in. */
  readonly queueArn?: string;
  /** FIFO only: the message group. */
  readonly messageGroupId?: string;
  /** The receive that failed (1 for the first delivery). */
  readonly receiveCount: number;
  /** The error's name, e.g. `InvalidTaskError`. */
  readonly errorName: string;
  /** The error's message, truncated to `maxErrorMessageLength`. */
  readonly errorMessage: string;
  /** When it failed, as an ISO 8601 timestamp. */
  readonly failedAt: string;
  /** The Lambda function that failed it, when it ran in Lambda. */
  readonly functionName?: string;
}

/** Options of every {@link FailureReasonStore}. */
export interface FailureReasonStoreOptions {
  /**
   * Record only failures from this receive on. 1 records every failure (the latest one wins), so a
   * message that later times out still shows the reason of its last failure that threw. Set it to
   * the queue's `maxReceiveCount` to write only on the last attempt (fewest writes), at the price of
   * no reason when that attempt times out instead of throwing.
   *
   * @default 1
   */
  readonly minReceiveCount?: number;
  /**
   * Longest error message kept, in characters.
   *
   * @default 2000
   */
  readonly maxErrorMessageLength?: number;
}

/**
 * Storage-agnostic failure-reason store: records why a message failed, keyed by message id, and
 * reads it back. Plug it into the batch helper with `onRecordFailure: store.onRecordFailure` (the
 * batch helper logs and ignores a failure to record). Subclasses implement `_put` and `_get`.
 */
export abstract class FailureReasonStore {
  protected readonly minReceiveCount: number;
  protected readonly maxErrorMessageLength: number;

  protected constructor(options: FailureReasonStoreOptions = {}) {
    this.minReceiveCount = checkInteger(fail, 'minReceiveCount', options.minReceiveCount ?? 1, 1);
    this.maxErrorMessageLength = checkInteger(fail, 'maxErrorMessageLength', options.maxErrorMessageLength ?? 2000, 1);
  }

  /**
   * The `onRecordFailure` hook of `processSqsBatch`: records the failure of `record`. The batch
   * helper awaits it before returning the batch response, so the reason is stored before the
   * message can be received again (or moved to the dead-letter queue).
   *
   * @example
   * const reasons = S3FailureReasonStore.fromEnvironment();
   * export const handler = sqsBatchHandler(processTask, { onRecordFailure: reasons.onRecordFailure });
   */
  public readonly onRecordFailure = async (record: SQSRecord, failure: RecordFailure): Promise<void> => {
    if (failure.receiveCount < this.minReceiveCount) return;
    await this.record({
      messageId: failure.messageId,
      queueArn: record.eventSourceARN || undefined,
      messageGroupId: failure.messageGroupId,
      receiveCount: failure.receiveCount,
      errorName: failure.errorName,
      errorMessage: failure.errorMessage,
      failedAt: new Date().toISOString(),
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    });
  };

  /** Records a failure reason; a later one for the same message replaces it. */
  public async record(reason: FailureReason): Promise<void> {
    const message =
      reason.errorMessage.length > this.maxErrorMessageLength
        ? `${reason.errorMessage.slice(0, this.maxErrorMessageLength)}…`
        : reason.errorMessage;
    await this._put({ ...reason, errorMessage: message });
  }

  /** The latest failure reason recorded for a message, or `undefined` when none was. */
  public async get(messageId: string): Promise<FailureReason | undefined> {
    return this._get(messageId);
  }

  /** Stores `reason` under `reason.messageId`, replacing any earlier one. */
  protected abstract _put(reason: FailureReason): Promise<void>;
  /** Reads the reason stored under `messageId`; `undefined` when there is none. */
  protected abstract _get(messageId: string): Promise<FailureReason | undefined>;
}

/** Environment variables {@link S3FailureReasonStore.fromEnvironment} reads (the construct sets them). */
export const FAILURE_REASON_BUCKET_ENV = ENV.failureReasonBucket;
export const FAILURE_REASON_PREFIX_ENV = ENV.failureReasonPrefix;

/** Options of {@link S3FailureReasonStore}. */
export interface S3FailureReasonStoreOptions extends FailureReasonStoreOptions {
  /** The bucket. */
  readonly bucketName: string;
  /**
   * Key prefix; reasons are stored at `<prefix><messageId>.json`.
   *
   * @default 'reasons/'
   */
  readonly prefix?: string;
  /**
   * The S3 client.
   *
   * @default - {@link s3ClientFromEnvironment}()
   */
  readonly client?: S3Client;
}

/**
 * An S3 client for the current environment. Against a custom endpoint (`AWS_ENDPOINT_URL_S3` or
 * `AWS_ENDPOINT_URL` set, as in an emulator, and not ignored with
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`) it uses path-style addressing, because
 * `<bucket>.127.0.0.1` does not resolve; against AWS it keeps virtual-hosted-style addressing.
 * `AWS_S3_FORCE_PATH_STYLE=true|false` overrides the choice.
 */
export function s3ClientFromEnvironment(env: NodeJS.ProcessEnv = process.env): S3Client {
  return createS3Client({ env });
}

/**
 * Failure reasons as small JSON objects in S3, one per message, at `<prefix><messageId>.json`.
 *
 * Why S3: a failure costs one PUT ($0.005 per 1,000) and a peek one GET per message; nothing is paid
 * while nothing fails; a lifecycle rule expires the records with the messages (the construct sets
 * it to one day more than the longest dead-letter retention). CloudWatch Logs already holds the same line, but reading it back
 * per message needs a Logs Insights query (seconds of latency, billed per GB scanned of the whole
 * log group); DynamoDB would fit as well and can be plugged in by subclassing
 * {@link FailureReasonStore}.
 */
export class S3FailureReasonStore extends FailureReasonStore {
  /**
   * A store on the bucket named by `FAILURE_REASON_BUCKET` (and `FAILURE_REASON_PREFIX`), the
   * variables `FailureReasonStore.connectRecorder(fn)` sets on a function.
   *
   * @throws DeadLetterQueueConfigurationError when `FAILURE_REASON_BUCKET` is not set, or a value is malformed
   */
  public static fromEnvironment(options: Omit<S3FailureReasonStoreOptions, 'bucketName' | 'prefix'> = {}): S3FailureReasonStore {
    const bucketName = process.env[FAILURE_REASON_BUCKET_ENV];
    if (!bucketName) {
      fail(
        FAILURE_REASON_BUCKET_ENV,
        `${FAILURE_REASON_BUCKET_ENV} is not set: give the function a failure-reason store (FailureReasonStore.connectRecorder) or pass bucketName`,
        bucketName,
      );
    }
    checkBucket(fail, FAILURE_REASON_BUCKET_ENV, bucketName);
    const prefix = process.env[FAILURE_REASON_PREFIX_ENV] || undefined;
    if (prefix !== undefined) checkOptionalText(fail, FAILURE_REASON_PREFIX_ENV, prefix, MAX_PREFIX_LENGTH);
    return new S3FailureReasonStore({ ...options, bucketName, prefix });
  }

  public readonly bucketName: string;
  public readonly prefix: string;
  private readonly client: S3Client;

  constructor(options: S3FailureReasonStoreOptions) {
    super(options);
    this.bucketName = checkBucket(fail, 'bucketName', options.bucketName);
    this.prefix = checkOptionalText(fail, 'prefix', options.prefix ?? SHARED_DEFAULT.failureReasonPrefix, MAX_PREFIX_LENGTH);
    this.client = checkClient(fail, 'client', options.client) ?? s3ClientFromEnvironment();
  }

  /** The object key of a message's reason. */
  public keyOf(messageId: string): string {
    return `${this.prefix}${encodeURIComponent(messageId)}.json`;
  }

  protected async _put(reason: FailureReason): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: this.keyOf(reason.messageId),
        Body: JSON.stringify(reason),
        ContentType: 'application/json',
      }),
    );
  }

  protected async _get(messageId: string): Promise<FailureReason | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName, Key: this.keyOf(messageId) }));
      const text = await res.Body?.transformToString();
      return text ? (JSON.parse(text) as FailureReason) : undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
