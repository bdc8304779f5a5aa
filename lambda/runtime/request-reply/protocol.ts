/**
 * The request-reply wire protocol, shared by requesters, responders and the reaper.
 *
 * A request is an SQS message on the request queue: the body is the JSON payload; message
 * attributes carry `CorrelationId` (a random UUID), `ReplyTo` (the URL of the requester's own
 * reply queue) and `ExpiresAt` (epoch milliseconds after which nobody waits for the reply).
 * A reply is a message on the `ReplyTo` queue: the body is the JSON result, or `{ name, message }`
 * when `ReplyStatus` is `error`; attributes carry the same `CorrelationId`.
 */
import { ENV, LIMIT, MESSAGE_ATTRIBUTE, TAG } from '../../../lib/core/wire';
import type { Fail } from '../internal/options';
import { RequestReplyConfigurationError } from './errors';

export const CORRELATION_ID_ATTRIBUTE = MESSAGE_ATTRIBUTE.correlationId;
export const REPLY_TO_ATTRIBUTE = MESSAGE_ATTRIBUTE.replyTo;
export const EXPIRES_AT_ATTRIBUTE = MESSAGE_ATTRIBUTE.expiresAt;
export const REPLY_STATUS_ATTRIBUTE = MESSAGE_ATTRIBUTE.replyStatus;

/** Tag on a reply queue: epoch seconds of the last time its requester used it. */
export const HEARTBEAT_TAG = TAG.replyQueueHeartbeat;

/** Environment variables the construct sets on requesters, responders and the reaper. */
export const REQUEST_QUEUE_URL_ENV = ENV.requestQueueUrl;
export const REQUEST_QUEUE_ARN_ENV = ENV.requestQueueArn;
export const REPLY_QUEUE_PREFIX_ENV = ENV.replyQueuePrefix;
export const REPLY_QUEUE_IDLE_TIMEOUT_ENV = ENV.replyQueueIdleTimeoutSeconds;

/** What a reply queue prefix must look like: 1-60 letters, digits, `-` or `_` (queue names allow 80). */
export const REPLY_QUEUE_PREFIX_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${LIMIT.replyQueuePrefixMaxLength}}$`);
/** How {@link REPLY_QUEUE_PREFIX_PATTERN} reads in an error message. */
export const REPLY_QUEUE_PREFIX_RULE = `1-${LIMIT.replyQueuePrefixMaxLength} letters, digits, - or _`;

/** Throws {@link RequestReplyConfigurationError}: the `fail` of request-reply's option checks. */
export const failRequestReplyOption: Fail = (option, message, value) => {
  throw new RequestReplyConfigurationError(option, message, { value });
};

/** Whether an SQS error says the queue does not exist (deleted, or never created). */
export function isQueueGone(error: unknown): boolean {
  return /QueueDoesNotExist|NonExistentQueue/.test((error as { name?: string } | undefined)?.name ?? '');
}

/** Parts of an SQS queue ARN. */
export interface QueueArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

/**
 * Splits an SQS queue ARN (`arn:aws:sqs:us-east-1:111122223333:orders`).
 *
 * @param option the option the ARN was given as, named in the error
 * @throws RequestReplyConfigurationError when it is not an SQS queue ARN
 */
export function parseQueueArn(arn: string, option = 'queueArn'): QueueArnParts {
  const [prefix, partition, service, region, account, name] = typeof arn === 'string' ? arn.split(':') : [];
  if (prefix !== 'arn' || service !== 'sqs' || !partition || !region || !account || !name) {
    failRequestReplyOption(option, `${option} is not an SQS queue ARN: '${arn}'`, arn);
  }
  return { partition, region, account, name };
}

/**
 * The account and name of a queue URL. Accepts AWS URLs (`https://sqs.<region>.amazonaws.com/<account>/<name>`)
 * and emulator URLs that end in `/<account>/<name>`.
 */
export function parseQueueUrl(url: string): { account: string; name: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const parts = parsed.pathname.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  const [account, name] = parts.slice(-2);
  return /^\d{12}$/.test(account) && /^[A-Za-z0-9_-]{1,80}$/.test(name) ? { account, name } : undefined;
}
