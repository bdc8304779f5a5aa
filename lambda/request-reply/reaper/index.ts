/**
 * The reaper of `RequestReply`: on a schedule, deletes the per-requester reply queues that have not
 * been used for REPLY_QUEUE_IDLE_TIMEOUT_SECONDS (their requester stopped: a Lambda execution
 * environment that was shut down, a process that ended without `close()`).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { handlerLogger } from '../../runtime/internal/logger';
import { checkNumber, numberFromEnvironment } from '../../runtime/internal/options';
import { RequestReplyConfigurationError } from '../../runtime/request-reply/errors';
import { REPLY_QUEUE_IDLE_TIMEOUT_ENV, REPLY_QUEUE_PREFIX_ENV, failRequestReplyOption as fail } from '../../runtime/request-reply/protocol';
import { type ReapResult, reapIdleReplyQueues } from '../../runtime/request-reply/reaper';

const logger = handlerLogger('request-reply-reaper');
const sqs = new SQSClient({});

export const handler = async (): Promise<ReapResult> => {
  const prefix = process.env[REPLY_QUEUE_PREFIX_ENV];
  const idle = numberFromEnvironment(fail, REPLY_QUEUE_IDLE_TIMEOUT_ENV, (f, v) =>
    checkNumber(f, REPLY_QUEUE_IDLE_TIMEOUT_ENV, v, { min: 0, rule: 'a positive number of seconds' }),
  );
  if (!prefix || idle === undefined) {
    const missing = !prefix ? REPLY_QUEUE_PREFIX_ENV : REPLY_QUEUE_IDLE_TIMEOUT_ENV;
    throw new RequestReplyConfigurationError(missing, `${REPLY_QUEUE_PREFIX_ENV} and ${REPLY_QUEUE_IDLE_TIMEOUT_ENV} must be set`);
  }
  const result = await reapIdleReplyQueues(sqs, prefix, idle, { logger });
  logger.info('reply queues reaped', { checked: result.checked, deleted: result.deleted.length });
  return result;
};
