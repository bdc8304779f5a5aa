export { TransactionalOutbox } from './outbox';
export type { TransactionalOutboxProps } from './outbox';
export { OutboxTarget, OutboxTargetKind } from './outbox-target';
