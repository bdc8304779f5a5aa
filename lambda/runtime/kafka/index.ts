export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export type { LogFields, RuntimeLogger } from '../internal/logger';
export { KafkaConfigurationError, KafkaError, MalformedKafkaRecordError, UnsupportedKafkaEventError } from './errors';
export { kafkaBatchHandler, processKafkaBatch } from './process';
export type { KafkaBatchOptions, KafkaBatchResponse, KafkaItemIdentifier, KafkaRecordFailure, KafkaRecordHandler } from './process';
export { kafkaEventSource, kafkaPartitions, kafkaRecords } from './records';
export type {
  KafkaEvent,
  KafkaEventHeader,
  KafkaEventRecord,
  KafkaHeader,
  KafkaPartitionBatch,
  KafkaRecord,
  KafkaSchemaMetadata,
} from './records';
export { kafkaDecoder } from './schema';
export type { DecodedKafkaRecord, KafkaDecoder, PowertoolsKafkaConsumer, SchemaConfig, SchemaConfigValue } from './schema';
