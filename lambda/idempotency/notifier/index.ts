/**
 * Example idempotent consumer, lock mode: order notifications whose effect is an SQS publish (an
 * effect outside DynamoDB, so it cannot share a transaction with the idempotency record).
 *
 * Each message is an order event `{ "orderId", "status" }` (checked with a Zod schema). The key is
 * the order id (`keySelector: 'powertools_json(body).orderId'`), so the same order event sent twice
 * by a producer is one notification. The publish runs under a lock (an `INPROGRESS` record expiring
 * with the invocation); its result, the notification's message id, is stored and returned to
 * duplicates. When `OUTPUT_QUEUE_URL` is a FIFO queue, the idempotency key is also the
 * notification's `MessageDeduplicationId`: a crash between the publish and the completion record
 * (lock mode's one window) is then absorbed by SQS deduplication for 5 minutes.
 *
 * Environment: `OUTPUT_QUEUE_URL`, `IDEMPOTENCY_TABLE_NAME` (set by `IdempotencyTable.connectConsumer`),
 * `FAULT_INJECTION=on` only in tests: then an order's `fault` field injects a failure on its first
 * delivery (`fail-before-publish`: the lock is released and the retry publishes;
 * `crash-after-complete`: the process exits after the completion record, before the batch is
 * acknowledged).
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
// zod/mini with the English messages: 20 KiB in the bundle instead of 440 KiB for `import { z } from 'zod'`.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { LockIdempotency } from '../../runtime/idempotency/lock';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';

/** An order event. */
export const OrderEventSchema = z.object({
  orderId: z.string().check(z.minLength(1)),
  status: z.enum(['placed', 'paid', 'shipped']),
  fault: z.optional(z.enum(['fail-before-publish', 'crash-after-complete'])),
});
export type OrderEvent = z.infer<typeof OrderEventSchema>;

/** Thrown for a message that can never become a valid order event. */
export class InvalidOrderEventError extends MessagingPatternsRuntimeError {
  constructor(messageId: string, issues: string) {
    super(`message ${messageId} is not a valid order event: ${issues}`, { retryable: false, context: { messageId } });
    this.name = 'InvalidOrderEventError';
  }
}

/** Thrown for a failure injected by a test (FAULT_INJECTION=on), on the first delivery only: retryable. */
export class InjectedFaultError extends MessagingPatternsRuntimeError {
  constructor(fault: string, orderId: string) {
    super(`injected fault ${fault} for order ${orderId}`, { retryable: true, context: { fault, orderId } });
    this.name = 'InjectedFaultError';
  }
}

const logger = handlerLogger('idempotency-notifier');
const sqs = new SQSClient({});
const outputQueueUrl = process.env[EXAMPLE_ENV.outputQueueUrl] ?? '';
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';
z.config(en());
const idempotency = new LockIdempotency({ keySelector: 'powertools_json(body).orderId' });

function readOrderEvent(record: SQSRecord): OrderEvent {
  const parsed = OrderEventSchema.safeParse(parseJsonBody(record));
  if (!parsed.success) {
    throw new InvalidOrderEventError(
      record.messageId,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

/** The effect: one notification per order event. Runs under the lock. */
const notifyOnce = idempotency.makeIdempotent(async (record: SQSRecord, order: OrderEvent, _context: Context) => {
  const firstDelivery = record.attributes.ApproximateReceiveCount === '1';
  if (faultsOn && firstDelivery && order.fault === 'fail-before-publish') throw new InjectedFaultError(order.fault, order.orderId);
  const key = idempotency.idempotencyKeyOf(record);
  const fifo = outputQueueUrl.endsWith('.fifo');
  const sent = await sqs.send(
    new SendMessageCommand({
      QueueUrl: outputQueueUrl,
      MessageBody: JSON.stringify({ orderId: order.orderId, status: order.status, messageId: record.messageId, idempotencyKey: key }),
      ...(fifo ? { MessageGroupId: order.orderId, MessageDeduplicationId: key.slice(-128) } : {}),
    }),
  );
  return { notificationId: sent.MessageId };
});

async function processOrderEvent(record: SQSRecord, context?: Context): Promise<void> {
  const order = readOrderEvent(record);
  await notifyOnce(record, order, context!);
  if (faultsOn && record.attributes.ApproximateReceiveCount === '1' && order.fault === 'crash-after-complete') {
    logger.error('injected crash after completion', { orderId: order.orderId });
    process.exit(1);
  }
}

// One record at a time: if the process dies, at most one effect can be inside lock mode's window
// (published, completion not yet recorded), instead of every record in flight.
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processSqsBatch(event, processOrderEvent, { context, throwOnFullBatchFailure: false, processInParallel: false, logger });
};
