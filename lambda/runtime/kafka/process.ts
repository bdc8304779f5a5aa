import type { Context } from 'aws-lambda';
import { isRetryable } from '../internal/errors';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import { type Fail, checkBoolean, checkFunction, checkLogger } from '../internal/options';
import { KafkaConfigurationError } from './errors';
import { type KafkaEvent, type KafkaPartitionBatch, type KafkaRecord, kafkaPartitions } from './records';

/** One entry of a Kafka partial batch response: the partition (`<topic>-<partition>`) and the offset to retry from. */
export interface KafkaItemIdentifier {
  readonly partition: string;
  readonly offset: number;
}

/**
 * The partial batch response of a Kafka event source mapping (`ReportBatchItemFailures` on): for
 * each partition that failed, its first failed offset. Lambda commits the other partitions and
 * each failed partition up to that offset, and retries from there.
 */
export interface KafkaBatchResponse {
  readonly batchItemFailures: Array<{ readonly itemIdentifier: KafkaItemIdentifier }>;
}

/** Handles one Kafka record. Throw (or reject) to stop its partition there. */
export type KafkaRecordHandler = (record: KafkaRecord, context?: Context) => unknown;

/** A structured record of a partition's failure, passed to `onRecordFailure` and logged. */
export interface KafkaRecordFailure {
  readonly recordId: string;
  readonly topicPartition: string;
  readonly offset: number;
  /** The failed record's position in its partition's part of the batch, from 0. */
  readonly position: number;
  /** Records of the partition left for the retry, the failed one included (none was processed after it). */
  readonly recordsLeftForRetry: number;
  readonly errorName: string;
  readonly errorMessage: string;
  readonly retryable: boolean;
}

/** Options of {@link processKafkaBatch}. */
export interface KafkaBatchOptions {
  /** The Lambda context, passed on to the record handler. */
  readonly context?: Context;
  /**
   * Process the partitions of the batch concurrently (each one in offset order). Off by default:
   * the handler then runs one record at a time, which is what most downstream systems expect.
   *
   * @default false
   */
  readonly processPartitionsInParallel?: boolean;
  /**
   * When no record of the batch succeeded (every failed partition failed at its first record and
   * no other partition had a record to process), fail the invocation (throw) instead of reporting
   * the failures, so that the mapping's `BisectBatchOnFunctionError` splits the batch until the
   * failing record is alone and only it reaches the on-failure destination. Nothing was processed,
   * so throwing repeats no work.
   *
   * @default true
   */
  readonly throwWhenNothingSucceeded?: boolean;
  /**
   * Called with each record that stopped its partition, before the response is returned; use it to
   * record the reason (a side record an operator reads next to the on-failure metadata). Errors it
   * throws are logged and ignored.
   *
   * @default - none
   */
  readonly onRecordFailure?: (record: KafkaRecord, failure: KafkaRecordFailure, error: unknown) => unknown;
  /**
   * Where failures are logged (`kafka record processing failed`, with the
   * {@link KafkaRecordFailure} fields). `null` turns logging off.
   *
   * @default - the shared Powertools Logger
   */
  readonly logger?: RuntimeLogger | null;
}

interface Resolved {
  readonly context?: Context;
  readonly parallel: boolean;
  readonly throwWhenNothingSucceeded: boolean;
  readonly onRecordFailure?: KafkaBatchOptions['onRecordFailure'];
  readonly logger: RuntimeLogger | null;
}

const fail: Fail = (option, message, value) => {
  throw new KafkaConfigurationError(option, message, { value });
};

function resolveOptions(recordHandler: unknown, options: KafkaBatchOptions | undefined): Resolved {
  if (typeof recordHandler !== 'function')
    fail('recordHandler', `recordHandler must be a function (given ${typeof recordHandler})`, recordHandler);
  const o = options ?? {};
  if (typeof o !== 'object') fail('options', `options must be an object (given ${typeof o})`, o);
  if (o.context !== undefined && (typeof o.context !== 'object' || o.context === null)) {
    fail('context', 'context must be the Lambda context object', o.context);
  }
  checkBoolean(fail, 'processPartitionsInParallel', o.processPartitionsInParallel);
  checkBoolean(fail, 'throwWhenNothingSucceeded', o.throwWhenNothingSucceeded);
  checkFunction(fail, 'onRecordFailure', o.onRecordFailure);
  checkLogger(fail, 'logger', o.logger);
  return {
    context: o.context,
    parallel: o.processPartitionsInParallel ?? false,
    throwWhenNothingSucceeded: o.throwWhenNothingSucceeded ?? true,
    onRecordFailure: o.onRecordFailure,
    logger: resolveLogger(o.logger),
  };
}

interface PartitionOutcome {
  readonly succeeded: number;
  readonly failure?: { readonly record: KafkaRecord; readonly error: unknown; readonly info: KafkaRecordFailure };
}

