/**
 * The reaper of `RequestReply`: on a schedule, deletes the per-requester reply queues that have not
 * been used for REPLY_QUEUE_IDLE_TIMEOUT_SECONDS (their requester stopped: a Lambda execution
 * environment that was shut down, a process that ended without `close()`).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { REPLY_QUEUE_IDLE_TIMEOUT_ENV, REPLY_QUEUE_PREFIX_ENV } from '../../runtime/request-reply/protocol';
import { type ReapResult, reapIdleReplyQueues } from '../../runtime/request-reply/reaper';

const sqs = new SQSClient({});

export const handler = async (): Promise<ReapResult> => {
  const prefix = process.env[REPLY_QUEUE_PREFIX_ENV];
  const idle = Number(process.env[REPLY_QUEUE_IDLE_TIMEOUT_ENV]);
  if (!prefix || !Number.isFinite(idle) || idle <= 0) {
    throw new Error(`${REPLY_QUEUE_PREFIX_ENV} and ${REPLY_QUEUE_IDLE_TIMEOUT_ENV} must be set`);
  }
  const result = await reapIdleReplyQueues(sqs, prefix, idle);
  console.log(JSON.stringify({ message: 'reply queues reaped', checked: result.checked, deleted: result.deleted.length }));
  return result;
};
