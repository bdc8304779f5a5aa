/**
 * Example stream-pipeline consumer, used by the integration tests.
 *
 * Each Kinesis record is JSON `{ "key": "...", "seq": 1 }` (the producer uses `key` as the
 * partition key). The consumer reports each record it processed to `RESULTS_QUEUE_URL`: a FIFO
 * queue gets the partition key as message group, so the results of one key arrive in the order
 * they were processed, and a random deduplication id, so a record processed twice shows twice.
 * `"poison": true` always fails.
 *
 * Records go through `processStreamBatch`: in order, stopping at the first failure and reporting
 * its sequence number; when the failure is the batch's first record it fails the invocation, so the
 * mapping bisects the batch until the poison record is alone (see `throwOnFirstRecordFailure`).
 */
import { randomUUID } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import type { KinesisStreamItem } from '../../runtime/stream/kinesis';
import { type StreamBatchResponse, processStreamBatch } from '../../runtime/stream/process';

/** A record of the example stream. */
export interface ExampleRecord {
  readonly key: string;
  readonly seq: number;
  readonly poison?: boolean;
}

/** Thrown for a record that can never be processed. */
export class InvalidRecordError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = 'InvalidRecordError';
  }
}

const sqs = new SQSClient({});
const resultsQueueUrl = process.env[EXAMPLE_ENV.resultsQueueUrl];

async function processRecord(item: KinesisStreamItem): Promise<void> {
  const record = item.json<Partial<ExampleRecord>>();
  if (typeof record !== 'object' || record === null || typeof record.key !== 'string' || !Number.isInteger(record.seq)) {
    throw new InvalidRecordError(`record ${item.recordId}: key must be a string and seq an integer`, { recordId: item.recordId });
  }
  if (record.poison) throw new InvalidRecordError(`record ${record.key}#${record.seq}: poison record`, { recordId: item.recordId });
  if (!resultsQueueUrl) return;
  const fifo = resultsQueueUrl.endsWith('.fifo');
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: resultsQueueUrl,
      MessageBody: JSON.stringify({
        key: record.key,
        seq: record.seq,
        recordId: item.recordId,
        shardId: item.shardId,
        sequenceNumber: item.sequenceNumber,
      }),
      ...(fifo ? { MessageGroupId: item.partitionKey, MessageDeduplicationId: randomUUID() } : {}),
    }),
  );
}

export const handler = (event: KinesisStreamEvent, context: Context): Promise<StreamBatchResponse> =>
  processStreamBatch(event, processRecord, { context });
