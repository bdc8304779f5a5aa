import {
  MalformedBrokerMessageError,
  UnsupportedBrokerEventError,
  brokerMessages,
  rabbitMqTimestamp,
} from '../../../../lambda/runtime/broker';
import { defaultIdempotencyKey } from '../../../../lambda/runtime/idempotency/key';
import { activeEvent, activeMessage, rabbitEvent, rabbitMessage } from './events';

describe('Function: brokerMessages', () => {
  it('reads RabbitMQ messages by queue and virtual host (queue::vhost), text headers decoded from their bytes', () => {
    // Prepare
    const event = rabbitEvent({
      'pizza::cmp': [rabbitMessage({ pizza: 'margherita' })],
      'pasta::/': [rabbitMessage('x', { messageId: 'm-2', redelivered: true })],
    });

    // Act
    const [pizza, pasta] = brokerMessages(event);

    // Assess
    expect(pizza).toMatchObject({
      source: 'aws:rmq',
      queue: 'pizza',
      vhost: 'cmp',
      id: 'm-1',
      messageId: 'm-1',
      idempotencyKey: 'm-1',
      position: 0,
      redelivered: false,
      contentType: 'application/json',
      correlationId: 'c-1',
      priority: 3,
      deliveryMode: 2,
      timestamp: Date.UTC(2023, 10, 14, 22, 13, 20),
      properties: { h1: 'value1', n: 10 },
    });
    expect(pizza.replyTo).toBeUndefined();
    expect(pizza.json()).toEqual({ pizza: 'margherita' });
    expect(pizza.header('h1')).toBe('value1');
    expect(pizza.header('n')).toBe('10');
    expect(pasta).toMatchObject({ queue: 'pasta', vhost: '/', id: 'm-2', redelivered: true, position: 1 });
    expect(pasta.text()).toBe('x');
  });

  it('reads ActiveMQ messages into the same shape', () => {
    const [m] = brokerMessages(activeEvent([activeMessage('ABC:AAAA', { redelivered: true })]));
    expect(m).toMatchObject({
      source: 'aws:amq',
      queue: 'orders',
      id: 'ID:b-1-37093-1-1:1:1:1:1',
      idempotencyKey: 'ID:b-1-37093-1-1:1:1:1:1',
      redelivered: true,
      priority: 4,
      deliveryMode: 2,
      timestamp: 1_796_425_000_000,
      properties: { testKey: 'testValue' },
    });
    expect(m.vhost).toBeUndefined();
    expect(m.text()).toBe('ABC:AAAA');
    expect(m.header('testKey')).toBe('testValue');
  });

  it('has no id (and no idempotency key) for a RabbitMQ message published without a messageId', () => {
    const [m] = brokerMessages(rabbitEvent({ 'q::/': [rabbitMessage('x', { messageId: null })] }));
    expect(m.id).toBeUndefined();
    expect(m.idempotencyKey).toBeUndefined();
    expect(m.messageId).toBe('q#0');
    expect(defaultIdempotencyKey(m)).toBeUndefined();
  });

  it('gives the idempotency library its key: the message id', () => {
    expect(defaultIdempotencyKey(brokerMessages(activeEvent([activeMessage('x', { id: 'ID:42' })]))[0])).toBe('ID:42');
  });

  it('throws MalformedBrokerMessageError from json() for a body that is not JSON', () => {
    const [m] = brokerMessages(activeEvent([activeMessage('not json')]));
    expect(() => m.json()).toThrow(MalformedBrokerMessageError);
  });

  it('fails on an event that is not an Amazon MQ batch', () => {
    expect(() => brokerMessages({ Records: [] } as never)).toThrow(UnsupportedBrokerEventError);
    expect(() => brokerMessages({ eventSource: 'aws:rmq' } as never)).toThrow(/no rmqMessagesByQueue/);
    expect(() => brokerMessages({ eventSource: 'aws:amq', messages: {} } as never)).toThrow(/no messages array/);
  });
});

describe('Function: rabbitMqTimestamp', () => {
  it.each([
    ['Nov 14, 2023, 10:13:20 PM', Date.UTC(2023, 10, 14, 22, 13, 20)],
    ['Jan 1, 2024, 12:00:00 AM', Date.UTC(2024, 0, 1, 0, 0, 0)],
    ['Jan 1, 2024, 12:30:00 PM', Date.UTC(2024, 0, 1, 12, 30, 0)],
    ['Feb 3, 2024 1:02:03\u202fPM', Date.UTC(2024, 1, 3, 13, 2, 3)],
  ])('reads %s as UTC', (text, expected) => {
    expect(rabbitMqTimestamp(text)).toBe(expected);
  });

  it('is undefined for no timestamp or an unknown format', () => {
    expect(rabbitMqTimestamp(null)).toBeUndefined();
    expect(rabbitMqTimestamp('2023-11-14T22:13:20Z')).toBeUndefined();
    expect(rabbitMqTimestamp('Foo 14, 2023, 10:13:20 PM')).toBeUndefined();
  });
});
