import { FakeBroker } from '../runtime/request-reply/fake-broker';

let info: jest.SpyInstance;

async function load(broker: FakeBroker, env: Record<string, string>) {
  jest.resetModules();
  for (const k of ['REPLY_QUEUE_PREFIX', 'REPLY_QUEUE_IDLE_TIMEOUT_SECONDS']) delete process.env[k];
  Object.assign(process.env, env);
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const { Logger } = await import('@aws-lambda-powertools/logger');
  info = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
  jest
    .spyOn(SQSClient.prototype, 'send')
    .mockImplementation(((cmd: unknown) => (broker.client as unknown as { send: (c: unknown) => unknown }).send(cmd)) as never);
  return (await import('../../../lambda/request-reply/reaper')).handler;
}

describe('Handler: request-reply/reaper', () => {
  afterEach(() => jest.restoreAllMocks());

  it('deletes the idle reply queues of its prefix', async () => {
    const broker = new FakeBroker();
    const idle = broker.createQueue('rr-reply-idle');
    idle.tags['cdk-messaging-patterns:heartbeat'] = String(Math.floor(Date.now() / 1000) - 1000);
    broker.createQueue('rr-reply-busy').tags['cdk-messaging-patterns:heartbeat'] = String(Math.floor(Date.now() / 1000));
    const handler = await load(broker, { REPLY_QUEUE_PREFIX: 'rr-reply-', REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '600' });
    expect(await handler()).toEqual({ checked: 2, deleted: [idle.url] });
    expect(info).toHaveBeenCalledWith('idle reply queue deleted', expect.objectContaining({ url: idle.url }));
    expect(info).toHaveBeenLastCalledWith('reply queues reaped', { checked: 2, deleted: 1 });
  });

  it('fails, naming the variable, when the idle timeout is not a positive number', async () => {
    const handler = await load(new FakeBroker(), { REPLY_QUEUE_PREFIX: 'rr-reply-', REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: 'an hour' });
    await expect(handler()).rejects.toThrow(/REPLY_QUEUE_IDLE_TIMEOUT_SECONDS must be a positive number of seconds \(given 'an hour'\)/);
    await expect(handler()).rejects.toThrow(expect.objectContaining({ name: 'RequestReplyConfigurationError', retryable: false }));
  });

  it('fails, naming the variable, when the prefix is malformed', async () => {
    const handler = await load(new FakeBroker(), { REPLY_QUEUE_PREFIX: 'rr reply', REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '600' });
    await expect(handler()).rejects.toThrow(/prefix must be 1-60 letters, digits, - or _ \(given 'rr reply'\)/);
  });

  it('fails without its configuration', async () => {
    const handler = await load(new FakeBroker(), {});
    await expect(handler()).rejects.toThrow(/REPLY_QUEUE_PREFIX and REPLY_QUEUE_IDLE_TIMEOUT_SECONDS must be set/);
  });
});
