import { marshall } from '@aws-sdk/util-dynamodb';
import {
  Outbox,
  OutboxConditionError,
  OutboxConfigurationError,
  OutboxInputError,
  OutboxPersistenceError,
  OutboxSequenceConflictError,
  envelopeText,
  outboxEnvelope,
  outboxEventId,
  sortKeyOf,
} from '../../../../lambda/runtime/outbox';
import { FakeDynamoDB, inserts } from '../event-store/fake-dynamodb';

const OUTBOX = 'outbox-table';
const ORDERS = 'orders-table';

const fake = () => new FakeDynamoDB({ [OUTBOX]: { pk: 'pk', sk: 'sk' }, [ORDERS]: { pk: 'pk' } });

describe('Class: Outbox', () => {
  describe('Method: write', () => {
    it('commits the business writes, the outbox records and the command record in one TransactWriteItems', async () => {
      // Prepare
      const db = fake();
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });

      // Act
      const result = await outbox.write(
        [{ Put: { TableName: ORDERS, Item: { pk: 'order-1', total: 42 }, ConditionExpression: 'attribute_not_exists(pk)' } }],
        [
          { aggregateId: 'order-1', type: 'OrderPlaced', data: { total: 42 }, sequence: 1 },
          { aggregateId: 'order-1', type: 'OrderPriced', data: { total: 42 }, sequence: 2, metadata: { correlationId: 'c-1' } },
        ],
        { commandId: 'cmd-1', result: { orderId: 'order-1' } },
      );

      // Assess
      expect(db.calls).toEqual({ TransactWriteItemsCommand: 1 });
      expect(result).toMatchObject({ status: 'written', result: { orderId: 'order-1' } });
      expect(result.eventIds).toHaveLength(2);
      expect(db.get(ORDERS, { pk: 'order-1' })).toEqual({ pk: 'order-1', total: 42 });
      const records = db.items(OUTBOX).filter((i) => i.recordType === 'outbox');
      expect(records.map((r) => [r.pk, r.sk, r.type, r.eventId])).toEqual([
        ['outbox#order-1', '00000000000000000001', 'OrderPlaced', result.eventIds[0]],
        ['outbox#order-1', '00000000000000000002', 'OrderPriced', result.eventIds[1]],
      ]);
      expect(records[1].metadata).toEqual({ correlationId: 'c-1' });
      expect(records[0].publishedAt).toBeUndefined();
      expect(records[0].expiresAt).toBeUndefined(); // unpublished records never expire
      const command = db.get(OUTBOX, { pk: 'outbox-command#cmd-1', sk: '-' });
      expect(command).toMatchObject({ recordType: 'command', eventIds: result.eventIds, result: '{"orderId":"order-1"}' });
      expect(Number(command?.expiresAt) - Date.now() / 1000).toBeGreaterThan(1_209_000);
    });

    it('writes nothing, not even the events, when a business condition fails', async () => {
      const db = fake();
      db.put(ORDERS, { pk: 'order-1', total: 1 });
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });

      const error = await outbox
        .write(
          [
            {
              Update: {
                TableName: ORDERS,
                Key: { pk: 'order-2' },
                UpdateExpression: 'SET total = :t',
                ExpressionAttributeValues: { ':t': 5 },
              },
            },
            {
              Put: {
                TableName: ORDERS,
                Item: { pk: 'order-1', total: 2 },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
          [{ aggregateId: 'order-1', type: 'OrderPlaced', data: {} }],
          { commandId: 'cmd-2' },
        )
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OutboxConditionError);
      expect(error).toMatchObject({
        itemIndex: 1,
        reasonCode: 'ConditionalCheckFailed',
        item: { pk: 'order-1', total: 1 },
        retryable: false,
      });
      expect(db.items(OUTBOX)).toEqual([]);
      expect(db.get(ORDERS, { pk: 'order-2' })).toBeUndefined();
      expect(db.stream(OUTBOX)).toEqual([]); // nothing for the relay to publish
    });

    it('writes nothing for a command id seen before, and returns the first write', async () => {
      const db = fake();
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
      const first = await outbox.write([], [{ aggregateId: 'a', type: 'T', data: 1 }], { commandId: 'c', result: 'first' });

      const second = await outbox.write([], [{ aggregateId: 'a', type: 'T', data: 2 }], { commandId: 'c', result: 'second' });

      expect(second).toEqual({ status: 'duplicate', eventIds: first.eventIds, result: 'first' });
      expect(db.items(OUTBOX).filter((i) => i.recordType === 'outbox')).toHaveLength(1);
    });

    it('fails with OutboxSequenceConflictError when the sequence is taken (a lost race)', async () => {
      const db = fake();
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
      await outbox.write([], [{ aggregateId: 'a', type: 'T', data: 1, sequence: 7 }]);

      const error = await outbox.write([], [{ aggregateId: 'a', type: 'T', data: 1, sequence: 7 }]).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OutboxSequenceConflictError);
      expect(error).toMatchObject({ aggregateId: 'a', sequence: 7, retryable: true });
    });

    it('checks the 100-item limit before sending anything', async () => {
      const db = fake();
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
      const events = Array.from({ length: 99 }, (_, i) => ({ aggregateId: 'a', type: 'T', data: i, sequence: i }));

      const error = await outbox
        .write([{ ConditionCheck: { TableName: ORDERS, Key: { pk: 'x' }, ConditionExpression: 'attribute_exists(pk)' } }], events, {
          commandId: 'c',
        })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OutboxInputError);
      expect((error as Error).message).toMatch(/101 items: DynamoDB takes at most 100/);
      expect(db.requests()).toBe(0);
      await expect(outbox.write([], events.slice(0, 100))).resolves.toMatchObject({ status: 'written' });
    });

    it('generates time-ordered sequences that keep the order of the events given', async () => {
      const db = fake();
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
      await outbox.write(
        [],
        Array.from({ length: 20 }, (_, i) => ({ aggregateId: 'a', type: 'T', data: i })),
      );
      const records = db.items(OUTBOX).sort((x, y) => (String(x.sk) < String(y.sk) ? -1 : 1));
      expect(records.map((r) => JSON.parse(String(r.data)))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('retries a transaction cancelled by a conflicting one, then succeeds', async () => {
      const db = fake();
      let conflicts = 1;
      db.fault = (name) => {
        if (name !== 'TransactWriteItemsCommand' || conflicts-- <= 0) return undefined;
        return Object.assign(new Error('conflict'), {
          name: 'TransactionCanceledException',
          CancellationReasons: [{ Code: 'TransactionConflict' }],
        });
      };
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
      await expect(outbox.write([], [{ aggregateId: 'a', type: 'T', data: 1 }])).resolves.toMatchObject({ status: 'written' });
      expect(db.calls.TransactWriteItemsCommand).toBe(2);
    });

    it('fails with a retryable OutboxPersistenceError when DynamoDB fails', async () => {
      const db = fake();
      db.fault = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
      const error = await new Outbox({ tableName: OUTBOX, client: db.client })
        .write([], [{ aggregateId: 'a', type: 'T', data: 1 }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutboxPersistenceError);
      expect(error).toMatchObject({ operation: 'TransactWriteItems', retryable: true });
    });

    it.each([
      [{ aggregateId: '', type: 'T', data: 1 }, /aggregateId must be a string/],
      [{ aggregateId: 'a', type: '', data: 1 }, /type must be a string/],
      [{ aggregateId: 'a', type: 'T', data: undefined }, /data must be a JSON value/],
      [{ aggregateId: 'a', type: 'T', data: 1, sequence: -1 }, /sequence must be/],
      [{ aggregateId: 'a', type: 'T', data: 1, sequence: '!x' }, /sequence must be/],
      [{ aggregateId: 'a', type: 'T', data: { big: 1n } }, /cannot be serialised/],
    ])('refuses an unusable event before sending: %j', async (event, message) => {
      const db = fake();
      await expect(new Outbox({ tableName: OUTBOX, client: db.client }).write([], [event as never])).rejects.toThrow(message);
      expect(db.requests()).toBe(0);
    });
  });

  describe('Method: constructor', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('reads OUTBOX_TABLE_NAME and OUTBOX_COMMAND_RETENTION_SECONDS', () => {
      process.env.OUTBOX_TABLE_NAME = 'from-env';
      process.env.OUTBOX_COMMAND_RETENTION_SECONDS = '60';
      const outbox = new Outbox();
      expect(outbox.tableName).toBe('from-env');
      expect(outbox.commandRetentionSeconds).toBe(60);
    });

    it('fails with OutboxConfigurationError naming the option', () => {
      delete process.env.OUTBOX_TABLE_NAME;
      expect(() => new Outbox()).toThrow(OutboxConfigurationError);
      expect(() => new Outbox()).toThrow(/no outbox table/);
      expect(() => new Outbox({ tableName: 'x!' })).toThrow(/tableName must be a DynamoDB table name/);
      expect(() => new Outbox({ tableName: 'table', maxAttempts: 0 })).toThrow(/maxAttempts must be an integer between 1 and 10/);
      process.env.OUTBOX_COMMAND_RETENTION_SECONDS = 'soon';
      expect(() => new Outbox({ tableName: 'table' })).toThrow(/OUTBOX_COMMAND_RETENTION_SECONDS must be an integer/);
    });
  });

  describe('Method: pending and redrive', () => {
    it("lists an aggregate's unpublished records, and redrive rewrites them in order after lifting the hold", async () => {
      const db = fake();
      const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
      const { eventIds } = await outbox.write(
        [],
        [1, 2, 3].map((sequence) => ({ aggregateId: 'a', type: 'T', data: sequence, sequence })),
      );
      // The relay published 1, gave up on 2 and held 3 back behind it.
      const [r1, r2, r3] = db.items(OUTBOX).sort((x, y) => (String(x.sk) < String(y.sk) ? -1 : 1));
      db.put(OUTBOX, { ...r1, publishedAt: 1, expiresAt: 2 });
      db.put(OUTBOX, { ...r2, deadLetteredAt: 5, failureCode: 'EntryTooLarge', failureMessage: 'too big', attempts: 1 });
      db.put(OUTBOX, { ...r3, deadLetteredAt: 5, failureCode: 'HeldBack', failureMessage: 'held back' });
      db.put(OUTBOX, { pk: 'outbox#a', sk: '!blocked', recordType: 'outbox-blocked', blockedBy: eventIds[1] });
      const before = db.stream(OUTBOX).length;

      const pending = await outbox.pending('a');
      const redriven = await outbox.redrive('a');

      expect(pending.map((p) => [p.sequence, p.failureCode, p.attempts])).toEqual([
        [2, 'EntryTooLarge', 1],
        [3, 'HeldBack', 0],
      ]);
      expect(redriven).toEqual([eventIds[1], eventIds[2]]);
      expect(db.get(OUTBOX, { pk: 'outbox#a', sk: '!blocked' })).toBeUndefined();
      const fresh = inserts(db.stream(OUTBOX, before), 'outbox');
      expect(fresh.map((r) => r.dynamodb?.NewImage?.sk?.S)).toEqual([sortKeyOf(2), sortKeyOf(3)]);
      expect(fresh[0].dynamodb?.NewImage?.deadLetteredAt).toBeUndefined();
      expect(await outbox.pending('a')).toHaveLength(2); // on their way again, without their failure
      expect((await outbox.pending('a')).every((p) => p.deadLetteredAt === undefined)).toBe(true);
    });
  });
});

