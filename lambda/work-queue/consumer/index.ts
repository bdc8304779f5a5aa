/**
 * Example work-queue consumer, used by the showcase app and the integration tests.
 *
 * Each message is a task `{ "taskId": "...", "kind": "...", "input": ... }`. The consumer checks it,
 * does the work (a SHA-256 of the input stands in for real work) and, when `RESULTS_QUEUE_URL` is
 * set, reports the result there: one result message per successful processing, which is what the
 * tests count to prove each task was processed exactly once.
 *
 * Test kinds: `poison` always fails (it ends in the dead-letter queue); `flaky` fails on its first
 * delivery and succeeds on the next one.
 */
import { createHash } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EXAMPLE_ENV } from '../../../lib/core/wire';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';

/** A task message. */
export interface Task {
  readonly taskId: string;
  readonly kind: string;
  readonly input?: unknown;
}

/** Thrown for a task that can never succeed. */
export class InvalidTaskError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = 'InvalidTaskError';
  }
}

/** Thrown for a `flaky` task on its first delivery: the next one succeeds. */
export class TransientTaskError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: true, context });
    this.name = 'TransientTaskError';
  }
}

const logger = handlerLogger('work-queue-consumer');
const sqs = new SQSClient({});
const resultsQueueUrl = process.env[EXAMPLE_ENV.resultsQueueUrl];

function readTask(record: SQSRecord): Task {
  const task = parseJsonBody<Partial<Task>>(record);
  if (typeof task !== 'object' || task === null || typeof task.taskId !== 'string' || task.taskId === '') {
    throw new InvalidTaskError(`message ${record.messageId}: taskId must be a non-empty string`, { messageId: record.messageId });
  }
  if (typeof task.kind !== 'string') {
    throw new InvalidTaskError(`task ${task.taskId}: kind must be a string`, { messageId: record.messageId, taskId: task.taskId });
  }
  return task as Task;
}

async function processTask(record: SQSRecord): Promise<void> {
  const task = readTask(record);
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  if (task.kind === 'poison') {
    throw new InvalidTaskError(`task ${task.taskId}: poison task`, { messageId: record.messageId, taskId: task.taskId });
  }
  if (task.kind === 'flaky' && receiveCount < 2) {
    throw new TransientTaskError(`task ${task.taskId}: transient failure on delivery ${receiveCount}`, {
      messageId: record.messageId,
      taskId: task.taskId,
      receiveCount,
    });
  }
  const result = createHash('sha256')
    .update(JSON.stringify(task.input ?? null))
    .digest('hex');
  if (resultsQueueUrl) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: resultsQueueUrl,
        MessageBody: JSON.stringify({ taskId: task.taskId, messageId: record.messageId, receiveCount, result }),
      }),
    );
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processSqsBatch(event, processTask, { context, throwOnFullBatchFailure: false, logger });
};
