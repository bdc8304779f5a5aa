/** What a saga's tasks receive: the Lambda payload, the SQS/SNS message body, the EventBridge detail. */
export interface SagaTaskEvent<I = unknown, R = Record<string, unknown>> {
  /** The saga id (the execution name, derived from the business key). */
  readonly sagaId: string;
  /** The step's name. */
  readonly step: string;
  /** Whether this is the step's action or its compensation. */
  readonly phase: 'action' | 'compensation';
  /**
   * `<sagaId>#<step>` (`<sagaId>#<step>#<index>` for a map item): the same for the action and the
   * compensation of a step, and for every retry of either.
   */
  readonly idempotencyToken: string;
  /** The saga input. */
  readonly input: I;
  /** The results of the steps that completed before this one (a compensation may find its own action's result here). */
  readonly results: R;
  /** The task token of a callback step: hand it to whoever calls `completeTask` or `failTask`. */
  readonly taskToken?: string;
  /** A map step's item, and its index. */
  readonly item?: unknown;
  readonly index?: number;
}

/** Whether `value` looks like a saga task event. */
export function isSagaTaskEvent(value: unknown): value is SagaTaskEvent {
  const e = value as Partial<SagaTaskEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.sagaId === 'string' &&
    typeof e.step === 'string' &&
    (e.phase === 'action' || e.phase === 'compensation') &&
    typeof e.idempotencyToken === 'string'
  );
}