async function processPartition(batch: KafkaPartitionBatch, handler: KafkaRecordHandler, o: Resolved): Promise<PartitionOutcome> {
  let succeeded = 0;
  for (const [position, record] of batch.records.entries()) {
    try {
      await handler(record, o.context);
      succeeded += 1;
    } catch (error) {
      const { errorName, errorMessage } = errorFields(error instanceof Error ? error : new Error(String(error))) as {
        errorName: string;
        errorMessage: string;
      };
      const info: KafkaRecordFailure = {
        recordId: record.recordId,
        topicPartition: batch.topicPartition,
        offset: record.offset,
        position,
        recordsLeftForRetry: batch.records.length - position,
        errorName,
        errorMessage,
        retryable: isRetryable(error),
      };
      return { succeeded, failure: { record, error, info } };
    }
  }
  return { succeeded };
}

/**
 * Processes an MSK or self-managed Kafka batch **in offset order per partition, stopping each
 * partition at its first failure**, and returns the partial batch response in AWS's Kafka format
 * (`ReportBatchItemFailures` on, as `KafkaConsumer` sets it): one
 * `{ itemIdentifier: { partition: '<topic>-<partition>', offset } }` per failed partition, its
 * first failed offset. Lambda commits every other partition, and each failed one up to that offset,
 * and retries from it: the records before it are not delivered again, and nothing of the partition
 * after it was processed (its order is kept). Other partitions go on: a poison record holds back
 * its own partition only.
 *
 * When nothing in the batch succeeded, it throws the first error instead (see
 * `throwWhenNothingSucceeded`), so that Lambda bisects the batch down to the failing record.
 *
 * Kafka delivers at least once — a retried batch, a rebalance of the mapping's consumer group, a
 * replayed partition — so make the handler idempotent, keyed by `record.recordId` (the
 * `idempotencyKey` the idempotency library reads by default) or by an id in the value.
 *
 * Why not Powertools' `BatchProcessor`: the TypeScript one has no Kafka event type (the Python one
 * reports every failed record, which loses per-partition order for the same reason as with
 * Kinesis: see `processStreamBatch`).
 *
 * @throws KafkaConfigurationError when an option is invalid, UnsupportedKafkaEventError when the
 *   event is not a Kafka batch (nothing is processed)
 *
 * @example
 * const idempotency = new TransactionalIdempotency();
 * export const handler = (event: KafkaEvent, context: Context) =>
 *   processKafkaBatch(event, (record) => idempotency.applyOnce(record, () => applyOrder(record.json<Order>())), { context });
 */
export async function processKafkaBatch(
  event: KafkaEvent,
  recordHandler: KafkaRecordHandler,
  options?: KafkaBatchOptions,
): Promise<KafkaBatchResponse> {
  return run(event, recordHandler, resolveOptions(recordHandler, options));
}

async function run(event: KafkaEvent, recordHandler: KafkaRecordHandler, o: Resolved): Promise<KafkaBatchResponse> {
  const partitions = kafkaPartitions(event);
  const outcomes: PartitionOutcome[] = [];
  if (o.parallel) {
    outcomes.push(...(await Promise.all(partitions.map((p) => processPartition(p, recordHandler, o)))));
  } else {
    for (const p of partitions) outcomes.push(await processPartition(p, recordHandler, o));
  }
  const failures = outcomes.flatMap((out) => (out.failure ? [out.failure] : []));
  if (failures.length === 0) return { batchItemFailures: [] };

  for (const f of failures) {
    o.logger?.warn('kafka record processing failed', { ...f.info, ...errorFields(f.error) });
    if (o.onRecordFailure) {
      try {
        await o.onRecordFailure(f.record, f.info, f.error);
      } catch (hookError) {
        o.logger?.warn('onRecordFailure failed', { recordId: f.info.recordId, ...errorFields(hookError) });
      }
    }
  }
  // Nothing of the batch was processed: reporting the failures would retry the very same batch,
  // and once the retries run out Lambda would discard the healthy records behind the failed ones
  // too. Failing the invocation lets the mapping bisect the batch instead, at no cost in repeated work.
  if (o.throwWhenNothingSucceeded && outcomes.every((out) => out.succeeded === 0)) throw failures[0].error;
  return { batchItemFailures: failures.map((f) => ({ itemIdentifier: { partition: f.info.topicPartition, offset: f.info.offset } })) };
}

/**
 * Wraps a record handler into a Lambda handler for a Kafka event source mapping (with
 * `ReportBatchItemFailures`); see {@link processKafkaBatch}. Options are checked here, when the
 * module loads.
 *
 * @example
 * export const handler = kafkaBatchHandler(async (record) => save(record.json<Order>()));
 */
export function kafkaBatchHandler(
  recordHandler: KafkaRecordHandler,
  options: Omit<KafkaBatchOptions, 'context'> = {},
): (event: KafkaEvent, context: Context) => Promise<KafkaBatchResponse> {
  const resolved = resolveOptions(recordHandler, options);
  return (event, context) => run(event, recordHandler, { ...resolved, context });
}
