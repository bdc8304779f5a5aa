import { IdempotencyEffectConditionError } from '../idempotency/errors';
import { IDEMPOTENCY_TABLE_NAME_ENV } from '../idempotency/options';
import { ATTR, STATUS } from '../idempotency/record';
import {
  type EffectItem,
  type TransactionalEffect,
  TransactionalIdempotency,
  type TransactionalIdempotencyOptions,
} from '../idempotency/transactional';
import { SagaConfigurationError, SagaStepCompensatedError } from './errors';
import { type SagaTaskEvent, isSagaTaskEvent } from './event';

/** Options of {@link TransactionalSagaSteps}. */
export interface TransactionalSagaStepsOptions extends Omit<
  TransactionalIdempotencyOptions,
  'keySelector' | 'payloadSelector' | 'keyPrefix'
> {
  /**
   * Prefix of the step records: the same for every function that runs a step's action or its
   * compensation, so each finds the other's record.
   *
   * @default 'saga'
   */
  readonly keyPrefix?: string;
}

/** What became of a step's action or compensation. */
export interface SagaStepOutcome<R = unknown> {
  /**
   * `applied`: written now. `duplicate`: written by an earlier attempt (nothing written now).
   * `skipped`: a compensation of an action that never took effect (nothing to undo; the action can
   * no longer take effect either).
   */
  readonly status: 'applied' | 'duplicate' | 'skipped';
  /** The effect's result: this call's, or the stored one. */
  readonly result?: R;
}

/** Builds an effect (the DynamoDB writes of a step, with a result). */
export type EffectBuilder<R> = TransactionalEffect<R> | (() => TransactionalEffect<R> | Promise<TransactionalEffect<R>>);

/** How long step records are kept: 90 days, longer than a saga runs and is resumed (Step Functions keeps execution names as long). */
const STEP_RECORD_EXPIRY_SECONDS = 90 * 24 * 3600;
const SKIPPED = { skipped: true } as const;
const MAX_RACES = 3;

/**
 * Saga steps whose effects are DynamoDB writes, built on the kit's transactional idempotency: each
 * action and each compensation is applied at most once per idempotency token (however often Step
 * Functions retries it), atomically with a record of it, and a compensation knows whether its
 * action took effect:
 *
 * - action: its writes + its record, on the condition that the step was not compensated (a retry
 *   that outlived a timeout arrives too late: {@link SagaStepCompensatedError}, nothing written);
 * - compensation: its writes + its record, on the condition that the action's record exists; when
 *   it does not, only the compensation's record is written, which also stops a late action: the
 *   outcome is `skipped` (a no-op, not an error).
 *
 * @example
 * const steps = new TransactionalSagaSteps();
 * export const handler = (event: SagaTaskEvent<Order>) =>
 *   steps.run(event, {
 *     action: () => ({ items: [{ Update: { TableName, Key: { pk: `sku#${event.input.sku}` },
 *       UpdateExpression: 'ADD reserved :q', ExpressionAttributeValues: { ':q': event.input.quantity } } }] }),
 *     compensation: () => ({ items: [{ Update: { TableName, Key: { pk: `sku#${event.input.sku}` },
 *       UpdateExpression: 'ADD reserved :q', ExpressionAttributeValues: { ':q': -event.input.quantity } } }] }),
 *   });
 */
export class TransactionalSagaSteps {
  private readonly idempotency: TransactionalIdempotency;
  private readonly tableName: string;

  constructor(options: TransactionalSagaStepsOptions = {}) {
    this.idempotency = new TransactionalIdempotency({
      ...options,
      keyPrefix: options.keyPrefix ?? 'saga',
      expiresAfterSeconds: options.expiresAfterSeconds ?? STEP_RECORD_EXPIRY_SECONDS,
    });
    this.tableName = (options.tableName ?? process.env[IDEMPOTENCY_TABLE_NAME_ENV])!;
  }

  /** The idempotency record id of a step's action or compensation. */
  public recordIdOf(idempotencyToken: string, phase: 'action' | 'compensation'): string {
    return this.idempotency.idempotencyKeyOf({ idempotencyKey: `${idempotencyToken}#${phase}` });
  }

