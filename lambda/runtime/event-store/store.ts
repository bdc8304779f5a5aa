import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandOutput,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ENV, LIMIT, SHARED_DEFAULT } from '../../../lib/core/wire';
import { type Fail, checkClient, checkInteger, checkPattern, checkString } from '../internal/options';
import { Outbox, TABLE_NAME } from '../outbox/outbox';
import {
  TRANSIENT_REASONS,
  approximateBytes,
  cancellationReasons,
  jitter,
  marshallItem,
  messageOf,
  sleep,
} from '../outbox/private/transact';
import type { OutboxEvent } from '../outbox/record';
import {
  ConcurrencyError,
  EventStoreConfigurationError,
  EventStoreError,
  EventStoreInputError,
  EventStorePersistenceError,
  MalformedEventError,
  ReducerError,
} from './errors';
import {
  COMMAND_RECORD_TYPE,
  EVENT_ATTRIBUTE as A,
  EVENT_RECORD_TYPE,
  type NewEvent,
  SNAPSHOT_RECORD_TYPE,
  type StoredEvent,
  checkAggregateId,
  commandKey,
  snapshotKey,
} from './layout';
import { PayloadStore } from './payloads';
import { UpcasterChain, type Upcasters } from './upcast';

const fail: Fail = (option, message, value) => {
  throw new EventStoreConfigurationError(option, message, { value });
};

/**
 * How an aggregate's state is computed from its events. `version` names the code of `apply`: bump
 * it whenever `apply` changes, and snapshots taken by another version are ignored (they are keyed
 * by it), so a stale snapshot never stands in for the new code's state.
 */
export interface Reducer<S, E = unknown> {
  readonly version: number;
  /** The state of an aggregate with no events. */
  readonly initial: () => S;
  /** The state after `event` (its data at the latest schema version). Return a new value; do not mutate. */
  readonly apply: (state: S, event: StoredEvent<E>) => S;
}

/** The configuration `EventStore.connectX` puts in `EVENT_STORE_CONFIG`. */
export interface EventStoreConfig {
  readonly tableName?: string;
  readonly bucketName?: string;
  readonly snapshotEvery?: number;
  readonly payloadThresholdBytes?: number;
  readonly commandRetentionSeconds?: number;
  readonly outboxTableName?: string;
}

/** Options of {@link EventStore}. */
export interface EventStoreOptions<S = unknown> {
  /** The event table. @default - `EVENT_STORE_CONFIG.tableName` (the construct's `connectX` sets it) */
  readonly tableName?: string;
  /** @default - a new `DynamoDBClient` */
  readonly client?: DynamoDBClient;
  /** Where payloads above `payloadThresholdBytes` go. @default - `EVENT_STORE_CONFIG.bucketName`; none: such payloads are refused */
  readonly bucketName?: string;
  /** @default - a new `S3Client` */
  readonly s3Client?: Pick<S3Client, 'send'>;
  /** @default - the config's, else 350000 (a DynamoDB item holds 400 KB with the rest of the item) */
  readonly payloadThresholdBytes?: number;
  /** Events between two snapshots. @default - the config's, else 100 */
  readonly snapshotEvery?: number;
  /** How aggregates are folded: needed by `load`, `loadAt`, `execute` and snapshots. @default - none */
  readonly reducer?: Reducer<S>;
  /** Upcasters by event type and `fromVersion`, applied on every read. @default - none */
  readonly upcasters?: Upcasters;
  /**
   * The outbox the events are distributed through: every appended event also gets an outbox record,
   * in the same transaction, and the outbox's relay publishes it.
   *
   * @default - the config's `outboxTableName` (an `Outbox` on it), else no distribution
   */
  readonly outbox?: Outbox;
  /** How long command ids are remembered, in seconds. @default - the config's, else 1209600 (14 days) */
  readonly commandRetentionSeconds?: number;
  /** Attempts of a transaction DynamoDB cancelled for a transient reason, before a `ConcurrencyError`. @default 3 */
  readonly maxAttempts?: number;
}

