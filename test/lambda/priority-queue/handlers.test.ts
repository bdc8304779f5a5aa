import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';

const LEVELS =
  '[{"name":"high","queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/high","queueArn":"arn:aws:sqs:eu-west-1:111122223333:high"}]';
const ENV = ['PRIORITY_LEVELS', 'CONSUMER_FUNCTION', 'RUN_SECONDS', 'BATCH_SIZE', 'RESULTS_QUEUE_URL', 'WORK_MS'];

/** Loads a handler fresh with `env`. */
async function load<T>(path: string, env: Record<string, string>): Promise<T> {
  jest.resetModules();
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, env);
  return (await import(path)) as T;
}

afterEach(() => {
  for (const k of ENV) delete process.env[k];
  jest.restoreAllMocks();
});

describe('Handler: priority-queue/dispatcher', () => {
  type Dispatcher = typeof import('../../../lambda/priority-queue/dispatcher');

  it('fails at load, naming the variable, when PRIORITY_LEVELS is missing', async () => {
    await expect(load<Dispatcher>('../../../lambda/priority-queue/dispatcher', {})).rejects.toThrow(/PRIORITY_LEVELS is not valid JSON/);
  });

  it('fails at load when BATCH_SIZE is out of range', async () => {
    await expect(
      load<Dispatcher>('../../../lambda/priority-queue/dispatcher', { PRIORITY_LEVELS: LEVELS, BATCH_SIZE: '20' }),
    ).rejects.toThrow(/batchSize must be an integer between 1 and 10 \(given 20\)/);
  });

  it('fails at load, naming the variable, when CONSUMER_FUNCTION is missing', async () => {
    await expect(load<Dispatcher>('../../../lambda/priority-queue/dispatcher', { PRIORITY_LEVELS: LEVELS })).rejects.toThrow(
      /consumer must be the name or ARN of the consumer function \(given ''\).*CONSUMER_FUNCTION/,
    );
  });

  it('fails at load, naming the variable, when a number is not a number', async () => {
    await expect(
      load<Dispatcher>('../../../lambda/priority-queue/dispatcher', { PRIORITY_LEVELS: LEVELS, CONSUMER_FUNCTION: 'c', BATCH_SIZE: 'ten' }),
    ).rejects.toThrow(/BATCH_SIZE must be a number \(given 'ten'\)/);
  });

  it('dispatches until its run time is over, then reports what it did', async () => {
    // Prepare: one message on the level, a consumer that succeeds.
    const { handler } = await load<Dispatcher>('../../../lambda/priority-queue/dispatcher', {
      PRIORITY_LEVELS: LEVELS,
      CONSUMER_FUNCTION: 'consumer',
      RUN_SECONDS: '0.05',
      BATCH_SIZE: '5',
    });
    const sqsModule = await import('@aws-sdk/client-sqs');
    const lambdaModule = await import('@aws-sdk/client-lambda');
    let delivered = false;
    const sqsSend = jest.spyOn(sqsModule.SQSClient.prototype, 'send').mockImplementation((async (command: {
      constructor: { name: string };
    }) => {
      if (command.constructor.name === 'ReceiveMessageCommand' && !delivered) {
        delivered = true;
        return { Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh1', Body: '{}', Attributes: {} }] };
      }
      if (command.constructor.name === 'ReceiveMessageCommand') return { Messages: [] };
      return { Successful: [], Failed: [] };
    }) as never);
    const invoke = jest.spyOn(lambdaModule.LambdaClient.prototype, 'send').mockImplementation((async () => ({
      StatusCode: 200,
      Payload: new TextEncoder().encode('{"batchItemFailures":[]}'),
    })) as never);
    const { Logger } = await import('@aws-lambda-powertools/logger');
    const info = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
    // Act
    const stats = await handler({}, lambdaContext(60_000));
    // Assess
    expect(stats).toMatchObject({ batches: 1, dispatched: { high: 1 }, failed: { high: 0 } });
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(sqsSend.mock.calls.map((c) => (c[0] as { constructor: { name: string } }).constructor.name)).toContain(
      'DeleteMessageBatchCommand',
    );
    expect(info).toHaveBeenLastCalledWith(
      'dispatcher run finished',
      expect.objectContaining({ batches: 1, durationMs: expect.any(Number) }),
    );
  });
});

describe('Handler: priority-queue/example-consumer', () => {
  type Consumer = typeof import('../../../lambda/priority-queue/example-consumer');

  it('reports each processed task with its level, and fails a task without taskId', async () => {
    // Prepare
    const { handler } = await load<Consumer>('../../../lambda/priority-queue/example-consumer', { RESULTS_QUEUE_URL: 'https://results' });
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const send = jest.spyOn(SQSClient.prototype, 'send').mockImplementation((async () => ({})) as never);
    const { Logger } = await import('@aws-lambda-powertools/logger');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const good = sqsRecord({ taskId: 't1' });
    good.messageAttributes = { priority: { dataType: 'String', stringValue: 'high', stringListValues: [], binaryListValues: [] } };
    const bad = sqsRecord({ nope: true });
    // Act
    const res = await handler(sqsEvent([good, bad]), lambdaContext());
    // Assess
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(send).toHaveBeenCalledTimes(1);
    const report = JSON.parse((send.mock.calls[0][0] as unknown as { input: { MessageBody: string } }).input.MessageBody);
    expect(report).toEqual({ taskId: 't1', level: 'high', processedAt: expect.any(Number), receiveCount: 1 });
    expect(warn).toHaveBeenCalledWith('message processing failed', expect.objectContaining({ messageId: bad.messageId }));
  });
});
