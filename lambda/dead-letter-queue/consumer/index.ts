/**
 * Example consumer that records why messages fail, for operators peeking the dead-letter queue.
 * Used by the showcase app and the integration tests of dead-letter-queue operations.
 *
 * Each message is a task `{ "taskId": "...", "kind": "..." }`. Kinds this version supports are
 * listed in SUPPORTED_KINDS (default `hash`); any other kind fails with UnsupportedTaskError until a
 * new version that supports it is deployed (the operator then redrives the dead-letter queue).
 * Failures are recorded in the failure-reason store (FAILURE_REASON_BUCKET, set by
 * `FailureReasonStore.addRecorder`); when RESULTS_QUEUE_URL is set, each successful processing
 * sends one result message there, which the tests count.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseJsonBody, processSqsBatch } from '../../runtime/batch/sqs';
import { FAILURE_REASON_BUCKET_ENV, S3FailureReasonStore } from '../../runtime/dlq/failure-reasons';

/** A task this version of the consumer cannot process. */
export class UnsupportedTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTaskError';
  }
}

const sqs = new SQSClient({});
const reasons = process.env[FAILURE_REASON_BUCKET_ENV] ? S3FailureReasonStore.fromEnvironment() : undefined;
// read once per cold start: a configuration change (the "fix" before a redrive) starts new environments
const supported = (process.env.SUPPORTED_KINDS ?? 'hash').split(',').map((k) => k.trim());
const resultsQueueUrl = process.env.RESULTS_QUEUE_URL;

async function processTask(record: SQSRecord): Promise<void> {
  const task = parseJsonBody<{ taskId?: unknown; kind?: unknown }>(record);
  if (typeof task?.taskId !== 'string' || typeof task.kind !== 'string') {
    throw new UnsupportedTaskError(`message ${record.messageId}: taskId and kind must be strings`);
  }
  if (!supported.includes(task.kind)) {
    throw new UnsupportedTaskError(
      `task ${task.taskId}: kind '${task.kind}' is not supported by this version (supported: ${supported.join(', ')})`,
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

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processSqsBatch(event, processTask, { context, throwOnFullBatchFailure: false, onRecordFailure: reasons?.onRecordFailure });
