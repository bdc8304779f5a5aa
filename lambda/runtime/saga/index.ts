export { MessagingPatternsRuntimeError, isRetryable } from '../internal/errors';
export type { RuntimeErrorOptions } from '../internal/errors';
export { executionArnOf, parseSagaConfig, sagaIdOf } from './config';
export type { SagaClientOptions, SagaConfig } from './config';
export {
  SagaConfigurationError,
  SagaError,
  SagaNotFoundError,
  SagaNotResumableError,
  SagaServiceError,
  SagaStartConflictError,
  SagaStepCompensatedError,
  SagaTaskTokenError,
} from './errors';
export type { SagaErrorOptions } from './errors';
export { isSagaTaskEvent } from './event';
export type { SagaTaskEvent } from './event';
export { describeSaga, requireSaga } from './log';
export type { DescribeSagaOptions, SagaDescription, SagaStatus, SagaStepError } from './log';
export { resumeExecutionName, resumeSaga } from './resume';
export type { ResumeSagaResult } from './resume';
export { runSaga, sagaExecutionInput, startSaga } from './start';
export type { RunSagaResult, StartSagaResult } from './start';
export { TransactionalSagaSteps } from './steps';
export type { EffectBuilder, SagaStepOutcome, TransactionalSagaStepsOptions } from './steps';
export { completeTask, failTask, heartbeatTask, keepTaskAlive } from './task-token';
export type { KeepTaskAliveOptions, TaskTokenOptions } from './task-token';
