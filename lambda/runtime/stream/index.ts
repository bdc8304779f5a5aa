export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export { dynamoDBStreamItem } from './dynamodb';
export type { DynamoDBItemOptions, DynamoDBStreamItem } from './dynamodb';
export {
  KinesisDeaggregationError,
  MalformedStreamRecordError,
  StreamBatchConfigurationError,
  StreamBatchError,
  UnsupportedStreamEventError,
} from './errors';
export { kinesisStreamItems, shardIdOf } from './kinesis';
export type { KinesisItemOptions, KinesisStreamItem } from './kinesis';
export { KPL_AGGREGATION_MAGIC, deaggregateKplRecord, isKplAggregated } from './kpl';
export type { KplUserRecord } from './kpl';
export { processStreamBatch, streamBatchHandler } from './process';
export type {
  DynamoDBRecordHandler,
  KinesisRecordHandler,
  StreamBatchOptions,
  StreamBatchResponse,
  StreamItem,
  StreamRecordFailure,
} from './process';
