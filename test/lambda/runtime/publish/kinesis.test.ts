import { PublishConfigurationError } from '../../../../lambda/runtime/publish/errors';
import { KinesisPublisher, kinesisRecordSize, type KinesisPublishEntry } from '../../../../lambda/runtime/publish/kinesis';
import { FakeKinesis, kinesisClientFor, randomFaults } from './fake-services';
import { expectPublishInvariants } from './invariants';

const MiB = 1024 * 1024;
const record = (id: string, partitionKey: string, padBytes = 0): KinesisPublishEntry => ({
  id,
  partitionKey,
  data: JSON.stringify({ id }) + (padBytes ? `|${'x'.repeat(padBytes)}` : ''),
});
const publisherFor = (fake: FakeKinesis, options: Partial<ConstructorParameters<typeof KinesisPublisher>[0]> = {}) =>
  new KinesisPublisher({ streamName: 'readings', client: kinesisClientFor(fake), logger: null, baseDelayMs: 0, ...options });

describe('Class: KinesisPublisher', () => {
  describe('Method: publish', () => {
    it('puts ⌈n/500⌉ PutRecords calls when nothing fails', async () => {
      const fake = new FakeKinesis();
      const entries = Array.from({ length: 1200 }, (_, i) => record(`r${i}`, `device-${i}`));

      const result = await publisherFor(fake).publish(entries);

      expect(fake.calls.map((c) => c.length)).toEqual([500, 500, 200]);
      expect(result.published.map((p) => p.id)).toEqual(entries.map((e) => e.id));
      expect(result.published[0]).toEqual({ id: 'r0', shardId: 'shardId-000000000000', sequenceNumber: '49000001', attempts: 1 });
    });

    it('splits calls at 5 MiB, partition keys included', async () => {
      const fake = new FakeKinesis();
      const entries = Array.from({ length: 12 }, (_, i) => record(`r${i}`, `k${i}`, 900 * 1024));

      await publisherFor(fake).publish(entries);

      expect(fake.calls.map((c) => c.length)).toEqual([5, 5, 2]);
      expect(fake.calls.every((c) => c.reduce((n, e) => n + e.bytes, 0) <= 5 * MiB)).toBe(true);
    });

    it('reports a record over 1 MiB with its partition key without a call, and holds back its key', async () => {
      const fake = new FakeKinesis();
      const tooBig: KinesisPublishEntry = { id: 'big', partitionKey: 'k', data: new Uint8Array(MiB) };

      const result = await publisherFor(fake).publish([record('before', 'k'), tooBig, record('after', 'k'), record('other', 'j')]);

      expect(kinesisRecordSize(tooBig)).toBe(MiB + 1);
      expect(result.published.map((p) => p.id)).toEqual(['before', 'other']);
      expect(result.failed).toEqual([
        expect.objectContaining({ id: 'big', errorCode: 'EntryTooLarge', attempts: 0, retryable: false }),
        { id: 'after', errorCode: 'HeldBack', errorMessage: 'held back behind big', attempts: 0, retryable: true, heldBackBehind: 'big' },
      ]);
      expect(fake.calls.flat().map((e) => e.id)).not.toContain('after');
    });

    it('refuses a record without a valid partition key, without a call', async () => {
      const fake = new FakeKinesis();

      const result = await publisherFor(fake).publish([
        { id: 'none', partitionKey: '', data: 'x' },
        { id: 'long', partitionKey: 'p'.repeat(257), data: 'x' },
        { id: 'data', partitionKey: 'p', data: 42 as never },
      ]);

      expect(fake.calls).toHaveLength(0);
      expect(result.failed.map((f) => [f.id, f.errorCode])).toEqual([
        ['none', 'InvalidEntry'],
        ['long', 'InvalidEntry'],
        ['data', 'InvalidEntry'],
      ]);
      expect(result.failed[0].errorMessage).toMatch(/partitionKey must be a string of 1 to 256 characters/);
    });

    it('keeps a partition key in order in strict mode: a throttled record holds its key, other keys go on', async () => {
      const fake = new FakeKinesis({
        entry: (e, call) => (e.id === 'a1' && call === 0 ? { code: 'ProvisionedThroughputExceededException' } : undefined),
      });
      const entries = [record('a1', 'a'), record('a2', 'a'), record('b1', 'b'), record('b2', 'b')];

      const result = await publisherFor(fake).publish(entries);

      expect(fake.calls.map((c) => c.map((e) => e.id))).toEqual([['a1', 'b1'], ['a1', 'b2'], ['a2']]);
      expect(fake.acceptedIdsOf('a')).toEqual(['a1', 'a2']);
      expect(result.failed).toEqual([]);
    });

    it('puts a busy partition key ⌈n/500⌉ calls at a time in batched mode', async () => {
      const fake = new FakeKinesis();
      const entries = Array.from({ length: 1000 }, (_, i) => record(`r${i}`, 'one-key'));

      const result = await publisherFor(fake, { ordering: 'batched' }).publish(entries);

      expect(fake.calls.map((c) => c.length)).toEqual([500, 500]);
      expect(fake.acceptedIdsOf('one-key')).toEqual(entries.map((e) => e.id));
      expect(result.published.every((p) => p.overtakenBy === undefined)).toBe(true);
    });

    it('batches records of one partition key freely with orderingKey null', async () => {
      const fake = new FakeKinesis();
      const entries = Array.from({ length: 600 }, (_, i) => ({ ...record(`r${i}`, 'same'), orderingKey: null }));

      await publisherFor(fake).publish(entries);

      expect(fake.calls.map((c) => c.length)).toEqual([500, 100]);
    });

    it('says which records overtook a failed one in batched mode, and still publishes it', async () => {
      // Kinesis goes on after a failed record: r2 is stored while r1 is throttled.
      const fake = new FakeKinesis({
        entry: (e, call) => (e.id === 'r1' && call === 0 ? { code: 'ProvisionedThroughputExceededException' } : undefined),
      });

      const result = await publisherFor(fake, { ordering: 'batched' }).publish([record('r1', 'k'), record('r2', 'k'), record('r3', 'k')]);

      expect(fake.acceptedIdsOf('k')).toEqual(['r2', 'r3', 'r1']);
      expect(result.published.map((p) => p.id)).toEqual(['r2', 'r3', 'r1']);
      expect(result.published[2]).toEqual(expect.objectContaining({ id: 'r1', attempts: 2, overtakenBy: ['r2', 'r3'] }));
    });

    it('holds back the rest of a key behind a record refused for good, in batched mode too', async () => {
      const fake = new FakeKinesis({
        entry: (e, call) =>
          e.id === 'r1' ? { code: 'KMSAccessDeniedException' } : e.id === 'r2' && call === 0 ? { code: 'InternalFailure' } : undefined,
      });
      const entries = Array.from({ length: 30 }, (_, i) => record(`r${i}`, 'k'));

      const result = await publisherFor(fake, { ordering: 'batched' }).publish(entries);

      expect(result.published.map((p) => p.id)).toEqual(['r0', ...entries.slice(3).map((e) => e.id)]);
      expect(result.failed[0]).toEqual(
        expect.objectContaining({ id: 'r1', errorCode: 'KMSAccessDeniedException', attempts: 1, retryable: false }),
      );
      // r2 failed in the same call and is held back; the records after r1 that AWS accepted in that call overtook it.
      expect(result.failed[1]).toEqual(expect.objectContaining({ id: 'r2', errorCode: 'HeldBack', heldBackBehind: 'r1', attempts: 1 }));
      expect(result.failed[0].overtakenBy).toEqual(entries.slice(3).map((e) => e.id));
      expect(fake.calls).toHaveLength(1);
    });

    it.each([
      [21, 0.1, 'strict'],
      [22, 0.3, 'strict'],
      [23, 0.3, 'strict'],
      [24, 0.1, 'batched'],
    ] as const)('loses nothing and keeps strict partition-key order under faults (seed %i, %f fail, %s)', async (seed, share, ordering) => {
      const fake = new FakeKinesis(
        randomFaults(
          seed,
          { entry: share, call: 0.1, permanent: 0.2 },
          { retryable: 'ProvisionedThroughputExceededException', permanent: 'KMSDisabledException', call: 'InternalFailure' },
        ),
      );
      const entries = Array.from({ length: 400 }, (_, i) => record(`r${i}`, `k${(i * 13) % 17}`));

      const result = await publisherFor(fake, { ordering }).publish(entries);

      const published = new Set(result.published.map((p) => p.id));
      expect(published.size + result.failed.length).toBe(entries.length);
      if (ordering === 'strict') {
        expectPublishInvariants(
          entries.map((e) => ({ id: e.id, key: e.partitionKey })),
          result,
          fake.accepted,
        );
      } else {
        // Batched: nothing lost; overtaking only within a call, and reported.
        expect([...published].sort()).toEqual(fake.accepted.map((e) => e.id).sort());
        for (const p of result.published.filter((x) => x.overtakenBy)) expect(p.attempts).toBeGreaterThan(1);
      }
    });

    it('accepts bytes and text data and sends the partition and explicit hash keys', async () => {
      const fake = new FakeKinesis();
      const client = kinesisClientFor(fake);
      const inputs: unknown[] = [];
      client.middlewareStack.add(
        (next) => async (args) => {
          inputs.push(args.input);
          return next(args);
        },
        { step: 'initialize', name: 'spy' },
      );

      await publisherFor(fake, {
        client,
        streamName: undefined,
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/readings',
      }).publish([
        { id: 'bytes', partitionKey: 'p', data: Uint8Array.of(1, 2), explicitHashKey: '123' },
        { id: 'text', partitionKey: 'p2', data: 'héllo' },
      ]);

      expect(inputs).toEqual([
        {
          StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/readings',
          Records: [
            { PartitionKey: 'p', Data: Uint8Array.of(1, 2), ExplicitHashKey: '123' },
            { PartitionKey: 'p2', Data: Buffer.from('héllo'), ExplicitHashKey: undefined },
          ],
        },
      ]);
    });
  });

  describe('Options', () => {
    it.each([
      [{}, /streamName or streamArn must be given \(given neither\)/],
      [
        { streamName: 's', maxRecordSizeBytes: 20 * MiB },
        /maxRecordSizeBytes must be an integer between 1024 and 10485760 \(given 20971520\)/,
      ],
      [
        { streamName: 's', maxRecordSizeBytes: 2 * MiB, maxCallSizeBytes: MiB },
        /maxCallSizeBytes must be at least maxRecordSizeBytes \(given 1048576 < 2097152\)/,
      ],
      [{ streamName: 's', ordering: 'loose' }, /ordering must be one of 'strict', 'batched' \(given 'loose'\)/],
    ])('fails if an option is invalid (%j)', (options, message) => {
      expect(() => new KinesisPublisher(options as never)).toThrow(PublishConfigurationError);
      expect(() => new KinesisPublisher(options as never)).toThrow(message);
    });

    it('takes a larger record limit for streams that allow it', async () => {
      const fake = new FakeKinesis();
      const result = await publisherFor(fake, { maxRecordSizeBytes: 2 * MiB }).publish([
        { id: 'x', partitionKey: 'p', data: new Uint8Array(MiB + 10) },
      ]);
      expect(result.published).toHaveLength(1);
    });
  });
});
