import type { unmarshallOptions as UnmarshallOptions } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import { type DynamoDBStreamItem, dynamoDBStreamItem } from './dynamodb';
import { StreamBatchConfigurationError, UnsupportedStreamEventError } from './errors';
import { type KinesisStreamItem, kinesisStreamItems } from './kinesis';

/** The partial batch response of a stream event source mapping (`ReportBatchItemFailures` on). */
export interface StreamBatchResponse {
  /** Empty when the whole batch succeeded; else one entry, the sequence number of the failed record. */
  readonly batchItemFailures: Array<{ readonly itemIdentifier: string }>;
}

/** A Kinesis or DynamoDB stream record as the handler sees it. */
export type StreamItem = KinesisStreamItem | DynamoDBStreamItem;

/** Handles one Kinesis item. Throw (or reject) to stop the batch there. */
export type KinesisRecordHandler = (item: KinesisStreamItem, context?: Context) => unknown;
/** Handles one DynamoDB stream item. Throw (or reject) to stop the batch there. */
export type DynamoDBRecordHandler<T = Record<string, unknown>> = (item: DynamoDBStreamItem<T>, context?: Context) => unknown;

/** A structured record of the failure that stopped a batch, passed to `onRecordFailure` and logged. */
export interface StreamRecordFailure {
  readonly eventSource: 'aws:kinesis' | 'aws:dynamodb';
  readonly eventSourceARN?: string;
  /** The failed item's stable id (`<shardId>:<seq>[:<sub>]` or the DynamoDB `eventID`). */
  readonly recordId: string;
  /** The sequence number reported in `batchItemFailures`: where Lambda retries from. */
  readonly sequenceNumber: string;
  /** Set when the failure was in a user record of a KPL-aggregated record: the whole parent is retried. */
  readonly subSequenceNumber?: number;
  /** Kinesis: the failed item's partition key. */
  readonly partitionKey?: string;
  /** The failed record's position in the batch, from 0. */
  readonly position: number;
  /** Records of the batch left for the retry, the failed one included (none of them was processed after the failure). */
  readonly recordsLeftForRetry: number;
  readonly errorName: string;
  readonly errorMessage: string;
}

/** Options of {@link processStreamBatch}. */
export interface StreamBatchOptions {
  /** The Lambda context, passed on to the record handler. */
  readonly context?: Context;
  /**
   * Kinesis: split KPL-aggregated records into their user records (`subSequenceNumber`).
   *
   * @default true
   */
  readonly deaggregate?: boolean;
  /**
   * DynamoDB: options of `unmarshall` (`{ wrapNumbers: true }` for fractions beyond double precision).
   *
   * @default - `unmarshall`'s defaults
   */
  readonly unmarshallOptions?: UnmarshallOptions;
  /**
   * Called with the record that stopped the batch, before the response is returned; use it to
   * record the reason (a side record an operator reads). Errors it throws are logged and ignored.
   *
   * @default - none
   */
  readonly onRecordFailure?: (record: KinesisStreamRecord | DynamoDBRecord, failure: StreamRecordFailure, error: unknown) => unknown;
  /**
   * When the first record of the batch fails, fail the invocation (throw) instead of reporting it,
   * so that an event source mapping with `BisectBatchOnFunctionError` splits the batch until the
   * failing record is alone and only it reaches the on-failure destination. Reporting the first
   * record would retry the same batch, and when the retries run out Lambda skips the whole batch,
   * healthy records included. Nothing was processed yet, so throwing repeats no work.
   *
   * @default true
   */
  readonly throwOnFirstRecordFailure?: boolean;
  /**
   * Where the failure is logged (`stream record processing failed`, with the
   * {@link StreamRecordFailure} fields). `null` turns logging off.
   *
   * @default - the shared Powertools Logger
   */
  readonly logger?: RuntimeLogger | null;
}

interface Resolved {
  readonly context?: Context;
  readonly deaggregate: boolean;
  readonly unmarshallOptions?: UnmarshallOptions;
  readonly onRecordFailure?: StreamBatchOptions['onRecordFailure'];
  readonly throwOnFirstRecordFailure: boolean;
  readonly logger: RuntimeLogger | null;
}

const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : value === null ? 'null' : typeof value);

