export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export {
  IdempotencyConfigurationError,
  IdempotencyEffectConditionError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyKeyError,
  IdempotencyPayloadMismatchError,
  IdempotencyPersistenceError,
} from './errors';
export type { IdempotencyErrorOptions } from './errors';
export { IDEMPOTENCY_KEY_ATTRIBUTE, defaultIdempotencyKey } from './key';
export type { Selector } from './key';
export { LockIdempotency } from './lock';
export type { ContextArgs, LockIdempotencyOptions } from './lock';
export { IDEMPOTENCY_TABLE_NAME_ENV } from './options';
export type { IdempotencyOptions } from './options';
export { ATTR as IDEMPOTENCY_RECORD_ATTRIBUTES, STATUS as IDEMPOTENCY_RECORD_STATUS } from './record';
export { TransactionalIdempotency } from './transactional';
export type {
  EffectConditionCheck,
  EffectDelete,
  EffectItem,
  EffectPut,
  EffectUpdate,
  IdempotentOutcome,
  TransactionalEffect,
  TransactionalIdempotencyOptions,
} from './transactional';
