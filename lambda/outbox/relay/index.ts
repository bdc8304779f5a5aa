/**
 * The outbox relay the `TransactionalOutbox` construct deploys on its table's stream (filtered to
 * outbox INSERTs): publishes each batch to the construct's target in order per aggregate, sends what
 * it gives up on to the on-failure queue with the reason, marks what it published (TTL), and answers
 * with the partial batch response. See `OutboxRelay` in `cdk-messaging-patterns/runtime/outbox`.
 *
 * Environment: `OUTBOX_RELAY_CONFIG` (set by the construct). `FAULT_INJECTION=on` in tests only:
 * see `faults.ts`.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { handlerLogger } from '../../runtime/internal/logger';
import { OutboxRelay } from '../../runtime/outbox/relay';
import { crashAfterPublish, injectPublishFaults } from './faults';

const logger = handlerLogger('outbox-relay');
const faultsOn = process.env[EXAMPLE_ENV.faultInjection] === 'on';
const targetClients = faultsOn
  ? {
      eventBridge: injectPublishFaults(new EventBridgeClient({})),
      sns: injectPublishFaults(new SNSClient({})),
      kinesis: injectPublishFaults(new KinesisClient({})),
    }
  : undefined;
const relay = OutboxRelay.fromEnvironment({ logger, targetClients, ...(faultsOn ? { afterPublish: crashAfterPublish } : {}) });

export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> => {
  logger.addContext(context);
  const report = await relay.process(event);
  logger.info('outbox batch relayed', {
    records: event.Records?.length ?? 0,
    published: report.published.length,
    deadLettered: report.deadLettered.length,
    ...(report.retryFrom ? { retryFrom: report.retryFrom } : {}),
  });
  return { batchItemFailures: [...report.batchItemFailures] };
};
