import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV, RECORD_ATTRIBUTE } from '../../../lib/core/wire';
import { type Fail, checkClient, checkInteger, checkLogger, checkPattern, checkString } from '../internal/options';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import { TABLE_NAME } from '../outbox/outbox';
import { jitter, marshallItem, messageOf, sleep } from '../outbox/private/transact';
import { dynamoDBStreamItem } from '../stream/dynamodb';
import { EventStoreConfigurationError, EventStorePersistenceError, ReducerError } from './errors';
import { EVENT_ATTRIBUTE, EVENT_RECORD_TYPE, type StoredEvent, checkAggregateId } from './layout';
import { EventStore } from './store';

const fail: Fail = (option, message, value) => {
  throw new EventStoreConfigurationError(option, message, { value });
};

/** The projector's own attributes on a read-model item (the state's fields are the rest). */
export const READ_MODEL_ATTRIBUTE = {
  partitionKey: RECORD_ATTRIBUTE.partitionKey,
  /** The version of the last event folded in: the condition of every write. */
  version: '_version',
  lastEventId: '_eventId',
  projectedAt: '_projectedAt',
  projection: '_projection',
  projectionVersion: '_projectionVersion',
  /** Set when the projection returned `null` (the read model is deleted; the item stays as a tombstone). */
  deleted: '_deleted',
} as const;
const RESERVED = new Set<string>(Object.values(READ_MODEL_ATTRIBUTE));
const R = READ_MODEL_ATTRIBUTE;

/** Partition keys of the checkpoints in the read-model table. */
export const LIVE_CHECKPOINT_KEY = '#checkpoint#live';
export const REBUILD_CHECKPOINT_KEY = '#checkpoint#rebuild';

/**
 * A projection (CQRS read model): one read-model item per aggregate, folded from its events. The
 * state must be a JSON object: its fields become the item's attributes (so you can index them), next
 * to the projector's own (`pk` and those of {@link READ_MODEL_ATTRIBUTE}).
 */
export interface ProjectionDefinition<S extends object = Record<string, unknown>> {
  /** The projection's name (in its checkpoints and logs). @default - `PROJECTION_NAME`, else 'projection' */
  readonly name?: string;
  /** Bump when `apply` changes, then rebuild: the rebuild overwrites what older versions projected. @default 1 */
  readonly version?: number;
  /** The state before an aggregate's first event. */
  readonly initial: () => S;
  /** The state after `event` (its data at the latest schema version); `null` deletes the read model. Do not mutate `state`. */
  readonly apply: (state: S, event: StoredEvent) => S | null;
}

/** Options of {@link Projector}. */
export interface ProjectorOptions {
  /**
   * The event store the events come from: its upcasters are applied, its payload bucket read, and
   * missing events read from its table.
   *
   * @default - `EventStore.fromEnvironment()` (`EVENT_STORE_CONFIG`; upcasters: give a store with them)
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any reducer state: the projector only reads events
  readonly store?: EventStore<any>;
  /** @default - `READ_MODEL_TABLE_NAME` (the projection construct sets it) */
  readonly readModelTableName?: string;
  /** @default - a new `DynamoDBClient` */
  readonly client?: DynamoDBClient;
  /** Read models kept in memory, so a warm projector writes without reading. @default 1000 */
  readonly cacheSize?: number;
  /** Read models written at once. @default 8 */
  readonly concurrency?: number;
  /** Called after a batch's read models are written, before the checkpoint and the answer (tests inject a crash here). @default - none */
  readonly afterWrite?: (events: readonly StoredEvent[]) => unknown;
  /** @default - the shared Powertools Logger; `null` logs nothing */
  readonly logger?: RuntimeLogger | null;
}

/** A read model as {@link Projector.read} returns it. */
export interface ReadModel<S> {
  readonly aggregateId: string;
  /** The state; `null` once the projection deleted it. */
  readonly state: S | null;
  /** The version of the last event folded in. */
  readonly version: number;
  readonly lastEventId?: string;
  readonly projectionVersion: number;
}

