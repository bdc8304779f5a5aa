export { priorityOf } from './consumer';
export { StrictPriorityDispatcher, failuresOf, parseDispatcherLevels, toSqsRecord } from './dispatcher';
export type { DispatchRound, DispatchStats, DispatcherLevel, DispatcherLogger, StrictPriorityDispatcherOptions } from './dispatcher';
export { PriorityQueueConfigError, PriorityQueueError, UnknownPriorityError } from './errors';
export { PRIORITY_QUEUE_CONFIG_ENV, PriorityQueueProducer, parsePriorityQueueConfig } from './producer';
export { PRIORITY_ATTRIBUTE } from './protocol';
export type {
  PriorityBatchEntry,
  PriorityBatchResult,
  PriorityQueueConfig,
  PriorityQueueProducerOptions,
  PrioritySendOptions,
} from './producer';