/** Options of one {@link EventStore.append}. */
export interface AppendOptions<S = unknown> {
  /** The command's id: the append is done once per id; a second one writes nothing and returns the first's versions. @default - none */
  readonly commandId?: string;
  /**
   * The aggregate's state at `expectedVersion` (what `load` returned). With a reducer it lets the
   * append take the snapshot when it crosses a multiple of `snapshotEvery` (in the same
   * transaction), and gives `publish` the state after each event.
   *
   * @default - none: no snapshot (except for a new aggregate)
   */
  readonly state?: S;
  /** Added to every event's metadata. @default - none */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * What the outbox publishes for each event: `false` for nothing, or a function returning the
   * outbox event (the event as it is, a notification without data, the event with the state after
   * it: event-carried state transfer), or `undefined` to publish nothing for that event.
   *
   * @default - every event as it is (its data, `sequence` = version, `eventId` = the event's)
   */
  readonly publish?: false | ((event: StoredEvent, stateAfter: S | undefined) => OutboxEvent | undefined);
}

/** What {@link EventStore.append} did. */
export interface AppendResult {
  /** `appended`, or `duplicate` when the command id was appended before (nothing written). */
  readonly status: 'appended' | 'duplicate';
  readonly aggregateId: string;
  /** Versions of the events appended (for a duplicate: the first append's). */
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly eventIds: readonly string[];
  /** Set when the append took a snapshot, at this version. */
  readonly snapshotVersion?: number;
}

/** An aggregate as {@link EventStore.load} folded it. */
export interface LoadedAggregate<S> {
  readonly aggregateId: string;
  readonly state: S;
  /** The version of `state`: the last event folded (0 for an aggregate with no events). */
  readonly version: number;
  /** The snapshot it started from, when one was used. */
  readonly snapshotVersion?: number;
  /** Events read from the table (the snapshot aside). */
  readonly eventsRead: number;
}

/** A point in an aggregate's history: a version, or a time (the events recorded at or before it). */
export interface HistoryPoint {
  /** @default - none: give `version` or `time` */
  readonly version?: number;
  /** @default - none: give `version` or `time` */
  readonly time?: Date | string | number;
}

/** A range of an aggregate's events. */
export interface EventRange {
  /** @default 1 */
  readonly fromVersion?: number;
  /** @default - the last */
  readonly toVersion?: number;
}

/** Options of {@link EventStore.execute}. */
export interface ExecuteOptions {
  /** @default - none */
  readonly commandId?: string;
  /** Loads and decisions tried before the last `ConcurrencyError` is thrown. @default 10 */
  readonly maxAttempts?: number;
  /** @default - none */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** One page of a scan of the event table (for rebuilds). */
export interface EventPage {
  readonly events: readonly StoredEvent[];
  /** Where the next page starts; undefined after the last. */
  readonly nextKey?: Record<string, unknown>;
}

interface Snapshot<S> {
  readonly version: number;
  readonly state: S;
}

function configFromEnvironment(env: NodeJS.ProcessEnv): EventStoreConfig {
  const raw = env[ENV.eventStoreConfig];
  if (raw === undefined || raw === '') return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('not an object');
    return parsed as EventStoreConfig;
  } catch (cause) {
    throw new EventStoreConfigurationError(
      ENV.eventStoreConfig,
      `${ENV.eventStoreConfig} must be a JSON object (given ${raw.slice(0, 100)})`,
      {
        cause,
        value: raw,
      },
    );
  }
}

/**
 * The event store: a DynamoDB table of events keyed by aggregate id and version.
 *
 * - `append(aggregateId, expectedVersion, events)` writes the events as versions
 *   `expectedVersion + 1, ...` in **one** `TransactWriteItems`, only if the aggregate is at
 *   `expectedVersion` (each new version must not exist, and `expectedVersion` must): versions are
 *   gapless, and a writer that lost a race gets a `ConcurrencyError` with the actual version. With a
 *   `commandId`, a second append of the same command writes nothing and returns the first's result.
 *   The same transaction carries the outbox records (distribution) and, when the append crosses a
 *   multiple of `snapshotEvery` and is given the state, the snapshot.
 * - `load(aggregateId)` reads the latest snapshot of the reducer's version and the events after it;
 *   `loadAt(aggregateId, { version } | { time })` the state at a point of the history.
 * - Every event is stored with its `schemaVersion` and read through the upcasters.
 * - Data above `payloadThresholdBytes` goes to S3; the item keeps the claim.
 *
 * @example
 * const store = new EventStore({ reducer: account, upcasters });
 * await store.execute('acc-1', (state) => state.open ? [{ type: 'Deposited', data: { amountCents: 500 } }] : [], { commandId });
 */
export class EventStore<S = unknown> {
  public readonly tableName: string;
  public readonly snapshotEvery: number;
  public readonly commandRetentionSeconds: number;
  public readonly reducer?: Reducer<S>;
  public readonly upcasters: UpcasterChain;
  public readonly outbox?: Outbox;
  private readonly client: DynamoDBClient;
  private readonly payloads: PayloadStore;
  private readonly maxAttempts: number;