/** What one batch did. */
export interface ProjectionReport {
  readonly batchItemFailures: Array<{ readonly itemIdentifier: string }>;
  /** Events folded into read models now. */
  readonly projected: number;
  /** Events the read models had already (redeliveries): skipped. */
  readonly duplicates: number;
  /** Missing events read from the event table to fill a gap. */
  readonly gapsFilled: number;
  /** Read-model writes (one per aggregate per batch, plus the retries of a lost race). */
  readonly writes: number;
  /** Read-model reads (one `BatchGetItem` per 100 aggregates not in memory; none when warm). */
  readonly reads: number;
}

/** What one {@link Projector.rebuild} call did. */
export interface RebuildReport {
  /** Aggregates whose read model was rebuilt by this call. */
  readonly aggregates: number;
  readonly events: number;
  /** Whether the whole table was read (false: call again, it resumes). */
  readonly done: boolean;
}

/** Options of {@link Projector.rebuild}. */
export interface RebuildOptions {
  /** Go on from the checkpoint of a rebuild that did not finish. @default true */
  readonly resume?: boolean;
  /** Stop after about this many seconds (a Lambda's budget); the next call resumes. @default - run to the end */
  readonly maxSeconds?: number;
  /** Items scanned per page. @default 100 */
  readonly pageSize?: number;
}

interface Known<S> {
  readonly version: number;
  readonly state: S | null;
}

/** A small LRU map. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  public get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  public set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

const isEventInsert = (r: DynamoDBRecord) =>
  r?.eventName === 'INSERT' && r.dynamodb?.NewImage?.[EVENT_ATTRIBUTE.recordType]?.S === EVENT_RECORD_TYPE;

/**
 * The projector: folds the events a stream batch of the event table brings into read models, one
 * item per aggregate, **idempotently**: every write is conditional on the read model's version
 * (`_version = :last`, or no item for a first event), so an event is folded in exactly once however
 * often the stream delivers it.
 *
 * Per batch, each aggregate's events are folded in memory and written with **one** `PutItem`; a
 * warm projector knows the read models it wrote (an LRU), so it writes without reading, and a
 * write that lost a race (a cold cache, a rebuild, another projector) gets the item back with the
 * failed condition (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) and folds again from it: no
 * read request either. Events the read model has are skipped (duplicates); events it misses (a gap
 * after a batch sent to the on-failure queue, a projection added later) are read from the event
 * table, so the read model is always the fold of the history.
 *
 * Failures: the answer names the first event of the first aggregate that failed (Lambda retries from
 * there; what was written after it is skipped as duplicates on the retry).
 *
 * @example
 * const projector = new Projector(accountSummary, { store: new EventStore({ upcasters }) });
 * export const handler = projector.handler();
 */
export class Projector<S extends object = Record<string, unknown>> {
  public readonly name: string;
  public readonly readModelTableName: string;
  public readonly projectionVersion: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any reducer state: the projector only reads events
  public readonly store: EventStore<any>;
  private readonly projection: ProjectionDefinition<S>;
  private readonly client: DynamoDBClient;
  private readonly cache: Lru<string, Known<S>>;
  private readonly concurrency: number;
  private readonly logger: RuntimeLogger | null;
  private readonly afterWrite?: ProjectorOptions['afterWrite'];

  constructor(projection: ProjectionDefinition<S>, options: ProjectorOptions = {}) {
    const o = options ?? {};
    if (typeof projection?.initial !== 'function' || typeof projection?.apply !== 'function') {
      fail('projection', 'projection must have initial() and apply(state, event) functions', projection);
    }
    this.projection = projection;
    this.name = checkString(fail, 'projection.name', projection.name ?? process.env[ENV.projectionName] ?? 'projection');
    this.projectionVersion = checkInteger(fail, 'projection.version', projection.version ?? 1, 1);
    const table = o.readModelTableName ?? process.env[ENV.readModelTableName];
    if (!table)
      fail(
        'readModelTableName',
        `readModelTableName: no read-model table: pass it or set ${ENV.readModelTableName} (the Projection construct sets it)`,
        table,
      );
    this.readModelTableName = checkPattern(fail, 'readModelTableName', table, TABLE_NAME, 'a DynamoDB table name or ARN');
    this.client = checkClient(fail, 'client', o.client) ?? new DynamoDBClient({});
    this.store = o.store ?? EventStore.fromEnvironment({ client: this.client });
    this.cache = new Lru(checkInteger(fail, 'cacheSize', o.cacheSize ?? 1000, 0));
    this.concurrency = checkInteger(fail, 'concurrency', o.concurrency ?? 8, 1, 100);
    this.logger = resolveLogger(checkLogger(fail, 'logger', o.logger));
    this.afterWrite = o.afterWrite;
  }

