export { FailureReasonStore } from './failure-reason-store';
export type { FailureReasonStoreProps } from './failure-reason-store';
export { DeadLetterQueueRedrive } from './redrive';
export type { DeadLetterQueueRedriveProps } from './redrive';
