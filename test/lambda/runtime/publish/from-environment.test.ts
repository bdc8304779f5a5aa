import { EventBridgePublisher, KinesisPublisher, PublishConfigurationError, SnsPublisher } from '../../../../lambda/runtime/publish';

/** Runs `fn` with `name` set to `value` in the environment. */
function withEnv<T>(name: string, value: string, fn: () => T): T {
  process.env[name] = value;
  try {
    return fn();
  } finally {
    delete process.env[name];
  }
}

describe('fromEnvironment: the variables the constructs connectX(fn) set', () => {
  it('SnsPublisher reads FAN_OUT_TOPIC_ARN (FanOut.connectPublisher), or a named variable', () => {
    const arn = 'arn:aws:sns:eu-west-1:111122223333:orders';
    expect(withEnv('FAN_OUT_TOPIC_ARN', arn, () => SnsPublisher.fromEnvironment().topicArn)).toBe(arn);
    expect(withEnv('ORDERS_TOPIC', arn, () => SnsPublisher.fromEnvironment({}, 'ORDERS_TOPIC').topicArn)).toBe(arn);
    expect(() => SnsPublisher.fromEnvironment()).toThrow(PublishConfigurationError);
  });

  it('EventBridgePublisher reads EVENT_BUS_NAME (EventRouter.connectPublisher)', () => {
    expect(withEnv('EVENT_BUS_NAME', 'orders', () => EventBridgePublisher.fromEnvironment().eventBusName)).toBe('orders');
    expect(() => EventBridgePublisher.fromEnvironment()).toThrow(/EVENT_BUS_NAME is not set/);
  });

  it('KinesisPublisher reads STREAM_NAME (StreamPipeline.connectProducer)', () => {
    expect(withEnv('STREAM_NAME', 'readings', () => KinesisPublisher.fromEnvironment().streamName)).toBe('readings');
    expect(() => KinesisPublisher.fromEnvironment()).toThrow(PublishConfigurationError);
  });
});
