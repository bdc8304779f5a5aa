import { createHash } from 'node:crypto';
import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Loads the handler fresh with `env`; S3 answers from `objects`, SQS sends are recorded. */
const load = async (env: Record<string, string>, objects: Record<string, string> = {}) => {
  jest.resetModules();
  delete process.env.RESULTS_QUEUE_URL;
  Object.assign(process.env, { CLAIM_CHECK_BUCKET_NAME: 'claims', ...env });
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const send = jest.spyOn(SQSClient.prototype, 'send').mockImplementation(async () => ({}));
  jest.spyOn(S3Client.prototype, 'send').mockImplementation(async (command: unknown) => {
    const { Key } = (command as { input: { Key: string } }).input;
    if (!(Key in objects)) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: { transformToByteArray: async () => Buffer.from(objects[Key]) } };
  });
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const { handler } = await import('../../../lambda/claim-check/consumer');
  const results = () => send.mock.calls.map((c) => JSON.parse((c[0] as unknown as { input: { MessageBody: string } }).input.MessageBody));
  return { handler, results, warn };
};

describe('Handler: claim-check/consumer', () => {
  afterEach(() => {
    delete process.env.RESULTS_QUEUE_URL;
    delete process.env.CLAIM_CHECK_BUCKET_NAME;
    jest.restoreAllMocks();
  });

  it('reports the hash of inline and claimed payloads', async () => {
    const big = JSON.stringify({ id: 'big', data: 'x'.repeat(10) });
    const claim = JSON.stringify({ claimCheck: { v: 1, bucket: 'claims', key: 'claims/k1', bytes: big.length, sha256: sha256(big) } });
    const { handler, results } = await load({ RESULTS_QUEUE_URL: 'http://q/results' }, { 'claims/k1': big });
    const inline = sqsRecord({ id: 'small' });
    const claimed = sqsRecord(claim);
    const res = await handler(sqsEvent([inline, claimed]), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(results().sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      {
        messageId: claimed.messageId,
        id: 'big',
        claimed: true,
        key: 'claims/k1',
        bytes: big.length,
        sha256: sha256(big),
        jsonSha256: sha256(big),
      },
      {
        messageId: inline.messageId,
        id: 'small',
        claimed: false,
        bytes: 14,
        sha256: sha256('{"id":"small"}'),
        jsonSha256: sha256('{"id":"small"}'),
      },
    ]);
  });

  it('fails a message whose claimed payload is gone, so it reaches the DLQ', async () => {
    const claim = JSON.stringify({ claimCheck: { v: 1, bucket: 'claims', key: 'claims/gone' } });
    const { handler, results, warn } = await load({ RESULTS_QUEUE_URL: 'http://q/results' });
    const record = sqsRecord(claim);
    const res = await handler(sqsEvent([record]), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(warn).toHaveBeenCalledWith(
      'message processing failed',
      expect.objectContaining({
        messageId: record.messageId,
        errorName: 'ClaimNotFoundError',
        retryable: false,
        errorContext: { bucket: 'claims', key: 'claims/gone' },
      }),
    );
    expect(results()).toEqual([]);
  });
});
