/**
 * The sample order saga's steps, used by the showcase app and the integration tests: one function
 * for the actions and compensations of three steps (a `step` switch), each applied at most once per
 * idempotency token with `TransactionalSagaSteps` (the kit's transactional idempotency):
 *
 * | step | action | compensation |
 * |---|---|---|
 * | `reserve` | `inventory#<sku>` reserved += quantity; `reservation#<orderId>` RESERVED | reserved -= quantity; RELEASED |
 * | `charge` | `payment#<orderId>` CHARGED | REFUNDED |
 * | `ship` | `shipment#<orderId>` SCHEDULED | CANCELLED |
 *
 * Every effect item counts its `applications` and `compensations`, which is what the tests' ledger
 * reads to prove each was applied at most once. A compensation of an action that never took effect
 * is `skipped` (nothing written). Business rejections (`OutOfStock`, `PaymentDeclined`) are errors
 * the saga does not retry.
 *
 * Fault injection (tests only, `FAULT_INJECTION=on`): the input's `faults` maps `<step>:<phase>` to
 * `{ failTimes, kind, error, sleepMs }`; the first `failTimes` attempts (counted in the orders table,
 * `fault#<token>#<phase>`) fail: `error` (default) throws before any write, `after-effect` writes and
 * then throws (a lost response), `sleep` writes and then sleeps `sleepMs` (past the step's timeout).
 * Setting `repaired = true` on the counter item ends the faults (the "fix" before a resume).
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import type { TransactionalEffect } from '../../runtime/idempotency/transactional';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';
import type { SagaTaskEvent } from '../../runtime/saga/event';
import { TransactionalSagaSteps } from '../../runtime/saga/steps';

/** The order a saga runs for. */
export interface OrderInput {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly amountCents: number;
  /** Tests only: faults by `<step>:<phase>`. */
  readonly faults?: Readonly<Record<string, FaultSpec>>;
}

/** A fault to inject into a step's action or compensation. */
export interface FaultSpec {
  /** Attempts that fail (counted across retries and resumes). @default 1000 */
  readonly failTimes?: number;
  /** @default 'error' */
  readonly kind?: 'error' | 'after-effect' | 'sleep';
  /** The error name thrown (`kind: error` or `after-effect`). @default 'InjectedFault' */
  readonly error?: string;
  /** How long `kind: sleep` sleeps after writing. @default 10000 */
  readonly sleepMs?: number;
}

/** Thrown for an order the steps cannot take (never retried). */
export class InvalidOrderError extends MessagingPatternsRuntimeError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = 'InvalidOrderError';
  }
}

/** An injected fault (tests). */
export class InjectedFaultError extends MessagingPatternsRuntimeError {
  constructor(name: string, message: string) {
    super(message, { retryable: true });
    this.name = name;
  }
}

const logger = handlerLogger('saga-order-steps');
const ddb = new DynamoDBClient({});
const steps = new TransactionalSagaSteps({ client: ddb });
const TABLE = process.env[EXAMPLE_ENV.ordersTableName] ?? '';
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';

function readOrder(event: SagaTaskEvent<OrderInput>): OrderInput {
  const o = event.input;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.orderId !== 'string' ||
    typeof o.sku !== 'string' ||
    !Number.isInteger(o.quantity) ||
    o.quantity < 1 ||
    !Number.isInteger(o.amountCents) ||
    o.amountCents < 0
  ) {
    throw new InvalidOrderError(`saga ${event.sagaId}: input must be an order { orderId, sku, quantity >= 1, amountCents >= 0 }`);
  }
  return o;
}

const put = (pk: string, item: Record<string, unknown>) => ({
  Update: {
    TableName: TABLE,
    Key: { pk },
    UpdateExpression: 'SET #status = :status, sagaId = :sagaId, details = :details ADD applications :one',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': item.status, ':sagaId': item.sagaId, ':details': item.details ?? {}, ':one': 1 },
  },
});
const undo = (pk: string, status: string) => ({
  Update: {
    TableName: TABLE,
    Key: { pk },
    UpdateExpression: 'SET #status = :status ADD compensations :one',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': status, ':one': 1 },
  },
});