function resolveOptions(recordHandler: unknown, options: StreamBatchOptions | undefined): Resolved {
  if (typeof recordHandler !== 'function')
    throw new StreamBatchConfigurationError('recordHandler', `must be a function (given ${show(recordHandler)})`);
  const o = options ?? {};
  if (typeof o !== 'object') throw new StreamBatchConfigurationError('options', `must be an object (given ${show(o)})`);
  if (o.context !== undefined && (typeof o.context !== 'object' || o.context === null)) {
    throw new StreamBatchConfigurationError('context', `must be the Lambda context object (given ${show(o.context)})`);
  }
  if (o.deaggregate !== undefined && typeof o.deaggregate !== 'boolean') {
    throw new StreamBatchConfigurationError('deaggregate', `must be true or false (given ${show(o.deaggregate)})`);
  }
  if (o.unmarshallOptions !== undefined && (typeof o.unmarshallOptions !== 'object' || o.unmarshallOptions === null)) {
    throw new StreamBatchConfigurationError('unmarshallOptions', `must be an object (given ${show(o.unmarshallOptions)})`);
  }
  if (o.onRecordFailure !== undefined && typeof o.onRecordFailure !== 'function') {
    throw new StreamBatchConfigurationError('onRecordFailure', `must be a function (given ${show(o.onRecordFailure)})`);
  }
  if (o.throwOnFirstRecordFailure !== undefined && typeof o.throwOnFirstRecordFailure !== 'boolean') {
    throw new StreamBatchConfigurationError(
      'throwOnFirstRecordFailure',
      `must be true or false (given ${show(o.throwOnFirstRecordFailure)})`,
    );
  }
  if (o.logger !== undefined && o.logger !== null && typeof o.logger?.warn !== 'function') {
    throw new StreamBatchConfigurationError(
      'logger',
      `must have a warn method (a Powertools Logger, console) or be null (given ${show(o.logger)})`,
    );
  }
  return {
    context: o.context,
    deaggregate: o.deaggregate ?? true,
    unmarshallOptions: o.unmarshallOptions,
    throwOnFirstRecordFailure: o.throwOnFirstRecordFailure ?? true,
    onRecordFailure: o.onRecordFailure,
    logger: resolveLogger(o.logger),
  };
}

type Source = 'aws:kinesis' | 'aws:dynamodb';

function sourceOf(records: ReadonlyArray<{ eventSource?: string }>): Source {
  const sources = new Set(records.map((r) => r.eventSource));
  const [source] = sources;
  if (sources.size > 1) throw new UnsupportedStreamEventError(`the batch mixes event sources (${[...sources].join(', ')})`);
  if (source !== 'aws:kinesis' && source !== 'aws:dynamodb') {
    throw new UnsupportedStreamEventError(
      `records come from ${show(source)}, not from a Kinesis or DynamoDB stream (aws:kinesis, aws:dynamodb)`,
      {
        context: { eventSource: source },
      },
    );
  }
  return source;
}

/**
 * Processes a Kinesis or DynamoDB Streams batch **in order, stopping at the first failure**, and
 * returns the partial batch response (`ReportBatchItemFailures` must be on in the event source
 * mapping): `{ batchItemFailures: [] }` when every record succeeded, else the failed record's
 * sequence number alone. Lambda checkpoints before that record and retries the batch from it, so
 * the records before it are never delivered again and the failed one is retried first.
 *
 * Why not Powertools' `BatchProcessor`: for streams it processes records in parallel by default,
 * and even with `processInParallel: false` it goes on after a failure and reports every failed
 * record. Lambda retries from the lowest reported sequence number anyway, so the records processed
 * after the failure are processed again on the retry, and they were processed before the failed
 * one: per-key order is lost. It has no stop-at-first-failure mode, hence this helper.
 *
 * Records after the failure are not processed, **whatever their partition key**: a shard's batch
 * is retried from the checkpoint as a whole, so processing other keys now would only process them
 * twice (and, with the batch ordered by shard, they follow the failed record anyway).
 *
 * Kinesis records are decoded (`data` as a Buffer, `text()`, `json()`) and KPL-aggregated records
 * split into their user records (`deaggregate`). A user record that fails reports its *parent's*
 * sequence number (Lambda knows no sub-sequence numbers): the whole aggregated record is retried,
 * its user records before the failed one included. Handlers should be idempotent; `recordId`
 * (`<shardId>:<sequenceNumber>[:<subSequenceNumber>]`, the DynamoDB `eventID`) is a stable key for
 * it. A corrupt aggregated record fails like a handler error (`KinesisDeaggregationError`).
 *
 * @example
 * export const handler = (event: KinesisStreamEvent, context: Context) =>
 *   processStreamBatch(event, async (item) => {
 *     await apply(item.json<Reading>(), { idempotencyKey: item.recordId });
 *   }, { context });
 */
export function processStreamBatch(
  event: KinesisStreamEvent,
  recordHandler: KinesisRecordHandler,
  options?: StreamBatchOptions,
): Promise<StreamBatchResponse>;
export function processStreamBatch<T = Record<string, unknown>>(
  event: DynamoDBStreamEvent,
  recordHandler: DynamoDBRecordHandler<T>,
  options?: StreamBatchOptions,
): Promise<StreamBatchResponse>;
export function processStreamBatch(
  event: KinesisStreamEvent | DynamoDBStreamEvent,
  recordHandler: KinesisRecordHandler | DynamoDBRecordHandler,
  options?: StreamBatchOptions,
): Promise<StreamBatchResponse>;
export async function processStreamBatch(
  event: KinesisStreamEvent | DynamoDBStreamEvent,
  recordHandler: KinesisRecordHandler | DynamoDBRecordHandler,
  options?: StreamBatchOptions,
): Promise<StreamBatchResponse> {
  return run(event, recordHandler as (item: StreamItem, context?: Context) => unknown, resolveOptions(recordHandler, options));
}

