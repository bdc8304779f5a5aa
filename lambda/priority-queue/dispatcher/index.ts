/**
 * The strict-priority dispatcher of a PriorityQueue in STRICT mode. A schedule starts it every
 * minute; it takes batches for RUN_SECONDS, highest level first, and invokes the consumer with
 * each batch as an SQS event (see `StrictPriorityDispatcher`).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { type DispatchStats, StrictPriorityDispatcher, parseDispatcherLevels } from '../../runtime/priority-queue/dispatcher';

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  return Number.isFinite(value) ? value : fallback;
};

const runMs = number('RUN_SECONDS', 55) * 1000;
const consumerTimeoutSeconds = number('CONSUMER_TIMEOUT_SECONDS', 30);

// Created once per execution environment: the starvation guard's count carries over between runs.
const dispatcher = new StrictPriorityDispatcher({
  levels: parseDispatcherLevels(process.env.PRIORITY_LEVELS),
  consumer: process.env.CONSUMER_FUNCTION ?? '',
  sqs: new SQSClient({}),
  lambda: new LambdaClient({}),
  batchSize: number('BATCH_SIZE', 10),
  lowestLevelEvery: number('LOWEST_LEVEL_EVERY', 10),
  idleWaitSeconds: number('IDLE_WAIT_SECONDS', 2),
  consumerTimeoutSeconds,
});

export const handler = async (_event: unknown, context: Context): Promise<DispatchStats> => {
  const started = Date.now();
  const remainingMs = () => context.getRemainingTimeInMillis();
  // Take no new batch after RUN_SECONDS, or when a consumer call might not fit in the time left.
  const shouldContinue = () => Date.now() - started < runMs && remainingMs() > (consumerTimeoutSeconds + 5) * 1000;
  const stats = await dispatcher.run(shouldContinue, remainingMs);
  console.log(JSON.stringify({ message: 'dispatcher run finished', durationMs: Date.now() - started, ...stats }));
  return stats;
};
