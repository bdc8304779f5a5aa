export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export type { LogFields, RuntimeLogger } from '../internal/logger';
export { priorityOf } from './consumer';
export { StrictPriorityDispatcher, failuresOf, parseDispatcherLevels, toSqsRecord } from './dispatcher';
export type { DispatchRound, DispatchStats, DispatcherLevel, StrictPriorityDispatcherOptions } from './dispatcher';
export { PriorityQueueConfigurationError, PriorityQueueError, UnknownPriorityError } from './errors';
export { PRIORITY_QUEUE_CONFIG_ENV, PriorityQueueProducer, parsePriorityQueueConfig } from './producer';
export { PRIORITY_ATTRIBUTE } from './protocol';
export type {
  PriorityBatchEntry,
  PriorityBatchResult,
  PriorityQueueConfig,
  PriorityQueueProducerOptions,
  PrioritySendOptions,
} from './producer';
