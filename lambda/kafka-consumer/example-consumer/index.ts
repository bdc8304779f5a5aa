/**
 * Example Kafka consumer, used by the integration tests: a ledger of applied messages.
 *
 * Each record's value is JSON `{ "id": "...", "fault"?: "poison" | "crash-after-effect" }`. The
 * effect is a DynamoDB write to `TABLE_NAME` (`ADD applied :1` on the item `pk = id`), committed
 * with its idempotency record in one transaction (`TransactionalIdempotency`, keyed by the record's
 * `recordId`, `<topic>-<partition>:<offset>`, the default key): a record delivered again — a retried
 * batch, a crash after the effect, a rebalance or a replay of the partition — is a duplicate, and
 * `applied` stays 1. Every delivery is counted too (`ADD deliveries :1`, outside the transaction), so
 * a test sees the redeliveries the idempotency library absorbed.
 *
 * With `FAULT_INJECTION=on`: `"fault": "poison"` always fails (its reason is written to the item
 * `pk = failure#<id>`); `"fault": "crash-after-effect"` exits the process right after the effect
 * was committed the first time (the invocation fails, Lambda retries the batch, the record is a
 * duplicate then).
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { TransactionalIdempotency } from '../../runtime/idempotency/transactional';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';
import { type KafkaBatchResponse, type KafkaRecordFailure, processKafkaBatch } from '../../runtime/kafka/process';
import type { KafkaEvent, KafkaRecord } from '../../runtime/kafka/records';

/** A message of the example topic. */
export interface ExampleMessage {
  readonly id: string;
  readonly fault?: 'poison' | 'crash-after-effect';
}

/** Thrown for a record that can never be processed. */
export class InvalidMessageError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = 'InvalidMessageError';
  }
}

const logger = handlerLogger('kafka-example-consumer');
const dynamodb = new DynamoDBClient({});
const tableName = process.env[EXAMPLE_ENV.tableName] ?? '';
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';
let idempotency: TransactionalIdempotency | undefined;

function parse(record: KafkaRecord): ExampleMessage {
  const m = record.json<Partial<ExampleMessage>>();
  if (typeof m !== 'object' || m === null || typeof m.id !== 'string' || m.id === '') {
    throw new InvalidMessageError(`record ${record.recordId}: id must be a non-empty string`, { recordId: record.recordId });
  }
  return m as ExampleMessage;
}

const count = (pk: string, attribute: string, extra: Record<string, string> = {}) =>
  dynamodb.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { pk: { S: pk } },
      UpdateExpression: `ADD #a :one${
        Object.keys(extra).length
          ? ` SET ${Object.keys(extra)
              .map((_k, i) => `#e${i} = :e${i}`)
              .join(', ')}`
          : ''
      }`,
      ExpressionAttributeNames: { '#a': attribute, ...Object.fromEntries(Object.keys(extra).map((k, i) => [`#e${i}`, k])) },
      ExpressionAttributeValues: { ':one': { N: '1' }, ...Object.fromEntries(Object.values(extra).map((v, i) => [`:e${i}`, { S: v }])) },
    }),
  );

async function processRecord(record: KafkaRecord): Promise<void> {
  const m = parse(record);
  await count(m.id, 'deliveries', { lastRecordId: record.recordId });
  if (faultsOn && m.fault === 'poison') throw new InvalidMessageError(`message ${m.id}: poison message`, { id: m.id });
  idempotency ??= new TransactionalIdempotency({ client: dynamodb });
  const outcome = await idempotency.applyOnce(record, {
    items: [
      {
        Update: {
          TableName: tableName,
          Key: { pk: m.id },
          UpdateExpression: 'ADD applied :one SET recordId = :r',
          ExpressionAttributeValues: { ':one': 1, ':r': record.recordId },
        },
      },
    ],
  });
  if (faultsOn && m.fault === 'crash-after-effect' && outcome.status === 'applied') {
    logger.warn('crashing after the effect (fault injection)', { id: m.id, recordId: record.recordId });
    process.exit(1);
  }
}

async function recordFailure(record: KafkaRecord, failure: KafkaRecordFailure): Promise<void> {
  let id = record.recordId;
  try {
    id = parse(record).id;
  } catch {
    // not our message: keyed by its record id
  }
  await count(`failure#${id}`, 'attempts', { reason: `${failure.errorName}: ${failure.errorMessage}`, recordId: record.recordId });
}

export const handler = (event: KafkaEvent, context: Context): Promise<KafkaBatchResponse> =>
  processKafkaBatch(event, processRecord, { context, logger, onRecordFailure: recordFailure });
