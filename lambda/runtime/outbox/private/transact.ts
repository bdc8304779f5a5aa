/**
 * `TransactWriteItems` plumbing shared by the outbox writer and the event store: native writes to
 * the low-level shape, the request's size, and reading DynamoDB's cancellation reasons. Not public.
 */
import type { AttributeValue, CancellationReason, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type NativeAttributeValue, marshall } from '@aws-sdk/util-dynamodb';
import type { EffectItem } from '../../idempotency/transactional';

type NativeItem = Record<string, NativeAttributeValue>;

/** Marshalls native values: undefined attributes dropped, class instances as maps. */
export function marshallItem(values: NativeItem): Record<string, AttributeValue> {
  return marshall(values, { removeUndefinedValues: true, convertClassInstanceToMap: true });
}

const marshallSome = (values: NativeItem | undefined) => (values === undefined ? undefined : marshallItem(values));

/**
 * One native write (exactly one of `ConditionCheck`, `Put`, `Update`, `Delete`, values as plain
 * JavaScript) as `TransactWriteItems` takes it. `fail(message)` reports a write that is not one.
 */
export function toTransactItem(item: EffectItem, fail: (message: string) => never): TransactWriteItem {
  const ops = (['ConditionCheck', 'Put', 'Update', 'Delete'] as const).filter((op) => item?.[op] !== undefined);
  if (ops.length !== 1)
    fail(`must have exactly one of ConditionCheck, Put, Update, Delete (given ${ops.length === 0 ? 'none' : ops.join(' and ')})`);
  if (item.Put) {
    const { Item, ExpressionAttributeValues, ...rest } = item.Put;
    return { Put: { ...rest, Item: marshallItem(Item), ExpressionAttributeValues: marshallSome(ExpressionAttributeValues) } };
  }
  const op = ops[0] as 'ConditionCheck' | 'Update' | 'Delete';
  const { Key, ExpressionAttributeValues, ...rest } = item[op]!;
  return {
    [op]: { ...rest, Key: marshallItem(Key), ExpressionAttributeValues: marshallSome(ExpressionAttributeValues) },
  } as TransactWriteItem;
}

/** Approximate bytes of a request (its JSON): DynamoDB counts names and values, which this over-estimates slightly. */
export function approximateBytes(items: readonly TransactWriteItem[]): number {
  return Buffer.byteLength(JSON.stringify(items), 'utf8');
}

/** The cancellation reasons of a `TransactionCanceledException`, or undefined for any other error. */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  const e = error as { name?: string; CancellationReasons?: CancellationReason[] };
  return e?.name === 'TransactionCanceledException' && Array.isArray(e.CancellationReasons) ? e.CancellationReasons : undefined;
}

/** Reasons that mean "another request was in the way": trying again may succeed. */
export const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** Whether a whole call that threw is worth trying again (throttled, 5xx, a conflict, the network). */
export function isTransientCallError(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (!e || typeof e !== 'object') return false;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  return /Throttl|LimitExceeded|InternalServerError|ServiceUnavailable|TransactionInProgress|TransactionConflict|RequestTimeout|TimeoutError/.test(
    e.name ?? '',
  );
}

/** The message of anything thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter backoff: a random delay in [0, base * 2^attempt) milliseconds, at most `max`. */
export const jitter = (attempt: number, base = 25, max = 1000): number => Math.floor(Math.random() * Math.min(max, base * 2 ** attempt));