  /** A Lambda handler for the projection's event source mapping (`ReportBatchItemFailures` on). */
  public handler(): (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
    return async (event) => ({ batchItemFailures: [...(await this.process(event)).batchItemFailures] });
  }

  /** Projects one stream batch; see the class. */
  public async process(event: DynamoDBStreamEvent): Promise<ProjectionReport> {
    const raw = Array.isArray(event?.Records) ? event.Records : [];
    const groups = new Map<string, Array<{ position: number; sequenceNumber: string; event?: StoredEvent; error?: unknown }>>();
    const failures: Array<{ position: number; sequenceNumber: string; error: unknown }> = [];
    for (const [position, record] of raw.entries()) {
      if (!isEventInsert(record)) continue;
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
      const image = record.dynamodb?.NewImage;
      const aggregateId = image?.[EVENT_ATTRIBUTE.partitionKey]?.S ?? '';
      const group = groups.get(aggregateId) ?? [];
      groups.set(aggregateId, group);
      try {
        group.push({ position, sequenceNumber, event: await this.store.decodeEvent(dynamoDBStreamItem(record).newImage ?? {}) });
      } catch (error) {
        group.push({ position, sequenceNumber, error });
      }
    }
    const counts = { projected: 0, duplicates: 0, gapsFilled: 0, writes: 0, reads: 0 };
    if (groups.size === 0) return { batchItemFailures: [], ...counts };

    // What is known of each read model: from memory, a first event, or one BatchGetItem for the rest.
    const known = new Map<string, Known<S>>();
    const cold: string[] = [];
    for (const [aggregateId, group] of groups) {
      const cached = this.cache.get(aggregateId);
      const firstVersion = Math.min(...group.map((g) => g.event?.version ?? Number.POSITIVE_INFINITY));
      if (cached) known.set(aggregateId, cached);
      else if (firstVersion === 1) known.set(aggregateId, { version: 0, state: null });
      else cold.push(aggregateId);
    }
    if (cold.length > 0) {
      try {
        for (const [id, k] of await this.readMany(cold)) known.set(id, k);
        counts.reads += Math.ceil(cold.length / 100);
      } catch (error) {
        // Unknown read models are written blind: the conditional write returns the item it finds.
        this.logger?.warn('read models not read; writing them conditionally', { count: cold.length, ...errorFields(error) });
      }
    }

    const folded: StoredEvent[] = [];
    const jobs = [...groups.entries()];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const [aggregateId, group] = jobs[next++];
        const broken = group.find((g) => g.error !== undefined);
        if (broken) {
          failures.push({ position: broken.position, sequenceNumber: broken.sequenceNumber, error: broken.error });
          continue;
        }
        const events = group.map((g) => g.event!).sort((a, b) => a.version - b.version);
        try {
          const done = await this.project(aggregateId, events, known.get(aggregateId));
          counts.projected += done.projected;
          counts.duplicates += done.duplicates;
          counts.gapsFilled += done.gapsFilled;
          counts.writes += done.writes;
          folded.push(...events);
        } catch (error) {
          const first = group.reduce((a, b) => (a.position <= b.position ? a : b));
          failures.push({ position: first.position, sequenceNumber: first.sequenceNumber, error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, jobs.length) }, worker));
    if (this.afterWrite) await this.afterWrite(folded);

