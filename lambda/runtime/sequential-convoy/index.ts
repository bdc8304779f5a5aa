export { ConvoyConfigurationError, ConvoyError, ConvoyMessageIdError, ConvoySendError } from './errors';
export type { ConvoySendFailure } from './errors';
export { ConvoyProducer } from './producer';
export type { ConvoyProducerOptions, IdSelector, SentConvoyMessage } from './producer';
export { convoyHandler, processConvoyBatch } from './consumer';
export type { ConvoyBatchOptions, ConvoyMessage, ConvoyRecordHandler } from './consumer';