/** The writes of each step's action and compensation. */
function effects(event: SagaTaskEvent<OrderInput>, o: OrderInput): { action: TransactionalEffect; compensation: TransactionalEffect } {
  const sagaId = event.sagaId;
  switch (event.step) {
    case 'reserve':
      return {
        action: {
          items: [
            {
              Update: {
                TableName: TABLE,
                Key: { pk: `inventory#${o.sku}` },
                UpdateExpression: 'ADD reserved :q',
                ExpressionAttributeValues: { ':q': o.quantity },
              },
            },
            put(`reservation#${o.orderId}`, { status: 'RESERVED', sagaId, details: { sku: o.sku, quantity: o.quantity } }),
          ],
          result: { reservationId: `reservation#${o.orderId}` },
        },
        compensation: {
          items: [
            {
              Update: {
                TableName: TABLE,
                Key: { pk: `inventory#${o.sku}` },
                UpdateExpression: 'ADD reserved :q',
                ExpressionAttributeValues: { ':q': -o.quantity },
              },
            },
            undo(`reservation#${o.orderId}`, 'RELEASED'),
          ],
          result: { released: o.quantity },
        },
      };
    case 'charge':
      return {
        action: {
          items: [put(`payment#${o.orderId}`, { status: 'CHARGED', sagaId, details: { amountCents: o.amountCents } })],
          result: { paymentId: `payment#${o.orderId}` },
        },
        compensation: { items: [undo(`payment#${o.orderId}`, 'REFUNDED')], result: { refundedCents: o.amountCents } },
      };
    case 'ship':
      return {
        action: { items: [put(`shipment#${o.orderId}`, { status: 'SCHEDULED', sagaId })], result: { shipmentId: `shipment#${o.orderId}` } },
        compensation: { items: [undo(`shipment#${o.orderId}`, 'CANCELLED')], result: { cancelled: true } },
      };
    default:
      throw new InvalidOrderError(`saga ${sagaId}: unknown step '${event.step}'`);
  }
}

/** The fault to inject into this attempt, if any (counting the attempt). */
async function faultFor(event: SagaTaskEvent<OrderInput>): Promise<FaultSpec | undefined> {
  const spec = faultsOn ? event.input?.faults?.[`${event.step}:${event.phase}`] : undefined;
  if (!spec) return undefined;
  const res = await ddb.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: { pk: { S: `fault#${event.idempotencyToken}#${event.phase}` } },
      UpdateExpression: 'ADD attempts :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const counter = unmarshall(res.Attributes ?? {});
  if (counter.repaired === true || Number(counter.attempts) > (spec.failTimes ?? 1000)) return undefined;
  return spec;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const handler = async (event: SagaTaskEvent<OrderInput>): Promise<Record<string, unknown>> => {
  const order = readOrder(event);
  const fault = await faultFor(event);
  const fail = () => {
    logger.warn('injected fault', { sagaId: event.sagaId, step: event.step, phase: event.phase, kind: fault?.kind ?? 'error' });
    throw new InjectedFaultError(fault?.error ?? 'InjectedFault', `injected fault in ${event.step} ${event.phase}`);
  };
  if (fault && (fault.kind ?? 'error') === 'error') fail();
  const { action, compensation } = effects(event, order);
  const outcome = await steps.run(event, { action, compensation });
  logger.info('step done', { sagaId: event.sagaId, step: event.step, phase: event.phase, status: outcome.status });
  if (fault?.kind === 'after-effect') fail();
  if (fault?.kind === 'sleep') await sleep(fault.sleepMs ?? 10_000);
  return { status: outcome.status, ...(outcome.result as Record<string, unknown> | undefined) };
};
