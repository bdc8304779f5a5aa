import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { EventBridgeEvent, SNSEventRecord } from 'aws-lambda';
import {
  ClaimCheckConfigurationError,
  ClaimCheckError,
  ClaimIntegrityError,
  ClaimNotFoundError,
  S3ClaimCheck,
  MessagingPatternsRuntimeError,
  UntrustedClaimError,
  customS3EndpointConfigured,
  encodeClaim,
  eventEntryBytes,
  messageAttributesBytes,
} from '../../../../lambda/runtime/claim-check';
import { sqsRecord } from '../../../helpers/events';

const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

/** An in-memory S3 that answers the three commands the helper sends, as the SDK client would. */
function fakeS3() {
  const objects = new Map<string, { body: Uint8Array; contentType?: string; checksum?: string }>();
  const send = jest.fn(async (command: unknown) => {
    if (command instanceof PutObjectCommand) {
      const { Bucket, Key, Body, ContentType, ChecksumSHA256 } = command.input;
      const body = Body as Uint8Array;
      if (ChecksumSHA256 !== createHash('sha256').update(body).digest('base64'))
        throw Object.assign(new Error('BadDigest'), { name: 'BadDigest' });
      objects.set(`${Bucket}/${Key}`, { body, contentType: ContentType, checksum: ChecksumSHA256 });
      return {};
    }
    if (command instanceof GetObjectCommand) {
      const o = objects.get(`${command.input.Bucket}/${command.input.Key}`);
      if (!o)
        throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: { transformToByteArray: async () => o.body } };
    }
    if (command instanceof DeleteObjectCommand) {
      objects.delete(`${command.input.Bucket}/${command.input.Key}`);
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  });
  return { client: { send }, objects };
}

const big = (bytes: number) => JSON.stringify({ id: 'big', data: 'x'.repeat(bytes) });

