export { BatchError, MalformedMessageError } from './errors';
export { parseJsonBody, processSqsBatch, sqsBatchHandler } from './sqs';
export type { FailureLogger, FifoFailureMode, RecordFailure, SqsBatchOptions, SqsRecordHandler } from './sqs';
