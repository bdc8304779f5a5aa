/**
 * Example Amazon MQ consumer (RabbitMQ and ActiveMQ), used by the integration tests: a ledger of
 * applied messages.
 *
 * Each message's body is JSON `{ "id": "...", "fault"?: "poison" | "crash-after-effect" }`. The
 * effect is a DynamoDB write to `TABLE_NAME` (`ADD applied :1` on the item `pk = id`), committed
 * with its idempotency record in one transaction (`TransactionalIdempotency`, keyed by the message's
 * `id`, the default key: RabbitMQ's `messageId`, ActiveMQ's `messageID`): the broker redelivers a
 * failed batch whole, and the messages already applied are duplicates then. Every delivery is
 * counted too (`ADD deliveries :1`, outside the transaction).
 *
 * With `FAULT_INJECTION=on`: `"fault": "poison"` always fails (its reason is written to
 * `pk = failure#<id>`, since the broker's dead-letter queue keeps none); `"fault":
 * "crash-after-effect"` exits the process right after the effect was committed the first time (the
 * broker redelivers the batch).
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import type { BrokerMessageFailure } from '../../runtime/broker/errors';
import type { BrokerEvent, BrokerMessage } from '../../runtime/broker/messages';
import { type BrokerBatchResult, processBrokerBatch } from '../../runtime/broker/process';
import { TransactionalIdempotency } from '../../runtime/idempotency/transactional';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';

/** A message of the example queue. */
export interface ExampleMessage {
  readonly id: string;
  readonly fault?: 'poison' | 'crash-after-effect';
}

/** Thrown for a message that can never be processed. */
export class InvalidMessageError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = 'InvalidMessageError';
  }
}

const logger = handlerLogger('broker-example-consumer');
const dynamodb = new DynamoDBClient({});
const tableName = process.env[EXAMPLE_ENV.tableName] ?? '';
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';
let idempotency: TransactionalIdempotency | undefined;

function parse(message: BrokerMessage): ExampleMessage {
  const m = message.json<Partial<ExampleMessage>>();
  if (typeof m !== 'object' || m === null || typeof m.id !== 'string' || m.id === '') {
    throw new InvalidMessageError(`message ${message.messageId}: id must be a non-empty string`, { messageId: message.messageId });
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

async function processMessage(message: BrokerMessage): Promise<void> {
  const m = parse(message);
  await count(m.id, 'deliveries', { source: message.source, redelivered: String(message.redelivered) });
  if (faultsOn && m.fault === 'poison') throw new InvalidMessageError(`message ${m.id}: poison message`, { id: m.id });
  idempotency ??= new TransactionalIdempotency({ client: dynamodb });
  const outcome = await idempotency.applyOnce(message, {
    items: [
      {
        Update: {
          TableName: tableName,
          Key: { pk: m.id },
          UpdateExpression: 'ADD applied :one SET brokerMessageId = :b',
          ExpressionAttributeValues: { ':one': 1, ':b': message.messageId },
        },
      },
    ],
  });
  if (faultsOn && m.fault === 'crash-after-effect' && outcome.status === 'applied') {
    logger.warn('crashing after the effect (fault injection)', { id: m.id, messageId: message.messageId });
    process.exit(1);
  }
}

async function recordFailure(message: BrokerMessage, failure: BrokerMessageFailure): Promise<void> {
  let id = message.messageId;
  try {
    id = parse(message).id;
  } catch {
    // not our message: keyed by its broker message id
  }
  await count(`failure#${id}`, 'attempts', { reason: `${failure.errorName}: ${failure.errorMessage}`, queue: message.queue });
}

export const handler = (event: BrokerEvent, context: Context): Promise<BrokerBatchResult> =>
  processBrokerBatch(event, processMessage, { context, logger, onMessageFailure: recordFailure });
