export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export type { LogFields, RuntimeLogger } from '../internal/logger';
export { BatchConfigurationError, BatchError, MalformedMessageError, SkippedBehindFailureError } from './errors';
export { parseJsonBody, processSqsBatch, receiveCountOf, sqsBatchHandler } from './sqs';
export type { FifoFailureMode, RecordFailure, SqsBatchOptions, SqsRecordHandler } from './sqs';
