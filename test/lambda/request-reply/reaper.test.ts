import { FakeBroker } from '../runtime/request-reply/fake-broker';

async function load(broker: FakeBroker, env: Record<string, string>) {
  jest.resetModules();
  for (const k of ['REPLY_QUEUE_PREFIX', 'REPLY_QUEUE_IDLE_TIMEOUT_SECONDS']) delete process.env[k];
  Object.assign(process.env, env);
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  jest
    .spyOn(SQSClient.prototype, 'send')
    .mockImplementation(((cmd: unknown) => (broker.client as unknown as { send: (c: unknown) => unknown }).send(cmd)) as never);
  return (await import('../../../lambda/request-reply/reaper')).handler;
}

describe('Handler: request-reply/reaper', () => {
  beforeEach(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('deletes the idle reply queues of its prefix', async () => {
    const broker = new FakeBroker();
    const idle = broker.createQueue('rr-reply-idle');
    idle.tags['cdk-messaging-patterns:heartbeat'] = String(Math.floor(Date.now() / 1000) - 1000);
    broker.createQueue('rr-reply-busy').tags['cdk-messaging-patterns:heartbeat'] = String(Math.floor(Date.now() / 1000));
    const handler = await load(broker, { REPLY_QUEUE_PREFIX: 'rr-reply-', REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '600' });
    expect(await handler()).toEqual({ checked: 2, deleted: [idle.url] });
  });

  it('fails without its configuration', async () => {
    const handler = await load(new FakeBroker(), {});
    await expect(handler()).rejects.toThrow(/REPLY_QUEUE_PREFIX and REPLY_QUEUE_IDLE_TIMEOUT_SECONDS must be set/);
  });
});
