export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export type { LogFields, RuntimeLogger } from '../internal/logger';
export {
  BrokerBatchFailedError,
  BrokerConfigurationError,
  BrokerError,
  MalformedBrokerMessageError,
  UnsupportedBrokerEventError,
} from './errors';
export type { BrokerMessageFailure } from './errors';
export { brokerMessages, rabbitMqTimestamp } from './messages';
export type {
  ActiveMqEvent,
  ActiveMqEventMessage,
  BrokerEvent,
  BrokerMessage,
  RabbitMqBasicProperties,
  RabbitMqEvent,
  RabbitMqEventMessage,
} from './messages';
export { brokerBatchHandler, processBrokerBatch } from './process';
export type { BrokerBatchOptions, BrokerBatchResult, BrokerMessageHandler } from './process';
