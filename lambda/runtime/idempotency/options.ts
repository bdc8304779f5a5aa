import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfigError } from './errors';
import { type Selector, checkSelector } from './key';

/** Environment variable holding the idempotency table's name (set by `IdempotencyTable`). */
export const IDEMPOTENCY_TABLE_NAME_ENV = 'IDEMPOTENCY_TABLE_NAME';

/** Options shared by both modes. Both modes use the same table layout, so one table serves both. */
export interface IdempotencyOptions {
  /**
   * The idempotency table: partition key `id` (string), TTL on `expiration`.
   *
   * @default - the `IDEMPOTENCY_TABLE_NAME` environment variable
   */
  readonly tableName?: string;
  /**
   * The DynamoDB client to use (bring your own to set retries, or to add middleware).
   *
   * @default - a new `DynamoDBClient` with the SDK's defaults
   */
  readonly client?: DynamoDBClient;
  /**
   * Where the idempotency key comes from: a JMESPath expression over the record (Powertools'
   * functions available, e.g. `powertools_json(body).paymentId`) or a function of the record.
   *
   * @default - {@link defaultIdempotencyKey}: the `idempotencyKey` attribute, else the message id
   */
  readonly keySelector?: Selector;
  /**
   * The part of the message that must be identical for the same key (payload validation): a
   * duplicate whose selected payload differs fails with `IdempotencyPayloadMismatchError`.
   *
   * @default - no payload validation
   */
  readonly payloadSelector?: Selector;
  /**
   * Prefix of record ids (`<keyPrefix>#<hash>`): the scope in which keys are unique. Two consumers
   * that must not see each other's messages as duplicates need different prefixes.
   *
   * @default - the function name (`AWS_LAMBDA_FUNCTION_NAME`), else `idempotency`
   */
  readonly keyPrefix?: string;
  /**
   * How long a key is remembered, in seconds. Make it longer than the time within which a
   * duplicate can arrive (at least `maxReceiveCount` x the queue's visibility timeout).
   *
   * @default 3600
   */
  readonly expiresAfterSeconds?: number;
  /**
   * Keep completed records in memory, so a duplicate that reaches the same execution environment
   * costs no request at all.
   *
   * @default false
   */
  readonly useLocalCache?: boolean;
  /**
   * Most records kept in the local cache.
   *
   * @default 1000
   */
  readonly maxLocalCacheSize?: number;
  /**
   * Node.js hash function of keys and payloads.
   *
   * @default 'md5' - Powertools' default, so record ids match Powertools'
   */
  readonly hashFunction?: string;
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly keySelector?: Selector;
  readonly payloadSelector?: Selector;
  readonly keyPrefix: string;
  readonly expiresAfterSeconds: number;
  readonly useLocalCache: boolean;
  readonly maxLocalCacheSize: number;
  readonly hashFunction: string;
}

/** Applies defaults and checks every option; throws {@link IdempotencyConfigError} on the first bad one. */
export function resolveOptions(options: IdempotencyOptions): ResolvedOptions {
  const tableName = options.tableName ?? process.env[IDEMPOTENCY_TABLE_NAME_ENV];
  if (!tableName) {
    throw new IdempotencyConfigError(
      'tableName',
      `no idempotency table: pass tableName or set the ${IDEMPOTENCY_TABLE_NAME_ENV} environment variable (IdempotencyTable.connect(fn) sets it)`,
    );
  }
  const expiresAfterSeconds = options.expiresAfterSeconds ?? 3600;
  if (!Number.isInteger(expiresAfterSeconds) || expiresAfterSeconds < 1) {
    throw new IdempotencyConfigError('expiresAfterSeconds', `must be a positive whole number of seconds (given ${expiresAfterSeconds})`);
  }
  const maxLocalCacheSize = options.maxLocalCacheSize ?? 1000;
  if (!Number.isInteger(maxLocalCacheSize) || maxLocalCacheSize < 1) {
    throw new IdempotencyConfigError('maxLocalCacheSize', `must be a positive whole number (given ${maxLocalCacheSize})`);
  }
  const hashFunction = options.hashFunction ?? 'md5';
  try {
    createHash(hashFunction);
  } catch (cause) {
    throw new IdempotencyConfigError('hashFunction', `is not a hash function Node.js knows (given '${hashFunction}')`, { cause });
  }
  const keyPrefix = options.keyPrefix ?? (process.env.AWS_LAMBDA_FUNCTION_NAME || 'idempotency');
  if (keyPrefix.trim() === '' || keyPrefix.includes('#')) {
    throw new IdempotencyConfigError('keyPrefix', `must be non-empty and contain no '#' (given '${keyPrefix}')`);
  }
  checkSelector('keySelector', options.keySelector);
  checkSelector('payloadSelector', options.payloadSelector);
  return {
    tableName,
    client: options.client ?? new DynamoDBClient({}),
    keySelector: options.keySelector,
    payloadSelector: options.payloadSelector,
    keyPrefix,
    expiresAfterSeconds,
    useLocalCache: options.useLocalCache ?? false,
    maxLocalCacheSize,
    hashFunction,
  };
}
