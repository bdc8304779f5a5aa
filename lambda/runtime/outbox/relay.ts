import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  DynamoDBClient,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV, SHARED_DEFAULT } from '../../../lib/core/wire';
import { type Fail, checkClient, checkInteger, checkLogger, checkPattern, checkString, checkUrl } from '../internal/options';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import type { PublisherOptions } from '../publish/publisher';
import { dynamoDBStreamItem } from '../stream/dynamodb';
import { OutboxConfigurationError, OutboxPersistenceError } from './errors';
import { TABLE_NAME } from './outbox';
import { jitter, marshallItem, messageOf, sleep } from './private/transact';
import {
  BLOCKED_SORT_KEY,
  OUTBOX_ATTRIBUTE as A,
  OUTBOX_RECORD_TYPE,
  type OutboxRecord,
  outboxPartitionKey,
  parseOutboxRecord,
  recordItem,
} from './record';
import { type OutboxTarget, type OutboxTargetClients, type OutboxTargetConfig, createOutboxTarget } from './target';

const fail: Fail = (option, message, value) => {
  throw new OutboxConfigurationError(option, message, { value });
};

/** `recordType` of the marker of an aggregate the relay holds back. */
export const BLOCKED_RECORD_TYPE = 'outbox-blocked';
/** The `source` of the relay's own on-failure messages (Lambda's have none: they carry `requestContext`). */
export const DEAD_LETTER_SOURCE = 'cdk-messaging-patterns.outbox-relay';
/**
 * Publish calls in flight at once. Safe for order: with `ordering: 'strict'` a round of calls holds
 * at most one event per aggregate, and the next round waits for this one.
 */
const DEFAULT_CONCURRENT_CALLS = 5;
/** Dead-letter messages carry the record's data up to this size; larger data stays in the table only. */
const MAX_DEAD_LETTER_DATA_BYTES = 200_000;

/** Options of {@link OutboxRelay}. Every one defaults to the `OUTBOX_RELAY_CONFIG` the construct sets. */
export interface OutboxRelayOptions {
  /** The outbox table (published records are marked there). @default - `OUTBOX_RELAY_CONFIG.tableName` */
  readonly tableName?: string;
  /** Where to publish: a config, or a target of your own. @default - `OUTBOX_RELAY_CONFIG.target` */
  readonly target?: OutboxTargetConfig | OutboxTarget;
  /** EventBridge: the events' `source`. @default - `OUTBOX_RELAY_CONFIG.source`, else 'outbox' */
  readonly source?: string;
  /** The on-failure queue: records the relay gives up on go there, with the reason. @default - `OUTBOX_RELAY_CONFIG.deadLetterQueueUrl` */
  readonly deadLetterQueueUrl?: string;
  /**
   * Invocations in which a record was the first unpublished one before the relay gives up on it.
   *
   * @default - `OUTBOX_RELAY_CONFIG.maxDeliveryAttempts`, else 3
   */
  readonly maxDeliveryAttempts?: number;
  /** How long a published record stays before its TTL deletes it, in seconds. @default - the config's, else 604800 (a week) */
  readonly publishedRetentionSeconds?: number;
  /** @default - a new `DynamoDBClient` */
  readonly dynamoDBClient?: DynamoDBClient;
  /** @default - a new `SQSClient` */
  readonly sqsClient?: SQSClient;
  /** The target's client. @default - a new client of the target's service */
  readonly targetClients?: OutboxTargetClients;
  /** The publisher's retries and concurrency within one invocation. @default - 5 calls in flight; the publishers' retries (5 calls per entry, backoff 100 ms to 2 s) */
  readonly publisher?: Pick<PublisherOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'maxConcurrentCalls'>;
  /**
   * Called once the batch is published, before the relay marks records, sends dead letters or
   * answers Lambda (tests inject a crash here).
   *
   * @default - none
   */
  readonly afterPublish?: (published: readonly OutboxRecord[]) => unknown;
  /** @default - the shared Powertools Logger; `null` logs nothing */
  readonly logger?: RuntimeLogger | null;
}

