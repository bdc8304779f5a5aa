export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export type { LogFields, RuntimeLogger } from '../internal/logger';
export { ConvoyMessageIdError, ConvoySendError, SequentialConvoyConfigurationError, SequentialConvoyError } from './errors';
export type { ConvoySendFailure } from './errors';
export { ConvoyProducer } from './producer';
export type { ConvoyProducerOptions, IdSelector, SentConvoyMessage } from './producer';
export { convoyHandler, processConvoyBatch } from './consumer';
export type { ConvoyBatchOptions, ConvoyMessage, ConvoyRecordHandler } from './consumer';
