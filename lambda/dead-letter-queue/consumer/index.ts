/**
 * Example consumer that records why messages fail, for operators peeking the dead-letter queue.
 * Used by the showcase app and the integration tests of dead-letter-queue operations.
 *
 * Each message is a task `{ "taskId": "...", "kind": "..." }`. Kinds this version supports are
 * listed in SUPPORTED_KINDS (default `hash`); any other kind fails with UnsupportedTaskError until a
 * new version that supports it is deployed (the operator then redrives the dead-letter queue).
 * Failures are recorded in the failure-reason store (FAILURE_REASON_BUCKET, set by
 * `FailureReasonStore.connectRecorder`); when RESULTS_QUEUE_URL is set, each successful processing
 * sends one result message there, which the tests count.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENV, EXAMPLE_ENV } from '../../../lib/core/wire';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { S3FailureReasonStore } from '../../runtime/dlq/failure-reasons';
import { MessagingPatternsRuntimeError } from '../../runtime/internal/errors';
import { handlerLogger } from '../../runtime/internal/logger';

/** A task this version of the consumer cannot process (until a version that supports it is deployed). */
export class UnsupportedTaskError extends MessagingPatternsRuntimeError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = 'UnsupportedTaskError';
  }
}

const logger = handlerLogger('dead-letter-queue-consumer');
const sqs = new SQSClient({});
const reasons = process.env[ENV.failureReasonBucket] ? S3FailureReasonStore.fromEnvironment() : undefined;
// read once per cold start: a configuration change (the "fix" before a redrive) starts new environments
const supported = (process.env[EXAMPLE_ENV.supportedKinds] ?? 'hash').split(',').map((k) => k.trim());
const resultsQueueUrl = process.env[EXAMPLE_ENV.resultsQueueUrl];

async function processTask(record: SQSRecord): Promise<void> {
  const task = parseJsonBody<{ taskId?: unknown; kind?: unknown }>(record);
  if (typeof task?.taskId !== 'string' || typeof task.kind !== 'string') {
    throw new UnsupportedTaskError(`message ${record.messageId}: taskId and kind must be strings`, { messageId: record.messageId });
  }
  if (!supported.includes(task.kind)) {
    throw new UnsupportedTaskError(
      `task ${task.taskId}: kind '${task.kind}' is not supported by this version (supported: ${supported.join(', ')})`,
      { messageId: record.messageId, taskId: task.taskId, kind: task.kind },
    );
  }
  if (resultsQueueUrl) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: resultsQueueUrl,
        MessageBody: JSON.stringify({
          taskId: task.taskId,
          messageId: record.messageId,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
        }),
      }),
    );
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processSqsBatch(event, processTask, {
    context,
    throwOnFullBatchFailure: false,
    onRecordFailure: reasons?.onRecordFailure,
    logger,
  });
};
