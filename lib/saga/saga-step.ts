import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SagaTask } from './saga-task';

/** How a saga step's task is retried. Anything not given keeps the saga's (or the kit's) value. */
export interface SagaRetry {
  /**
   * Retries after the first attempt (Step Functions' `MaxAttempts`); 0 turns retrying off.
   *
   * @default 3 for actions, 20 for compensations (8 in an Express saga), 0 for callbacks
   */
  readonly maxAttempts?: number;
  /**
   * Wait before the first retry (whole seconds).
   *
   * @default Duration.seconds(1)
   */
  readonly interval?: Duration;
  /**
   * Multiplier of the wait after each retry (at least 1).
   *
   * @default 2
   */
  readonly backoffRate?: number;
  /**
   * Longest wait between two attempts.
   *
   * @default Duration.seconds(30) for actions, Duration.minutes(1) for compensations
   */
  readonly maxDelay?: Duration;
  /**
   * Full jitter (a random wait between 0 and the computed one), so retries of many sagas spread out.
   *
   * @default true
   */
  readonly jitter?: boolean;
  /**
   * Errors not worth retrying (business rejections such as `PaymentDeclined`): the step fails at
   * once and the saga compensates.
   *
   * @default - every error is retried
   */
  readonly nonRetryableErrors?: string[];
}

/** One branch of a parallel saga step: steps run in order, each with its own compensation. */
export interface SagaBranch {
  /** The branch's steps (plain steps: no branches, forEach or condition of their own). */
  readonly steps: SagaStep[];
}

/** A step that runs its action once per item of a list (a Map state). */
export interface SagaMapOptions {
  /**
   * JSON path of the items, in the saga input (`$.input.items`) or in an earlier step's result
   * (`$.saga.results.quote.lines`). Each item's task gets `item`, `index` and the token
   * `<sagaId>#<step>#<index>`.
   */
  readonly itemsPath: string;
  /**
   * Items run at once (0: as many as Step Functions allows).
   *
   * @default - Step Functions' default (no limit; an inline Map runs about 40 at once)
   */
  readonly maxConcurrency?: number;
  /**
   * Share of items (0–100 %) that may fail without failing the step. A failed item's own
   * compensation runs in its iteration; above the share the step fails and the saga compensates
   * (every item). Above 0 the step runs as a Distributed Map (Standard sagas only).
   *
   * @default 0 - any failed item fails the step
   */
  readonly toleratedFailurePercentage?: number;
}

/** One step of a saga: what it does, how it is undone, how it is retried. */
export interface SagaStep {
  /** The step's name: a letter, then up to 39 letters, digits, `-` or `_`; unique in the saga. Part of the idempotency token `<sagaId>#<name>`. */
  readonly name: string;
  /**
   * What the step does.
   *
   * @default - none; every step needs an action, except a parallel step (`branches`)
   */
  readonly action?: SagaTask;
  /**
   * What undoes the step: run, in reverse order, for every step that completed before a failure
   * (and for the failing step itself, see `compensateFailedStep`). It must be idempotent and a no-op
   * when the action never took effect (runtime/saga's `TransactionalSagaSteps` does both).
   *
   * @default - the step needs no undoing
   */
  readonly compensation?: SagaTask;
  /**
   * How the action is retried, over the saga's `retry`.
   *
   * @default - the saga's `retry` (callbacks: no retries)
   */
  readonly retry?: SagaRetry;
  /**
   * How the compensation is retried, over the saga's `compensationRetry`.
   *
   * @default - the saga's `compensationRetry`
   */
  readonly compensationRetry?: SagaRetry;
  /**
   * Longest time one attempt of the action may take (`States.Timeout`, then the retries, then
   * compensation). Required for callbacks.
   *
   * @default - none for Lambda and service tasks (the function's own timeout bounds them)
   */
  readonly timeout?: Duration;
  /**
   * Longest time a callback may go without a heartbeat (`heartbeatTask`): a worker that died is
   * noticed then, not at the timeout. Required for callbacks, shorter than `timeout`.
   *
   * @default - none; required for callbacks
   */
  readonly heartbeat?: Duration;
  /**
   * Run the step only when this holds over the saga document (`$.input...`, `$.saga.results...`),
   * e.g. a manual approval above an amount. Not on the first step.
   *
   * @default - the step always runs
   */
  readonly condition?: sfn.Condition;
  /**
   * Parallel branches: the step runs them at once; if one fails, the step's sub-steps are all
   * compensated (each is a no-op for what never took effect), then the steps before it.
   *
   * @default - not a parallel step
   */
  readonly branches?: SagaBranch[];
  /**
   * Run the action (and, on compensation, the compensation) once per item of a list: a Map state.
   *
   * @default - not a map step
   */
  readonly forEach?: SagaMapOptions;
}
