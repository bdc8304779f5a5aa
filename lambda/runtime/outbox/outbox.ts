import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ENV, LIMIT, SHARED_DEFAULT } from '../../../lib/core/wire';
import type { EffectItem } from '../idempotency/transactional';
import { type Fail, checkClient, checkInteger, checkPattern, checkString, numberFromEnvironment } from '../internal/options';
import {
  OutboxConditionError,
  OutboxConfigurationError,
  OutboxInputError,
  OutboxPersistenceError,
  OutboxSequenceConflictError,
} from './errors';
import {
  TRANSIENT_REASONS,
  approximateBytes,
  cancellationReasons,
  jitter,
  marshallItem,
  messageOf,
  sleep,
  toTransactItem,
} from './private/transact';
import {
  BLOCKED_SORT_KEY,
  COMMAND_KEY_PREFIX,
  COMMAND_RECORD_TYPE,
  OUTBOX_ATTRIBUTE as A,
  OUTBOX_RECORD_TYPE,
  type OutboxEvent,
  type OutboxRecord,
  outboxPartitionKey,
  parseOutboxRecord,
  recordItem,
  toOutboxRecord,
} from './record';

/** One business write: exactly one of `ConditionCheck`, `Put`, `Update`, `Delete`, with native values (as lib-dynamodb's `TransactWriteCommand`). */
export type BusinessWrite = EffectItem;

const fail: Fail = (option, message, value) => {
  throw new OutboxConfigurationError(option, message, { value });
};

