import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { checkSqsBatchOptions, parseJsonBody, processSqsBatch, receiveCountOf } from '../batch/sqs';
import type { SqsBatchOptions } from '../batch/sqs';
import { checkFunction } from '../internal/options';
import { SequentialConvoyConfigurationError } from './errors';

const fail = (option: string, message: string, value: unknown): never => {
  throw new SequentialConvoyConfigurationError(option, message, { value });
};

/** One event of a convoy, as the record handler sees it. */
export interface ConvoyMessage<T> {
  /** The parsed body. */
  readonly body: T;
  /** The entity (message group) the event belongs to. */
  readonly groupId: string;
  /** SQS's sequence number: strictly increasing within the group, in sending order. */
  readonly sequenceNumber: string;
  /** The deduplication id SQS kept (explicit, or the body's SHA-256). */
  readonly deduplicationId?: string;
  /** How many times SQS has delivered this message, this delivery included. */
  readonly receiveCount: number;
  /** The raw record. */
  readonly record: SQSRecord;
}

/** Applies one event. Throw (or reject) to stop its group: the rest of the group retries later, in order. */
export type ConvoyRecordHandler<T> = (message: ConvoyMessage<T>, context?: Context) => Promise<unknown> | unknown;

/** Options of {@link processConvoyBatch}. */
export interface ConvoyBatchOptions<T> extends Omit<SqsBatchOptions, 'fifo' | 'processInParallel'> {
  /**
   * Turns a record into the event passed as `body`. Errors it throws fail the record (and stop its
   * group) like errors of the handler.
   *
   * @default - the body parsed as JSON (`MalformedMessageError` when it is not JSON)
   */
  readonly parse?: (record: SQSRecord) => T;
}

function checkConvoyBatchOptions<T>(handler: ConvoyRecordHandler<T>, options: Omit<ConvoyBatchOptions<T>, 'context'>): void {
  if (typeof handler !== 'function') fail('handler', `handler must be a function (given ${typeof handler})`, handler);
  checkFunction(fail, 'parse', options.parse);
  const { parse: _parse, ...batchOptions } = options;
  checkSqsBatchOptions(batchOptions);
}

function assertFifo(event: SQSEvent): void {
  for (const record of event.Records) {
    if (!record.eventSourceARN?.endsWith('.fifo') || !record.attributes?.MessageGroupId) {
      throw new SequentialConvoyConfigurationError(
        'eventSourceARN',
        `record ${record.messageId} comes from ${record.eventSourceARN ?? 'an unknown source'}, which is not a FIFO queue: a sequential convoy consumer needs a FIFO queue to keep order`,
        { value: record.eventSourceARN, context: { messageId: record.messageId } },
      );
    }
  }
}

/**
 * Processes a batch from a sequential convoy's FIFO queue, one record after the other in the order
 * SQS delivered them, and returns the partial batch response.
 *
 * When an event fails, the rest of its message group in the batch is reported as failed without
 * being processed (`fifoFailureMode: 'skip-group'`, the default), so the group resumes at the
 * failed event on its next delivery and order holds; other groups in the batch go on. With
 * `'stop-batch'` every record after the failure is reported as failed, whatever its group.
 * Built on `processSqsBatch` (Powertools `SqsFifoPartialProcessorAsync`).
 *
 * A batch that does not come from a FIFO queue fails whole with {@link SequentialConvoyConfigurationError}
 * (so does an invalid option, before anything is processed).
 *
 * @example
 * export const handler = (event: SQSEvent, context: Context) =>
 *   processConvoyBatch<OrderEvent>(event, async ({ body, groupId }) => applyToOrder(groupId, body), { context });
 */
export async function processConvoyBatch<T = unknown>(
  event: SQSEvent,
  handler: ConvoyRecordHandler<T>,
  options: ConvoyBatchOptions<T> = {},
): Promise<SQSBatchResponse> {
  checkConvoyBatchOptions(handler, options);
  assertFifo(event);
  const { parse, ...batchOptions } = options;
  const read = parse ?? ((record: SQSRecord) => parseJsonBody<T>(record));
  return processSqsBatch(
    event,
    async (record, context) => {
      const message: ConvoyMessage<T> = {
        body: read(record),
        groupId: record.attributes.MessageGroupId!,
        sequenceNumber: record.attributes.SequenceNumber ?? '',
        deduplicationId: record.attributes.MessageDeduplicationId,
        receiveCount: receiveCountOf(record),
        record,
      };
      return handler(message, context);
    },
    { ...batchOptions, fifo: true },
  );
}

/**
 * Wraps a convoy record handler into a Lambda handler for the convoy's event source mapping. The
 * options are checked at once.
 *
 * @example
 * export const handler = convoyHandler<OrderEvent>(async ({ body }) => applyToOrder(body));
 */
export function convoyHandler<T = unknown>(
  handler: ConvoyRecordHandler<T>,
  options: Omit<ConvoyBatchOptions<T>, 'context'> = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  checkConvoyBatchOptions(handler, options);
  return (event, context) => processConvoyBatch(event, handler, { ...options, context });
}