  /** A store configured by `EVENT_STORE_CONFIG` (the construct's `connectX` sets it), `options` over it. */
  public static fromEnvironment<S = unknown>(options: EventStoreOptions<S> = {}, env: NodeJS.ProcessEnv = process.env): EventStore<S> {
    return new EventStore<S>(options, configFromEnvironment(env));
  }

  constructor(options: EventStoreOptions<S> = {}, config: EventStoreConfig = configFromEnvironment(process.env)) {
    const o = options ?? {};
    const tableName = o.tableName ?? config.tableName;
    if (!tableName)
      fail(
        'tableName',
        `tableName: no event table: pass tableName or set ${ENV.eventStoreConfig} (EventStore.connectX sets it)`,
        tableName,
      );
    this.tableName = checkPattern(fail, 'tableName', tableName, TABLE_NAME, 'a DynamoDB table name or ARN');
    this.snapshotEvery = checkInteger(
      fail,
      'snapshotEvery',
      o.snapshotEvery ?? config.snapshotEvery ?? SHARED_DEFAULT.eventStoreSnapshotEvery,
      1,
      100_000,
    );
    this.commandRetentionSeconds = checkInteger(
      fail,
      'commandRetentionSeconds',
      o.commandRetentionSeconds ?? config.commandRetentionSeconds ?? SHARED_DEFAULT.commandRetentionSeconds,
      1,
    );
    const threshold = checkInteger(
      fail,
      'payloadThresholdBytes',
      o.payloadThresholdBytes ?? config.payloadThresholdBytes ?? SHARED_DEFAULT.eventStorePayloadThresholdBytes,
      1024,
      380_000,
    );
    const bucketName = o.bucketName ?? config.bucketName;
    if (bucketName !== undefined) checkString(fail, 'bucketName', bucketName);
    this.maxAttempts = checkInteger(fail, 'maxAttempts', o.maxAttempts ?? 3, 1, 10);
    if (o.reducer !== undefined) {
      const r = o.reducer as Partial<Reducer<S>>;
      checkInteger(fail, 'reducer.version', r.version, 1);
      if (typeof r.initial !== 'function' || typeof r.apply !== 'function') {
        fail('reducer', 'reducer must have initial() and apply(state, event) functions', o.reducer);
      }
      this.reducer = o.reducer;
    }
    this.upcasters = new UpcasterChain(o.upcasters);
    this.client = checkClient(fail, 'client', o.client) ?? new DynamoDBClient({});
    this.payloads = new PayloadStore(bucketName, threshold, o.s3Client);
    this.outbox = o.outbox ?? (config.outboxTableName ? new Outbox({ tableName: config.outboxTableName, client: this.client }) : undefined);
  }

  /**
   * Appends `events` at versions `expectedVersion + 1` and on, if the aggregate is at
   * `expectedVersion` (0 for a new aggregate). One `TransactWriteItems` request.
   *
   * @throws ConcurrencyError (the aggregate is elsewhere: nothing written), EventStoreInputError,
   *   EventStorePersistenceError
   */
  public async append(
    aggregateId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
    options: AppendOptions<S> = {},
  ): Promise<AppendResult> {
    checkAggregateId(aggregateId);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new EventStoreInputError(`expectedVersion must be an integer of at least 0 (given ${expectedVersion})`);
    }
    if (!Array.isArray(events) || events.length === 0) {
      throw new EventStoreInputError(`events must be a non-empty array (given ${Array.isArray(events) ? 'none' : typeof events})`);
    }
    const commandId = options.commandId === undefined ? undefined : checkString(fail, 'commandId', options.commandId);
    const now = Date.now();
    const recordedAt = new Date(now).toISOString();