/** A record the relay gave up on, as it reports it (and sends it to the on-failure queue). */
export interface DeadLetteredRecord {
  readonly eventId?: string;
  readonly aggregateId?: string;
  readonly sequence?: number | string;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** Set when it was held back behind an earlier record of its aggregate that failed. */
  readonly heldBackBehind?: string;
}

/** What one invocation did. */
export interface OutboxRelayReport {
  /** The partial batch response: empty, or the first unpublished record (in stream order). */
  readonly batchItemFailures: Array<{ readonly itemIdentifier: string }>;
  /** Event ids published, in the order AWS accepted them. */
  readonly published: readonly string[];
  readonly deadLettered: readonly DeadLetteredRecord[];
  /** Where Lambda retries from, when it does. */
  readonly retryFrom?: { readonly eventId: string; readonly sequenceNumber: string; readonly attempts: number; readonly errorCode: string };
  /** Stream records that are not outbox inserts (none with the construct's filter). */
  readonly skipped: number;
}

interface Failure {
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly heldBackBehind?: string;
}

interface Candidate {
  readonly position: number;
  readonly sequenceNumber: string;
  readonly record?: OutboxRecord;
  readonly image?: Record<string, unknown>;
  outcome?: 'published' | 'deadLetter' | 'retry';
  failure?: Failure;
  attempts?: number;
  /** The aggregate is held back from now on because of this record. */
  blocks?: boolean;
}

interface Marker {
  readonly blockedBy: string;
  readonly failureCode?: string;
  readonly failureMessage?: string;
}

interface RelayConfig {
  readonly tableName?: string;
  readonly target?: OutboxTargetConfig;
  readonly source?: string;
  readonly deadLetterQueueUrl?: string;
  readonly maxDeliveryAttempts?: number;
  readonly publishedRetentionSeconds?: number;
}

function configFromEnvironment(env: NodeJS.ProcessEnv): RelayConfig {
  const raw = env[ENV.outboxRelayConfig];
  if (raw === undefined || raw === '') return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('not an object');
    return parsed as RelayConfig;
  } catch (cause) {
    throw new OutboxConfigurationError(
      ENV.outboxRelayConfig,
      `${ENV.outboxRelayConfig} must be a JSON object (given ${raw.slice(0, 100)})`,
      {
        cause,
        value: raw,
      },
    );
  }
}