    const firstFailure = failures.sort((a, b) => a.position - b.position)[0];
    if (firstFailure) {
      this.logger?.warn('projection failed', {
        projection: this.name,
        sequenceNumber: firstFailure.sequenceNumber,
        position: firstFailure.position,
        failedAggregates: failures.length,
        ...errorFields(firstFailure.error),
      });
    }
    const lastGood = raw.slice(0, firstFailure ? firstFailure.position : raw.length).at(-1);
    if (lastGood && counts.projected + counts.duplicates > 0) await this.checkpoint(lastGood, counts.projected);
    return { batchItemFailures: firstFailure ? [{ itemIdentifier: firstFailure.sequenceNumber }] : [], ...counts };
  }

  /** The read model of an aggregate (consistent read), or undefined when the projection has none. */
  public async read(aggregateId: string): Promise<ReadModel<S> | undefined> {
    checkAggregateId(aggregateId);
    let res;
    try {
      res = await this.client.send(
        new GetItemCommand({ TableName: this.readModelTableName, Key: marshall({ [R.partitionKey]: aggregateId }), ConsistentRead: true }),
      );
    } catch (error) {
      throw new EventStorePersistenceError('GetItem', messageOf(error), { cause: error });
    }
    if (!res.Item) return undefined;
    const item = unmarshall(res.Item);
    const k = this.knownOf(item);
    return {
      aggregateId,
      state: k.state,
      version: k.version,
      ...(typeof item[R.lastEventId] === 'string' ? { lastEventId: item[R.lastEventId] as string } : {}),
      projectionVersion: Number(item[R.projectionVersion] ?? 1),
    };
  }

  /**
   * Rebuilds every read model from the event table (not from an archive replay): each aggregate's
   * whole history is read and folded, and its read model overwritten unless the live projector has
   * already folded a later event. Resumable: a checkpoint in the read-model table records the scan's
   * position after every page.
   */
  public async rebuild(options: RebuildOptions = {}): Promise<RebuildReport> {
    const started = Date.now();
    const pageSize = checkInteger(fail, 'pageSize', options.pageSize ?? 100, 1, 1000);
    const maxMs = options.maxSeconds === undefined ? Number.POSITIVE_INFINITY : options.maxSeconds * 1000;
    const previous = options.resume === false ? undefined : await this.readCheckpoint(REBUILD_CHECKPOINT_KEY);
    let startKey =
      previous?.status === 'running' && typeof previous.nextKey === 'string'
        ? (JSON.parse(previous.nextKey) as Record<string, unknown>)
        : undefined;
    if (!startKey) await this.writeRebuildCheckpoint('running', undefined, started);
    let aggregates = 0;
    let events = 0;
    for (;;) {
      const page = await this.store.scanEvents({ startKey, pageSize });
      for (const first of page.events.filter((e) => e.version === 1)) {
        const history = await this.store.readEvents(first.aggregateId);
        events += history.length;
        aggregates += 1;
        await this.writeRebuilt(first.aggregateId, history);
      }
      startKey = page.nextKey;
      if (!startKey) {
        await this.writeRebuildCheckpoint('done', undefined, started);
        return { aggregates, events, done: true };
      }
      await this.writeRebuildCheckpoint('running', startKey, started);
      if (Date.now() - started > maxMs) return { aggregates, events, done: false };
    }
  }

  /** Folds `events` (one aggregate, in version order) into its read model; returns what it did. */
  private async project(
    aggregateId: string,
    events: readonly StoredEvent[],
    start: Known<S> | undefined,
  ): Promise<{ projected: number; duplicates: number; gapsFilled: number; writes: number }> {
    let current = start;
    let writes = 0;
    let gapsFilled = 0;
    for (let attempt = 1; ; attempt++) {
      const base = current?.version ?? 0;
      const pending = events.filter((e) => e.version > base);
      const duplicates = current ? events.length - pending.length : 0;
      if (current && pending.length === 0) return { projected: 0, duplicates, gapsFilled, writes };
      let toFold = current ? pending : [...events];
      if (current && toFold[0].version > base + 1) {
        const missing = await this.store.readEvents(aggregateId, { fromVersion: base + 1, toVersion: toFold[0].version - 1 });
        gapsFilled += missing.length;
        toFold = [...missing, ...toFold];
      }
      // Unknown read model (its read failed): assume it is just before these events, and let the condition say otherwise.
      const from: Known<S> = current ?? { version: events[0].version - 1, state: null };
      let state: S | null = from.state;
      for (const e of toFold) state = this.apply(state ?? this.projection.initial(), e);
      const last = toFold[toFold.length - 1];
      writes += 1;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.readModelTableName,
            Item: marshallItem(this.itemOf(aggregateId, state, last)),
            ...(from.version === 0
              ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': R.partitionKey } }
              : {
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': R.version },
                  ExpressionAttributeValues: marshall({ ':v': from.version }),
                }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.cache.set(aggregateId, { version: last.version, state: state === null ? null : normalise(state) });
        return { projected: toFold.length, duplicates, gapsFilled, writes };
      } catch (error) {
        const e = error as { name?: string; Item?: Record<string, AttributeValue> };
        if (e.name !== 'ConditionalCheckFailedException')
          throw new EventStorePersistenceError('PutItem', messageOf(error), { cause: error });
        if (attempt >= 5) {
          throw new EventStorePersistenceError('PutItem', `read model ${aggregateId} kept changing under the projector`, { cause: error });
        }
        // Lost a race, or the cache was stale: go on from the item as it is.
        current = e.Item ? this.knownOf(unmarshall(e.Item)) : ((await this.readOne(aggregateId)) ?? { version: 0, state: null });
        if (attempt > 2) await sleep(jitter(attempt, 20));
      }
    }
  }

  private apply(state: S, event: StoredEvent): S | null {
    let next: S | null;
    try {
      next = this.projection.apply(state, event);
    } catch (cause) {
      throw new ReducerError(
        `projection ${this.name} failed on ${event.aggregateId} version ${event.version} (${event.type}): ${messageOf(cause)}`,
        {
          cause,
          context: { aggregateId: event.aggregateId, version: event.version, type: event.type },
        },
      );
    }
    if (next !== null && (typeof next !== 'object' || Array.isArray(next))) {
      throw new ReducerError(
        `projection ${this.name} returned ${Array.isArray(next) ? 'an array' : typeof next} for ${event.aggregateId} version ${event.version}: a read model is an object, or null to delete it`,
      );
    }
    const clash = next ? Object.keys(next).find((k) => RESERVED.has(k)) : undefined;
    if (clash)
      throw new ReducerError(`projection ${this.name}: the state has a field named '${clash}', which the projector keeps for itself`);
    return next;
  }

  private itemOf(aggregateId: string, state: S | null, last: StoredEvent): Record<string, unknown> {
    return {
      ...(state === null ? { [R.deleted]: true } : normalise(state)),
      [R.partitionKey]: aggregateId,
      [R.version]: last.version,
      [R.lastEventId]: last.eventId,
      [R.projectedAt]: Date.now(),
      [R.projection]: this.name,
      [R.projectionVersion]: this.projectionVersion,
    };
  }

  private knownOf(item: Record<string, unknown>): Known<S> {
    const version = Number(item[R.version] ?? 0);
    if (item[R.deleted] === true) return { version, state: null };
    const state: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) if (!RESERVED.has(k)) state[k] = v;
    return { version, state: state as S };
  }

  private async readOne(aggregateId: string): Promise<Known<S> | undefined> {
    const model = await this.read(aggregateId);
    return model ? { version: model.version, state: model.state } : undefined;
  }

  private async readMany(aggregateIds: readonly string[]): Promise<Map<string, Known<S>>> {
    const found = new Map<string, Known<S>>();
    for (let i = 0; i < aggregateIds.length; i += 100) {
      let keys: BatchGetItemCommandOutput['UnprocessedKeys'] = {
        [this.readModelTableName]: {
          Keys: aggregateIds.slice(i, i + 100).map((id) => marshall({ [R.partitionKey]: id })),
          ConsistentRead: true,
        },
      };
      for (let attempt = 0; keys && Object.keys(keys).length > 0; attempt++) {
        if (attempt >= 6) throw new EventStorePersistenceError('BatchGetItem', 'keys still unprocessed after 6 attempts');
        if (attempt > 0) await sleep(jitter(attempt, 50));
        const res: BatchGetItemCommandOutput = await this.client.send(new BatchGetItemCommand({ RequestItems: keys }));
        for (const item of res.Responses?.[this.readModelTableName] ?? []) {
          const m = unmarshall(item);
          found.set(String(m[R.partitionKey]), this.knownOf(m));
        }
        keys = res.UnprocessedKeys;
      }
    }
    // Aggregates without an item: the projection has folded nothing of them yet.
    for (const id of aggregateIds) if (!found.has(id)) found.set(id, { version: 0, state: null });
    return found;
  }

  private async writeRebuilt(aggregateId: string, history: readonly StoredEvent[]): Promise<void> {
    if (history.length === 0) return;
    let state: S | null = null;
    for (const e of history) state = this.apply(state ?? this.projection.initial(), e);
    const last = history[history.length - 1];
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.readModelTableName,
          Item: marshallItem(this.itemOf(aggregateId, state, last)),
          // Never over a read model the live projector took further meanwhile.
          ConditionExpression: 'attribute_not_exists(#pk) OR #v <= :v',
          ExpressionAttributeNames: { '#pk': R.partitionKey, '#v': R.version },
          ExpressionAttributeValues: marshall({ ':v': last.version }),
        }),
      );
      this.cache.set(aggregateId, { version: last.version, state: state === null ? null : normalise(state) });
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return;
      throw new EventStorePersistenceError('PutItem', messageOf(error), { cause: error });
    }
  }

  private async checkpoint(record: DynamoDBRecord, projected: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.readModelTableName,
          Key: marshall({ [R.partitionKey]: LIVE_CHECKPOINT_KEY }),
          UpdateExpression: 'SET #seq = :seq, #at = :at, #name = :name ADD #n :n',
          ExpressionAttributeNames: { '#seq': 'sequenceNumber', '#at': 'updatedAt', '#name': 'projection', '#n': 'eventsProjected' },
          ExpressionAttributeValues: marshall({
            ':seq': record.dynamodb?.SequenceNumber ?? '',
            ':at': Date.now(),
            ':name': this.name,
            ':n': projected,
          }),
        }),
      );
    } catch (error) {
      this.logger?.warn('projection checkpoint not written', { projection: this.name, ...errorFields(error) });
    }
  }

  private async readCheckpoint(key: string): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await this.client.send(
        new GetItemCommand({ TableName: this.readModelTableName, Key: marshall({ [R.partitionKey]: key }), ConsistentRead: true }),
      );
      return res.Item ? unmarshall(res.Item) : undefined;
    } catch (error) {
      throw new EventStorePersistenceError('GetItem', messageOf(error), { cause: error });
    }
  }

  private async writeRebuildCheckpoint(
    status: 'running' | 'done',
    nextKey: Record<string, unknown> | undefined,
    startedAt: number,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.readModelTableName,
          Item: marshallItem({
            [R.partitionKey]: REBUILD_CHECKPOINT_KEY,
            status,
            projection: this.name,
            projectionVersion: this.projectionVersion,
            ...(nextKey ? { nextKey: JSON.stringify(nextKey) } : {}),
            startedAt,
            updatedAt: Date.now(),
          }),
        }),
      );
    } catch (error) {
      throw new EventStorePersistenceError('PutItem', messageOf(error), { cause: error });
    }
  }
}

/** A JSON copy: what the item holds is what the cache holds. */
function normalise<T>(state: T): T {
  return JSON.parse(JSON.stringify(state)) as T;
}

/**
 * Projects one DynamoDB stream batch of the event table into `projection`'s read models (see
 * {@link Projector}); create the `Projector` once per module and call `process` per batch instead
 * to keep its cache warm.
 */
export async function projectStreamBatch<S extends object>(
  event: DynamoDBStreamEvent,
  projection: ProjectionDefinition<S>,
  options: ProjectorOptions = {},
): Promise<ProjectionReport> {
  return new Projector(projection, options).process(event);
}
