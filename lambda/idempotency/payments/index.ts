/**
 * Example idempotent consumer, transactional mode: payments whose effect is a DynamoDB write.
 *
 * Each message is a payment `{ "paymentId", "accountId", "amountCents" }` (checked with a Zod
 * schema). Its effect, committed in ONE `TransactWriteItems` request together with the idempotency
 * record, is:
 * - `payment#<paymentId>`: the payment, with `applications` incremented (1 when applied once);
 * - `account#<accountId>`: `balanceCents` increased, and the payment id appended to `paymentIds`
 *   (in the order payments were applied: per-account order on a FIFO queue grouped by account).
 *
 * A duplicate (the same `idempotencyKey` attribute, or the same SQS message redelivered) writes
 * nothing and is acknowledged; a malformed or invalid payment fails and reaches the dead-letter
 * queue after `maxReceiveCount` receives.
 *
 * Environment: `PAYMENTS_TABLE_NAME` (partition key `pk`, string), `IDEMPOTENCY_TABLE_NAME` (set by
 * `IdempotencyTable.connectConsumer`), `FAULT_INJECTION=on` only in tests: then a payment's `fault` field
 * injects a failure on its first delivery (`fail-before-commit`, `throw-after-commit`,
 * `crash-after-commit`: the process exits right after the commit).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
// zod/mini with the English messages: 20 KiB in the bundle instead of 440 KiB for `import { z } from 'zod'`.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { TransactionalIdempotency } from '../../runtime/idempotency/transactional';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';

/** A payment message. */
export const PaymentSchema = z.object({
  paymentId: z.string().check(z.minLength(1)),
  accountId: z.string().check(z.minLength(1)),
  amountCents: z.number().check(z.int(), z.positive()),
  fault: z.optional(z.enum(['fail-before-commit', 'throw-after-commit', 'crash-after-commit'])),
});
export type Payment = z.infer<typeof PaymentSchema>;

/** Thrown for a message that can never become a valid payment. */
export class InvalidPaymentError extends MessagingPatternsRuntimeError {
  constructor(messageId: string, issues: string) {
    super(`message ${messageId} is not a valid payment: ${issues}`, { retryable: false, context: { messageId } });
    this.name = 'InvalidPaymentError';
  }
}

/** Thrown for a failure injected by a test (FAULT_INJECTION=on), on the first delivery only: retryable. */
export class InjectedFaultError extends MessagingPatternsRuntimeError {
  constructor(fault: string, paymentId: string) {
    super(`injected fault ${fault} for payment ${paymentId}`, { retryable: true, context: { fault, paymentId } });
    this.name = 'InjectedFaultError';
  }
}

const logger = handlerLogger('idempotency-payments');
const paymentsTable = process.env[EXAMPLE_ENV.paymentsTableName] ?? '';
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';
z.config(en());
const idempotency = new TransactionalIdempotency();

function readPayment(record: SQSRecord): Payment {
  const parsed = PaymentSchema.safeParse(parseJsonBody(record));
  if (!parsed.success) {
    throw new InvalidPaymentError(
      record.messageId,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

async function processPayment(record: SQSRecord): Promise<void> {
  const payment = readPayment(record);
  const firstDelivery = record.attributes.ApproximateReceiveCount === '1';
  const fault = faultsOn && firstDelivery ? payment.fault : undefined;
  if (fault === 'fail-before-commit') throw new InjectedFaultError(fault, payment.paymentId);

  await idempotency.applyOnce(record, {
    items: [
      {
        Update: {
          TableName: paymentsTable,
          Key: { pk: `payment#${payment.paymentId}` },
          UpdateExpression: 'SET accountId = :account, amountCents = :amount, messageId = :mid ADD applications :one',
          ExpressionAttributeValues: { ':account': payment.accountId, ':amount': payment.amountCents, ':mid': record.messageId, ':one': 1 },
        },
      },
      {
        Update: {
          TableName: paymentsTable,
          Key: { pk: `account#${payment.accountId}` },
          UpdateExpression: 'ADD balanceCents :amount SET paymentIds = list_append(if_not_exists(paymentIds, :empty), :payment)',
          ExpressionAttributeValues: { ':amount': payment.amountCents, ':empty': [], ':payment': [payment.paymentId] },
        },
      },
    ],
    result: { paymentId: payment.paymentId },
  });

  if (fault === 'throw-after-commit') throw new InjectedFaultError(fault, payment.paymentId);
  if (fault === 'crash-after-commit') {
    logger.error('injected crash after commit', { paymentId: payment.paymentId });
    process.exit(1);
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processSqsBatch(event, processPayment, { context, throwOnFullBatchFailure: false, logger });
};
