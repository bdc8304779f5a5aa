/**
 * Example sequential-convoy consumer: a projector that applies each entity's events in order.
 *
 * Each message is an event `{ "entityId": "...", "seq": 1, "eventId": "..." }`. Applying it appends
 * `seq` to the entity's `applied` list and sets `lastSeq` in the DynamoDB table `TABLE_NAME`, so the
 * item shows the exact order in which the entity's events were applied (the integration tests read
 * it to prove order, completeness and that nothing was applied twice). The append is deliberately
 * unconditional: this consumer records what the convoy delivered, it does not hide duplicates.
 * A production projector would make it conditional (`lastSeq = :seq - 1`) or use Powertools
 * idempotency.
 *
 * Test switches in the event: `failOnFirstDelivery: true` fails the first delivery, `failDeliveries: n`
 * the first n deliveries (the group stops there and resumes in order on the next delivery);
 * `poison: true` always fails.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';
import { type ConvoyMessage, processConvoyBatch } from '../../runtime/sequential-convoy/consumer';

/** An entity event. */
export interface EntityEvent {
  readonly entityId: string;
  readonly seq: number;
  readonly eventId?: string;
  readonly failOnFirstDelivery?: boolean;
  readonly failDeliveries?: number;
  readonly poison?: boolean;
}

/** Thrown for an event that can never be applied. */
export class InvalidEventError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = 'InvalidEventError';
  }
}

/** Thrown for a failure a test asked for (`failOnFirstDelivery`, `failDeliveries`): the next delivery may succeed. */
export class TransientEventError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: true, context });
    this.name = 'TransientEventError';
  }
}

const logger = handlerLogger('sequential-convoy-consumer');
const dynamodb = new DynamoDBClient({});
const tableName = process.env[EXAMPLE_ENV.tableName];

async function applyEvent({ body, groupId, receiveCount }: ConvoyMessage<EntityEvent>): Promise<void> {
  if (typeof body !== 'object' || body === null || typeof body.entityId !== 'string' || !Number.isInteger(body.seq)) {
    throw new InvalidEventError(`event of group ${groupId}: entityId must be a string and seq an integer`, { groupId });
  }
  if (body.entityId !== groupId) {
    throw new InvalidEventError(`event ${body.eventId ?? body.seq}: entity ${body.entityId} was sent in group ${groupId}`, {
      groupId,
      entityId: body.entityId,
    });
  }
  if (body.poison) throw new InvalidEventError(`event ${body.entityId}#${body.seq}: poison event`, { groupId, seq: body.seq });
  const failing = body.failDeliveries ?? (body.failOnFirstDelivery ? 1 : 0);
  if (receiveCount <= failing) {
    throw new TransientEventError(`event ${body.entityId}#${body.seq}: transient failure on delivery ${receiveCount}`, {
      groupId,
      seq: body.seq,
      receiveCount,
    });
  }
  if (!tableName) return;
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { entityId: { S: body.entityId } },
      UpdateExpression: 'SET applied = list_append(if_not_exists(applied, :empty), :seq), lastSeq = :n',
      ExpressionAttributeValues: {
        ':empty': { L: [] },
        ':seq': { L: [{ N: String(body.seq) }] },
        ':n': { N: String(body.seq) },
      },
    }),
  );
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processConvoyBatch<EntityEvent>(event, applyEvent, { context, throwOnFullBatchFailure: false, logger });
};
