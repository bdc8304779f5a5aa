import { processSqsBatch } from '../../../../lambda/runtime/batch/sqs';
import {
  type FailureReason,
  FailureReasonStore,
  S3FailureReasonStore,
  s3ClientFromEnvironment,
} from '../../../../lambda/runtime/dlq/failure-reasons';
import { DeadLetterQueueConfigurationError, DeadLetterQueueError } from '../../../../lambda/runtime/dlq/errors';
import { sqsEvent, sqsRecord } from '../../../helpers/events';
import { FakeS3 } from './fakes';

const silent = { logger: null } as const;

describe('Class: S3FailureReasonStore', () => {
  describe('Method: onRecordFailure (with processSqsBatch)', () => {
    it('records why each failed message failed, keyed by message id, before the batch returns', async () => {
      // Prepare
      const s3 = new FakeS3();
      const store = new S3FailureReasonStore({ bucketName: 'reasons-bucket', client: s3.client });
      const bad = sqsRecord({ n: 1 }, { receiveCount: 4 });
      const good = sqsRecord({ n: 2 });
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders-consumer';
      // Act
      const res = await processSqsBatch(
        sqsEvent([bad, good]),
        async (r) => {
          if (r.messageId === bad.messageId) throw new RangeError('amount must be positive');
        },
        { ...silent, onRecordFailure: store.onRecordFailure },
      );
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      // Assess
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
      expect([...s3.objects.keys()]).toEqual([`reasons-bucket/reasons/${bad.messageId}.json`]);
      const stored = JSON.parse(s3.objects.get(`reasons-bucket/reasons/${bad.messageId}.json`)!.body) as FailureReason;
      expect(stored).toEqual({
        messageId: bad.messageId,
        queueArn: bad.eventSourceARN,
        receiveCount: 4,
        errorName: 'RangeError',
        errorMessage: 'amount must be positive',
        failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        functionName: 'orders-consumer',
      });
      expect(s3.objects.get(`reasons-bucket/reasons/${bad.messageId}.json`)!.contentType).toBe('application/json');
    });

    it('keeps the latest failure when a message fails again', async () => {
      const s3 = new FakeS3();
      const store = new S3FailureReasonStore({ bucketName: 'b', client: s3.client });
      const first = sqsRecord('x', { id: 'm-1', receiveCount: 1 });
      const second = { ...first, attributes: { ...first.attributes, ApproximateReceiveCount: '2' } };
      for (const [record, message] of [
        [first, 'first'],
        [second, 'second'],
      ] as const) {
        await processSqsBatch(
          sqsEvent([record]),
          async () => {
            throw new Error(message);
          },
          { ...silent, throwOnFullBatchFailure: false, onRecordFailure: store.onRecordFailure },
        );
      }
      expect(await store.get('m-1')).toMatchObject({ receiveCount: 2, errorMessage: 'second' });
    });

    it('records the message group of a FIFO message', async () => {
      const s3 = new FakeS3();
      const store = new S3FailureReasonStore({ bucketName: 'b', client: s3.client });
      const rec = sqsRecord('x', { fifo: true, groupId: 'customer-7', id: 'f-1' });
      await processSqsBatch(
        sqsEvent([rec]),
        async () => {
          throw new Error('no');
        },
        { ...silent, throwOnFullBatchFailure: false, onRecordFailure: store.onRecordFailure },
      );
      expect(await store.get('f-1')).toMatchObject({ messageGroupId: 'customer-7', queueArn: expect.stringMatching(/\.fifo$/) });
    });

    it('skips failures before minReceiveCount', async () => {
      const s3 = new FakeS3();
      const store = new S3FailureReasonStore({ bucketName: 'b', client: s3.client, minReceiveCount: 3 });
      const early = sqsRecord('x', { id: 'early', receiveCount: 2 });
      const last = sqsRecord('y', { id: 'last', receiveCount: 3 });
      await processSqsBatch(
        sqsEvent([early, last]),
        async () => {
          throw new Error('no');
        },
        { ...silent, throwOnFullBatchFailure: false, onRecordFailure: store.onRecordFailure },
      );
      expect([...s3.objects.keys()]).toEqual(['b/reasons/last.json']);
    });

    it('truncates long error messages', async () => {
      const s3 = new FakeS3();
      const store = new S3FailureReasonStore({ bucketName: 'b', client: s3.client, maxErrorMessageLength: 10 });
      await store.onRecordFailure(sqsRecord('x', { id: 'long' }), {
        messageId: 'long',
        receiveCount: 1,
        errorName: 'Error',
        errorMessage: 'x'.repeat(50),
      });
      expect((await store.get('long'))?.errorMessage).toBe(`${'x'.repeat(10)}…`);
    });

    it('does not fail the batch when S3 is unavailable (the batch helper logs it)', async () => {
      const s3 = new FakeS3();
      s3.failNext = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      const store = new S3FailureReasonStore({ bucketName: 'b', client: s3.client });
      const warnings: Array<[string, Record<string, unknown>]> = [];
      const ok = sqsRecord('ok');
      const bad = sqsRecord('bad');
      const res = await processSqsBatch(
        sqsEvent([bad, ok]),
        async (r) => {
          if (r.body === 'bad') throw new Error('no');
        },
        {
          logger: { warn: (m: string, fields: Record<string, unknown>) => void warnings.push([m, fields]) },
          onRecordFailure: store.onRecordFailure,
        },
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
      expect(warnings.map(([m]) => m)).toEqual(['message processing failed', 'onRecordFailure failed']);
      expect(warnings[1][1]).toEqual({ messageId: bad.messageId, errorName: 'AccessDenied', errorMessage: 'Access Denied' });
    });
  });

  describe('Method: get', () => {
    it('returns undefined for a message without a reason', async () => {
      const store = new S3FailureReasonStore({ bucketName: 'b', client: new FakeS3().client });
      expect(await store.get('nothing-here')).toBeUndefined();
    });

    it('rethrows other errors', async () => {
      const s3 = new FakeS3();
      s3.failNext = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      const store = new S3FailureReasonStore({ bucketName: 'b', client: s3.client });
      await expect(store.get('m')).rejects.toThrow(/Access Denied/);
    });

    it('uses the prefix and encodes the message id into the key', async () => {
      const s3 = new FakeS3();
      const store = new S3FailureReasonStore({ bucketName: 'b', prefix: 'orders/', client: s3.client });
      expect(store.keyOf('a/b')).toBe('orders/a%2Fb.json');
      await store.record({ messageId: 'a/b', receiveCount: 1, errorName: 'E', errorMessage: 'm', failedAt: '2024-01-01T00:00:00.000Z' });
      expect([...s3.objects.keys()]).toEqual(['b/orders/a%2Fb.json']);
    });
  });

  describe('Method: fromEnvironment', () => {
    afterEach(() => {
      delete process.env.FAILURE_REASON_BUCKET;
      delete process.env.FAILURE_REASON_PREFIX;
    });

    it('reads the bucket and prefix the construct sets', () => {
      process.env.FAILURE_REASON_BUCKET = 'env-bucket';
      process.env.FAILURE_REASON_PREFIX = 'p/';
      const store = S3FailureReasonStore.fromEnvironment({ client: new FakeS3().client });
      expect([store.bucketName, store.prefix]).toEqual(['env-bucket', 'p/']);
    });

    it('throws when the bucket is not set', () => {
      expect(() => S3FailureReasonStore.fromEnvironment()).toThrow(/FAILURE_REASON_BUCKET is not set/);
      expect(() => S3FailureReasonStore.fromEnvironment()).toThrow(
        expect.objectContaining({ name: 'DeadLetterQueueConfigurationError', option: 'FAILURE_REASON_BUCKET', retryable: false }),
      );
    });

    it('checks the bucket and prefix it reads', () => {
      process.env.FAILURE_REASON_BUCKET = 's3://bucket';
      expect(() => S3FailureReasonStore.fromEnvironment()).toThrow(
        /FAILURE_REASON_BUCKET must be an S3 bucket name .*\(given 's3:\/\/bucket'\)/,
      );
      process.env.FAILURE_REASON_BUCKET = 'bucket';
      process.env.FAILURE_REASON_PREFIX = 'p'.repeat(901);
      expect(() => S3FailureReasonStore.fromEnvironment()).toThrow(/FAILURE_REASON_PREFIX must be a string of at most 900 characters/);
    });
  });

  describe('options', () => {
    it.each([
      ['bucketName', { bucketName: '' }, /bucketName must be an S3 bucket name/],
      ['prefix', { prefix: 7 }, /prefix must be a string of at most 900 characters \(given 7\)/],
      ['client', { client: { get: () => undefined } }, /client must be an AWS SDK v3 client/],
      ['minReceiveCount', { minReceiveCount: 0 }, /minReceiveCount must be an integer 1 or more \(given 0\)/],
      ['maxErrorMessageLength', { maxErrorMessageLength: 2.5 }, /maxErrorMessageLength must be an integer 1 or more \(given 2.5\)/],
    ])('fails with DeadLetterQueueConfigurationError for a bad %s', (option, options, message) => {
      const make = () => new S3FailureReasonStore({ bucketName: 'b', client: new FakeS3().client, ...(options as object) });
      expect(make).toThrow(message);
      expect(make).toThrow(expect.objectContaining({ name: 'DeadLetterQueueConfigurationError', option }));
      expect(make).toThrow(DeadLetterQueueConfigurationError);
      expect(make).toThrow(DeadLetterQueueError);
    });
  });

  describe('Subclassing', () => {
    it('lets another storage back the store through _put and _get', async () => {
      class MapStore extends FailureReasonStore {
        public readonly map = new Map<string, FailureReason>();
        constructor() {
          super({});
        }
        protected async _put(reason: FailureReason) {
          this.map.set(reason.messageId, reason);
        }
        protected async _get(id: string) {
          return this.map.get(id);
        }
      }
      const store = new MapStore();
      await store.onRecordFailure(sqsRecord('x', { id: 'k' }), { messageId: 'k', receiveCount: 2, errorName: 'E', errorMessage: 'boom' });
      expect(await store.get('k')).toMatchObject({ receiveCount: 2, errorMessage: 'boom' });
    });
  });
});

describe('Function: s3ClientFromEnvironment', () => {
  const pathStyle = async (env: NodeJS.ProcessEnv) => (await s3ClientFromEnvironment(env).config.forcePathStyle) ?? false;

  it('keeps virtual-hosted-style addressing against AWS', async () => {
    expect(await pathStyle({})).toBe(false);
  });

  it('uses path-style addressing against a custom endpoint (an emulator)', async () => {
    expect(await pathStyle({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(await pathStyle({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566' })).toBe(true);
  });

  it('ignores the custom endpoint when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true (as the SDK does)', async () => {
    expect(await pathStyle({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toBe(false);
    expect(await pathStyle({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' })).toBe(true);
  });

  it('lets AWS_S3_FORCE_PATH_STYLE decide either way', async () => {
    expect(await pathStyle({ AWS_ENDPOINT_URL: 'http://minio:9000', AWS_S3_FORCE_PATH_STYLE: 'false' })).toBe(false);
    expect(await pathStyle({ AWS_S3_FORCE_PATH_STYLE: '1' })).toBe(true);
  });
});
