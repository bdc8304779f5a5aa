/**
 * The saga helpers' errors. Every error they throw is a {@link SagaError}; errors of your own
 * effect builders pass through unchanged.
 */
import { MessagingPatternsRuntimeError, type RuntimeErrorOptions } from '../internal/errors';

/** Options of every {@link SagaError}. */
export interface SagaErrorOptions extends RuntimeErrorOptions {
  /** The saga concerned, when known. */
  readonly sagaId?: string;
}

/** Base of the saga helpers' errors. */
export class SagaError extends MessagingPatternsRuntimeError {
  /** The saga concerned, when known. */
  public readonly sagaId?: string;

  constructor(message: string, options: SagaErrorOptions = {}) {
    const { sagaId, ...rest } = options;
    super(message, { ...rest, context: { ...(sagaId === undefined ? {} : { sagaId }), ...rest.context } });
    this.name = 'SagaError';
    this.sagaId = sagaId;
  }
}

/** Thrown when a helper is configured or called wrongly: no `SAGA_CONFIG`, a bad business key, a bad option. Fix the code. */
export class SagaConfigurationError extends SagaError {
  /** The option at fault, e.g. `config`. */
  public readonly option: string;

  constructor(option: string, message: string, options: { cause?: unknown; value?: unknown } = {}) {
    super(`${option}: ${message}`, { cause: options.cause, retryable: false, context: { option, value: options.value } });
    this.name = 'SagaConfigurationError';
    this.option = option;
  }
}

/**
 * Thrown by `startSaga` when a saga with the same business key already ran with a different input:
 * the second start is not a retry of the first but a different request under a key already used.
 */
export class SagaStartConflictError extends SagaError {
  /** The execution that holds the key. */
  public readonly executionArn: string;

  constructor(sagaId: string, executionArn: string) {
    super(`saga ${sagaId} was already started with a different input (${executionArn}): business keys must identify one request`, {
      sagaId,
      retryable: false,
      context: { executionArn },
    });
    this.name = 'SagaStartConflictError';
    this.executionArn = executionArn;
  }
}

/** Thrown when the saga log has no row for a saga (`describeSaga` with `required`, `resumeSaga`). */
export class SagaNotFoundError extends SagaError {
  constructor(sagaId: string) {
    super(`no saga ${sagaId} in the saga log`, { sagaId, retryable: false });
    this.name = 'SagaNotFoundError';
  }
}

/** Thrown by `resumeSaga` for a saga that is not COMPENSATION_FAILED (nothing to resume). */
export class SagaNotResumableError extends SagaError {
  /** The saga's status in the log. */
  public readonly status: string;

  constructor(sagaId: string, status: string) {
    super(`saga ${sagaId} is ${status}: only a COMPENSATION_FAILED saga can be resumed`, { sagaId, retryable: false, context: { status } });
    this.name = 'SagaNotResumableError';
    this.status = status;
  }
}

/**
 * Thrown by `TransactionalSagaSteps` when an action arrives after its step was compensated (a retry
 * that outlived a timeout): nothing was written, and the saga has moved on.
 */
export class SagaStepCompensatedError extends SagaError {
  /** The step's idempotency token. */
  public readonly idempotencyToken: string;

  constructor(idempotencyToken: string, options: { cause?: unknown } = {}) {
    super(`step ${idempotencyToken} was compensated before this action ran: nothing was written`, {
      cause: options.cause,
      retryable: false,
      context: { idempotencyToken },
    });
    this.name = 'SagaStepCompensatedError';
    this.idempotencyToken = idempotencyToken;
  }
}

/**
 * Thrown by `completeTask`, `failTask` and `heartbeatTask` when Step Functions no longer waits for
 * the token (`TaskTimedOut`, `TaskDoesNotExist`, `InvalidToken`): the step already ended (timed out,
 * answered, or its execution stopped). Not retryable.
 */
export class SagaTaskTokenError extends SagaError {
  /** Step Functions' error name. */
  public readonly reason: string;

  constructor(reason: string, message: string, options: { cause?: unknown } = {}) {
    super(`the task token is no longer valid (${reason}): ${message}`, { cause: options.cause, retryable: false, context: { reason } });
    this.name = 'SagaTaskTokenError';
    this.reason = reason;
  }
}

/** Thrown when Step Functions or the saga log could not be called (throttling, a network error, permissions). Retryable unless it says otherwise. */
export class SagaServiceError extends SagaError {
  /** What the helper was doing, e.g. `StartExecution`. */
  public readonly operation: string;

  constructor(operation: string, message: string, options: SagaErrorOptions = {}) {
    super(`${operation} failed: ${message}`, { retryable: true, ...options, context: { operation, ...options.context } });
    this.name = 'SagaServiceError';
    this.operation = operation;
  }
}
