export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export type { LogFields, RuntimeLogger } from '../internal/logger';
export {
  InvalidRequestError,
  RejectRequestError,
  ReplyQueueLostError,
  RequestRejectedError,
  RequestReplyConfigurationError,
  RequestReplyError,
  RequestTimeoutError,
} from './errors';
export {
  CORRELATION_ID_ATTRIBUTE,
  EXPIRES_AT_ATTRIBUTE,
  HEARTBEAT_TAG,
  REPLY_QUEUE_IDLE_TIMEOUT_ENV,
  REPLY_QUEUE_PREFIX_ENV,
  REPLY_STATUS_ATTRIBUTE,
  REPLY_TO_ATTRIBUTE,
  REQUEST_QUEUE_ARN_ENV,
  REQUEST_QUEUE_URL_ENV,
  parseQueueArn,
  parseQueueUrl,
} from './protocol';
export type { QueueArnParts } from './protocol';
export { SqsRequester } from './requester';
export type { DroppedReply, RequestOptions, RequesterStats, SqsRequesterOptions } from './requester';
export { handleRequest, requestHandler, sendReply } from './responder';
export type { RequestContext, RequestHandlerFunction, RequestOutcome, ResponderOptions } from './responder';
export { reapIdleReplyQueues } from './reaper';
export type { ReapResult } from './reaper';
