export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export { DeadLetterQueueConfigurationError, DeadLetterQueueError, NotADeadLetterQueueError, RedriveFailedError } from './errors';
export {
  FAILURE_REASON_BUCKET_ENV,
  FAILURE_REASON_PREFIX_ENV,
  FailureReasonStore,
  S3FailureReasonStore,
  s3ClientFromEnvironment,
} from './failure-reasons';
export type { FailureReason, FailureReasonStoreOptions, S3FailureReasonStoreOptions } from './failure-reasons';
export {
  FAILURE_REASONS_TAG,
  MAX_REDRIVE_RATE,
  cancelRedrive,
  deadLetterSourceQueues,
  describeQueue,
  failureReasonLocation,
  isActive,
  latestRedrive,
  peekMessages,
  purgeDeadLetterQueue,
  startRedrive,
  waitForRedrive,
} from './operations';
export type {
  PeekOptions,
  PeekedMessage,
  PurgeOptions,
  PurgeResult,
  QueueInfo,
  RedriveOptions,
  RedriveStart,
  RedriveStatus,
  RedriveTask,
  WaitForRedriveOptions,
} from './operations';