function checkTarget(target: OutboxRelayOptions['target']): OutboxTargetConfig | OutboxTarget {
  if (target === undefined) fail('target', `target: no publish target: pass target or set ${ENV.outboxRelayConfig}`, target);
  const t = target as Partial<
    OutboxTarget & { kind: string; eventBusName: string; topicArn: string; streamName: string; streamArn: string }
  >;
  if (typeof t.publish === 'function') return target as OutboxTarget;
  if (t.kind === 'eventbridge') checkString(fail, 'target.eventBusName', t.eventBusName);
  else if (t.kind === 'sns') checkPattern(fail, 'target.topicArn', t.topicArn, /^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN');
  else if (t.kind === 'kinesis') {
    if (!t.streamName && !t.streamArn) fail('target.streamName', 'target.streamName or target.streamArn must be given (given neither)', t);
  } else fail('target.kind', `target.kind must be 'eventbridge', 'sns' or 'kinesis' (given ${JSON.stringify(t.kind)})`, t.kind);
  return target as OutboxTargetConfig;
}

/**
 * The outbox relay: publishes the outbox records a DynamoDB stream batch brings, in order per
 * aggregate, and answers Lambda with the partial batch response. The kit's relay function is this
 * class (`cdk-messaging-patterns/runtime/outbox` exports it for relays of your own).
 *
 * What one invocation does and guarantees:
 * - **Batches**: every record of the batch goes out in calls of 10 (`PutEvents`, `PublishBatch`) or
 *   500 (`PutRecords`), one event per aggregate per call (`ordering: 'strict'`), so a batch of n
 *   records over many aggregates takes about n/10 calls, 5 in flight at once. Only the entries that
 *   failed are retried.
 * - **Order per aggregate**: within the batch, an aggregate's records go out in sequence order, and a
 *   failed one holds back the rest of its aggregate. The answer names the first unpublished record
 *   in stream order: Lambda retries from there, so nothing after it is lost, and what was published
 *   after it is published again (consumers deduplicate by `eventId`).
 * - **Bounded retries, with the reason**: a record refused for good (too large, malformed, access
 *   denied), or still failing after `maxDeliveryAttempts` invocations, goes to the on-failure queue
 *   with its error code and message, and the relay **holds back its aggregate** (a `!blocked`
 *   marker): the aggregate's later records go to the queue too, held back behind it, so event n+1
 *   is never published without event n. `Outbox.redrive(aggregateId)` lifts the hold.
 * - **TTL after publication**: published records get `publishedAt` and `expiresAt` (one
 *   `BatchWriteItem` per 25 records: a stream MODIFY, which the relay's filter drops). Unpublished
 *   records never expire.
 * - Crash-safe: a crash after publishing and before answering re-publishes the batch (the same
 *   `eventId`s); SNS FIFO drops the duplicates itself (deduplication id = `eventId`), other
 *   consumers absorb them with the idempotency library (`keySelector: outboxEventId`).
 *
 * Per batch it reads the markers of the batch's aggregates (one `BatchGetItem`).
 */
export class OutboxRelay {
  public readonly tableName: string;
  public readonly deadLetterQueueUrl: string;
  public readonly maxDeliveryAttempts: number;
  public readonly publishedRetentionSeconds: number;
  private readonly target: OutboxTarget;
  private readonly ddb: DynamoDBClient;
  private readonly sqs: SQSClient;
  private readonly logger: RuntimeLogger | null;
  private readonly afterPublish?: OutboxRelayOptions['afterPublish'];

  /** A relay configured by `OUTBOX_RELAY_CONFIG` (the kit's relay function), `options` over it. */
  public static fromEnvironment(options: OutboxRelayOptions = {}, env: NodeJS.ProcessEnv = process.env): OutboxRelay {
    const config = configFromEnvironment(env);
    return new OutboxRelay({ ...config, ...options, target: options.target ?? config.target });
  }

  constructor(options: OutboxRelayOptions) {
    const o = options ?? {};
    this.tableName = checkPattern(fail, 'tableName', o.tableName, TABLE_NAME, 'a DynamoDB table name or ARN');
    this.deadLetterQueueUrl = checkUrl(fail, 'deadLetterQueueUrl', o.deadLetterQueueUrl);
    this.maxDeliveryAttempts = checkInteger(
      fail,
      'maxDeliveryAttempts',
      o.maxDeliveryAttempts ?? SHARED_DEFAULT.outboxMaxDeliveryAttempts,
      1,
      100,
    );
    this.publishedRetentionSeconds = checkInteger(
      fail,
      'publishedRetentionSeconds',
      o.publishedRetentionSeconds ?? SHARED_DEFAULT.outboxPublishedRetentionSeconds,
      1,
    );
    this.logger = resolveLogger(checkLogger(fail, 'logger', o.logger));
    const source = o.source === undefined ? 'outbox' : checkString(fail, 'source', o.source);
    const target = checkTarget(o.target);
    this.target =
      'publish' in target
        ? target
        : createOutboxTarget(target, {
            source,
            clients: o.targetClients,
            publisher: { maxConcurrentCalls: DEFAULT_CONCURRENT_CALLS, ...o.publisher },
            logger: this.logger,
          });
    this.ddb = checkClient(fail, 'dynamoDBClient', o.dynamoDBClient) ?? new DynamoDBClient({});
    this.sqs = checkClient(fail, 'sqsClient', o.sqsClient) ?? new SQSClient({});
    this.afterPublish = o.afterPublish;
  }

  /** A Lambda handler for the relay's event source mapping (`ReportBatchItemFailures` on). */
  public handler(): (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
    return async (event) => ({ batchItemFailures: [...(await this.process(event)).batchItemFailures] });
  }

  /** Publishes one stream batch; see the class for what it guarantees. */
  public async process(event: DynamoDBStreamEvent): Promise<OutboxRelayReport> {
    const raw = Array.isArray(event?.Records) ? event.Records : [];
    const candidates: Candidate[] = [];
    let skipped = 0;
    raw.forEach((r, position) => {
      if (!isOutboxInsert(r)) {
        skipped += 1;
        return;
      }
      const sequenceNumber = r.dynamodb?.SequenceNumber ?? '';
      let image: Record<string, unknown> | undefined;
      try {
        image = dynamoDBStreamItem(r).newImage;
        candidates.push({ position, sequenceNumber, image, record: parseOutboxRecord(image) });
      } catch (error) {
        candidates.push({
          position,
          sequenceNumber,
          image,
          outcome: 'deadLetter',
          failure: { errorCode: 'MalformedOutboxRecord', errorMessage: messageOf(error) },
        });
      }
    });
    if (candidates.length === 0) return { batchItemFailures: [], published: [], deadLettered: [], skipped };

    // Per aggregate in sequence order (the stream already is; a safeguard), aggregates as they come.
    const groups = new Map<string, Candidate[]>();
    for (const c of candidates) {
      if (!c.record) continue;
      const group = groups.get(c.record.aggregateId) ?? [];
      groups.set(c.record.aggregateId, group);
      group.push(c);
    }
    for (const group of groups.values()) group.sort((a, b) => (a.record!.sk < b.record!.sk ? -1 : a.record!.sk > b.record!.sk ? 1 : 0));

    const markers = await this.markersOf([...groups.keys()]);
    const toPublish: Candidate[] = [];
    for (const [aggregateId, group] of groups) {
      const marker = markers.get(aggregateId);
      for (const c of group) {
        if (!marker) {
          toPublish.push(c);
          continue;
        }
        const self = marker.blockedBy === c.record!.eventId;
        c.outcome = 'deadLetter';
        c.failure = self
          ? { errorCode: marker.failureCode ?? 'Unknown', errorMessage: marker.failureMessage ?? '' }
          : {
              errorCode: 'AggregateHeldBack',
              errorMessage: `aggregate ${aggregateId} is held back behind event ${marker.blockedBy} (${marker.failureCode ?? 'unknown'}): redrive it first`,
              heldBackBehind: marker.blockedBy,
            };
      }
    }

    const published: OutboxRecord[] = [];
    if (toPublish.length > 0) {
      const byId = new Map(toPublish.map((c) => [String(c.position), c]));
      const result = await this.target.publish(toPublish.map((c) => ({ id: String(c.position), record: c.record! })));
      for (const p of result.published) {
        const c = byId.get(p.id)!;
        c.outcome = 'published';
        published.push(c.record!);
      }
      const heldBack: Array<[Candidate, Candidate | undefined]> = [];
      for (const f of result.failed) {
        const c = byId.get(f.id)!;
        if (f.errorCode === 'HeldBack') {
          heldBack.push([c, f.heldBackBehind === undefined ? undefined : byId.get(f.heldBackBehind)]);
        } else if (!f.retryable) {
          Object.assign(c, { outcome: 'deadLetter', blocks: true, failure: { errorCode: f.errorCode, errorMessage: f.errorMessage } });
        } else {
          Object.assign(c, { outcome: 'retry', failure: { errorCode: f.errorCode, errorMessage: f.errorMessage } });
        }
      }
      for (const [c, behind] of heldBack) {
        if (behind?.outcome === 'deadLetter') {
          Object.assign(c, { outcome: 'deadLetter', failure: heldBackFailure(behind) });
        } else {
          Object.assign(c, {
            outcome: 'retry',
            failure: { errorCode: 'HeldBack', errorMessage: `held back behind ${behind?.record?.eventId}` },
          });
        }
      }
    }
    if (this.afterPublish) await this.afterPublish(published);

    // Where Lambda retries from: the first unpublished record in stream order, unless it ran out of attempts.
    let retryFrom: Candidate | undefined;
    for (;;) {
      retryFrom = candidates.filter((c) => c.outcome === 'retry').sort((a, b) => a.position - b.position)[0];
      if (!retryFrom) break;
      retryFrom.attempts = await this.countAttempt(retryFrom);
      if (retryFrom.attempts < this.maxDeliveryAttempts) break;
      const gaveUp = retryFrom;
      gaveUp.outcome = 'deadLetter';
      gaveUp.blocks = true;
      gaveUp.failure = {
        errorCode: gaveUp.failure!.errorCode,
        errorMessage: `${gaveUp.failure!.errorMessage} (not published in ${gaveUp.attempts} invocations)`,
      };
      for (const c of groups.get(gaveUp.record!.aggregateId) ?? []) {
        if (c.outcome === 'retry') Object.assign(c, { outcome: 'deadLetter', failure: heldBackFailure(gaveUp) });
      }
    }

    // What lies after the checkpoint is delivered again: its dead letters are sent then, not twice.
    const cut = retryFrom?.position ?? Number.POSITIVE_INFINITY;
    const deadLetters = candidates.filter((c) => c.outcome === 'deadLetter' && c.position < cut);
    await this.sendDeadLetters(deadLetters);
    await this.recordDeadLetters(deadLetters);
    await this.markPublished(candidates.filter((c) => c.outcome === 'published'));

    const report: OutboxRelayReport = {
      batchItemFailures: retryFrom ? [{ itemIdentifier: retryFrom.sequenceNumber }] : [],
      published: published.map((r) => r.eventId),
      deadLettered: deadLetters.map((c) => ({
        eventId: c.record?.eventId ?? (c.image?.eventId as string | undefined),
        aggregateId: c.record?.aggregateId ?? (c.image?.aggregateId as string | undefined),
        sequence: c.record?.sequence,
        ...c.failure!,
      })),
      ...(retryFrom
        ? {
            retryFrom: {
              eventId: retryFrom.record!.eventId,
              sequenceNumber: retryFrom.sequenceNumber,
              attempts: retryFrom.attempts!,
              errorCode: retryFrom.failure!.errorCode,
            },
          }
        : {}),
      skipped,
    };
    if (report.retryFrom || report.deadLettered.length > 0) {
      this.logger?.warn('outbox records not published', {
        publishedCount: report.published.length,
        deadLettered: report.deadLettered.slice(0, 20),
        retryFrom: report.retryFrom,
      });
    }
    return report;
  }

  /** The markers of the aggregates the relay holds back, among `aggregateIds` (one BatchGetItem per 100). */
  private async markersOf(aggregateIds: readonly string[]): Promise<Map<string, Marker>> {
    const markers = new Map<string, Marker>();
    for (let i = 0; i < aggregateIds.length; i += 100) {
      let keys: BatchGetItemCommandOutput['UnprocessedKeys'] = {
        [this.tableName]: {
          Keys: aggregateIds
            .slice(i, i + 100)
            .map((id) => marshall({ [A.partitionKey]: outboxPartitionKey(id), [A.sortKey]: BLOCKED_SORT_KEY })),
          ConsistentRead: true,
        },
      };
      for (let attempt = 0; keys && Object.keys(keys).length > 0; attempt++) {
        if (attempt > 0) await sleep(jitter(attempt, 50));
        if (attempt >= 6) throw new OutboxPersistenceError('BatchGetItem', 'keys still unprocessed after 6 attempts');
        const res = await this.call('BatchGetItem', () => this.ddb.send(new BatchGetItemCommand({ RequestItems: keys })));
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const m = unmarshall(item);
          const aggregateId = String(m[A.partitionKey]).slice(outboxPartitionKey('').length);
          markers.set(aggregateId, {
            blockedBy: String(m.blockedBy),
            failureCode: m[A.failureCode] as string | undefined,
            failureMessage: m[A.failureMessage] as string | undefined,
          });
        }
        keys = res.UnprocessedKeys;
      }
    }
    return markers;
  }

  /** Counts one failed invocation for the record Lambda retries from; returns the count. */
  private async countAttempt(c: Candidate): Promise<number> {
    try {
      const res = await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ [A.partitionKey]: c.record!.pk, [A.sortKey]: c.record!.sk }),
          UpdateExpression: 'ADD #attempts :one SET #code = :code, #message = :message',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: {
            '#attempts': A.attempts,
            '#code': A.lastErrorCode,
            '#message': A.lastErrorMessage,
            '#pk': A.partitionKey,
          },
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':code': c.failure!.errorCode,
            ':message': c.failure!.errorMessage.slice(0, 1000),
          }),
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(res.Attributes ? unmarshall(res.Attributes)[A.attempts] : 1);
    } catch (error) {
      this.logger?.warn('could not count a failed outbox delivery', { eventId: c.record!.eventId, ...errorFields(error) });
      return 1;
    }
  }

  /** Sends the records the relay gives up on to the on-failure queue, with their reasons. Throws when SQS refuses one. */
  private async sendDeadLetters(deadLetters: readonly Candidate[]): Promise<void> {
    const entries: SendMessageBatchRequestEntry[] = deadLetters.map((c, i) => {
      const record = c.record;
      const dataFits = record !== undefined && Buffer.byteLength(record.data) <= MAX_DEAD_LETTER_DATA_BYTES;
      const body = {
        source: DEAD_LETTER_SOURCE,
        reason: { ...c.failure, ...(c.attempts === undefined ? {} : { attempts: c.attempts }) },
        record: record
          ? {
              pk: record.pk,
              sk: record.sk,
              eventId: record.eventId,
              aggregateId: record.aggregateId,
              sequence: record.sequence,
              type: record.type,
              occurredAt: record.occurredAt,
              ...(record.metadata ? { metadata: record.metadata } : {}),
              ...(dataFits ? { data: JSON.parse(record.data) as unknown } : { dataOmitted: true }),
            }
          : { pk: c.image?.pk, sk: c.image?.sk },
        sequenceNumber: c.sequenceNumber,
      };
      return {
        Id: String(i),
        MessageBody: JSON.stringify(body),
        MessageAttributes: {
          errorCode: { DataType: 'String', StringValue: c.failure!.errorCode },
          ...(record ? { eventId: { DataType: 'String', StringValue: record.eventId } } : {}),
        },
      };
    });
    for (let i = 0; i < entries.length; i += 10) {
      let batch = entries.slice(i, i + 10);
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt >= 4) throw new OutboxPersistenceError('SendMessageBatch', `${batch.length} dead letters not sent after 4 attempts`);
        if (attempt > 0) await sleep(jitter(attempt, 100));
        const res = await this.call('SendMessageBatch', () =>
          this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.deadLetterQueueUrl, Entries: batch })),
        );
        const failedIds = new Set((res.Failed ?? []).map((f) => f.Id));
        const permanent = (res.Failed ?? []).find((f) => f.SenderFault);
        if (permanent)
          throw new OutboxPersistenceError('SendMessageBatch', `${permanent.Code}: ${permanent.Message}`, { retryable: false });
        batch = batch.filter((e) => failedIds.has(e.Id));
      }
    }
  }

  /** Marks the dead-lettered records (`deadLetteredAt`, the reason) and writes the markers of the aggregates held back now. */
  private async recordDeadLetters(deadLetters: readonly Candidate[]): Promise<void> {
    const now = Date.now();
    const puts = new Map<string, Record<string, unknown>>();
    for (const c of deadLetters) {
      if (!c.record) continue;
      const item = recordItem(c.record);
      puts.set(`${c.record.pk}\u0000${c.record.sk}`, {
        ...item,
        [A.deadLetteredAt]: now,
        [A.failureCode]: c.failure!.errorCode,
        [A.failureMessage]: c.failure!.errorMessage.slice(0, 1000),
        ...(c.attempts === undefined ? {} : { [A.attempts]: c.attempts }),
      });
      if (c.blocks) {
        puts.set(`${c.record.pk}\u0000${BLOCKED_SORT_KEY}`, {
          [A.partitionKey]: c.record.pk,
          [A.sortKey]: BLOCKED_SORT_KEY,
          [A.recordType]: BLOCKED_RECORD_TYPE,
          blockedBy: c.record.eventId,
          [A.failureCode]: c.failure!.errorCode,
          [A.failureMessage]: c.failure!.errorMessage.slice(0, 1000),
          blockedAt: now,
        });
      }
    }
    const failed = await this.batchPut([...puts.values()]);
    if (failed > 0) throw new OutboxPersistenceError('BatchWriteItem', `${failed} dead-letter records or markers not written`);
  }

  /** Sets `publishedAt` and the TTL of published records. A failure only delays their expiry: logged, not thrown. */
  private async markPublished(published: readonly Candidate[]): Promise<void> {
    const now = Date.now();
    const expiresAt = Math.ceil(now / 1000) + this.publishedRetentionSeconds;
    const puts = new Map<string, Record<string, unknown>>();
    for (const c of published) {
      puts.set(`${c.record!.pk}\u0000${c.record!.sk}`, { ...recordItem(c.record!), [A.publishedAt]: now, [A.expiresAt]: expiresAt });
    }
    try {
      const failed = await this.batchPut([...puts.values()]);
      if (failed > 0) this.logger?.warn('published outbox records not marked', { count: failed });
    } catch (error) {
      this.logger?.warn('published outbox records not marked', { count: puts.size, ...errorFields(error) });
    }
  }

  /** Puts items with BatchWriteItem (25 per call, unprocessed items retried); returns how many were left unwritten. */
  private async batchPut(items: ReadonlyArray<Record<string, unknown>>): Promise<number> {
    const chunks: Array<Array<Record<string, unknown>>> = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    const left = await Promise.all(
      chunks.map(async (chunk) => {
        let requests: WriteRequest[] = chunk.map((item) => ({ PutRequest: { Item: marshallItem(item) } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt >= 6) return requests.length;
          if (attempt > 0) await sleep(jitter(attempt, 50));
          const res: BatchWriteItemCommandOutput = await this.call('BatchWriteItem', () =>
            this.ddb.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } })),
          );
          requests = res.UnprocessedItems?.[this.tableName] ?? [];
        }
        return 0;
      }),
    );
    return left.reduce((a, b) => a + b, 0);
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof OutboxPersistenceError) throw error;
      throw new OutboxPersistenceError(operation, messageOf(error), { cause: error });
    }
  }
}

function heldBackFailure(behind: Candidate): Failure {
  return {
    errorCode: 'HeldBack',
    errorMessage: `held back behind event ${behind.record?.eventId} of its aggregate (${behind.failure?.errorCode})`,
    heldBackBehind: behind.record?.eventId,
  };
}

/** An INSERT of an outbox record (the construct's filter lets nothing else through; a relay of your own may see more). */
function isOutboxInsert(record: DynamoDBRecord): boolean {
  return record?.eventName === 'INSERT' && record.dynamodb?.NewImage?.[A.recordType]?.S === OUTBOX_RECORD_TYPE;
}
