import {
  BatchProcessor,
  EventType,
  SqsFifoMessageGroupShortCircuitError,
  SqsFifoPartialProcessorAsync,
  SqsFifoShortCircuitError,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isRetryable } from '../internal/errors';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import { type Fail, checkBoolean, checkFunction, checkLogger, checkOneOf } from '../internal/options';
import { BatchConfigurationError, MalformedMessageError, SkippedBehindFailureError } from './errors';

/**
 * What a FIFO consumer does after a message fails:
 * - `skip-group`: fail the rest of that message group in the batch, keep processing other groups;
 * - `stop-batch`: fail every message after the failure, whatever its group.
 * Both keep the order within each message group.
 */
export type FifoFailureMode = 'skip-group' | 'stop-batch';

/** A structured record of one message's failure, passed to `onRecordFailure` and logged. */
export interface RecordFailure {
  readonly messageId: string;
  readonly messageGroupId?: string;
  /** How many times SQS has delivered this message, this delivery included. */
  readonly receiveCount: number;
  readonly errorName: string;
  readonly errorMessage: string;
  /**
   * Whether the error says a retry may help (`retryable` of the run-time library's errors, false
   * for other errors). Always set by `processSqsBatch`.
   */
  readonly retryable?: boolean;
}

/** Options of {@link processSqsBatch}. */
export interface SqsBatchOptions {
  /** The Lambda context, passed on to the record handler. */
  readonly context?: Context;
  /**
   * Whether the batch comes from a FIFO queue. `auto` reads it from the event source ARN.
   *
   * @default 'auto'
   */
  readonly fifo?: boolean | 'auto';
  /**
   * FIFO only: what to do after a failure.
   *
   * @default 'skip-group'
   */
  readonly fifoFailureMode?: FifoFailureMode;
  /**
   * Standard queues only: process the records of a batch concurrently.
   *
   * @default true
   */
  readonly processInParallel?: boolean;
  /**
   * Throw when every record of the batch failed, so Lambda counts an error and the event source
   * mapping backs off (Powertools' behaviour). With false, every record is reported in
   * `batchItemFailures` instead.
   *
   * @default true
   */
  readonly throwOnFullBatchFailure?: boolean;
  /**
   * Called for each record that failed, before the batch response is returned; use it to record
   * the failure reason next to the message (a side record an operator reads when peeking the DLQ).
   * FIFO records failed unprocessed behind an earlier failure are passed too, with a
   * {@link SkippedBehindFailureError}. Errors it throws are logged and ignored.
   *
   * @default - none
   */
  readonly onRecordFailure?: (record: SQSRecord, failure: RecordFailure, error: unknown) => void | Promise<void>;
  /**
   * Where failures are logged, one structured line each: a Powertools `Logger`, `console`, or
   * anything with a `warn(message, fields)` method. `null` turns logging off.
   *
   * @default - the run-time library's shared Powertools `Logger`
   */
  readonly logger?: RuntimeLogger | null;
}

/** Handles one SQS record. Throw (or reject) to report it as failed. */
export type SqsRecordHandler = (record: SQSRecord, context?: Context) => Promise<unknown> | unknown;

const FIFO_FAILURE_MODES: readonly FifoFailureMode[] = ['skip-group', 'stop-batch'];

const fail: Fail = (option, message, value) => {
  throw new BatchConfigurationError(option, message, { value });
};

/** Checks the options of {@link processSqsBatch}; throws {@link BatchConfigurationError} naming the first bad one. */
export function checkSqsBatchOptions(options: Omit<SqsBatchOptions, 'context'>): void {
  if (options.fifo !== undefined && options.fifo !== 'auto') checkBoolean(fail, 'fifo', options.fifo);
  if (options.fifoFailureMode !== undefined) checkOneOf(fail, 'fifoFailureMode', options.fifoFailureMode, FIFO_FAILURE_MODES);
  checkBoolean(fail, 'processInParallel', options.processInParallel);
  checkBoolean(fail, 'throwOnFullBatchFailure', options.throwOnFullBatchFailure);
  checkFunction(fail, 'onRecordFailure', options.onRecordFailure);
  checkLogger(fail, 'logger', options.logger);
}

const isFifoEvent = (event: SQSEvent): boolean => event.Records.length > 0 && (event.Records[0].eventSourceARN?.endsWith('.fifo') ?? false);

/** How many times SQS has delivered `record`, this delivery included (`ApproximateReceiveCount`, else 1). */
export function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes?.ApproximateReceiveCount ?? '1');
}

function describeFailure(record: SQSRecord, error: unknown): RecordFailure {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    messageId: record.messageId,
    messageGroupId: record.attributes?.MessageGroupId,
    receiveCount: receiveCountOf(record),
    errorName: err.name,
    errorMessage: err.message,
    retryable: isRetryable(error),
  };
}

/**
 * Powertools' FIFO processor, reporting the records it fails without calling the handler (the
 * rest of a failed message group, or of the batch): each is passed to `onSkipped` with a
 * {@link SkippedBehindFailureError} naming the message it waits behind, which also becomes its
 * error in the batch result.
 */
class ReportingFifoProcessor extends SqsFifoPartialProcessorAsync {
  private firstFailure?: string;
  private readonly failedInGroup = new Map<string, string>();

