import { BatchProcessor, EventType, SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type RuntimeLogger, resolveLogger } from '../internal/logger';
import { MalformedMessageError } from './errors';

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
}

/** Logs failures. `console` fits; so does a Powertools `Logger`. */
export type FailureLogger = RuntimeLogger;

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
   * Errors it throws are logged and ignored.
   *
   * @default - none
   */
  readonly onRecordFailure?: (record: SQSRecord, failure: RecordFailure, error: unknown) => void | Promise<void>;
  /**
   * Where failures are logged, one structured line each. `null` turns logging off.
   *
   * @default console
   */
  readonly logger?: FailureLogger | null;
}

/** Handles one SQS record. Throw (or reject) to report it as failed. */
export type SqsRecordHandler = (record: SQSRecord, context?: Context) => Promise<unknown> | unknown;

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
  };
}

/**
 * Processes an SQS batch and returns the partial batch response the event source mapping expects
 * (`reportBatchItemFailures` on): successful records are deleted, failed ones become visible again
 * and reach the dead-letter queue after `maxReceiveCount` receives.
 *
 * Built on `@aws-lambda-powertools/batch`: `BatchProcessor` for standard queues,
 * `SqsFifoPartialProcessorAsync` for FIFO queues (records in order; after a failure the rest of the
 * group, or of the batch, is failed unprocessed so order is kept).
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
  const fifo = options.fifo === undefined || options.fifo === 'auto' ? isFifoEvent(event) : options.fifo;
  const logger = resolveLogger(options.logger);

  const failures: Array<Promise<void>> = [];
  const wrapped = async (record: SQSRecord, context?: Context): Promise<unknown> => {
    try {
      return await recordHandler(record, context);
    } catch (error) {
      const failure = describeFailure(record, error);
      logger?.warn(JSON.stringify({ message: 'message processing failed', ...failure }));
      if (options.onRecordFailure) {
        failures.push(
          Promise.resolve()
            .then(() => options.onRecordFailure?.(record, failure, error))
            .catch((hookError: unknown) => {
              logger?.warn(JSON.stringify({ message: 'onRecordFailure failed', messageId: record.messageId, error: String(hookError) }));
            }),
        );
      }
      throw error;
    }
  };

  try {
    if (fifo) {
      const processor = new SqsFifoPartialProcessorAsync();
      return await processPartialResponse(event, wrapped, processor, {
        context: options.context,
        skipGroupOnError: (options.fifoFailureMode ?? 'skip-group') === 'skip-group',
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
    await Promise.all(failures);
  }
}

/**
 * Wraps a record handler into a Lambda handler for an SQS event source mapping.
 *
 * @example
 * export const handler = sqsBatchHandler(async (record) => { ... });
 */
export function sqsBatchHandler(
  recordHandler: SqsRecordHandler,
  options: Omit<SqsBatchOptions, 'context'> = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
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
