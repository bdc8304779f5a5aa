import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { PublishConfigurationError } from '../../../../lambda/runtime/publish/errors';
import { SnsPublisher, snsMessageSize, type SnsPublishEntry } from '../../../../lambda/runtime/publish/sns';
import { FakeSns, randomFaults, snsClientFor } from './fake-services';
import { expectPublishInvariants } from './invariants';

const topicArn = 'arn:aws:sns:us-east-1:000000000000:orders.fifo';
const entry = (id: string, groupId?: string, extra: Partial<SnsPublishEntry> = {}): SnsPublishEntry => ({
  id,
  message: JSON.stringify({ id }),
  ...(groupId ? { messageGroupId: groupId, messageDeduplicationId: id } : {}),
  ...extra,
});
const publisherFor = (fake: FakeSns, options: Partial<ConstructorParameters<typeof SnsPublisher>[0]> = {}) =>
  new SnsPublisher({ topicArn, client: snsClientFor(fake), logger: null, baseDelayMs: 0, ...options });

describe('Class: SnsPublisher', () => {
  describe('Method: publish', () => {
    it('publishes in ⌈n/10⌉ PublishBatch calls when nothing fails', async () => {
      // Prepare
      const fake = new FakeSns();
      const entries = Array.from({ length: 95 }, (_, i) => entry(`m${i}`));

      // Act
      const result = await publisherFor(fake).publish(entries);

      // Assess
      expect(fake.calls).toHaveLength(10);
      expect(fake.calls.every((c) => c.length <= 10)).toBe(true);
      expect(result.failed).toEqual([]);
      expect(result.published.map((p) => p.id)).toEqual(entries.map((e) => e.id));
      expect(result.published[0]).toEqual({ id: 'm0', messageId: 'm-1', attempts: 1 });
    });

    it('fills every call with distinct message groups in strict mode', async () => {
      const fake = new FakeSns();
      const entries = Array.from({ length: 40 }, (_, i) => entry(`m${i}`, `g${i}`));

      const result = await publisherFor(fake).publish(entries);

      expect(fake.calls).toHaveLength(4);
      expect(result.published).toHaveLength(40);
    });

    it('orders by an explicit orderingKey instead of the message group', async () => {
      const fake = new FakeSns();
      const entries = ['a', 'b', 'c'].map((id, i) => entry(id, `g${i}`, { orderingKey: 'one' }));

      await publisherFor(fake).publish(entries);

      expect(fake.calls.map((c) => c.map((e) => e.id))).toEqual([['a'], ['b'], ['c']]);
    });

    it('splits calls at 256 KiB in total', async () => {
      const fake = new FakeSns();
      const big = (id: string) => ({ id, message: JSON.stringify({ id, pad: 'x'.repeat(100 * 1024) }) });

      const result = await publisherFor(fake).publish(['a', 'b', 'c', 'd', 'e'].map(big));

      expect(fake.calls.map((c) => c.length)).toEqual([2, 2, 1]);
      expect(fake.calls.every((c) => c.reduce((n, e) => n + e.bytes, 0) <= 262_144)).toBe(true);
      expect(result.published).toHaveLength(5);
    });

    it('reports a message over the limit without a call, and publishes the rest', async () => {
      const fake = new FakeSns();
      const tooBig = { id: 'big', message: 'x'.repeat(262_145) };

      const result = await publisherFor(fake).publish([tooBig, entry('ok')]);

      expect(fake.calls).toEqual([[expect.objectContaining({ id: 'ok' })]]);
      expect(result.failed).toEqual([expect.objectContaining({ id: 'big', errorCode: 'EntryTooLarge', attempts: 0, retryable: false })]);
    });

    it('maps entry ids of any form to valid batch ids', async () => {
      const fake = new FakeSns();
      const ids = ['with spaces and ünïcode', 'x'.repeat(200), 'a/b:c'];
      const client = snsClientFor(fake);
      const sent: string[][] = [];
      client.middlewareStack.add(
        (next) => async (args) => {
          sent.push(
            ((args.input as { PublishBatchRequestEntries: Array<{ Id: string }> }).PublishBatchRequestEntries ?? []).map((e) => e.Id),
          );
          return next(args);
        },
        { step: 'initialize', name: 'spy' },
      );

      const result = await publisherFor(fake, { client }).publish(ids.map((id) => entry(id)));

      expect(sent.flat().every((id) => /^[A-Za-z0-9_-]{1,80}$/.test(id))).toBe(true);
      expect(result.published.map((p) => p.id)).toEqual(ids);
    });

    it('retries an entry SNS failed without a sender fault, and reports a sender fault at once', async () => {
      const fake = new FakeSns({
        entry: (e, call) =>
          e.id === 'retry' && call === 0
            ? { code: 'InternalError', senderFault: false }
            : e.id === 'bad'
              ? { code: 'InvalidParameter', message: 'Invalid parameter: Message', senderFault: true }
              : undefined,
      });

      const result = await publisherFor(fake).publish([entry('retry'), entry('bad'), entry('fine')]);

      expect(result.published.map((p) => [p.id, p.attempts])).toEqual([
        ['fine', 1],
        ['retry', 2],
      ]);
      expect(result.failed).toEqual([
        { id: 'bad', errorCode: 'InvalidParameter', errorMessage: 'Invalid parameter: Message', attempts: 1, retryable: false },
      ]);
    });

    it('retries a message the response does not mention (NoResult)', async () => {
      const fake = new FakeSns({ omit: (e, call) => e.id === 'lost' && call === 0 });

      const result = await publisherFor(fake).publish([entry('lost'), entry('other')]);

      expect(result.failed).toEqual([]);
      expect(result.published.find((p) => p.id === 'lost')?.attempts).toBe(2);
      // At least once: the first copy was stored too. A FIFO topic deduplicates it by messageDeduplicationId.
      expect(fake.accepted.filter((e) => e.id === 'lost')).toHaveLength(2);
    });

    it.each([
      [1, 0.1],
      [2, 0.1],
      [3, 0.3],
      [4, 0.3],
      [5, 0.3],
    ])('loses nothing and keeps each message group in order under faults (seed %i, %f of entries fail)', async (seed, share) => {
      // Prepare: 12 groups, 10 % of calls throttled, a fifth of entry failures permanent
      const fake = new FakeSns(
        randomFaults(
          seed,
          { entry: share, call: 0.1, permanent: 0.2 },
          { retryable: 'InternalError', permanent: 'InvalidParameter', call: 'Throttled' },
        ),
      );
      const entries = Array.from({ length: 300 }, (_, i) => entry(`m${i}`, `g${(i * 7) % 12}`));

      // Act
      const result = await publisherFor(fake).publish(entries);

      // Assess
      expectPublishInvariants(
        entries.map((e) => ({ id: e.id, key: e.messageGroupId })),
        result,
        fake.accepted,
      );
      expect(result.failed.filter((f) => f.errorCode === 'InvalidParameter').every((f) => !f.retryable)).toBe(true);
      expect(result.failed.length).toBeLessThan(entries.length);
      expect(result.published.some((p) => p.attempts > 1)).toBe(true);
    });

    it('sends the SNS fields of an entry', async () => {
      const fake = new FakeSns();
      const client = snsClientFor(fake);
      let input: PublishBatchCommand['input'] | undefined;
      client.middlewareStack.add(
        (next) => async (args) => {
          input = args.input as PublishBatchCommand['input'];
          return next(args);
        },
        { step: 'initialize', name: 'spy' },
      );

      await publisherFor(fake, { client }).publish([
        entry('a', 'g1', {
          subject: 'S',
          messageStructure: 'json',
          messageAttributes: { kind: { DataType: 'String', StringValue: 'order' } },
        }),
      ]);

      expect(input).toEqual({
        TopicArn: topicArn,
        PublishBatchRequestEntries: [
          expect.objectContaining({
            Id: '0',
            Message: '{"id":"a"}',
            Subject: 'S',
            MessageStructure: 'json',
            MessageGroupId: 'g1',
            MessageDeduplicationId: 'a',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' } },
          }),
        ],
      });
    });
  });

  describe('Function: snsMessageSize', () => {
    it('counts the body and each attribute name, type and value as UTF-8', () => {
      expect(snsMessageSize({ message: 'héllo' })).toBe(6);
      expect(
        snsMessageSize({
          message: 'a',
          messageAttributes: { k: { DataType: 'String', StringValue: 'vv' }, b: { DataType: 'Binary', BinaryValue: new Uint8Array(3) } },
        }),
      ).toBe(1 + (1 + 6 + 2) + (1 + 6 + 3));
    });
  });

  describe('Options', () => {
    it.each([
      [{ topicArn: '' }, /topicArn must be a non-empty string \(given ''\)/],
      [{ topicArn, maxMessageSizeBytes: 2_000_000 }, /maxMessageSizeBytes must be an integer between 1024 and 1048576 \(given 2000000\)/],
      [{ topicArn, client: {} as never }, /client must be an AWS SDK v3 client/],
    ])('fails if an option is invalid (%j)', (options, message) => {
      expect(() => new SnsPublisher(options as never)).toThrow(PublishConfigurationError);
      expect(() => new SnsPublisher(options as never)).toThrow(message);
    });

    it('fails if no topic is given', () => {
      expect(() => new SnsPublisher(undefined as never)).toThrow(/topicArn must be a non-empty string \(given nothing\)/);
    });

    it('creates a client when none is given', () => {
      expect(new SnsPublisher({ topicArn }).topicArn).toBe(topicArn);
    });
  });
});
