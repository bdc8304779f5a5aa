import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent as powertoolsMakeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import {
  IdempotencyConfigurationError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyPayloadMismatchError,
  IdempotencyPersistenceError,
} from './errors';
import { recordId, select, selectKey } from './key';
import { type IdempotencyOptions, type ResolvedOptions, resolveOptions } from './options';
import { KeyQueue } from './private/key-queue';
import type { IdempotentOutcome } from './transactional';

/**
 * Arguments of a wrapped function after the record: the function's own, or, when it takes none,
 * the Lambda context (so `processSqsBatch` can pass it).
 */
export type ContextArgs<A extends unknown[]> = A extends [] ? [context?: Context] : A;

/** Options of {@link LockIdempotency}. */
export type LockIdempotencyOptions = IdempotencyOptions;

/** What Powertools hashes: the selected key, and the selected payload when validation is on. */
interface Selected {
  readonly key: unknown;
  readonly payload?: unknown;
}

/** Carries an error of the wrapped function through Powertools, which releases the lock and rethrows it. */
class WrappedFunctionError extends Error {
  constructor(public readonly original: unknown) {
    super('wrapped function failed');
  }
}

const isContext = (v: unknown): v is Context =>
  typeof v === 'object' && v !== null && typeof (v as Context).getRemainingTimeInMillis === 'function';

/**
 * Lock-mode idempotency: for effects outside DynamoDB (an HTTP call, a publish). Built on
 * Powertools idempotency (`makeIdempotent`, `IdempotencyConfig`, `DynamoDBPersistenceLayer`):
 *
 * 1. an `INPROGRESS` record locks the key, expiring with the invocation (`registerLambdaContext`);
 * 2. your function runs;
 * 3. a `COMPLETED` record stores its result, returned to every duplicate; on failure the lock is
 *    released so the retry runs again.
 *
 * Added on top: keys come from any event source ({@link defaultIdempotencyKey}, a JMESPath
 * selector or a function); copies of one message inside a batch run one after the other (the
 * second is acknowledged as a duplicate instead of failing on the lock and being retried);
 * Powertools' errors become this library's typed errors; the outcome says whether the effect ran.
 *
 * Limit: a crash after the effect and before the `COMPLETED` record re-runs the effect when the lock
 * expires (at-least-once in that window). Pass the idempotency key downstream (an SQS FIFO
 * `MessageDeduplicationId`, an HTTP `Idempotency-Key` header) to close it, or use
 * {@link TransactionalIdempotency} when the effect is a DynamoDB write.
 *
 * @example
 * const idempotency = new LockIdempotency({ keySelector: 'powertools_json(body).orderId' });
 * const notify = idempotency.makeIdempotent(async (record: SQSRecord) => publish(record));
 * export const handler = (event: SQSEvent, context: Context) => processSqsBatch(event, notify, { context });
 */
export class LockIdempotency {
  private readonly options: ResolvedOptions;
  private readonly config: IdempotencyConfig;
  private readonly persistenceStore: DynamoDBPersistenceLayer;
  private readonly queue = new KeyQueue();
  private readonly duplicates = new Set<string>();

  constructor(options: LockIdempotencyOptions = {}) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.persistenceStore = new DynamoDBPersistenceLayer({ tableName: o.tableName, awsSdkV3Client: o.client });
    this.config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      payloadValidationJmesPath: o.payloadSelector === undefined ? undefined : 'payload',
      throwOnNoIdempotencyKey: true,
      expiresAfterSeconds: o.expiresAfterSeconds,
      useLocalCache: o.useLocalCache,
      maxLocalCacheSize: o.maxLocalCacheSize,
      hashFunction: o.hashFunction,
      // Called only when a stored result is returned: that is how a duplicate is told apart.
      responseHook: (response, record) => {
        this.duplicates.add(record.idempotencyKey);
        return response;
      },
    });
  }

  /**
   * Registers the invocation's context: the lock expires when the invocation would time out. Done
   * for you when the wrapped function receives the context among its arguments (as
   * `processSqsBatch` passes it).
   */
  public registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  /** The idempotency record id of a record (`<keyPrefix>#<hash>`). */
  public idempotencyKeyOf(record: unknown): string {
    const o = this.options;
    return recordId(o.keyPrefix, selectKey(o.keySelector, record), o.hashFunction);
  }

  /**
   * Wraps `fn` so it runs once per idempotency key of its first argument (the record); a
   * duplicate gets the stored result without running `fn`. `fn`'s result must be JSON-serialisable.
   *
   * @throws IdempotencyInProgressError when another invocation holds the key (transient),
   *   IdempotencyPayloadMismatchError, IdempotencyKeyError, IdempotencyPersistenceError,
   *   IdempotencyConfigurationError (no Lambda context); errors of `fn` pass through unchanged
   */
  public makeIdempotent<T, A extends unknown[], R>(
    fn: (record: T, ...rest: A) => Promise<R> | R,
  ): (record: T, ...rest: ContextArgs<A>) => Promise<IdempotentOutcome<R>> {
    const o = this.options;
    const once = powertoolsMakeIdempotent(
      async (_selected: Selected, record: unknown, ...rest: unknown[]): Promise<R> => {
        try {
          return await fn(record as T, ...(rest as A));
        } catch (error) {
          throw new WrappedFunctionError(error);
        }
      },
      { persistenceStore: this.persistenceStore, config: this.config, keyPrefix: o.keyPrefix, dataIndexArgument: 0 },
    );

    return async (record: T, ...args: ContextArgs<A>): Promise<IdempotentOutcome<R>> => {
      const rest = args as unknown as A;
      const context = rest.find(isContext);
      if (context) this.registerLambdaContext(context);
      if (!this.config.lambdaContext) {
        throw new IdempotencyConfigurationError(
          'context',
          'lock mode needs the Lambda context, so a lock expires with the invocation that holds it: pass it to the wrapped function (processSqsBatch(event, fn, { context })) or call registerLambdaContext(context)',
        );
      }
      const key = selectKey(o.keySelector, record);
      const selected: Selected = o.payloadSelector === undefined ? { key } : { key, payload: select(o.payloadSelector, record) };
      const id = recordId(o.keyPrefix, key, o.hashFunction);
      return this.queue.run(id, async () => {
        this.duplicates.delete(id);
        try {
          const result = (await once(selected, record, ...rest)) as R;
          const status = this.duplicates.delete(id) ? 'duplicate' : 'applied';
          return { status, idempotencyKey: id, result };
        } catch (error) {
          throw translate(error, id);
        }
      });
    };
  }
}

/** Powertools' errors as this library's; the wrapped function's own errors unchanged. */
function translate(error: unknown, id: string): unknown {
  if (error instanceof WrappedFunctionError) return error.original;
  if (error instanceof IdempotencyError) return error;
  if (error instanceof IdempotencyValidationError) {
    return new IdempotencyPayloadMismatchError(id, { cause: error, storedPayloadHash: error.existingRecord?.payloadHash });
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new IdempotencyInProgressError(id, { cause: error, inProgressExpiresAt: error.existingRecord?.inProgressExpiryTimestamp });
  }
  // IdempotencyPersistenceLayerError, with the SDK error as its cause.
  const message = error instanceof Error ? error.message : String(error);
  return new IdempotencyPersistenceError('idempotency record', message, { cause: error, idempotencyKey: id });
}
