import { createHash } from 'node:crypto';
import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

/** Loads the handler fresh with `env`, and spies on the SQS client it will use. */
const load = async (env: Record<string, string>) => {
  jest.resetModules();
  delete process.env.RESULTS_QUEUE_URL;
  Object.assign(process.env, env);
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const send = jest.spyOn(SQSClient.prototype, 'send').mockImplementation(async () => ({}));
  // The handler logs through a Powertools Logger: spy on the copy it loads.
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const { handler, InvalidTaskError, TransientTaskError } = await import('../../../lambda/work-queue/consumer');
  return { handler, send, warn, InvalidTaskError, TransientTaskError };
};

describe('Handler: work-queue/consumer', () => {
  afterEach(() => {
    delete process.env.RESULTS_QUEUE_URL;
    jest.restoreAllMocks();
  });

  it('fails poison, malformed and invalid tasks and processes the rest', async () => {
    const { handler, send, warn } = await load({});
    const records = [
      sqsRecord({ taskId: 't1', kind: 'hash', input: 1 }),
      sqsRecord({ taskId: 't2', kind: 'poison' }),
      sqsRecord('{"taskId": '),
      sqsRecord({ kind: 'hash' }),
      sqsRecord({ taskId: 't5', kind: 'hash' }),
    ];
    const res = await handler(sqsEvent(records), lambdaContext());
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[1], records[2], records[3]].map((r) => r.messageId));
    expect(warn.mock.calls.every(([message]) => message === 'message processing failed')).toBe(true);
    const reasons = warn.mock.calls.map((c) => (c[1] as { errorName: string }).errorName);
    expect(reasons.sort()).toEqual(['InvalidTaskError', 'InvalidTaskError', 'MalformedMessageError']);
    expect(warn.mock.calls.map((c) => (c[1] as { retryable: boolean }).retryable)).toEqual([false, false, false]);
    expect(send).not.toHaveBeenCalled();
  });

  it('fails a flaky task on its first delivery only, with a retryable error', async () => {
    const { handler, warn } = await load({});
    const first = await handler(sqsEvent([sqsRecord({ taskId: 'f', kind: 'flaky' }, { receiveCount: 1 })]), lambdaContext());
    const second = await handler(sqsEvent([sqsRecord({ taskId: 'f', kind: 'flaky' }, { receiveCount: 2 })]), lambdaContext());
    expect(first.batchItemFailures).toHaveLength(1);
    expect(second.batchItemFailures).toHaveLength(0);
    expect(warn).toHaveBeenCalledWith(
      'message processing failed',
      expect.objectContaining({ errorName: 'TransientTaskError', retryable: true }),
    );
  });

  it('reports one result per successful processing to RESULTS_QUEUE_URL', async () => {
    const { handler, send } = await load({ RESULTS_QUEUE_URL: 'http://localhost/000000000000/results' });
    const ok = sqsRecord({ taskId: 'ok', kind: 'hash', input: 'abc' }, { receiveCount: 2 });
    await handler(sqsEvent([ok, sqsRecord({ taskId: 'p', kind: 'poison' })]), lambdaContext());
    expect(send).toHaveBeenCalledTimes(1);
    const input = (send.mock.calls[0][0] as unknown as { input: { QueueUrl: string; MessageBody: string } }).input;
    expect(input.QueueUrl).toBe('http://localhost/000000000000/results');
    expect(JSON.parse(input.MessageBody)).toEqual({
      taskId: 'ok',
      messageId: ok.messageId,
      receiveCount: 2,
      result: createHash('sha256').update('"abc"').digest('hex'),
    });
  });
});
