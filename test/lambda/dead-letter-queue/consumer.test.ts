import { FakeS3 } from '../runtime/dlq/fakes';
import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

/** Loads the consumer fresh with `env`; S3 writes go to a FakeS3, SQS sends are recorded. */
async function load(env: Record<string, string>) {
  jest.resetModules();
  for (const k of ['SUPPORTED_KINDS', 'RESULTS_QUEUE_URL', 'FAILURE_REASON_BUCKET', 'FAILURE_REASON_PREFIX']) delete process.env[k];
  Object.assign(process.env, env);
  const s3 = new FakeS3();
  const { S3Client } = await import('@aws-sdk/client-s3');
  jest
    .spyOn(S3Client.prototype, 'send')
    .mockImplementation(((cmd: unknown) => (s3.client as unknown as { send: (c: unknown) => unknown }).send(cmd)) as never);
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const send = jest.spyOn(SQSClient.prototype, 'send').mockImplementation((async () => ({})) as never);
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const { handler } = await import('../../../lambda/dead-letter-queue/consumer');
  return { handler, s3, send, warn };
}

describe('Handler: dead-letter-queue/consumer', () => {
  afterEach(() => jest.restoreAllMocks());

  it('fails unsupported kinds and records why, and processes the rest', async () => {
    // Prepare
    const { handler, s3, send, warn } = await load({ FAILURE_REASON_BUCKET: 'reasons', RESULTS_QUEUE_URL: 'http://q/results' });
    const ok = sqsRecord({ taskId: 't1', kind: 'hash' });
    const v2 = sqsRecord({ taskId: 't2', kind: 'v2' }, { receiveCount: 3 });
    // Act
    const res = await handler(sqsEvent([ok, v2]), lambdaContext());
    // Assess
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: v2.messageId }]);
    const reason = JSON.parse(s3.objects.get(`reasons/reasons/${v2.messageId}.json`)!.body);
    expect(reason).toMatchObject({
      errorName: 'UnsupportedTaskError',
      receiveCount: 3,
      errorMessage: "task t2: kind 'v2' is not supported by this version (supported: hash)",
    });
    expect(warn).toHaveBeenCalledWith(
      'message processing failed',
      expect.objectContaining({
        errorName: 'UnsupportedTaskError',
        retryable: false,
        errorContext: { messageId: v2.messageId, taskId: 't2', kind: 'v2' },
      }),
    );
    expect(send).toHaveBeenCalledTimes(1);
    expect(JSON.parse((send.mock.calls[0][0] as unknown as { input: { MessageBody: string } }).input.MessageBody)).toEqual({
      taskId: 't1',
      messageId: ok.messageId,
      receiveCount: 1,
    });
  });

  it('processes a kind once a new version supports it', async () => {
    const { handler, s3 } = await load({ FAILURE_REASON_BUCKET: 'reasons', SUPPORTED_KINDS: 'hash, v2' });
    const res = await handler(sqsEvent([sqsRecord({ taskId: 't2', kind: 'v2' })]), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(s3.objects.size).toBe(0);
  });

  it('fails malformed tasks, and records nothing without a store', async () => {
    const { handler, s3 } = await load({});
    const res = await handler(sqsEvent([sqsRecord('{oops'), sqsRecord({ kind: 'hash' })]), lambdaContext());
    expect(res.batchItemFailures).toHaveLength(2);
    expect(s3.calls).toEqual([]);
  });
});
