import type { Context } from 'aws-lambda';
import { isRetryable } from '../internal/errors';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import { type Fail, checkBoolean, checkFunction, checkLogger } from '../internal/options';
import { BrokerBatchFailedError, BrokerConfigurationError, type BrokerMessageFailure } from './errors';
import { type BrokerEvent, type BrokerMessage, brokerMessages } from './messages';

/** Handles one broker message. Throw (or reject) to fail it, and with it the batch. */
export type BrokerMessageHandler = (message: BrokerMessage, context?: Context) => unknown;

/** What {@link processBrokerBatch} returns when every message succeeded. */
export interface BrokerBatchResult {
  /** Messages processed. */
  readonly processed: number;
}

/** Options of {@link processBrokerBatch}. */
export interface BrokerBatchOptions {
  /** The Lambda context, passed on to the message handler. */
  readonly context?: Context;
  /**
   * Stop at the first failed message instead of processing the rest of the batch. By default every
   * message is processed: the broker redelivers the whole batch anyway, so the healthy messages are
   * applied now (and found applied by the idempotency library on the redelivery), and when the
   * redeliveries are spent and the batch is dead-lettered, what shared the batch with a poison
   * message has been applied rather than lost.
   *
   * @default false
   */
  readonly stopAtFirstFailure?: boolean;
  /**
   * Called with each message that failed, before the batch fails; use it to record the reason (the
   * broker's dead-letter queue keeps none). Errors it throws are logged and ignored.
   *
   * @default - none
   */
  readonly onMessageFailure?: (message: BrokerMessage, failure: BrokerMessageFailure, error: unknown) => unknown;
  /**
   * Where failures are logged (`broker message processing failed`, with the
   * {@link BrokerMessageFailure} fields). `null` turns logging off.
   *
   * @default - the shared Powertools Logger
   */
  readonly logger?: RuntimeLogger | null;
}

interface Resolved {
  readonly context?: Context;
  readonly stopAtFirstFailure: boolean;
  readonly onMessageFailure?: BrokerBatchOptions['onMessageFailure'];
  readonly logger: RuntimeLogger | null;
}

const fail: Fail = (option, message, value) => {
  throw new BrokerConfigurationError(option, message, { value });
};

function resolveOptions(handler: unknown, options: BrokerBatchOptions | undefined): Resolved {
  if (typeof handler !== 'function') fail('messageHandler', `messageHandler must be a function (given ${typeof handler})`, handler);
  const o = options ?? {};
  if (typeof o !== 'object') fail('options', `options must be an object (given ${typeof o})`, o);
  if (o.context !== undefined && (typeof o.context !== 'object' || o.context === null))
    fail('context', 'context must be the Lambda context object', o.context);
  checkBoolean(fail, 'stopAtFirstFailure', o.stopAtFirstFailure);
  checkFunction(fail, 'onMessageFailure', o.onMessageFailure);
  checkLogger(fail, 'logger', o.logger);
  return {
    context: o.context,
    stopAtFirstFailure: o.stopAtFirstFailure ?? false,
    onMessageFailure: o.onMessageFailure,
    logger: resolveLogger(o.logger),
  };
}

/**
 * Processes a RabbitMQ or ActiveMQ batch, message after message in batch order, and **fails the
 * invocation when a message failed** (throws {@link BrokerBatchFailedError}, listing every failed
 * message with its reason). Amazon MQ event source mappings have no partial batch response and no
 * on-failure destination: a failed invocation returns the whole batch to the broker, which
 * redelivers it (`redelivered: true`) and dead-letters it when the redeliveries are spent —
 * ActiveMQ after Lambda's fixed policy of 6 redeliveries, to `ActiveMQ.DLQ`; RabbitMQ when the
 * queue's delivery limit (a quorum queue's `x-delivery-limit`) is reached, to its dead-letter
 * exchange, and without one never. So the handler must be idempotent: every message of a failed
 * batch, the healthy ones included, comes again. Key it by `message.id` (the `idempotencyKey` the
 * idempotency library reads by default).
 *
 * @throws BrokerBatchFailedError when a message failed (the batch is redelivered),
 *   BrokerConfigurationError when an option is invalid, UnsupportedBrokerEventError when the event
 *   is not an Amazon MQ batch (nothing is processed)
 *
 * @example
 * const idempotency = new TransactionalIdempotency();
 * export const handler = (event: BrokerEvent, context: Context) =>
 *   processBrokerBatch(event, (m) => idempotency.applyOnce(m, () => applyOrder(m.json<Order>())), { context });
 */
export async function processBrokerBatch(
  event: BrokerEvent,
  messageHandler: BrokerMessageHandler,
  options?: BrokerBatchOptions,
): Promise<BrokerBatchResult> {
  return run(event, messageHandler, resolveOptions(messageHandler, options));
}

async function run(event: BrokerEvent, handler: BrokerMessageHandler, o: Resolved): Promise<BrokerBatchResult> {
  const messages = brokerMessages(event);
  const failures: BrokerMessageFailure[] = [];
  let firstError: unknown;
  for (const m of messages) {
    try {
      await handler(m, o.context);
    } catch (error) {
      const { errorName, errorMessage } = errorFields(error instanceof Error ? error : new Error(String(error))) as {
        errorName: string;
        errorMessage: string;
      };
      const failure: BrokerMessageFailure = {
        messageId: m.messageId,
        queue: m.queue,
        position: m.position,
        redelivered: m.redelivered,
        errorName,
        errorMessage,
        retryable: isRetryable(error),
      };
      failures.push(failure);
      firstError ??= error;
      o.logger?.warn('broker message processing failed', { ...failure, ...errorFields(error) });
      if (o.onMessageFailure) {
        try {
          await o.onMessageFailure(m, failure, error);
        } catch (hookError) {
          o.logger?.warn('onMessageFailure failed', { messageId: m.messageId, ...errorFields(hookError) });
        }
      }
      if (o.stopAtFirstFailure) break;
    }
  }
  if (failures.length > 0) throw new BrokerBatchFailedError(failures, messages.length, { cause: firstError });
  return { processed: messages.length };
}

/**
 * Wraps a message handler into a Lambda handler for an Amazon MQ event source mapping; see
 * {@link processBrokerBatch}. Options are checked here, when the module loads.
 *
 * @example
 * export const handler = brokerBatchHandler(async (m) => save(m.json<Order>()));
 */
export function brokerBatchHandler(
  messageHandler: BrokerMessageHandler,
  options: Omit<BrokerBatchOptions, 'context'> = {},
): (event: BrokerEvent, context: Context) => Promise<BrokerBatchResult> {
  const resolved = resolveOptions(messageHandler, options);
  return (event, context) => run(event, messageHandler, { ...resolved, context });
}