    // The events as stored, and (only when a snapshot or `publish` needs them) as read back.
    const written: Array<{
      version: number;
      eventId: string;
      type: string;
      schemaVersion: number;
      text: string;
      data: string;
      metadata?: Record<string, unknown>;
    }> = [];
    const eventItems: TransactWriteItem[] = [];
    for (const [i, event] of events.entries()) {
      const version = expectedVersion + i + 1;
      const { text, schemaVersion } = this.checkEvent(event, i);
      const eventId = event.eventId ?? randomUUID();
      const metadata = { ...options.metadata, ...event.metadata };
      const hasMetadata = Object.keys(metadata).length > 0;
      const data = await this.payloads.encode(text, 'events/', `event ${i} (${event.type})`);
      written.push({ version, eventId, type: event.type, schemaVersion, text, data, ...(hasMetadata ? { metadata } : {}) });
      eventItems.push({
        Put: {
          TableName: this.tableName,
          Item: marshallItem({
            [A.partitionKey]: aggregateId,
            [A.sortKey]: version,
            [A.recordType]: EVENT_RECORD_TYPE,
            [A.eventId]: eventId,
            [A.type]: event.type,
            [A.schemaVersion]: schemaVersion,
            [A.data]: data,
            [A.recordedAt]: now,
            ...(hasMetadata ? { [A.metadata]: metadata } : {}),
            ...(commandId ? { [A.commandId]: commandId } : {}),
          }),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': A.partitionKey },
        },
      });
    }
    const toVersion = expectedVersion + events.length;
    const view = (w: (typeof written)[number]): StoredEvent => {
      const upcast = this.upcasters.upcast(
        { aggregateId, version: w.version, type: w.type, schemaVersion: w.schemaVersion },
        JSON.parse(w.text),
      );
      return {
        aggregateId,
        version: w.version,
        eventId: w.eventId,
        type: w.type,
        schemaVersion: upcast.schemaVersion,
        data: upcast.data,
        recordedAt,
        ...(w.metadata ? { metadata: w.metadata } : {}),
        ...(commandId ? { commandId } : {}),
      };
    };

    // States after each event, when a snapshot or `publish` needs them and the caller gave the state to start from.
    const crosses = Math.floor(expectedVersion / this.snapshotEvery) < Math.floor(toVersion / this.snapshotEvery);
    const distributes = this.outbox !== undefined && options.publish !== false;
    const start = options.state !== undefined ? options.state : expectedVersion === 0 && this.reducer ? this.reducer.initial() : undefined;
    const views = crosses || (distributes && options.publish) ? written.map(view) : [];
    const states: Array<S | undefined> = [];
    if (this.reducer && start !== undefined && (crosses || (distributes && options.publish))) {
      let state = start as S;
      for (const e of views) states.push((state = this.fold(state, e)));
    }
    const snapshot =
      this.reducer && crosses && states.length > 0
        ? await this.snapshotItem(aggregateId, toVersion, states.at(-1) as S, views.at(-1)!, now)
        : undefined;

    const outboxEvents: OutboxEvent[] = [];
    if (distributes) {
      for (const [i, w] of written.entries()) {
        const mapped = options.publish ? options.publish(views[i], states[i]) : storedOutboxEvent(aggregateId, w, recordedAt);
        if (mapped) outboxEvents.push(mapped);
      }
    }
    const outboxItems = this.outbox && outboxEvents.length > 0 ? this.outbox.transactItems(outboxEvents, now).items : [];

