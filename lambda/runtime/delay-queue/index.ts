export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export { DelayQueueConfigurationError, DelayQueueError, InvalidDelayError, ScheduleConflictError } from './errors';
export {
  DELAY_QUEUE_CONFIG_ENV,
  DelayQueueProducer,
  MAX_DELAY_SECONDS,
  MIN_SCHEDULE_LEAD_SECONDS,
  SQS_MAX_DELAY_SECONDS,
  atExpression,
  parseDelayQueueConfig,
  scheduleNameFor,
} from './producer';
export type { DelayQueueConfig, DelayQueueProducerOptions, ScheduleMessageOptions, ScheduleResult } from './producer';