async function run(
  event: KinesisStreamEvent | DynamoDBStreamEvent,
  recordHandler: (item: StreamItem, context?: Context) => unknown,
  o: Resolved,
): Promise<StreamBatchResponse> {
  const records = (event as { Records?: unknown } | undefined)?.Records;
  if (!Array.isArray(records)) throw new UnsupportedStreamEventError('the event has no Records array: it is not a stream batch');
  if (records.length === 0) return { batchItemFailures: [] };
  const source = sourceOf(records);

  for (const [position, record] of (records as Array<KinesisStreamRecord | DynamoDBRecord>).entries()) {
    let current: StreamItem | undefined;
    try {
      const items: StreamItem[] =
        source === 'aws:kinesis'
          ? kinesisStreamItems(record as KinesisStreamRecord, { deaggregate: o.deaggregate })
          : [dynamoDBStreamItem(record as DynamoDBRecord, { unmarshallOptions: o.unmarshallOptions })];
      for (const item of items) {
        current = item;
        await recordHandler(item, o.context);
      }
    } catch (error) {
      const failure = describeFailure(source, record, current, position, records.length, error);
      o.logger?.warn('stream record processing failed', { ...failure, ...errorFields(error) });
      if (o.onRecordFailure) {
        try {
          await o.onRecordFailure(record, failure, error);
        } catch (hookError) {
          o.logger?.warn('onRecordFailure failed', { recordId: failure.recordId, ...errorFields(hookError) });
        }
      }
      // Without a sequence number there is no checkpoint to report: fail the invocation, Lambda retries the whole batch.
      if (!failure.sequenceNumber) throw error;
      // The first record failed, so nothing of the batch was processed: reporting it would retry the
      // very same batch, and when the retries run out Lambda would skip the healthy records behind
      // it too. Failing the invocation instead lets a mapping with BisectBatchOnFunctionError split
      // the batch until the failing record is alone, at no cost in repeated work.
      if (position === 0 && o.throwOnFirstRecordFailure) throw error;
      return { batchItemFailures: [{ itemIdentifier: failure.sequenceNumber }] };
    }
  }
  return { batchItemFailures: [] };
}

function describeFailure(
  source: Source,
  record: KinesisStreamRecord | DynamoDBRecord,
  item: StreamItem | undefined,
  position: number,
  total: number,
  error: unknown,
): StreamRecordFailure {
  const { errorName, errorMessage } = errorFields(error instanceof Error ? error : new Error(String(error))) as {
    errorName: string;
    errorMessage: string;
  };
  const common = { eventSourceARN: record.eventSourceARN, position, recordsLeftForRetry: total - position, errorName, errorMessage };
  if (source === 'aws:kinesis') {
    const k = record as KinesisStreamRecord;
    const kinesisItem = item as KinesisStreamItem | undefined;
    return {
      eventSource: source,
      recordId: kinesisItem?.recordId ?? k.eventID,
      sequenceNumber: k.kinesis.sequenceNumber,
      ...(kinesisItem?.subSequenceNumber === undefined ? {} : { subSequenceNumber: kinesisItem.subSequenceNumber }),
      partitionKey: kinesisItem?.partitionKey ?? k.kinesis.partitionKey,
      ...common,
    };
  }
  const d = record as DynamoDBRecord;
  return { eventSource: source, recordId: d.eventID ?? '', sequenceNumber: d.dynamodb?.SequenceNumber ?? '', ...common };
}

/**
 * Wraps a record handler into a Lambda handler for a Kinesis or DynamoDB stream event source
 * mapping (with `ReportBatchItemFailures`); see {@link processStreamBatch}. Options are checked
 * here, when the module loads. Annotate the item for DynamoDB streams.
 *
 * @example
 * export const handler = streamBatchHandler(async (item: DynamoDBStreamItem<Order>) => { ... });
 */
export function streamBatchHandler(
  recordHandler: KinesisRecordHandler,
  options?: Omit<StreamBatchOptions, 'context'>,
): (event: KinesisStreamEvent, context: Context) => Promise<StreamBatchResponse>;
export function streamBatchHandler<T = Record<string, unknown>>(
  recordHandler: DynamoDBRecordHandler<T>,
  options?: Omit<StreamBatchOptions, 'context'>,
): (event: DynamoDBStreamEvent, context: Context) => Promise<StreamBatchResponse>;
export function streamBatchHandler(
  recordHandler: KinesisRecordHandler | DynamoDBRecordHandler,
  options: Omit<StreamBatchOptions, 'context'> = {},
): (event: KinesisStreamEvent | DynamoDBStreamEvent, context: Context) => Promise<StreamBatchResponse> {
  const resolved = resolveOptions(recordHandler, options);
  const handler = recordHandler as (item: StreamItem, context?: Context) => unknown;
  return (event, context) => run(event, handler, { ...resolved, context });
}
