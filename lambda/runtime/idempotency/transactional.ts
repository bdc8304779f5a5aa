import {
  type AttributeValue,
  type CancellationReason,
  GetItemCommand,
  type TransactWriteItem as LowLevelTransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { type NativeAttributeValue, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import {
  IdempotencyConfigurationError,
  IdempotencyEffectConditionError,
  IdempotencyInProgressError,
  IdempotencyPayloadMismatchError,
  IdempotencyPersistenceError,
} from './errors';
import { hashValue, recordId, select, selectKey } from './key';
import { type IdempotencyOptions, type ResolvedOptions, resolveOptions } from './options';
import { ATTR, STATUS } from './record';

type NativeItem = Record<string, NativeAttributeValue>;

/** A condition check in a transaction, with native JavaScript values (as lib-dynamodb's `TransactWriteCommand`). */
export interface EffectConditionCheck {
  readonly TableName: string;
  readonly Key: NativeItem;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: NativeItem;
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}
/** A put in a transaction, with native JavaScript values. */
export interface EffectPut {
  readonly TableName: string;
  readonly Item: NativeItem;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: NativeItem;
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}
/** An update in a transaction, with native JavaScript values. */
export interface EffectUpdate {
  readonly TableName: string;
  readonly Key: NativeItem;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: NativeItem;
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}
/** A delete in a transaction, with native JavaScript values. */
export interface EffectDelete {
  readonly TableName: string;
  readonly Key: NativeItem;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: NativeItem;
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}
/** One write of an effect: exactly one of the four operations of `TransactWriteItems`. */
export interface EffectItem {
  readonly ConditionCheck?: EffectConditionCheck;
  readonly Put?: EffectPut;
  readonly Update?: EffectUpdate;
  readonly Delete?: EffectDelete;
}

/** The DynamoDB writes of a message's effect, committed in one transaction with its idempotency record. */
export interface TransactionalEffect<R = unknown> {
  /** Up to 99 writes (the transaction's 100th item is the idempotency record). */
  readonly items: readonly EffectItem[];
  /** A JSON-serialisable result, stored with the record and returned to duplicates. */
  readonly result?: R;
}

/** What became of a message. */
export interface IdempotentOutcome<R = unknown> {
  /** `applied`: the effect was committed now. `duplicate`: it had been committed before; nothing was written. */
  readonly status: 'applied' | 'duplicate';
  /** The record id, `<keyPrefix>#<hash>`. */
  readonly idempotencyKey: string;
  /** The effect's result: this call's, or the stored one for a duplicate. */
  readonly result?: R;
}

/** Options of {@link TransactionalIdempotency}. */
export interface TransactionalIdempotencyOptions extends IdempotencyOptions {
  /**
   * Attempts of a transaction that DynamoDB cancelled for a transient reason (a conflicting
   * concurrent transaction on the same items, throttling) before the message fails with
   * `IdempotencyPersistenceError` (and is retried by its event source).
   *
   * @default 3
   */
  readonly maxAttempts?: number;
}

const MAX_EFFECT_ITEMS = 99;
const TRANSIENT_REASONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

interface CachedRecord {
  readonly expiresAt: number; // epoch seconds
  readonly payloadHash?: string;
  readonly result?: unknown;
}

function marshallSome(values: NativeItem | undefined): Record<string, AttributeValue> | undefined {
  return values === undefined ? undefined : marshall(values, { removeUndefinedValues: true });
}

function toLowLevel(item: EffectItem, index: number): LowLevelTransactWriteItem {
  const ops = (['ConditionCheck', 'Put', 'Update', 'Delete'] as const).filter((op) => item[op] !== undefined);
  if (ops.length !== 1) {
    throw new IdempotencyConfigurationError(
      'effect.items',
      `item ${index} must have exactly one of ConditionCheck, Put, Update, Delete (given ${ops.length === 0 ? 'none' : ops.join(' and ')})`,
    );
  }
  if (item.Put) {
    const { Item, ExpressionAttributeValues, ...rest } = item.Put;
    return { Put: { ...rest, Item: marshallSome(Item)!, ExpressionAttributeValues: marshallSome(ExpressionAttributeValues) } };
  }
  const op = ops[0] as 'ConditionCheck' | 'Update' | 'Delete';
  const { Key, ExpressionAttributeValues, ...rest } = item[op]!;
  return {
    [op]: { ...rest, Key: marshallSome(Key)!, ExpressionAttributeValues: marshallSome(ExpressionAttributeValues) },
  } as LowLevelTransactWriteItem;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Transactional idempotency: for effects that are DynamoDB writes. The idempotency record and the
 * effect's writes are committed in one `TransactWriteItems` request, so the effect is applied
 * exactly once, atomically with the record that remembers it: one request per message on the
 * happy path, one (cancelled) request for a duplicate, none for a duplicate in the local cache.
 *
 * A crash at any point is safe: before the commit nothing was written, after it the redelivered
 * message is a duplicate. The effect builder runs for duplicates too, so it must not have side
 * effects of its own (build the writes, do not perform them).
 *
 * @example
 * const idempotency = new TransactionalIdempotency({ payloadSelector: 'body' });
 * export const handler = sqsBatchHandler(idempotency.makeIdempotent((record: SQSRecord) => {
 *   const p = parsePayment(record);
 *   return {
 *     items: [{ Update: { TableName: ACCOUNTS, Key: { pk: p.accountId },
 *       UpdateExpression: 'ADD balance :a', ExpressionAttributeValues: { ':a': p.amountCents } } }],
 *     result: { paymentId: p.paymentId },
 *   };
 * }));
 */
export class TransactionalIdempotency {
  private readonly options: ResolvedOptions;
  private readonly maxAttempts: number;
  private readonly cache?: LRUCache<string, CachedRecord>;

  constructor(options: TransactionalIdempotencyOptions = {}) {
    this.options = resolveOptions(options);
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1 || this.maxAttempts > 10) {
      throw new IdempotencyConfigurationError('maxAttempts', `must be a whole number between 1 and 10 (given ${options.maxAttempts})`, {
        value: options.maxAttempts,
      });
    }
    // the LRU cache Powertools' own local cache uses (lock mode)
    if (this.options.useLocalCache) this.cache = new LRUCache({ maxSize: this.options.maxLocalCacheSize });
  }

  /** The idempotency record id of a record (`<keyPrefix>#<hash>`). */
  public idempotencyKeyOf(record: unknown): string {
    const o = this.options;
    return recordId(o.keyPrefix, selectKey(o.keySelector, record), o.hashFunction);
  }

  /**
   * Applies `effect` once for `record`'s idempotency key: commits its writes with the idempotency
   * record, or, when the key was seen before, writes nothing and returns the stored result.
   *
   * @param record the message (an SQS/SNS/Kinesis/DynamoDB Streams record, an EventBridge event, ...)
   * @param effect the writes, or a function building them (called unless the local cache knows the key)
   * @throws IdempotencyKeyError, IdempotencyPayloadMismatchError, IdempotencyInProgressError,
   *   IdempotencyEffectConditionError, IdempotencyPersistenceError, IdempotencyConfigurationError
   */
  public async applyOnce<R = unknown>(
    record: unknown,
    effect: TransactionalEffect<R> | (() => TransactionalEffect<R> | Promise<TransactionalEffect<R>>),
  ): Promise<IdempotentOutcome<R>> {
    const o = this.options;
    const id = this.idempotencyKeyOf(record);
    const payloadHash = o.payloadSelector === undefined ? undefined : hashValue(select(o.payloadSelector, record), o.hashFunction);

    const cached = this.cache?.get(id);
    if (cached && cached.expiresAt > Date.now() / 1000) {
      this.checkPayload(id, cached.payloadHash, payloadHash);
      return { status: 'duplicate', idempotencyKey: id, result: cached.result as R };
    }

    // an effect builder that returns nothing is an effect with no writes (the record alone)
    const built = (typeof effect === 'function' ? await effect() : effect) ?? { items: [] };
    const items = built.items ?? [];
    if (!Array.isArray(items) || items.length > MAX_EFFECT_ITEMS) {
      throw new IdempotencyConfigurationError(
        'effect.items',
        `must be an array of at most ${MAX_EFFECT_ITEMS} writes: a transaction holds 100 items and one is the idempotency record (given ${Array.isArray(items) ? items.length : typeof items})`,
      );
    }
    const effectItems = items.map(toLowLevel);

    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      const expiresAt = Math.round(now / 1000 + o.expiresAfterSeconds);
      const recordItem: NativeItem = { [ATTR.id]: id, [ATTR.expiration]: expiresAt, [ATTR.status]: STATUS.COMPLETED };
      if (built.result !== undefined) recordItem[ATTR.data] = built.result as NativeAttributeValue;
      if (payloadHash !== undefined) recordItem[ATTR.validation] = payloadHash;
      try {
        await o.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: o.tableName,
                  Item: marshall(recordItem, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
                  // Powertools' condition: a new key, an expired record, or a lock that expired.
                  ConditionExpression:
                    'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#inprogress_expiry) AND #inprogress_expiry < :now_ms)',
                  ExpressionAttributeNames: {
                    '#id': ATTR.id,
                    '#expiry': ATTR.expiration,
                    '#status': ATTR.status,
                    '#inprogress_expiry': ATTR.inProgressExpiration,
                  },
                  ExpressionAttributeValues: marshall({ ':now': now / 1000, ':now_ms': now, ':inprogress': STATUS.INPROGRESS }),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              ...effectItems,
            ],
          }),
        );
        this.cache?.add(id, { expiresAt, payloadHash, result: built.result });
        return { status: 'applied', idempotencyKey: id, result: built.result };
      } catch (error) {
        const reasons = (error as { name?: string; CancellationReasons?: CancellationReason[] }).CancellationReasons;
        if ((error as { name?: string }).name !== 'TransactionCanceledException' || !reasons) {
          throw new IdempotencyPersistenceError('TransactWriteItems', error instanceof Error ? error.message : String(error), {
            cause: error,
            idempotencyKey: id,
          });
        }
        if (reasons[0]?.Code === 'ConditionalCheckFailed') {
          return this.duplicate<R>(id, payloadHash, reasons[0].Item, error);
        }
        const effectIndex = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
        if (effectIndex > 0) {
          const r = reasons[effectIndex];
          throw new IdempotencyEffectConditionError(id, effectIndex - 1, r.Code!, {
            cause: error,
            reasonMessage: r.Message,
            item: r.Item ? unmarshall(r.Item) : undefined,
          });
        }
        const codes = reasons.map((r) => r.Code ?? 'None');
        if (codes.some((c) => TRANSIENT_REASONS.has(c)) && attempt < this.maxAttempts) {
          await sleep(Math.random() * 25 * 2 ** attempt); // full jitter: 0-50 ms, 0-100 ms, ...
          continue;
        }
        throw new IdempotencyPersistenceError(
          'TransactWriteItems',
          `transaction cancelled after ${attempt} attempt(s) [${codes.join(', ')}]`,
          {
            cause: error,
            idempotencyKey: id,
          },
        );
      }
    }
  }

  /**
   * Wraps an effect builder into a record handler (for `processSqsBatch`, `sqsBatchHandler`, or
   * your own loop): `(record, ...rest) => Promise<IdempotentOutcome>`.
   */
  public makeIdempotent<T, A extends unknown[], R>(
    build: (record: T, ...rest: A) => TransactionalEffect<R> | Promise<TransactionalEffect<R>>,
  ): (record: T, ...rest: A) => Promise<IdempotentOutcome<R>> {
    return (record, ...rest) => this.applyOnce(record, () => build(record, ...rest));
  }

  private async duplicate<R>(
    id: string,
    payloadHash: string | undefined,
    marshalled: Record<string, AttributeValue> | undefined,
    cause: unknown,
  ): Promise<IdempotentOutcome<R>> {
    let existing = marshalled ? unmarshall(marshalled) : undefined;
    if (!existing) {
      // An emulator or an old API version without ReturnValuesOnConditionCheckFailure: read it.
      const read = await this.options.client
        .send(new GetItemCommand({ TableName: this.options.tableName, Key: marshall({ [ATTR.id]: id }), ConsistentRead: true }))
        .catch((e: unknown) => {
          throw new IdempotencyPersistenceError('GetItem', e instanceof Error ? e.message : String(e), { cause: e, idempotencyKey: id });
        });
      existing = read.Item ? unmarshall(read.Item) : undefined;
      if (!existing) {
        // It expired and was deleted between the two requests: the message is new again.
        throw new IdempotencyPersistenceError('TransactWriteItems', 'the idempotency record vanished while it was read; retry', {
          cause,
          idempotencyKey: id,
        });
      }
    }
    if (existing[ATTR.status] === STATUS.INPROGRESS) {
      throw new IdempotencyInProgressError(id, { cause, inProgressExpiresAt: existing[ATTR.inProgressExpiration] as number | undefined });
    }
    const storedHash = existing[ATTR.validation] as string | undefined;
    this.checkPayload(id, storedHash, payloadHash);
    const expiresAt = Number(existing[ATTR.expiration] ?? 0);
    this.cache?.add(id, { expiresAt, payloadHash: storedHash, result: existing[ATTR.data] });
    return { status: 'duplicate', idempotencyKey: id, result: existing[ATTR.data] as R };
  }

  private checkPayload(id: string, storedHash: string | undefined, payloadHash: string | undefined): void {
    if (payloadHash !== undefined && storedHash !== payloadHash) {
      throw new IdempotencyPayloadMismatchError(id, { storedPayloadHash: storedHash, payloadHash });
    }
  }
}