    const items: TransactWriteItem[] = [];
    const commandIndex = commandId
      ? items.push(this.commandItem(aggregateId, commandId, expectedVersion + 1, toVersion, written, now)) - 1
      : -1;
    if (expectedVersion > 0) {
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: marshall({ [A.partitionKey]: aggregateId, [A.sortKey]: expectedVersion }),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': A.partitionKey },
        },
      });
    }
    const eventsStart = items.length;
    items.push(...eventItems);
    if (snapshot) items.push(snapshot);
    const outboxStart = items.length;
    items.push(...outboxItems);
    if (items.length > LIMIT.dynamoDbMaxTransactionItems) {
      throw new EventStoreInputError(
        `the append would hold ${items.length} transaction items (${events.length} events, ${outboxItems.length} outbox records, ${commandId ? 1 : 0} command record, ${expectedVersion > 0 ? 1 : 0} version check, ${snapshot ? 1 : 0} snapshot): DynamoDB takes at most ${LIMIT.dynamoDbMaxTransactionItems}`,
      );
    }
    const bytes = approximateBytes(items);
    if (bytes > LIMIT.dynamoDbMaxTransactionBytes) {
      throw new EventStoreInputError(`the append would be about ${bytes} bytes: DynamoDB takes at most 4 MB in one transaction`);
    }

    const result: AppendResult = {
      status: 'appended',
      aggregateId,
      fromVersion: expectedVersion + 1,
      toVersion,
      eventIds: written.map((e) => e.eventId),
      ...(snapshot ? { snapshotVersion: toVersion } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return result;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw new EventStorePersistenceError('TransactWriteItems', messageOf(error), { cause: error });
        if (commandIndex >= 0 && reasons[commandIndex]?.Code === 'ConditionalCheckFailed') {
          return this.duplicate(aggregateId, reasons[commandIndex].Item ? unmarshall(reasons[commandIndex].Item!) : undefined);
        }
        const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (failed >= outboxStart) {
          throw new EventStoreError(
            `the outbox already holds a record of ${aggregateId} at a version being appended: nothing was appended`,
            {
              cause: error,
              context: { aggregateId, expectedVersion },
            },
          );
        }
        const codes = reasons.map((r) => r.Code ?? 'None');
        const conflict = failed >= 0 && failed < outboxStart && failed !== commandIndex;
        const transient = codes.some((c) => TRANSIENT_REASONS.has(c));
        if (!conflict && transient && attempt < this.maxAttempts) {
          await sleep(jitter(attempt));
          continue;
        }
        if (conflict || codes.includes('TransactionConflict')) {
          throw new ConcurrencyError(aggregateId, expectedVersion, await this.currentVersion(aggregateId), {
            cause: error,
            context: { reasons: codes, firstEventItem: eventsStart },
          });
        }
        throw new EventStorePersistenceError(
          'TransactWriteItems',
          `transaction cancelled after ${attempt} attempt(s) [${codes.join(', ')}]`,
          {
            cause: error,
          },
        );
      }
    }
  }

  /**
   * Loads, decides, appends, and on a `ConcurrencyError` loads and decides again: the usual command
   * handler. `decide` gets the state and version and returns the new events (none: nothing is
   * appended). Snapshots are taken as the history crosses multiples of `snapshotEvery`.
   */
  public async execute(
    aggregateId: string,
    decide: (state: S, version: number) => readonly NewEvent[] | Promise<readonly NewEvent[]>,
    options: ExecuteOptions = {},
  ): Promise<AppendResult | { readonly status: 'unchanged'; readonly aggregateId: string; readonly version: number }> {
    const maxAttempts = checkInteger(fail, 'maxAttempts', options.maxAttempts ?? 10, 1, 1000);
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(aggregateId);
      const events = await decide(loaded.state, loaded.version);
      if (!events || events.length === 0) return { status: 'unchanged', aggregateId, version: loaded.version };
      try {
        return await this.append(aggregateId, loaded.version, events, {
          commandId: options.commandId,
          state: loaded.state,
          metadata: options.metadata,
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxAttempts) throw error;
        await sleep(jitter(attempt, 10, 500));
      }
    }
  }

  /** The aggregate's state now: its latest snapshot of the reducer's version, and the events after it. */
  public async load(aggregateId: string): Promise<LoadedAggregate<S>> {
    const reducer = this.requireReducer('load');
    checkAggregateId(aggregateId);
    const snapshot = await this.latestSnapshot(aggregateId, {});
    return this.foldFrom(aggregateId, reducer, snapshot, {});
  }

  /** The aggregate's state at a version, or at a time (the events recorded at or before it, up to the first recorded later). */
  public async loadAt(aggregateId: string, at: HistoryPoint): Promise<LoadedAggregate<S>> {
    const reducer = this.requireReducer('loadAt');
    checkAggregateId(aggregateId);
    const version = at?.version;
    const time = at?.time === undefined ? undefined : new Date(at.time).getTime();
    if ((version === undefined) === (time === undefined))
      throw new EventStoreInputError('loadAt needs a version or a time (given both or neither)');
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 0)) {
      throw new EventStoreInputError(`version must be an integer of at least 0 (given ${version})`);
    }
    if (time !== undefined && Number.isNaN(time)) throw new EventStoreInputError(`time must be a date (given ${JSON.stringify(at.time)})`);
    const snapshot = await this.latestSnapshot(aggregateId, { maxVersion: version, maxTime: time });
    return this.foldFrom(aggregateId, reducer, snapshot, { toVersion: version, until: time });
  }

  /** The aggregate's events in a range, upcast, in version order. */
  public async readEvents(aggregateId: string, range: EventRange = {}): Promise<StoredEvent[]> {
    checkAggregateId(aggregateId);
    const events: StoredEvent[] = [];
    for await (const e of this.events(aggregateId, range.fromVersion ?? 1, range.toVersion)) events.push(e);
    return events;
  }

  /** The aggregate's version: its last event's (0 when it has none). One Query. */
  public async currentVersion(aggregateId: string): Promise<number> {
    const res = await this.query({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': A.partitionKey, '#sk': A.sortKey },
      ExpressionAttributeValues: marshall({ ':pk': aggregateId }),
      ProjectionExpression: '#sk',
      ScanIndexForward: false,
      Limit: 1,
    });
    return res.Items?.[0] ? Number(unmarshall(res.Items[0])[A.sortKey]) : 0;
  }

  /** Writes a snapshot of the aggregate at its current version (after a reducer change, to spare loads a full replay). */
  public async snapshot(aggregateId: string): Promise<number> {
    const loaded = await this.load(aggregateId);
    if (loaded.version === 0 || loaded.snapshotVersion === loaded.version) return loaded.version;
    const last = (await this.readEvents(aggregateId, { fromVersion: loaded.version, toVersion: loaded.version }))[0];
    const put = await this.snapshotItem(aggregateId, loaded.version, loaded.state, last, Date.now());
    try {
      await this.client.send(new PutItemCommand(put.Put!));
    } catch (error) {
      throw new EventStorePersistenceError('PutItem', messageOf(error), { cause: error });
    }
    return loaded.version;
  }

  /** One page of every event of the table, in the table's order (by aggregate, then version), upcast: what rebuilds read. */
  public async scanEvents(
    options: {
      readonly startKey?: Record<string, unknown>;
      readonly pageSize?: number;
      readonly segment?: number;
      readonly totalSegments?: number;
    } = {},
  ): Promise<EventPage> {
    let res: ScanCommandOutput;
    try {
      res = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#type = :event',
          ExpressionAttributeNames: { '#type': A.recordType },
          ExpressionAttributeValues: marshall({ ':event': EVENT_RECORD_TYPE }),
          ExclusiveStartKey: options.startKey ? marshall(options.startKey) : undefined,
          Limit: options.pageSize,
          Segment: options.segment,
          TotalSegments: options.totalSegments,
          ConsistentRead: true,
        }),
      );
    } catch (error) {
      throw new EventStorePersistenceError('Scan', messageOf(error), { cause: error });
    }
    const events: StoredEvent[] = [];
    for (const item of res.Items ?? []) events.push(await this.decodeEvent(unmarshall(item)));
    return { events, ...(res.LastEvaluatedKey ? { nextKey: unmarshall(res.LastEvaluatedKey) } : {}) };
  }

  /**
   * An event item (a stream image, a query result) as the store hands it out: its payload read
   * from S3 when it was offloaded, its data upcast to the latest schema version.
   */
  public async decodeEvent(item: Record<string, unknown>): Promise<StoredEvent> {
    const aggregateId = item[A.partitionKey];
    const version = Number(item[A.sortKey]);
    const type = item[A.type];
    const text = item[A.data];
    if (typeof aggregateId !== 'string' || !Number.isSafeInteger(version) || typeof type !== 'string' || typeof text !== 'string') {
      throw new MalformedEventError(`the item ${String(aggregateId)}/${String(item[A.sortKey])} is not an event of the event store`);
    }
    const json = await this.payloads.decode(text, `event ${aggregateId}/${version}`);
    let data: unknown;
    try {
      data = JSON.parse(json);
    } catch (cause) {
      throw new MalformedEventError(`event ${aggregateId}/${version}: data is not JSON`, { cause });
    }
    const schemaVersion = Number(item[A.schemaVersion] ?? 1);
    const upcast = this.upcasters.upcast({ aggregateId, version, type, schemaVersion }, data);
    return {
      aggregateId,
      version,
      eventId: String(item[A.eventId] ?? ''),
      type,
      schemaVersion: upcast.schemaVersion,
      data: upcast.data,
      recordedAt: new Date(Number(item[A.recordedAt] ?? 0)).toISOString(),
      ...(item[A.metadata] && typeof item[A.metadata] === 'object' ? { metadata: item[A.metadata] as Record<string, unknown> } : {}),
      ...(typeof item[A.commandId] === 'string' ? { commandId: item[A.commandId] as string } : {}),
    };
  }

  /** `reducer.apply`, its errors wrapped with the event. */
  public fold(state: S, event: StoredEvent): S {
    try {
      return this.reducer!.apply(state, event);
    } catch (cause) {
      throw new ReducerError(`the reducer failed on ${event.aggregateId} version ${event.version} (${event.type}): ${messageOf(cause)}`, {
        cause,
        context: { aggregateId: event.aggregateId, version: event.version, type: event.type },
      });
    }
  }

  private async foldFrom(
    aggregateId: string,
    reducer: Reducer<S>,
    snapshot: Snapshot<S> | undefined,
    range: { toVersion?: number; until?: number },
  ): Promise<LoadedAggregate<S>> {
    let state = snapshot ? snapshot.state : reducer.initial();
    let version = snapshot?.version ?? 0;
    let eventsRead = 0;
    for await (const event of this.events(aggregateId, version + 1, range.toVersion)) {
      eventsRead += 1;
      if (range.until !== undefined && Date.parse(event.recordedAt) > range.until) break;
      state = this.fold(state, event);
      version = event.version;
    }
    return { aggregateId, state, version, ...(snapshot ? { snapshotVersion: snapshot.version } : {}), eventsRead };
  }

  private async *events(aggregateId: string, fromVersion: number, toVersion?: number): AsyncGenerator<StoredEvent> {
    if (toVersion !== undefined && toVersion < fromVersion) return;
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.query({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': A.partitionKey, '#sk': A.sortKey },
        ExpressionAttributeValues: marshall({ ':pk': aggregateId, ':from': fromVersion, ':to': toVersion ?? Number.MAX_SAFE_INTEGER }),
        ExclusiveStartKey: start,
      });
      for (const item of page.Items ?? []) yield await this.decodeEvent(unmarshall(item));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  private async latestSnapshot(aggregateId: string, at: { maxVersion?: number; maxTime?: number }): Promise<Snapshot<S> | undefined> {
    if (!this.reducer) return undefined;
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.query({
        KeyConditionExpression: at.maxVersion === undefined ? '#pk = :pk' : '#pk = :pk AND #sk <= :v',
        ...(at.maxTime === undefined ? {} : { FilterExpression: '#at <= :t' }),
        ExpressionAttributeNames: {
          '#pk': A.partitionKey,
          ...(at.maxVersion === undefined ? {} : { '#sk': A.sortKey }),
          ...(at.maxTime === undefined ? {} : { '#at': A.lastRecordedAt }),
        },
        ExpressionAttributeValues: marshall({
          ':pk': snapshotKey(aggregateId, this.reducer.version),
          ...(at.maxVersion === undefined ? {} : { ':v': at.maxVersion }),
          ...(at.maxTime === undefined ? {} : { ':t': at.maxTime }),
        }),
        ScanIndexForward: false,
        // Without a filter the newest is the first item; with one, read on until one passes it.
        Limit: at.maxTime === undefined ? 1 : 25,
        ExclusiveStartKey: start,
      });
      const item = page.Items?.[0];
      if (item) {
        const s = unmarshall(item);
        const text = await this.payloads.decode(String(s[A.state]), `snapshot ${aggregateId}/${String(s[A.sortKey])}`);
        return { version: Number(s[A.sortKey]), state: JSON.parse(text) as S };
      }
      start = at.maxTime === undefined ? undefined : page.LastEvaluatedKey;
    } while (start);
    return undefined;
  }

  private async snapshotItem(aggregateId: string, version: number, state: S, last: StoredEvent, now: number): Promise<TransactWriteItem> {
    let text: string | undefined;
    try {
      text = JSON.stringify(state);
    } catch (cause) {
      throw new ReducerError(`the state of ${aggregateId} at version ${version} cannot be serialised to JSON`, { cause });
    }
    if (text === undefined) throw new ReducerError(`the state of ${aggregateId} at version ${version} is not a JSON value`);
    const stored = await this.payloads.encode(text, 'snapshots/', `the snapshot of ${aggregateId} at version ${version}`);
    return {
      Put: {
        TableName: this.tableName,
        Item: marshallItem({
          [A.partitionKey]: snapshotKey(aggregateId, this.reducer!.version),
          [A.sortKey]: version,
          [A.recordType]: SNAPSHOT_RECORD_TYPE,
          [A.state]: stored,
          [A.reducerVersion]: this.reducer!.version,
          [A.lastEventId]: last.eventId,
          [A.lastRecordedAt]: Date.parse(last.recordedAt),
          [A.takenAt]: now,
        }),
      },
    };
  }

  private commandItem(
    aggregateId: string,
    commandId: string,
    fromVersion: number,
    toVersion: number,
    stored: ReadonlyArray<{ readonly eventId: string }>,
    now: number,
  ): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: marshallItem({
          [A.partitionKey]: commandKey(aggregateId, commandId),
          [A.sortKey]: 0,
          [A.recordType]: COMMAND_RECORD_TYPE,
          [A.fromVersion]: fromVersion,
          [A.toVersion]: toVersion,
          [A.eventIds]: stored.map((e) => e.eventId),
          [A.expiresAt]: Math.ceil(now / 1000) + this.commandRetentionSeconds,
        }),
        ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt < :now',
        ExpressionAttributeNames: { '#pk': A.partitionKey, '#expiresAt': A.expiresAt },
        ExpressionAttributeValues: marshall({ ':now': Math.floor(now / 1000) }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private async duplicate(aggregateId: string, stored: Record<string, unknown> | undefined): Promise<AppendResult> {
    const item = stored ?? {};
    return {
      status: 'duplicate',
      aggregateId,
      fromVersion: Number(item[A.fromVersion] ?? 0),
      toVersion: Number(item[A.toVersion] ?? 0),
      eventIds: Array.isArray(item[A.eventIds]) ? (item[A.eventIds] as string[]) : [],
    };
  }

  private checkEvent(event: NewEvent, index: number): { text: string; schemaVersion: number } {
    if (typeof event !== 'object' || event === null)
      throw new EventStoreInputError(`event ${index} must be an object (given ${typeof event})`);
    if (typeof event.type !== 'string' || event.type === '' || event.type.length > 256) {
      throw new EventStoreInputError(`event ${index}: type must be a string of 1 to 256 characters (given ${JSON.stringify(event.type)})`);
    }
    const schemaVersion = event.schemaVersion ?? this.upcasters.latestVersion(event.type);
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
      throw new EventStoreInputError(`event ${index}: schemaVersion must be an integer of at least 1 (given ${event.schemaVersion})`);
    }
    if (event.eventId !== undefined && (typeof event.eventId !== 'string' || event.eventId === '')) {
      throw new EventStoreInputError(`event ${index}: eventId must be a non-empty string`);
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(event.data);
    } catch (cause) {
      throw new EventStoreInputError(`event ${index} (${event.type}): data cannot be serialised to JSON`, { cause });
    }
    if (text === undefined) throw new EventStoreInputError(`event ${index} (${event.type}): data must be a JSON value (given undefined)`);
    return { text, schemaVersion };
  }

  private requireReducer(operation: string): Reducer<S> {
    if (!this.reducer)
      throw new EventStoreConfigurationError('reducer', `reducer: ${operation} folds events, so the store needs a reducer (given none)`);
    return this.reducer;
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<QueryCommandOutput> {
    try {
      return await this.client.send(new QueryCommand({ TableName: this.tableName, ConsistentRead: true, ...input }));
    } catch (error) {
      throw new EventStorePersistenceError('Query', messageOf(error), { cause: error });
    }
  }
}

/** What the outbox publishes of an event by default: the event as stored (its data inline, or the claim of its payload in S3). */
function storedOutboxEvent(
  aggregateId: string,
  w: { version: number; eventId: string; type: string; schemaVersion: number; data: string; metadata?: Record<string, unknown> },
  recordedAt: string,
): OutboxEvent {
  return {
    aggregateId,
    type: w.type,
    data: JSON.parse(w.data) as unknown,
    sequence: w.version,
    eventId: w.eventId,
    occurredAt: recordedAt,
    metadata: { ...w.metadata, schemaVersion: w.schemaVersion },
  };
}