  constructor(
    private readonly mode: FifoFailureMode,
    private readonly onSkipped: (record: SQSRecord, error: SkippedBehindFailureError) => void,
  ) {
    super();
  }

  public override failureHandler(record: Parameters<SqsFifoPartialProcessorAsync['failureHandler']>[0], exception: Error) {
    const sqsRecord = record as SQSRecord;
    const groupId = sqsRecord.attributes?.MessageGroupId;
    if (exception instanceof SqsFifoShortCircuitError || exception instanceof SqsFifoMessageGroupShortCircuitError) {
      const behind =
        exception instanceof SqsFifoMessageGroupShortCircuitError && groupId !== undefined
          ? this.failedInGroup.get(groupId)
          : this.firstFailure;
      const skipped = new SkippedBehindFailureError(sqsRecord.messageId, behind, { messageGroupId: groupId, fifoFailureMode: this.mode });
      this.onSkipped(sqsRecord, skipped);
      return super.failureHandler(record, skipped);
    }
    this.firstFailure ??= sqsRecord.messageId;
    if (groupId !== undefined && !this.failedInGroup.has(groupId)) this.failedInGroup.set(groupId, sqsRecord.messageId);
    return super.failureHandler(record, exception);
  }
}

/**
 * Processes an SQS batch and returns the partial batch response the event source mapping expects
 * (`reportBatchItemFailures` on): successful records are deleted, failed ones become visible again
 * and reach the dead-letter queue after `maxReceiveCount` receives.
 *
 * Built on `@aws-lambda-powertools/batch`: `BatchProcessor` for standard queues,
 * `SqsFifoPartialProcessorAsync` for FIFO queues (records in order; after a failure the rest of the
 * group, or of the batch, is failed unprocessed so order is kept). Every failed record is logged
 * and passed to `onRecordFailure`, those failed unprocessed too (with a
 * {@link SkippedBehindFailureError} naming the failed message they wait behind).
 *
 * @throws BatchConfigurationError when an option is invalid (nothing is processed)
 *
 * @example
 * export const handler = async (event: SQSEvent, context: Context) =>
 *   processSqsBatch(event, async (record) => {
 *     const task = parseJsonBody<Task>(record);
 *     await doWork(task);
 *   }, { context });
 */
export async function processSqsBatch(
  event: SQSEvent,
  recordHandler: SqsRecordHandler,
  options: SqsBatchOptions = {},
): Promise<SQSBatchResponse> {
  checkSqsBatchOptions(options);
  const fifo = options.fifo === undefined || options.fifo === 'auto' ? isFifoEvent(event) : options.fifo;
  const logger = resolveLogger(options.logger);

  const hooks: Array<Promise<void>> = [];
  const report = (message: string, record: SQSRecord, error: unknown, extra: Record<string, unknown> = {}): void => {
    const failure = describeFailure(record, error);
    logger?.warn(message, { ...failure, ...errorFields(error), ...extra });
    if (!options.onRecordFailure) return;
    hooks.push(
      Promise.resolve()
        .then(() => options.onRecordFailure?.(record, failure, error))
        .catch((hookError: unknown) => {
          logger?.warn('onRecordFailure failed', { messageId: record.messageId, ...errorFields(hookError) });
        }),
    );
  };

  const wrapped = async (record: SQSRecord, context?: Context): Promise<unknown> => {
    try {
      return await recordHandler(record, context);
    } catch (error) {
      report('message processing failed', record, error);
      throw error;
    }
  };

  try {
    if (fifo) {
      const mode = options.fifoFailureMode ?? 'skip-group';
      const processor = new ReportingFifoProcessor(mode, (record, error) =>
        report('message skipped behind a failed message', record, error, { failedMessageId: error.failedMessageId }),
      );
      return await processPartialResponse(event, wrapped, processor, {
        context: options.context,
        skipGroupOnError: mode === 'skip-group',
        throwOnFullBatchFailure: options.throwOnFullBatchFailure ?? true,
      });
    }
    const processor = new BatchProcessor(EventType.SQS);
    return await processPartialResponse(event, wrapped, processor, {
      context: options.context,
      processInParallel: options.processInParallel ?? true,
      throwOnFullBatchFailure: options.throwOnFullBatchFailure ?? true,
    });
  } finally {
    await Promise.all(hooks);
  }
}

/**
 * Wraps a record handler into a Lambda handler for an SQS event source mapping. The options are
 * checked at once, so a bad one fails at initialisation rather than on the first batch.
 *
 * @throws BatchConfigurationError when an option is invalid
 *
 * @example
 * export const handler = sqsBatchHandler(async (record) => { ... });
 */
export function sqsBatchHandler(
  recordHandler: SqsRecordHandler,
  options: Omit<SqsBatchOptions, 'context'> = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  if (typeof recordHandler !== 'function')
    fail('recordHandler', `recordHandler must be a function (given ${typeof recordHandler})`, recordHandler);
  checkSqsBatchOptions(options);
  return (event, context) => processSqsBatch(event, recordHandler, { ...options, context });
}

/** Parses a record's body as JSON, throwing {@link MalformedMessageError} when it is not. */
export function parseJsonBody<T = unknown>(record: SQSRecord): T {
  try {
    return JSON.parse(record.body) as T;
  } catch (cause) {
    throw new MalformedMessageError(record.messageId, { cause });
  }
}