describe('Function: outboxEventId / outboxEnvelope', () => {
  const record = {
    pk: 'outbox#a',
    sk: '1',
    eventId: 'ev-1',
    aggregateId: 'a',
    sequence: 1,
    type: 'T',
    data: '{"n":1}',
    occurredAt: '2026-01-01T00:00:00.000Z',
    createdAt: 0,
  };
  const envelope = envelopeText(record);

  it('builds the envelope around the data as written', () => {
    expect(JSON.parse(envelope)).toEqual({
      eventId: 'ev-1',
      aggregateId: 'a',
      sequence: 1,
      type: 'T',
      occurredAt: '2026-01-01T00:00:00.000Z',
      data: { n: 1 },
    });
  });

  it.each([
    ['an EventBridge event', { 'detail-type': 'T', source: 'orders', id: 'eb-1', detail: JSON.parse(envelope) }],
    [
      'an SQS message from EventBridge',
      {
        messageId: 'm',
        receiptHandle: 'r',
        body: JSON.stringify({ 'detail-type': 'T', source: 'o', id: 'x', detail: JSON.parse(envelope) }),
      },
    ],
    ['an SQS message from SNS (raw)', { messageId: 'm', receiptHandle: 'r', body: envelope, messageAttributes: {} }],
    [
      'an SQS message from SNS (enveloped)',
      { messageId: 'm', receiptHandle: 'r', body: JSON.stringify({ Type: 'Notification', TopicArn: 't', Message: envelope }) },
    ],
    ['an SNS record', { Sns: { Message: envelope, MessageAttributes: {} } }],
    ['a Kinesis record', { kinesis: { data: Buffer.from(envelope).toString('base64'), partitionKey: 'a' } }],
  ])('reads the stable id from %s', (_, delivery) => {
    expect(outboxEventId(delivery)).toBe('ev-1');
    expect(outboxEnvelope(delivery)?.data).toEqual({ n: 1 });
  });

  it('prefers the idempotencyKey message attribute', () => {
    expect(outboxEventId({ body: 'x', messageAttributes: { idempotencyKey: { stringValue: 'attr' } } })).toBe('attr');
    expect(outboxEventId({ Sns: { Message: 'x', MessageAttributes: { idempotencyKey: { Value: 'sns-attr' } } } })).toBe('sns-attr');
  });

  it('gives undefined for a delivery without an outbox event', () => {
    expect(outboxEventId({ body: 'not json' })).toBeUndefined();
    expect(outboxEventId(42)).toBeUndefined();
    expect(outboxEnvelope(marshall({ a: 1 }))).toBeUndefined();
  });
});
