export { Saga } from './saga';
export type { SagaProps } from './saga';
export type { SagaBranch, SagaMapOptions, SagaRetry, SagaStep } from './saga-step';
export { SagaTask } from './saga-task';
export type { SagaDeleteItemOptions, SagaEventOptions, SagaMessageOptions, SagaPutItemOptions, SagaUpdateItemOptions } from './saga-task';