/** A DynamoDB table name (3-255 letters, digits, `_`, `-`, `.`) or a table ARN. */
export const TABLE_NAME = /^([A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /**
   * The outbox table.
   *
   * @default - the `OUTBOX_TABLE_NAME` environment variable (`TransactionalOutbox.connectProducer` sets it)
   */
  readonly tableName?: string;
  /**
   * The DynamoDB client (bring your own to set retries, or to add middleware).
   *
   * @default - a new `DynamoDBClient` with the environment's settings
   */
  readonly client?: DynamoDBClient;
  /**
   * How long a command id is remembered, in seconds: a second `write` with it within that time is a
   * duplicate and writes nothing.
   *
   * @default - `OUTBOX_COMMAND_RETENTION_SECONDS`, else 1209600 (14 days)
   */
  readonly commandRetentionSeconds?: number;
  /**
   * Attempts of a transaction that DynamoDB cancelled for a transient reason (a conflicting
   * concurrent transaction on the same items, throttling) before `write` fails with
   * `OutboxPersistenceError`.
   *
   * @default 3
   */
  readonly maxAttempts?: number;
}

/** Options of one {@link Outbox.write}. */
export interface OutboxWriteOptions<R = unknown> {
  /**
   * The command's id: the write is done once per id. A second write with the same id (a retried
   * request, a redelivered message) writes nothing and returns the first write's event ids and
   * result.
   *
   * @default - no command record: every call writes
   */
  readonly commandId?: string;
  /** A JSON-serialisable result stored with the command record and returned to duplicates. @default - none */
  readonly result?: R;
}

/** What {@link Outbox.write} did. */
export interface OutboxWriteResult<R = unknown> {
  /** `written`: committed now. `duplicate`: the command id was written before; nothing was written. */
  readonly status: 'written' | 'duplicate';
  /** The events' ids, in the order given (for a duplicate: the first write's). */
  readonly eventIds: readonly string[];
  /** The result stored with the command (this call's, or the first write's for a duplicate). */
  readonly result?: R;
}

/** A record the relay has not published (yet), as {@link Outbox.pending} lists it. */
export interface PendingOutboxRecord extends OutboxRecord {
  /** Invocations of the relay that failed to publish it. */
  readonly attempts: number;
  /** Set when the relay gave up on it and sent it to the on-failure queue. */
  readonly deadLetteredAt?: number;
  readonly failureCode?: string;
  readonly failureMessage?: string;
}

/** The outbox's items in one transaction: the records and their low-level `TransactWriteItems` entries. */
export interface OutboxTransactItems {
  readonly records: readonly OutboxRecord[];
  readonly items: readonly TransactWriteItem[];
}

/**
 * The transactional outbox, writer side: `write(businessWrites, events)` commits your business
 * items, the events' outbox records and (with a `commandId`) a command record in **one**
 * `TransactWriteItems`, so either all of them are written or none. A business condition that fails
 * writes nothing, so nothing is published; a command id seen before writes nothing and returns the
 * first write's result. The `TransactionalOutbox` construct's relay publishes what was written, in
 * order per aggregate, and stamps every event with its record's `eventId`.
 *
 * The 100 items and 4 MB a transaction takes are checked before anything is sent.
 *
 * @example
 * const outbox = new Outbox(); // OUTBOX_TABLE_NAME, set by connectProducer
 * await outbox.write(
 *   [{ Put: { TableName: ORDERS, Item: order, ConditionExpression: 'attribute_not_exists(pk)' } }],
 *   [{ aggregateId: order.pk, type: 'OrderPlaced', data: order }],
 *   { commandId: request.idempotencyKey },
 * );
 */
export class Outbox {
  /** The outbox table. */
  public readonly tableName: string;
  /** How long command ids are remembered, in seconds. */
  public readonly commandRetentionSeconds: number;
  private readonly client: DynamoDBClient;
  private readonly maxAttempts: number;

  constructor(options: OutboxOptions = {}) {
    const o = options ?? {};
    const given = o.tableName ?? process.env[ENV.outboxTableName];
    if (given === undefined || given === '') {
      fail(
        'tableName',
        `tableName: no outbox table: pass tableName or set ${ENV.outboxTableName} (TransactionalOutbox.connectProducer sets it)`,
        given,
      );
    }
    this.tableName = checkPattern(
      fail,
      o.tableName !== undefined ? 'tableName' : ENV.outboxTableName,
      given,
      TABLE_NAME,
      'a DynamoDB table name or ARN',
    );
    const retention =
      o.commandRetentionSeconds ??
      numberFromEnvironment(fail, ENV.outboxCommandRetentionSeconds, (f, v) => checkInteger(f, ENV.outboxCommandRetentionSeconds, v, 1)) ??
      SHARED_DEFAULT.commandRetentionSeconds;
    this.commandRetentionSeconds = checkInteger(fail, 'commandRetentionSeconds', retention, 1);
    this.maxAttempts = checkInteger(fail, 'maxAttempts', o.maxAttempts ?? 3, 1, 10);
    this.client = checkClient(fail, 'client', o.client) ?? new DynamoDBClient({});
  }

  /**
   * The outbox records of `events` and their `TransactWriteItems` entries, to put in a transaction
   * of your own (the event store's append does). Each record is written only if no record of its
   * aggregate has its sequence.
   */
  public transactItems(events: readonly OutboxEvent[], now = Date.now()): OutboxTransactItems {
    if (!Array.isArray(events)) throw new OutboxInputError(`events must be an array (given ${typeof events})`);
    const records = events.map((e, i) => toOutboxRecord(e, i, now));
    const items = records.map((r): TransactWriteItem => ({
      Put: {
        TableName: this.tableName,
        Item: marshallItem(recordItem(r)),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': A.partitionKey },
      },
    }));
    return { records, items };
  }

  /**
   * Commits `businessWrites`, the outbox records of `events` and, with `options.commandId`, the
   * command record, in one transaction.
   *
   * @throws OutboxInputError (nothing sent), OutboxConditionError (a business condition failed:
   *   nothing written), OutboxSequenceConflictError, OutboxPersistenceError
   */
  public async write<R = unknown>(
    businessWrites: readonly BusinessWrite[],
    events: readonly OutboxEvent[],
    options: OutboxWriteOptions<R> = {},
  ): Promise<OutboxWriteResult<R>> {
    if (!Array.isArray(businessWrites)) throw new OutboxInputError(`businessWrites must be an array (given ${typeof businessWrites})`);
    const commandId = options.commandId === undefined ? undefined : checkString(fail, 'commandId', options.commandId);
    const now = Date.now();
    const { records, items: recordItems } = this.transactItems(events, now);
    const business = businessWrites.map((w, i) =>
      toTransactItem(w, (message) => {
        throw new OutboxInputError(`business write ${i} ${message}`, { context: { index: i } });
      }),
    );
    const eventIds = records.map((r) => r.eventId);
    const command = commandId === undefined ? [] : [this.commandItem(commandId, eventIds, options.result, now)];
    const items = [...command, ...business, ...recordItems];
    checkTransactionSize(items);
    if (items.length === 0) return { status: 'written', eventIds: [], result: options.result };

    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return { status: 'written', eventIds, result: options.result };
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw new OutboxPersistenceError('TransactWriteItems', messageOf(error), { cause: error });
        const offset = command.length;
        if (commandId !== undefined && reasons[0]?.Code === 'ConditionalCheckFailed') {
          return this.duplicate<R>(commandId, reasons[0].Item ? unmarshall(reasons[0].Item) : undefined);
        }
        const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (failed >= 0 && failed < offset + business.length) {
          const r = reasons[failed];
          throw new OutboxConditionError(failed - offset, r.Code!, { cause: error, item: r.Item ? unmarshall(r.Item) : undefined });
        }
        if (failed >= 0) {
          const record = records[failed - offset - business.length];
          throw new OutboxSequenceConflictError(record.aggregateId, record.sequence, { cause: error });
        }
        const codes = reasons.map((r) => r.Code ?? 'None');
        if (codes.some((c) => TRANSIENT_REASONS.has(c)) && attempt < this.maxAttempts) {
          await sleep(jitter(attempt));
          continue;
        }
        throw new OutboxPersistenceError('TransactWriteItems', `transaction cancelled after ${attempt} attempt(s) [${codes.join(', ')}]`, {
          cause: error,
        });
      }
    }
  }

  /**
   * The records of `aggregateId` the relay has not published, in order: those still on their way,
   * and those it gave up on (`deadLetteredAt`).
   */
  public async pending(aggregateId: string): Promise<PendingOutboxRecord[]> {
    const pending: PendingOutboxRecord[] = [];
    for (const item of await this.aggregateItems(aggregateId)) {
      if (item[A.recordType] !== OUTBOX_RECORD_TYPE || item[A.publishedAt] !== undefined) continue;
      pending.push({
        ...parseOutboxRecord(item),
        attempts: Number(item[A.attempts] ?? 0),
        ...(item[A.deadLetteredAt] === undefined
          ? {}
          : {
              deadLetteredAt: Number(item[A.deadLetteredAt]),
              failureCode: item[A.failureCode] as string | undefined,
              failureMessage: item[A.failureMessage] as string | undefined,
            }),
      });
    }
    return pending;
  }

  /**
   * Hands an aggregate's unpublished records to the relay again, in order, after you fixed why they
   * failed: lifts the relay's hold on the aggregate, then deletes and rewrites each unpublished
   * record (a fresh stream INSERT, without its failure). Stop writes of the aggregate while it runs:
   * a record written between the hold being lifted and the rewrites is published before them.
   *
   * @returns the event ids handed over, in order
   */
  public async redrive(aggregateId: string): Promise<string[]> {
    const pending = await this.pending(aggregateId);
    const key = (sk: string) => marshall({ [A.partitionKey]: outboxPartitionKey(aggregateId), [A.sortKey]: sk });
    await this.call('DeleteItem', () => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(BLOCKED_SORT_KEY) })));
    for (const record of pending) {
      await this.call('DeleteItem', () => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(record.sk) })));
      const fresh: OutboxRecord = {
        pk: record.pk,
        sk: record.sk,
        eventId: record.eventId,
        aggregateId: record.aggregateId,
        sequence: record.sequence,
        type: record.type,
        data: record.data,
        occurredAt: record.occurredAt,
        ...(record.metadata ? { metadata: record.metadata } : {}),
        createdAt: record.createdAt,
      };
      await this.call('PutItem', () =>
        this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshallItem(recordItem(fresh)) })),
      );
    }
    return pending.map((r) => r.eventId);
  }

  /** The command record of `commandId`, written with the records (only if the id is new or expired). */
  private commandItem(commandId: string, eventIds: readonly string[], result: unknown, now: number): TransactWriteItem {
    const item: Record<string, unknown> = {
      [A.partitionKey]: `${COMMAND_KEY_PREFIX}${commandId}`,
      [A.sortKey]: '-',
      [A.recordType]: COMMAND_RECORD_TYPE,
      eventIds: [...eventIds],
      [A.createdAt]: now,
      [A.expiresAt]: Math.ceil(now / 1000) + this.commandRetentionSeconds,
    };
    if (result !== undefined) item.result = JSON.stringify(result);
    return {
      Put: {
        TableName: this.tableName,
        Item: marshallItem(item),
        // A new command id, or one whose record expired but TTL has not deleted yet.
        ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt < :now',
        ExpressionAttributeNames: { '#pk': A.partitionKey, '#expiresAt': A.expiresAt },
        ExpressionAttributeValues: marshall({ ':now': Math.floor(now / 1000) }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private async duplicate<R>(commandId: string, stored: Record<string, unknown> | undefined): Promise<OutboxWriteResult<R>> {
    let item = stored;
    if (!item) {
      // An emulator or API version without ReturnValuesOnConditionCheckFailure: read it.
      const read = await this.call('GetItem', () =>
        this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: marshall({ [A.partitionKey]: `${COMMAND_KEY_PREFIX}${commandId}`, [A.sortKey]: '-' }),
            ConsistentRead: true,
          }),
        ),
      );
      item = read.Item ? unmarshall(read.Item) : {};
    }
    const result = typeof item.result === 'string' ? (JSON.parse(item.result) as R) : undefined;
    return { status: 'duplicate', eventIds: Array.isArray(item.eventIds) ? (item.eventIds as string[]) : [], result };
  }

  private async aggregateItems(aggregateId: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page: QueryCommandOutput = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': A.partitionKey },
            ExpressionAttributeValues: marshall({ ':pk': outboxPartitionKey(aggregateId) }),
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new OutboxPersistenceError(operation, messageOf(error), { cause: error });
    }
  }
}

/** Throws {@link OutboxInputError} when `items` do not fit one transaction (100 items, 4 MB). */
export function checkTransactionSize(items: readonly TransactWriteItem[]): void {
  if (items.length > LIMIT.dynamoDbMaxTransactionItems) {
    throw new OutboxInputError(
      `the transaction would hold ${items.length} items: DynamoDB takes at most ${LIMIT.dynamoDbMaxTransactionItems} in one TransactWriteItems (business writes, outbox records and the command record together)`,
      { context: { items: items.length } },
    );
  }
  const bytes = approximateBytes(items);
  if (bytes > LIMIT.dynamoDbMaxTransactionBytes) {
    throw new OutboxInputError(`the transaction would be about ${bytes} bytes: DynamoDB takes at most 4 MB in one TransactWriteItems`, {
      context: { bytes },
    });
  }
}
