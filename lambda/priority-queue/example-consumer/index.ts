/**
 * Example priority-queue consumer, used by the integration tests (and fit for the showcase).
 *
 * Each message is `{ "taskId": "..." }`. The consumer does the work (WORK_MS of simulated work)
 * and, when RESULTS_QUEUE_URL is set, reports `{ taskId, level, processedAt, receiveCount }` there:
 * one report per successful processing, which the tests use to measure the processing order.
 * Records are processed one after another, so `processedAt` orders them within a batch too.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';
import { priorityOf } from '../../runtime/priority-queue/consumer';

/** Thrown for a task message without a task id: it can never succeed. */
export class InvalidTaskError extends MessagingPatternsRuntimeError {
  constructor(messageId: string) {
    super(`message ${messageId}: taskId must be a non-empty string`, { retryable: false, context: { messageId } });
    this.name = 'InvalidTaskError';
  }
}

const logger = handlerLogger('priority-queue-consumer');
const sqs = new SQSClient({});
const resultsQueueUrl = process.env[EXAMPLE_ENV.resultsQueueUrl];
const workMs = Number(process.env[EXAMPLE_ENV.workMs] ?? 0);

async function processTask(record: SQSRecord): Promise<void> {
  const { taskId } = parseJsonBody<{ taskId: string }>(record);
  if (typeof taskId !== 'string' || taskId === '') throw new InvalidTaskError(record.messageId);
  if (workMs > 0) await new Promise((r) => setTimeout(r, workMs));
  if (resultsQueueUrl) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: resultsQueueUrl,
        MessageBody: JSON.stringify({
          taskId,
          level: priorityOf(record) ?? 'unknown',
          processedAt: Date.now(),
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
        }),
      }),
    );
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processSqsBatch(event, processTask, { context, processInParallel: false, throwOnFullBatchFailure: false, logger });
};
