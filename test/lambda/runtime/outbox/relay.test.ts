/* eslint-disable @typescript-eslint/no-explicit-any -- fakes of SDK clients take and return loosely typed commands */
import type { DynamoDBRecord } from 'aws-lambda';
import { Outbox, OutboxConfigurationError, OutboxRelay, type OutboxRelayReport } from '../../../../lambda/runtime/outbox';
import { FakeDynamoDB, inserts } from '../event-store/fake-dynamodb';

const OUTBOX = 'outbox-table';
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/000000000000/on-failure';

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Published {
  readonly eventId: string;
  readonly aggregateId: string;
  readonly sequence: number;
  readonly call: number;
}

/** A fake service behind a real publisher: records what it accepts, in order, and fails entries as `fail` says. */
class FakeTarget {
  public readonly accepted: Published[] = [];
  public calls = 0;
  public fail?: (envelope: Published, call: number) => { code: string; message?: string } | undefined;

  /** An EventBridge client: PutEvents. */
  public eventBridge() {
    return {
      send: async (command: { input: { Entries: Array<{ Detail: string; Source: string; DetailType: string }> } }) => {
        this.calls += 1;
        return {
          Entries: command.input.Entries.map((e) => {
            const env = JSON.parse(e.Detail) as Published;
            const failure = this.fail?.(env, this.calls);
            if (failure) return { ErrorCode: failure.code, ErrorMessage: failure.message ?? 'injected' };
            this.accepted.push({ ...env, call: this.calls });
            return { EventId: `eb-${this.accepted.length}` };
          }),
        };
      },
    };
  }

  /** An SNS client: PublishBatch (records the wire entries too). */
  public readonly snsEntries: Array<Record<string, unknown>> = [];
  public sns() {
    return {
      send: async (command: { input: { PublishBatchRequestEntries: Array<{ Id: string; Message: string }> } }) => {
        this.calls += 1;
        this.snsEntries.push(...command.input.PublishBatchRequestEntries);
        return {
          Successful: command.input.PublishBatchRequestEntries.map((e) => {
            const env = JSON.parse(e.Message) as Published;
            this.accepted.push({ ...env, call: this.calls });
            return { Id: e.Id, MessageId: `m-${this.accepted.length}` };
          }),
        };
      },
    };
  }
}