  /** Runs the event's phase: `action` or `compensation`. */
  public async run<A, C = unknown>(
    event: SagaTaskEvent,
    handlers: { readonly action: EffectBuilder<A>; readonly compensation?: EffectBuilder<C> },
  ): Promise<SagaStepOutcome<A | C>> {
    checkEvent(event);
    if (event.phase === 'compensation') {
      if (!handlers.compensation) throw new SagaConfigurationError('compensation', `step ${event.step} has no compensation handler`);
      return this.compensation(event, handlers.compensation);
    }
    return this.action(event, handlers.action);
  }

  /**
   * Applies a step's action once per token, unless the step was compensated already.
   *
   * @throws SagaStepCompensatedError, and the idempotency library's errors (IdempotencyEffectConditionError for a
   *   condition of your own writes, IdempotencyPersistenceError...)
   */
  public async action<R>(event: SagaTaskEvent, effect: EffectBuilder<R>): Promise<SagaStepOutcome<R>> {
    checkEvent(event);
    const guard = this.recordCheck(event.idempotencyToken, 'compensation', false);
    let items = 0;
    try {
      const outcome = await this.idempotency.applyOnce<R>({ idempotencyKey: `${event.idempotencyToken}#action` }, async () => {
        const built = await build(effect);
        items = built.items.length;
        return { ...built, items: [...built.items, guard] };
      });
      return { status: outcome.status, result: outcome.result };
    } catch (error) {
      if (error instanceof IdempotencyEffectConditionError && error.itemIndex === items) {
        throw new SagaStepCompensatedError(event.idempotencyToken, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Applies a step's compensation once per token: its writes when the action took effect, else
   * nothing but its record (`skipped`).
   */
  public async compensation<R>(event: SagaTaskEvent, effect: EffectBuilder<R>): Promise<SagaStepOutcome<R>> {
    checkEvent(event);
    const record = { idempotencyKey: `${event.idempotencyToken}#compensation` };
    const actionTookEffect = this.recordCheck(event.idempotencyToken, 'action', true);
    const actionNeverRan = this.recordCheck(event.idempotencyToken, 'action', false);
    for (let race = 1; ; race++) {
      try {
        const outcome = await this.idempotency.applyOnce<R | typeof SKIPPED>(record, async () => {
          const built = await build(effect);
          return { ...built, items: [actionTookEffect, ...built.items] };
        });
        return describe(outcome);
      } catch (error) {
        if (!(error instanceof IdempotencyEffectConditionError && error.itemIndex === 0)) throw error;
      }
      // The action never took effect: record the compensation alone, on the condition that the action still has no record.
      try {
        const outcome = await this.idempotency.applyOnce<R | typeof SKIPPED>(record, { items: [actionNeverRan], result: SKIPPED });
        return describe(outcome);
      } catch (error) {
        // The action committed between the two attempts: compensate it.
        if (!(error instanceof IdempotencyEffectConditionError && error.itemIndex === 0) || race >= MAX_RACES) throw error;
      }
    }
  }

  /** A condition check that the record of a step's phase exists (or does not). */
  private recordCheck(idempotencyToken: string, phase: 'action' | 'compensation', exists: boolean): EffectItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: { [ATTR.id]: this.recordIdOf(idempotencyToken, phase) },
        ConditionExpression: exists ? 'attribute_exists(#id) AND #status = :completed' : 'attribute_not_exists(#id)',
        ExpressionAttributeNames: exists ? { '#id': ATTR.id, '#status': ATTR.status } : { '#id': ATTR.id },
        ExpressionAttributeValues: exists ? { ':completed': STATUS.COMPLETED } : undefined,
      },
    };
  }
}

function describe<R>(outcome: { status: 'applied' | 'duplicate'; result?: R | typeof SKIPPED }): SagaStepOutcome<R> {
  const r = outcome.result as { skipped?: unknown } | undefined;
  if (r && typeof r === 'object' && r.skipped === true && Object.keys(r).length === 1) {
    return { status: outcome.status === 'applied' ? 'skipped' : 'duplicate' };
  }
  return { status: outcome.status, result: outcome.result as R };
}

async function build<R>(effect: EffectBuilder<R>): Promise<TransactionalEffect<R>> {
  const built = (typeof effect === 'function' ? await effect() : effect) ?? { items: [] };
  return { ...built, items: built.items ?? [] };
}

function checkEvent(event: SagaTaskEvent): void {
  if (!isSagaTaskEvent(event)) {
    throw new SagaConfigurationError('event', 'is not a saga task event (sagaId, step, phase and idempotencyToken are required)', {
      value: event,
    });
  }
}
