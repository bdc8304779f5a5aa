/**
 * The strict-priority dispatcher of a PriorityQueue in STRICT mode. A schedule starts it every
 * minute; it takes batches for RUN_SECONDS, highest level first, and invokes the consumer with
 * each batch as an SQS event (see `StrictPriorityDispatcher`).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { handlerLogger } from '../../runtime/internal/logger';
import { type DispatchStats, StrictPriorityDispatcher, dispatcherEnvironment } from '../../runtime/priority-queue/dispatcher';

const logger = handlerLogger('priority-queue-dispatcher');
const settings = dispatcherEnvironment();
const runMs = settings.runSeconds * 1000;

// Created once per execution environment: the starvation guard's count carries over between runs.
const dispatcher = new StrictPriorityDispatcher({
  levels: settings.levels,
  consumer: settings.consumer,
  sqs: new SQSClient({}),
  lambda: new LambdaClient({}),
  batchSize: settings.batchSize,
  lowestLevelEvery: settings.lowestLevelEvery,
  idleWaitSeconds: settings.idleWaitSeconds,
  consumerTimeoutSeconds: settings.consumerTimeoutSeconds,
  logger,
});

export const handler = async (_event: unknown, context: Context): Promise<DispatchStats> => {
  logger.addContext(context);
  const started = Date.now();
  const remainingMs = () => context.getRemainingTimeInMillis();
  // Take no new batch after RUN_SECONDS, or when a consumer call might not fit in the time left.
  const shouldContinue = () => Date.now() - started < runMs && remainingMs() > (settings.consumerTimeoutSeconds + 5) * 1000;
  const stats = await dispatcher.run(shouldContinue, remainingMs);
  logger.info('dispatcher run finished', { durationMs: Date.now() - started, ...stats });
  return stats;
};