describe('Class: S3ClaimCheck', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  describe('Method: checkIn', () => {
    it('sends a payload under the threshold inline, storing nothing', async () => {
      // Prepare
      const { client, objects } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'claims-bucket', client });
      const payload = { id: 'small', items: [1, 2, 3] };
      // Act
      const body = await claims.checkIn(payload);
      // Assess
      expect(body).toBe(JSON.stringify(payload));
      expect(objects.size).toBe(0);
      expect(client.send).not.toHaveBeenCalled();
    });

    it('stores a payload over the default 256 KiB threshold and returns a claim with size and SHA-256', async () => {
      const { client, objects } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'claims-bucket', client });
      const payload = big(300_000);
      const body = await claims.checkIn(payload);
      const claim = JSON.parse(body).claimCheck;
      expect(claim).toEqual({
        v: 1,
        bucket: 'claims-bucket',
        key: expect.stringMatching(/^claims\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}$/),
        bytes: Buffer.byteLength(payload),
        sha256: sha256(payload),
        contentType: 'text/plain; charset=utf-8',
      });
      const stored = objects.get(`claims-bucket/${claim.key}`)!;
      expect(Buffer.from(stored.body).toString('utf8')).toBe(payload);
      expect(stored.contentType).toBe('text/plain; charset=utf-8');
      expect(Buffer.byteLength(body)).toBeLessThan(400);
    });

    it('offloads exactly above the threshold, counting reservedBytes (message attributes)', async () => {
      const { client } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'b', client, thresholdBytes: 1000 });
      const at = 'a'.repeat(1000);
      expect(await claims.checkIn(at)).toBe(at);
      expect(await claims.checkIn(`${at}b`)).toMatch(/^\{"claimCheck":/);
      expect(await claims.checkIn('a'.repeat(990), { reservedBytes: 11 })).toMatch(/^\{"claimCheck":/);
    });

    it('counts UTF-8 bytes, not characters', async () => {
      const { client } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'b', client, thresholdBytes: 1000 });
      expect(await claims.checkIn('é'.repeat(600))).toMatch(/^\{"claimCheck":/); // 1200 bytes
    });

    it('stores a small payload that looks like a claim, so it can never be mistaken for one', async () => {
      const { client, objects } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'b', client });
      const lookalike = encodeClaim({ bucket: 'b', key: 'claims/x' });
      const body = await claims.checkIn(lookalike);
      expect(body).not.toBe(lookalike);
      expect(objects.size).toBe(1);
      expect(await claims.checkOut(body)).toBe(lookalike);
    });

    it('reads its settings from the environment the construct sets', async () => {
      process.env.CLAIM_CHECK_BUCKET_NAME = 'env-bucket';
      process.env.CLAIM_CHECK_THRESHOLD_BYTES = '2048';
      process.env.CLAIM_CHECK_KEY_PREFIX = 'big/';
      const { client } = fakeS3();
      const claims = new S3ClaimCheck({ client });
      expect([claims.bucketName, claims.thresholdBytes, claims.keyPrefix]).toEqual(['env-bucket', 2048, 'big/']);
      expect(JSON.parse(await claims.checkIn('z'.repeat(2049))).claimCheck.key).toMatch(/^big\//);
    });

    it('refuses to start without a bucket or with a bad threshold', () => {
      delete process.env.CLAIM_CHECK_BUCKET_NAME;
      expect(() => new S3ClaimCheck()).toThrow(ClaimCheckConfigurationError);
      expect(() => new S3ClaimCheck()).toThrow(/needs a bucket: pass bucketName, or set CLAIM_CHECK_BUCKET_NAME/);
      expect(() => new S3ClaimCheck({ bucketName: 'b', thresholdBytes: 2_000_000 })).toThrow(
        /thresholdBytes must be an integer between 1 and 1048576 \(given 2000000\)/,
      );
      process.env.CLAIM_CHECK_THRESHOLD_BYTES = 'lots';
      expect(() => new S3ClaimCheck({ bucketName: 'b' })).toThrow(
        /CLAIM_CHECK_THRESHOLD_BYTES must be an integer between 1 and 1048576 \(given 'lots'\)/,
      );
    });

    it.each([
      ['thresholdBytes', { thresholdBytes: 1.5 }, /thresholdBytes must be an integer between 1 and 1048576 \(given 1.5\)/],
      ['thresholdBytes', { thresholdBytes: 0 }, /\(given 0\)/],
      ['keyPrefix', { keyPrefix: 'k'.repeat(978) }, /keyPrefix must be a string of at most 977 characters/],
      ['keyPrefix', { keyPrefix: 42 }, /keyPrefix must be a string of at most 977 characters \(given 42\)/],
      ['bucketName', { bucketName: 'My Bucket' }, /bucketName must be an S3 bucket name .* \(given 'My Bucket'\)/],
      ['trustedBuckets[1]', { bucketName: 'b', trustedBuckets: ['ok', 's3://nope'] }, /trustedBuckets\[1\] must be an S3 bucket name/],
      ['trustedBuckets', { bucketName: 'b', trustedBuckets: 'other' }, /trustedBuckets must be a list of bucket names/],
      ['client', { bucketName: 'b', client: {} }, /client must be an AWS SDK v3 client/],
      ['forcePathStyle', { bucketName: 'b', forcePathStyle: 'yes' }, /forcePathStyle must be true or false \(given 'yes'\)/],
    ])('fails with ClaimCheckConfigurationError naming %s', (option, options, message) => {
      const make = () => new S3ClaimCheck({ bucketName: 'b', ...(options as object) });
      expect(make).toThrow(ClaimCheckConfigurationError);
      expect(make).toThrow(message);
      let error: ClaimCheckConfigurationError | undefined;
      try {
        make();
      } catch (e) {
        error = e as ClaimCheckConfigurationError;
      }
      expect(error).toMatchObject({ name: 'ClaimCheckConfigurationError', option, retryable: false, context: { option } });
      expect(error).toBeInstanceOf(ClaimCheckError);
      expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
    });

    it('accepts an access point ARN as the bucket, and checks the bucket and prefix read from the environment', () => {
      expect(new S3ClaimCheck({ bucketName: 'arn:aws:s3:us-east-1:111122223333:accesspoint/claims' }).bucketName).toMatch(/^arn:/);
      process.env.CLAIM_CHECK_BUCKET_NAME = 'Bad_Bucket';
      expect(() => new S3ClaimCheck()).toThrow(/CLAIM_CHECK_BUCKET_NAME must be an S3 bucket name/);
      process.env.CLAIM_CHECK_BUCKET_NAME = 'b';
      process.env.CLAIM_CHECK_KEY_PREFIX = 'p'.repeat(1000);
      expect(() => new S3ClaimCheck()).toThrow(/CLAIM_CHECK_KEY_PREFIX must be a string of at most 977 characters/);
    });

    it('fails with ClaimCheckConfigurationError for a bad reservedBytes or envelope, storing nothing', async () => {
      const { client, objects } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'b', client });
      await expect(claims.checkIn('x', { reservedBytes: -1 })).rejects.toThrow(/reservedBytes must be an integer 0 or more \(given -1\)/);
      await expect(claims.checkOut('x', { envelope: 'sns' as never })).rejects.toThrow(
        /envelope must be one of 'auto', 'none' \(given 'sns'\)/,
      );
      expect(objects.size).toBe(0);
    });

    it('rejects a payload that is not JSON-serializable', async () => {
      const claims = new S3ClaimCheck({ bucketName: 'b', client: fakeS3().client });
      await expect(claims.checkIn(undefined)).rejects.toThrow(TypeError);
    });
  });

  describe('Method: checkInEvent', () => {
    it('keeps an entry that fits, and claims the Detail of one that does not, as EventBridge counts size', async () => {
      const { client, objects } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'b', client, thresholdBytes: 1024 });
      const entry = {
        Source: 'app.reports',
        DetailType: 'ReportReady',
        Detail: JSON.stringify({ pad: 'p'.repeat(900) }),
        EventBusName: 'bus',
      };
      expect(eventEntryBytes(entry)).toBeLessThanOrEqual(1024);
      expect(await claims.checkInEvent(entry)).toBe(entry);
      const larger = {
        ...entry,
        Resources: ['arn:aws:s3:::some-bucket/with/a/long/key/name/that/pushes/the/entry/over/the/limit'],
        Time: new Date(),
      };
      expect(eventEntryBytes(larger)).toBeGreaterThan(1024);
      const out = await claims.checkInEvent(larger);
      expect({ ...out, Detail: undefined }).toEqual({ ...larger, Detail: undefined });
      expect(JSON.parse(out.Detail!).claimCheck.contentType).toBe('application/json');
      expect(objects.size).toBe(1);
      expect(await claims.checkOut({ 'detail-type': 'ReportReady', source: 'app.reports', detail: JSON.parse(out.Detail!) } as never)).toBe(
        entry.Detail,
      );
    });
  });

  describe('Method: checkOut', () => {
    let claims: S3ClaimCheck;
    let payload: string;
    let body: string;
    beforeEach(async () => {
      claims = new S3ClaimCheck({ bucketName: 'b', client: fakeS3().client, thresholdBytes: 1024 });
      payload = big(5000);
      body = await claims.checkIn(JSON.parse(payload));
    });

    it('loads a claimed payload from an SQS record', async () => {
      expect(await claims.checkOut(sqsRecord(body))).toBe(payload);
      expect(await claims.checkOutJson<{ id: string }>(sqsRecord(body))).toMatchObject({ id: 'big' });
    });

    it('returns an inline payload as it is', async () => {
      expect(await claims.checkOut(sqsRecord('plain text'))).toBe('plain text');
      expect(await claims.checkOut('{"id":"inline"}')).toBe('{"id":"inline"}');
    });

    it('still reads a claim re-serialized with other whitespace', async () => {
      const spaced = JSON.stringify(JSON.parse(body), null, 1);
      expect(await claims.checkOut(spaced)).toBe(payload);
    });

    it('unwraps an SNS notification delivered to SQS without raw delivery', async () => {
      const envelope = JSON.stringify({
        Type: 'Notification',
        MessageId: 'm',
        TopicArn: 'arn:aws:sns:us-east-1:0:t',
        Message: body,
        Timestamp: 'now',
      });
      expect(await claims.checkOut(sqsRecord(envelope))).toBe(payload);
      const inline = JSON.stringify({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn:aws:sns:us-east-1:0:t', Message: 'small' });
      expect(await claims.checkOut(sqsRecord(inline))).toBe('small');
      expect(await claims.checkOut(sqsRecord(inline), { envelope: 'none' })).toBe(inline);
    });

    it('reads an SNS record delivered to Lambda', async () => {
      const record = { EventSource: 'aws:sns', Sns: { Message: body } } as unknown as SNSEventRecord;
      expect(await claims.checkOut(record)).toBe(payload);
    });

    it('reads an EventBridge event, delivered to Lambda or to SQS', async () => {
      const event = { version: '0', id: 'e', 'detail-type': 'ReportReady', source: 'app', detail: JSON.parse(body) } as EventBridgeEvent<
        string,
        unknown
      >;
      expect(await claims.checkOut(event)).toBe(payload);
      expect(await claims.checkOut(sqsRecord(JSON.stringify(event)))).toBe(payload);
      const inline = { ...event, detail: { id: 'small' } };
      expect(await claims.checkOut(sqsRecord(JSON.stringify(inline)))).toBe('{"id":"small"}');
    });

    it('reads claims written by the AWS extended client libraries', async () => {
      const { client, objects } = fakeS3();
      objects.set('b/legacy-key', { body: Buffer.from('from java') });
      const c = new S3ClaimCheck({ bucketName: 'b', client });
      const pointer = JSON.stringify(['software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: 'b', s3Key: 'legacy-key' }]);
      expect(await c.checkOut(sqsRecord(pointer))).toBe('from java');
    });

    it('fails with ClaimNotFoundError when the payload expired or was released', async () => {
      expect(await claims.release(sqsRecord(body))).toBe(true);
      const error = await claims.checkOut(sqsRecord(body)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClaimNotFoundError);
      expect(error).toMatchObject({ retryable: false, context: { bucket: 'b', key: expect.stringMatching(/^claims\//) } });
      expect((error as Error).message).toMatch(
        /^claimed payload s3:\/\/b\/claims\/.* does not exist: it expired \(lifecycle rule\) or was released$/,
      );
    });

    it('fails with ClaimIntegrityError when the stored payload differs from the claim', async () => {
      const { client, objects } = fakeS3();
      const c = new S3ClaimCheck({ bucketName: 'b', client, thresholdBytes: 1024 });
      const claimBody = await c.checkIn(payload);
      const key = JSON.parse(claimBody).claimCheck.key;
      objects.set(`b/${key}`, { body: Buffer.from(payload.replace('big', 'bad')) });
      await expect(c.checkOut(claimBody)).rejects.toThrow(ClaimIntegrityError);
      await expect(c.checkOut(claimBody)).rejects.toThrow(/does not match the SHA-256 in the claim/);
      await expect(c.checkOut(claimBody)).rejects.toMatchObject({ retryable: false, context: { bucket: 'b', key } });
      objects.set(`b/${key}`, { body: Buffer.from('short') });
      await expect(c.checkOut(claimBody)).rejects.toThrow(/has 5 bytes, the claim says 5022/);
    });

    it('refuses a claim pointing at a bucket it does not trust, reading nothing', async () => {
      const { client } = fakeS3();
      const c = new S3ClaimCheck({ bucketName: 'b', client });
      const foreign = encodeClaim({ bucket: 'someone-elses', key: 'secret' });
      await expect(c.checkOut(foreign)).rejects.toThrow(UntrustedClaimError);
      await expect(c.checkOut(foreign)).rejects.toMatchObject({ retryable: false, context: { bucket: 'someone-elses' } });
      await expect(c.release(foreign)).rejects.toThrow(/claim points at bucket 'someone-elses', which this consumer does not trust/);
      expect(client.send).not.toHaveBeenCalled();
      const trusting = new S3ClaimCheck({ bucketName: 'b', client, trustedBuckets: ['someone-elses'] });
      await expect(trusting.checkOut(foreign)).rejects.toThrow(ClaimNotFoundError);
    });

    it('rejects what is not a message', async () => {
      await expect(claims.checkOut({ foo: 1 } as never)).rejects.toThrow(
        /checkOut expects a message body, an SQS record, an SNS record or an EventBridge event/,
      );
    });
  });

  describe('Method: claimOf / release', () => {
    it('tells a claim from an inline payload, and release deletes only claims', async () => {
      const { client, objects } = fakeS3();
      const claims = new S3ClaimCheck({ bucketName: 'b', client, thresholdBytes: 1024 });
      const body = await claims.checkIn(big(2000));
      expect(claims.claimOf(sqsRecord(body))).toMatchObject({ bucket: 'b', bytes: 2022 });
      expect(claims.claimOf(sqsRecord('{"id":1}'))).toBeUndefined();
      expect(await claims.release(sqsRecord('{"id":1}'))).toBe(false);
      expect(objects.size).toBe(1);
      expect(await claims.release(sqsRecord(body))).toBe(true);
      expect(objects.size).toBe(0);
    });
  });
});

describe('Function: customS3EndpointConfigured', () => {
  it('is true only when the environment points the SDK at a custom endpoint', () => {
    expect(customS3EndpointConfigured({})).toBe(false);
    expect(customS3EndpointConfigured({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(customS3EndpointConfigured({ AWS_ENDPOINT_URL_S3: 'http://minio:9000' })).toBe(true);
    expect(customS3EndpointConfigured({ AWS_ENDPOINT_URL: 'http://x', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toBe(false);
  });

  it('drives the default client: path-style in the emulator, virtual-hosted in AWS', async () => {
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    const urls: string[] = [];
    for (const endpoint of ['http://127.0.0.1:4566', undefined]) {
      if (endpoint) process.env.AWS_ENDPOINT_URL = endpoint;
      else delete process.env.AWS_ENDPOINT_URL;
      const claims = new S3ClaimCheck({ bucketName: 'my-bucket' });
      const client = (claims as unknown as { s3(): { middlewareStack: { add: (m: unknown, o: unknown) => void } } }).s3();
      client.middlewareStack.add(
        () => async (args: { request: { hostname: string; path: string } }) => {
          urls.push(`${args.request.hostname}${args.request.path}`);
          throw new Error('stop');
        },
        { step: 'build', priority: 'low' },
      );
      await claims.checkOut(encodeClaim({ bucket: 'my-bucket', key: 'k' })).catch(() => undefined);
    }
    expect(urls).toEqual(['127.0.0.1/my-bucket/k', 'my-bucket.s3.us-east-1.amazonaws.com/k']);
  });
});

describe('S3ClaimCheck default client', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const pathStyle = async (options: { forcePathStyle?: boolean } = {}) => {
    const claims = new S3ClaimCheck({ bucketName: 'b', ...options });
    const client = (claims as unknown as { s3(): { config: { forcePathStyle?: unknown } } }).s3();
    return (await client.config.forcePathStyle) ?? false;
  };

  it('honours AWS_S3_FORCE_PATH_STYLE either way, as the failure-reason store does', async () => {
    for (const k of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'AWS_S3_FORCE_PATH_STYLE'])
      delete process.env[k];
    process.env.AWS_S3_FORCE_PATH_STYLE = 'true';
    expect(await pathStyle()).toBe(true);
    Object.assign(process.env, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_S3_FORCE_PATH_STYLE: 'false' });
    expect(await pathStyle()).toBe(false);
  });

  it('lets the forcePathStyle option win over the environment', async () => {
    Object.assign(process.env, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_S3_FORCE_PATH_STYLE: 'true' });
    expect(await pathStyle({ forcePathStyle: false })).toBe(false);
  });
});

describe('Function: messageAttributesBytes', () => {
  it('counts names, data types and values', () => {
    expect(
      messageAttributesBytes({
        traceId: { DataType: 'String', StringValue: 'abc' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array(10) },
      }),
    ).toBe(7 + 6 + 3 + 4 + 6 + 10);
    expect(messageAttributesBytes(undefined)).toBe(0);
  });
});
