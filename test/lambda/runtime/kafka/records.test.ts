import { MalformedKafkaRecordError, UnsupportedKafkaEventError, kafkaPartitions, kafkaRecords } from '../../../../lambda/runtime/kafka';
import { defaultIdempotencyKey } from '../../../../lambda/runtime/idempotency/key';
import { kafkaEvent, kafkaRecord } from './events';

describe('Function: kafkaRecords', () => {
  it('decodes the key, value and headers of an MSK record and names it <topic>-<partition>:<offset>', () => {
    // Prepare
    const event = kafkaEvent([
      kafkaRecord('orders', 0, 7, { id: 1 }, { key: 'k1', headers: [{ trace: 'abc' }, { empty: '' }, { trace: 'def' }] }),
    ]);

    // Act
    const [r] = kafkaRecords(event);

    // Assess
    expect(r).toMatchObject({
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/shop/abc-1',
      topic: 'orders',
      partition: 0,
      offset: 7,
      topicPartition: 'orders-0',
      recordId: 'orders-0:7',
      idempotencyKey: 'orders-0:7',
      timestampType: 'CREATE_TIME',
      tombstone: false,
    });
    expect(r.keyText()).toBe('k1');
    expect(r.json()).toEqual({ id: 1 });
    expect(r.text()).toBe('{"id":1}');
    expect(r.headers.map((h) => [h.key, h.value.toString()])).toEqual([
      ['trace', 'abc'],
      ['empty', ''],
      ['trace', 'def'],
    ]);
    expect(r.header('trace')).toBe('def');
    expect(r.header('missing')).toBeUndefined();
  });

  it('reads self-managed events (SelfManagedKafka, and the aws: form) without an event source ARN', () => {
    for (const source of ['SelfManagedKafka', 'aws:SelfManagedKafka']) {
      const [r] = kafkaRecords(kafkaEvent([kafkaRecord('t', 1, 0, 'x')], { selfManaged: true, source }));
      expect(r.eventSource).toBe('SelfManagedKafka');
      expect(r.eventSourceArn).toBeUndefined();
    }
  });

  it('has no key when the record has none, and an empty value for a tombstone', () => {
    const [noKey, nullKey, tombstone] = kafkaRecords(
      kafkaEvent([kafkaRecord('t', 0, 0, 'a'), kafkaRecord('t', 0, 1, 'b', { key: null }), kafkaRecord('t', 0, 2, null, { key: 'k' })]),
    );
    expect(noKey.key).toBeUndefined();
    expect(noKey.keyText()).toBeUndefined();
    expect(nullKey.key).toBeUndefined();
    expect(tombstone.tombstone).toBe(true);
    expect(tombstone.data.length).toBe(0);
  });

  it('lists partitions in the event order, each in offset order', () => {
    const event = kafkaEvent([kafkaRecord('t', 1, 5, 'a'), kafkaRecord('t', 0, 3, 'b'), kafkaRecord('t', 1, 4, 'c')]);
    expect(kafkaPartitions(event).map((p) => [p.topicPartition, p.records.map((r) => r.offset)])).toEqual([
      ['t-1', [4, 5]],
      ['t-0', [3]],
    ]);
    expect(kafkaRecords(event).map((r) => r.recordId)).toEqual(['t-1:4', 't-1:5', 't-0:3']);
  });

  it('throws MalformedKafkaRecordError from json() for a value that is not JSON', () => {
    const [r] = kafkaRecords(kafkaEvent([kafkaRecord('t', 0, 9, 'not json')]));
    expect(() => r.json()).toThrow(MalformedKafkaRecordError);
    expect(() => r.json()).toThrow('Kafka record t-0:9 does not hold valid JSON');
  });

  it('gives the idempotency library its key: the record id', () => {
    const [r] = kafkaRecords(kafkaEvent([kafkaRecord('orders', 2, 41, { id: 1 })]));
    expect(defaultIdempotencyKey(r)).toBe('orders-2:41');
  });

  it('fails on an event that is not a Kafka batch', () => {
    expect(() => kafkaRecords({ Records: [] } as never)).toThrow(UnsupportedKafkaEventError);
    expect(() => kafkaRecords({ eventSource: 'aws:sqs', records: {} } as never)).toThrow(/not from an MSK or self-managed Kafka/);
    expect(() => kafkaRecords({ eventSource: 'aws:kafka', records: { 't-0': 'x' } } as never)).toThrow(/no records map of arrays/);
  });
});
