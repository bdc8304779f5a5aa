export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export { outboxEnvelope, outboxEventId } from './consumer';
export {
  MalformedOutboxRecordError,
  OutboxConditionError,
  OutboxConfigurationError,
  OutboxError,
  OutboxInputError,
  OutboxPersistenceError,
  OutboxSequenceConflictError,
} from './errors';
export { Outbox } from './outbox';
export type {
  BusinessWrite,
  OutboxOptions,
  OutboxTransactItems,
  OutboxWriteOptions,
  OutboxWriteResult,
  PendingOutboxRecord,
} from './outbox';
export { OUTBOX_ATTRIBUTE, OUTBOX_RECORD_TYPE, envelopeText, outboxPartitionKey, sortKeyOf } from './record';
export type { OutboxEnvelope, OutboxEvent, OutboxRecord } from './record';
export { BLOCKED_RECORD_TYPE, DEAD_LETTER_SOURCE, OutboxRelay } from './relay';
export type { DeadLetteredRecord, OutboxRelayOptions, OutboxRelayReport } from './relay';
export { createOutboxTarget } from './target';
export type { OutboxTarget, OutboxTargetClients, OutboxTargetConfig, OutboxTargetOptions, RelayEntry } from './target';
