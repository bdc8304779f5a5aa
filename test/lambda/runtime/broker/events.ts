import type { ActiveMqEvent, ActiveMqEventMessage, RabbitMqEvent, RabbitMqEventMessage } from '../../../../lambda/runtime/broker/messages';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');

/** A RabbitMQ message as the event source mapping delivers it. */
export function rabbitMessage(
  body: unknown,
  opts: { messageId?: string | null; redelivered?: boolean; headers?: Record<string, unknown> } = {},
): RabbitMqEventMessage {
  return {
    basicProperties: {
      contentType: 'application/json',
      contentEncoding: null,
      headers: opts.headers ?? { h1: { bytes: [...Buffer.from('value1')] }, n: 10 },
      deliveryMode: 2,
      priority: 3,
      correlationId: 'c-1',
      replyTo: null,
      expiration: null,
      messageId: opts.messageId === undefined ? 'm-1' : opts.messageId,
      timestamp: 'Nov 14, 2023, 10:13:20 PM',
      type: null,
      userId: null,
      appId: null,
      clusterId: null,
      bodySize: 10,
    },
    redelivered: opts.redelivered ?? false,
    data: b64(body),
  };
}

export const rabbitEvent = (byQueue: Record<string, RabbitMqEventMessage[]>): RabbitMqEvent => ({
  eventSource: 'aws:rmq',
  eventSourceArn: 'arn:aws:mq:us-east-1:000000000000:broker:pizza:b-9bcfa592-423a-4942-879d-eb284b418fc8',
  rmqMessagesByQueue: byQueue,
});

/** An ActiveMQ message as the event source mapping delivers it. */
export function activeMessage(body: unknown, opts: { id?: string; redelivered?: boolean; queue?: string } = {}): ActiveMqEventMessage {
  return {
    messageID: opts.id ?? 'ID:b-1-37093-1-1:1:1:1:1',
    messageType: 'jms/text-message',
    deliveryMode: 2,
    expiration: 0,
    priority: 4,
    data: b64(body),
    connectionId: 'ID:b-1-37093-1',
    redelivered: opts.redelivered ?? false,
    persistent: true,
    destination: { physicalName: opts.queue ?? 'orders' },
    timestamp: 1_796_425_000_000,
    brokerInTime: 1_796_425_000_000,
    brokerOutTime: 1_796_425_000_012,
    properties: { testKey: 'testValue' },
  };
}

export const activeEvent = (messages: ActiveMqEventMessage[]): ActiveMqEvent => ({
  eventSource: 'aws:amq',
  eventSourceArn: 'arn:aws:mq:us-east-1:000000000000:broker:shop:b-8bcfa572-428a-4642-879b-dfb2ed3f7b1f',
  messages,
});
