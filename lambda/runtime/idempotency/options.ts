import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../../../lib/core/wire';
import { type Fail, checkBoolean, checkClient, checkPattern } from '../internal/options';
import { IdempotencyConfigurationError } from './errors';
import { type Selector, checkSelector } from './key';

/** Environment variable holding the idempotency table's name (set by `IdempotencyTable`). */
export const IDEMPOTENCY_TABLE_NAME_ENV = ENV.idempotencyTableName;

/** A DynamoDB table name (3-255 letters, digits, `_`, `-`, `.`) or a table ARN. */
const TABLE_NAME = /^([A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;

/** Throws {@link IdempotencyConfigurationError}, whose message reads `<option>: <rule>`. */
const fail: Fail = (option, message, value) => {
  throw new IdempotencyConfigurationError(option, message.startsWith(`${option} `) ? message.slice(option.length + 1) : message, { value });
};

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

/** Applies defaults and checks every option; throws {@link IdempotencyConfigurationError} on the first bad one. */
export function resolveOptions(options: IdempotencyOptions): ResolvedOptions {
  const tableName = options.tableName ?? process.env[IDEMPOTENCY_TABLE_NAME_ENV];
  if (!tableName) {
    throw new IdempotencyConfigurationError(
      'tableName',
      `no idempotency table: pass tableName or set the ${IDEMPOTENCY_TABLE_NAME_ENV} environment variable (IdempotencyTable.connectConsumer(fn) sets it)`,
      { value: tableName },
    );
  }
  checkPattern(
    fail,
    options.tableName !== undefined ? 'tableName' : IDEMPOTENCY_TABLE_NAME_ENV,
    tableName,
    TABLE_NAME,
    'a DynamoDB table name (3-255 letters, digits, _, - or .) or a table ARN',
  );
  const expiresAfterSeconds = options.expiresAfterSeconds ?? 3600;
  if (!Number.isInteger(expiresAfterSeconds) || expiresAfterSeconds < 1) {
    throw new IdempotencyConfigurationError(
      'expiresAfterSeconds',
      `must be a positive whole number of seconds (given ${expiresAfterSeconds})`,
      {
        value: expiresAfterSeconds,
      },
    );
  }
  const maxLocalCacheSize = options.maxLocalCacheSize ?? 1000;
  if (!Number.isInteger(maxLocalCacheSize) || maxLocalCacheSize < 1) {
    throw new IdempotencyConfigurationError('maxLocalCacheSize', `must be a positive whole number (given ${maxLocalCacheSize})`, {
      value: maxLocalCacheSize,
    });
  }
  const hashFunction = options.hashFunction ?? 'md5';
  try {
    createHash(hashFunction);
  } catch (cause) {
    throw new IdempotencyConfigurationError('hashFunction', `is not a hash function Node.js knows (given '${hashFunction}')`, {
      cause,
      value: hashFunction,
    });
  }
  const keyPrefix = options.keyPrefix ?? (process.env.AWS_LAMBDA_FUNCTION_NAME || 'idempotency');
  if (typeof keyPrefix !== 'string' || keyPrefix.trim() === '' || keyPrefix.includes('#')) {
    throw new IdempotencyConfigurationError('keyPrefix', `must be non-empty and contain no '#' (given '${keyPrefix}')`, {
      value: keyPrefix,
    });
  }
  checkSelector('keySelector', options.keySelector);
  checkSelector('payloadSelector', options.payloadSelector);
  checkClient(fail, 'client', options.client);
  checkBoolean(fail, 'useLocalCache', options.useLocalCache);
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
