import { dynamoDBStreamItem } from '../../../../lambda/runtime/stream/dynamodb';
import { MalformedStreamRecordError } from '../../../../lambda/runtime/stream/errors';
import { kinesisStreamItems, shardIdOf } from '../../../../lambda/runtime/stream/kinesis';
import { aggregate, dynamoDBRecord, encodeAggregatedMessage, kinesisRecord } from './events';

describe('Function: kinesisStreamItems', () => {
  it('decodes a plain record: data, text, JSON, a stable id', () => {
    const record = kinesisRecord(
      { reading: 21.5 },
      { partitionKey: 'device-1', sequenceNumber: '4959001', shardId: 'shardId-000000000002' },
    );

    const [item] = kinesisStreamItems(record);

    expect(item).toEqual(
      expect.objectContaining({
        eventSource: 'aws:kinesis',
        recordId: 'shardId-000000000002:4959001',
        shardId: 'shardId-000000000002',
        sequenceNumber: '4959001',
        partitionKey: 'device-1',
        approximateArrivalTimestamp: 1_700_000_000.123,
        record,
      }),
    );
    expect(item.subSequenceNumber).toBeUndefined();
    expect(item.data).toEqual(Buffer.from('{"reading":21.5}'));
    expect(item.text()).toBe('{"reading":21.5}');
    expect(item.json<{ reading: number }>().reading).toBe(21.5);
  });

  it('fails json() with MalformedStreamRecordError for data that is not JSON', () => {
    const [item] = kinesisStreamItems(kinesisRecord('not json', { sequenceNumber: '7' }));
    expect(() => item.json()).toThrow(MalformedStreamRecordError);
    expect(() => item.json()).toThrow(/Kinesis record shardId-000000000006:7 does not hold valid JSON/);
  });

  it('exposes the user records of an aggregated record with their sub-sequence numbers', () => {
    const data = aggregate(
      encodeAggregatedMessage({ partitionKeys: ['a', 'b'], explicitHashKeys: ['99'] }, [
        { partitionKeyIndex: 0, data: '{"n":1}' },
        { partitionKeyIndex: 1, explicitHashKeyIndex: 0, data: '{"n":2}' },
      ]),
    );
    const record = kinesisRecord(data, { sequenceNumber: '500', partitionKey: 'agg' });

    const items = kinesisStreamItems(record);

    expect(items.map((i) => [i.recordId, i.sequenceNumber, i.subSequenceNumber, i.partitionKey, i.explicitHashKey, i.json()])).toEqual([
      ['shardId-000000000006:500:0', '500', 0, 'a', undefined, { n: 1 }],
      ['shardId-000000000006:500:1', '500', 1, 'b', '99', { n: 2 }],
    ]);
  });

  it('leaves an aggregated record whole with deaggregate false', () => {
    const data = aggregate(encodeAggregatedMessage({ partitionKeys: ['a'] }, [{ partitionKeyIndex: 0, data: 'x' }]));
    const items = kinesisStreamItems(kinesisRecord(data), { deaggregate: false });
    expect(items).toHaveLength(1);
    expect(items[0].data).toEqual(data);
  });

  it('reads the shard id from the event id', () => {
    expect(shardIdOf({ eventID: 'shardId-000000000001:123' } as never)).toBe('shardId-000000000001');
    expect(shardIdOf({ eventID: 'no-colon' } as never)).toBe('no-colon');
  });
});

describe('Function: dynamoDBStreamItem', () => {
  it('unmarshalls keys and images, binary attributes as bytes, nested maps and lists included', () => {
    const record = dynamoDBRecord({
      eventName: 'MODIFY',
      eventID: 'ev-42',
      sequenceNumber: '111',
      keys: { pk: { S: 'order#1' }, sk: { N: '3' } },
      oldImage: { pk: { S: 'order#1' }, status: { S: 'NEW' } },
      newImage: {
        pk: { S: 'order#1' },
        status: { S: 'PAID' },
        total: { N: '12.5' },
        blob: { B: Buffer.from([1, 2, 3]).toString('base64') },
        blobs: { BS: [Buffer.from('a').toString('base64')] },
        tags: { SS: ['x', 'y'] },
        lines: { L: [{ M: { sku: { S: 'A' }, raw: { B: Buffer.from('z').toString('base64') } } }, { NULL: true }] },
        flag: { BOOL: false },
      },
    });

    const item = dynamoDBStreamItem<{ status: string; total: number; blob: Uint8Array }>(record);

    expect(item).toEqual({
      eventSource: 'aws:dynamodb',
      recordId: 'ev-42',
      eventName: 'MODIFY',
      sequenceNumber: '111',
      keys: { pk: 'order#1', sk: 3 },
      oldImage: { pk: 'order#1', status: 'NEW' },
      newImage: {
        pk: 'order#1',
        status: 'PAID',
        total: 12.5,
        blob: Buffer.from([1, 2, 3]),
        blobs: new Set([Buffer.from('a')]),
        tags: new Set(['x', 'y']),
        lines: [{ sku: 'A', raw: Buffer.from('z') }, null],
        flag: false,
      },
      approximateCreationDateTime: 1_700_000_000,
      record,
    });
    expect(Buffer.from(item.newImage!.blob).equals(Buffer.from([1, 2, 3]))).toBe(true);
  });

  it('has no images a KEYS_ONLY stream does not carry', () => {
    const item = dynamoDBStreamItem(dynamoDBRecord({ eventName: 'REMOVE', keys: { pk: { S: 'a' } } }));
    expect(item.newImage).toBeUndefined();
    expect(item.oldImage).toBeUndefined();
    expect(item.keys).toEqual({ pk: 'a' });
  });

  it('gives a large integer as a BigInt', () => {
    const item = dynamoDBStreamItem(dynamoDBRecord({ newImage: { n: { N: '123456789012345678901234567890' } } }));
    expect(item.newImage!.n).toBe(123456789012345678901234567890n);
  });

  it('fails with MalformedStreamRecordError for a fraction beyond double precision, unless numbers are wrapped', () => {
    const record = dynamoDBRecord({ eventID: 'ev-big', newImage: { n: { N: '123456789012345678901234567890.5' } } });

    expect(() => dynamoDBStreamItem(record)).toThrow(MalformedStreamRecordError);
    expect(() => dynamoDBStreamItem(record)).toThrow(/DynamoDB stream record ev-big: NewImage cannot be unmarshalled/);
    const wrapped = dynamoDBStreamItem<{ n: { value: string } }>(record, { unmarshallOptions: { wrapNumbers: true } });
    expect(wrapped.newImage!.n.value).toBe('123456789012345678901234567890.5');
  });
});
