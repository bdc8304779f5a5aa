export { BatchError, MalformedMessageError } from './errors';
export { parseJsonBody, processSqsBatch, receiveCountOf, sqsBatchHandler } from './sqs';
export type { FailureLogger, FifoFailureMode, RecordFailure, SqsBatchOptions, SqsRecordHandler } from './sqs';