/** A fake SQS client: the on-failure queue. */
class FakeQueue {
  public readonly messages: Array<{ body: Record<string, any>; attributes: Record<string, any> }> = [];
  public get client(): any {
    return {
      send: async (command: {
        input: { Entries: Array<{ Id: string; MessageBody: string; MessageAttributes: Record<string, unknown> }> };
      }) => {
        for (const e of command.input.Entries) this.messages.push({ body: JSON.parse(e.MessageBody), attributes: e.MessageAttributes });
        return { Successful: command.input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
      },
    };
  }
}

function setup(options: { maxDeliveryAttempts?: number } = {}) {
  const db = new FakeDynamoDB({ [OUTBOX]: { pk: 'pk', sk: 'sk' } });
  const target = new FakeTarget();
  const queue = new FakeQueue();
  const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
  const relay = new OutboxRelay({
    tableName: OUTBOX,
    target: { kind: 'eventbridge', eventBusName: 'bus' },
    source: 'orders',
    deadLetterQueueUrl: QUEUE,
    maxDeliveryAttempts: options.maxDeliveryAttempts ?? 3,
    dynamoDBClient: db.client,
    sqsClient: queue.client,
    targetClients: { eventBridge: target.eventBridge() as never },
    publisher: { baseDelayMs: 0, maxAttempts: 2 },
    logger: null,
  });
  return { db, target, queue, outbox, relay };
}

/**
 * Lambda's stream semantics, for one shard: batches in stream order; after a partial batch response
 * the next batch starts at the record it names; after a success, after the batch.
 */
async function drive(relay: OutboxRelay, records: DynamoDBRecord[], batchSize = 100, maxInvocations = 100): Promise<OutboxRelayReport[]> {
  const reports: OutboxRelayReport[] = [];
  let start = 0;
  while (start < records.length && reports.length < maxInvocations) {
    const batch = records.slice(start, start + batchSize);
    const report = await relay.process({ Records: batch });
    reports.push(report);
    const failed = report.batchItemFailures[0]?.itemIdentifier;
    start = failed === undefined ? start + batch.length : records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
  }
  return reports;
}

const events = (aggregates: number, perAggregate: number) =>
  Array.from({ length: perAggregate }, (_, s) =>
    Array.from({ length: aggregates }, (_, a) => ({ aggregateId: `agg-${a}`, type: 'Happened', data: { a, s: s + 1 }, sequence: s + 1 })),
  ).flat();

describe('Class: OutboxRelay', () => {
  describe('Method: process', () => {
    it('publishes a batch in calls of 10 (one event per aggregate per call), marks it published, answers no failure', async () => {
      // Prepare
      const { db, target, outbox, relay } = setup();
      for (const e of events(20, 5)) await outbox.write([], [e]);
      const records = inserts(db.stream(OUTBOX), 'outbox');

      // Act
      const [report] = await drive(relay, records);

      // Assess
      expect(report.batchItemFailures).toEqual([]);
      expect(report.published).toHaveLength(100);
      expect(target.calls).toBe(10); // ⌈100 / 10⌉
      const published = db.items(OUTBOX).filter((i) => i.recordType === 'outbox');
      expect(published.every((i) => typeof i.publishedAt === 'number')).toBe(true);
      expect(published.every((i) => Number(i.expiresAt) - Date.now() / 1000 > 604_000)).toBe(true);
      // The marks are MODIFYs: the relay's filter never sees them.
      expect(inserts(db.stream(OUTBOX), 'outbox')).toHaveLength(100);
      expect(db.calls.BatchWriteItemCommand).toBe(4); // 100 marks, 25 per call
      expect(db.calls.BatchGetItemCommand).toBe(1); // the hold markers of the batch's aggregates
    });

    it('stamps each event with its outbox record: source, detail-type, the envelope with eventId', async () => {
      const { db, target, outbox, relay } = setup();
      const { eventIds } = await outbox.write(
        [],
        [{ aggregateId: 'o-1', type: 'OrderPlaced', data: { total: 5 }, sequence: 1, metadata: { by: 'me' } }],
      );
      await relay.process({ Records: inserts(db.stream(OUTBOX), 'outbox') });
      expect(target.accepted).toEqual([
        expect.objectContaining({
          eventId: eventIds[0],
          aggregateId: 'o-1',
          sequence: 1,
          type: 'OrderPlaced',
          data: { total: 5 },
          metadata: { by: 'me' },
        }),
      ]);
    });

    it('skips what is not an outbox insert (marks, command records, removals)', async () => {
      const { db, outbox, relay } = setup();
      await outbox.write([], [{ aggregateId: 'a', type: 'T', data: 1 }], { commandId: 'c' });
      await relay.process({ Records: inserts(db.stream(OUTBOX), 'outbox') });
      const report = await relay.process({
        Records: db.stream(OUTBOX).filter((r) => r.eventName !== 'INSERT' || r.dynamodb?.NewImage?.recordType?.S !== 'outbox'),
      });
      expect(report).toMatchObject({ published: [], skipped: 2 });
    });

    it('answers with the first unpublished record in stream order, holds back the rest of its aggregate, publishes the other aggregates', async () => {
      const { db, target, outbox, relay } = setup();
      for (const e of events(3, 3)) await outbox.write([], [e]);
      const records = inserts(db.stream(OUTBOX), 'outbox');
      target.fail = (e) => (e.aggregateId === 'agg-1' && e.sequence === 2 ? { code: 'ThrottlingException' } : undefined);

      const report = await relay.process({ Records: records });

      const failedAt = records.findIndex((r) => r.dynamodb?.SequenceNumber === report.batchItemFailures[0].itemIdentifier);
      expect(records[failedAt].dynamodb?.NewImage?.aggregateId?.S).toBe('agg-1');
      expect(records[failedAt].dynamodb?.NewImage?.sequence?.N).toBe('2');
      expect(target.accepted.filter((e) => e.aggregateId === 'agg-1').map((e) => e.sequence)).toEqual([1]);
      expect(target.accepted.filter((e) => e.aggregateId !== 'agg-1')).toHaveLength(6);
      expect(report.retryFrom).toMatchObject({ attempts: 1, errorCode: 'ThrottlingException' });
      expect(db.get(OUTBOX, { pk: 'outbox#agg-1', sk: '00000000000000000002' })).toMatchObject({
        attempts: 1,
        lastErrorCode: 'ThrottlingException',
      });
    });

    it('keeps every aggregate in order, and loses nothing, under random publish failures (Lambda retrying from the checkpoint)', async () => {
      const { db, target, outbox, relay } = setup({ maxDeliveryAttempts: 50 });
      for (const e of events(25, 8)) await outbox.write([], [e]);
      const random = prng(7);
      target.fail = () => (random() < 0.2 ? { code: 'ThrottlingException' } : undefined);

      const reports = await drive(relay, inserts(db.stream(OUTBOX), 'outbox'), 50, 500);

      expect(reports.at(-1)?.batchItemFailures).toEqual([]);
      expect(reports.length).toBeGreaterThan(4); // failures happened, Lambda retried
      for (let a = 0; a < 25; a++) {
        const seen = target.accepted.filter((e) => e.aggregateId === `agg-${a}`).map((e) => e.sequence);
        const firsts = seen.filter((s, i) => seen.indexOf(s) === i);
        expect(firsts).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // all of them, in order
        // A re-publication repeats a published event; it never jumps ahead of an unpublished one.
        for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeLessThanOrEqual(Math.max(...seen.slice(0, i)) + 1);
      }
      expect(db.items(OUTBOX).filter((i) => i.recordType === 'outbox' && i.publishedAt === undefined)).toEqual([]);
    });

    it('gives up on a record after maxDeliveryAttempts invocations: on-failure queue with the reason, the aggregate held back', async () => {
      const { db, target, queue, outbox, relay } = setup({ maxDeliveryAttempts: 3 });
      for (const e of events(2, 3)) await outbox.write([], [e]);
      target.fail = (e) =>
        e.aggregateId === 'agg-0' && e.sequence === 2 ? { code: 'ThrottlingException', message: 'rate exceeded' } : undefined;

      const reports = await drive(relay, inserts(db.stream(OUTBOX), 'outbox'));

      expect(reports.map((r) => r.batchItemFailures.length)).toEqual([1, 1, 0]);
      expect(queue.messages.map((m) => [m.body.record.aggregateId, m.body.record.sequence, m.body.reason.errorCode])).toEqual([
        ['agg-0', 2, 'ThrottlingException'],
        ['agg-0', 3, 'HeldBack'],
      ]);
      expect(queue.messages[0].body).toMatchObject({
        source: 'cdk-messaging-patterns.outbox-relay',
        reason: { errorMessage: 'rate exceeded (not published in 3 invocations)', attempts: 3 },
        record: { type: 'Happened', data: { a: 0, s: 2 } },
      });
      expect(queue.messages[1].body.reason.heldBackBehind).toBe(queue.messages[0].body.record.eventId);
      expect(queue.messages[0].attributes.errorCode).toEqual({ DataType: 'String', StringValue: 'ThrottlingException' });
      expect(target.accepted.filter((e) => e.aggregateId === 'agg-0').map((e) => e.sequence)).toEqual([1]); // never 3 without 2
      // agg-1's records after the checkpoint went out on every attempt: re-publications, in order.
      expect(target.accepted.filter((e) => e.aggregateId === 'agg-1').map((e) => e.sequence)).toEqual([1, 2, 3, 2, 3, 2, 3]);
      expect(db.get(OUTBOX, { pk: 'outbox#agg-0', sk: '!blocked' })).toMatchObject({
        blockedBy: queue.messages[0].body.record.eventId,
        failureCode: 'ThrottlingException',
      });
      expect(db.get(OUTBOX, { pk: 'outbox#agg-0', sk: '00000000000000000002' })).toMatchObject({
        deadLetteredAt: expect.any(Number),
        failureCode: 'ThrottlingException',
      });

      // Later events of the held aggregate follow it to the queue; the others go on.
      target.fail = undefined;
      const before = db.stream(OUTBOX).length;
      await outbox.write(
        [],
        [
          { aggregateId: 'agg-0', type: 'Happened', data: 4, sequence: 4 },
          { aggregateId: 'agg-1', type: 'Happened', data: 4, sequence: 4 },
        ],
      );
      const next = await relay.process({ Records: inserts(db.stream(OUTBOX, before), 'outbox') });
      expect(next.deadLettered).toEqual([expect.objectContaining({ aggregateId: 'agg-0', sequence: 4, errorCode: 'AggregateHeldBack' })]);
      expect(
        target.accepted
          .filter((e) => e.aggregateId === 'agg-1')
          .map((e) => e.sequence)
          .at(-1),
      ).toBe(4);

      // Redrive: the held records are published again, in order.
      const redriveFrom = db.stream(OUTBOX).length;
      await outbox.redrive('agg-0');
      await relay.process({ Records: inserts(db.stream(OUTBOX, redriveFrom), 'outbox') });
      expect(target.accepted.filter((e) => e.aggregateId === 'agg-0').map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
      expect(await outbox.pending('agg-0')).toEqual([]);
    });

    it('sends a record refused for good (too large) to the on-failure queue at once, with the reason', async () => {
      const { db, target, queue, outbox, relay } = setup();
      await outbox.write(
        [],
        [
          { aggregateId: 'a', type: 'Big', data: 'x'.repeat(300_000), sequence: 1 },
          { aggregateId: 'a', type: 'Small', data: 1, sequence: 2 },
          { aggregateId: 'b', type: 'Small', data: 1, sequence: 1 },
        ],
      );

      const report = await relay.process({ Records: inserts(db.stream(OUTBOX), 'outbox') });

      expect(report.batchItemFailures).toEqual([]);
      expect(report.deadLettered.map((d) => [d.aggregateId, d.sequence, d.errorCode])).toEqual([
        ['a', 1, 'EntryTooLarge'],
        ['a', 2, 'HeldBack'],
      ]);
      expect(queue.messages[0].body.reason.errorMessage).toMatch(/more than the 262144 bytes EventBridge accepts/);
      expect(queue.messages[0].body.record.dataOmitted).toBe(true); // the data is in the table
      expect(target.accepted.map((e) => e.aggregateId)).toEqual(['b']);
    });

    it('sends a malformed record to the on-failure queue', async () => {
      const { db, queue, relay } = setup();
      db.put(OUTBOX, { pk: 'outbox#x', sk: '1', recordType: 'outbox', aggregateId: 'x' });
      const report = await relay.process({ Records: inserts(db.stream(OUTBOX), 'outbox') });
      expect(report.deadLettered).toEqual([expect.objectContaining({ errorCode: 'MalformedOutboxRecord' })]);
      expect(queue.messages[0].body.record).toEqual({ pk: 'outbox#x', sk: '1' });
    });

    it('re-publishes the same event ids when it crashed after publishing (consumers deduplicate by them)', async () => {
      const { db, target, outbox } = setup();
      const queue = new FakeQueue();
      let crash = true;
      const crashing = new OutboxRelay({
        tableName: OUTBOX,
        target: { kind: 'eventbridge', eventBusName: 'bus' },
        deadLetterQueueUrl: QUEUE,
        dynamoDBClient: db.client,
        sqsClient: queue.client,
        targetClients: { eventBridge: target.eventBridge() as never },
        afterPublish: () => {
          if (crash) throw new Error('process exited');
        },
        logger: null,
      });
      const { eventIds } = await outbox.write([], events(2, 2));
      const records = inserts(db.stream(OUTBOX), 'outbox');

      await expect(crashing.process({ Records: records })).rejects.toThrow('process exited');
      expect(db.items(OUTBOX).some((i) => i.publishedAt !== undefined)).toBe(false); // not marked
      crash = false;
      await crashing.process({ Records: records });

      const ids = target.accepted.map((e) => e.eventId);
      expect(ids).toHaveLength(8);
      expect(new Set(ids)).toEqual(new Set(eventIds)); // each twice, with the same id
    });

    it('publishes to SNS FIFO with the aggregate as message group and the event id as deduplication id and idempotencyKey', async () => {
      const db = new FakeDynamoDB({ [OUTBOX]: { pk: 'pk', sk: 'sk' } });
      const target = new FakeTarget();
      const relay = new OutboxRelay({
        tableName: OUTBOX,
        target: { kind: 'sns', topicArn: 'arn:aws:sns:us-east-1:000000000000:events.fifo' },
        deadLetterQueueUrl: QUEUE,
        dynamoDBClient: db.client,
        sqsClient: new FakeQueue().client,
        targetClients: { sns: target.sns() as never },
        logger: null,
      });
      const { eventIds } = await new Outbox({ tableName: OUTBOX, client: db.client }).write(
        [],
        [{ aggregateId: 'order 1/ü', type: 'T', data: 1 }],
      );
      await relay.process({ Records: inserts(db.stream(OUTBOX), 'outbox') });
      expect(target.snsEntries[0]).toMatchObject({
        MessageGroupId: expect.stringMatching(/^[0-9a-f]{64}$/), // not a valid group id as it is: hashed
        MessageDeduplicationId: eventIds[0],
        MessageAttributes: {
          idempotencyKey: { DataType: 'String', StringValue: eventIds[0] },
          eventType: { DataType: 'String', StringValue: 'T' },
        },
      });
    });
  });

  describe('Method: fromEnvironment', () => {
    it('reads OUTBOX_RELAY_CONFIG', () => {
      const relay = OutboxRelay.fromEnvironment(
        { logger: null },
        {
          OUTBOX_RELAY_CONFIG: JSON.stringify({
            tableName: 'outbox',
            target: { kind: 'kinesis', streamName: 's' },
            source: 'orders',
            deadLetterQueueUrl: QUEUE,
            maxDeliveryAttempts: 4,
            publishedRetentionSeconds: 60,
          }),
        },
      );
      expect(relay).toMatchObject({
        tableName: 'outbox',
        deadLetterQueueUrl: QUEUE,
        maxDeliveryAttempts: 4,
        publishedRetentionSeconds: 60,
      });
    });

    it.each([
      [{}, /tableName must be a DynamoDB table name/],
      [{ OUTBOX_RELAY_CONFIG: '{' }, /OUTBOX_RELAY_CONFIG must be a JSON object/],
      [{ OUTBOX_RELAY_CONFIG: JSON.stringify({ tableName: 'outbox', deadLetterQueueUrl: QUEUE }) }, /no publish target/],
      [
        { OUTBOX_RELAY_CONFIG: JSON.stringify({ tableName: 'outbox', deadLetterQueueUrl: QUEUE, target: { kind: 'mq' } }) },
        /target.kind must be/,
      ],
      [
        {
          OUTBOX_RELAY_CONFIG: JSON.stringify({
            tableName: 'outbox',
            deadLetterQueueUrl: 'nope',
            target: { kind: 'kinesis', streamName: 's' },
          }),
        },
        /deadLetterQueueUrl must be an http/,
      ],
    ])('fails with OutboxConfigurationError on a bad configuration (%j)', (env, message) => {
      expect(() => OutboxRelay.fromEnvironment({ logger: null }, env)).toThrow(OutboxConfigurationError);
      expect(() => OutboxRelay.fromEnvironment({ logger: null }, env)).toThrow(message);
    });
  });
});
