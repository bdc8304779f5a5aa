import { KinesisDeaggregationError } from '../../../../lambda/runtime/stream/errors';
import { deaggregateKplRecord, isKplAggregated } from '../../../../lambda/runtime/stream/kpl';
import { ProtobufReader } from '../../../../lambda/runtime/stream/private/protobuf';
import { aggregate, encodeAggregatedMessage, proto } from './events';

describe('Function: deaggregateKplRecord', () => {
  it('returns undefined for data that is not aggregated', () => {
    expect(deaggregateKplRecord(Buffer.from('{"plain":true}'))).toBeUndefined();
    expect(deaggregateKplRecord(new Uint8Array(0))).toBeUndefined();
    expect(isKplAggregated(Buffer.from([0xf3, 0x89, 0x9a]))).toBe(false);
  });

  it('splits an aggregated record into its user records, in order, with their keys', () => {
    // Prepare
    const data = aggregate(
      encodeAggregatedMessage({ partitionKeys: ['device-1', 'device-2'], explicitHashKeys: ['1234567890'] }, [
        { partitionKeyIndex: 0, data: 'first' },
        { partitionKeyIndex: 1, explicitHashKeyIndex: 0, data: 'second', tags: [{ key: 'k', value: 'v' }] },
        { partitionKeyIndex: 0, data: Uint8Array.of(0, 255) },
      ]),
    );

    // Act
    const records = deaggregateKplRecord(data)!;

    // Assess
    expect(records.map((r) => ({ ...r, data: r.data.toString('hex') }))).toEqual([
      { subSequenceNumber: 0, partitionKey: 'device-1', data: Buffer.from('first').toString('hex') },
      { subSequenceNumber: 1, partitionKey: 'device-2', explicitHashKey: '1234567890', data: Buffer.from('second').toString('hex') },
      { subSequenceNumber: 2, partitionKey: 'device-1', data: '00ff' },
    ]);
  });

  it('reads multi-byte varints (a key table of 300) and skips unknown fields', () => {
    const partitionKeys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const unknown = Buffer.concat([
      proto.varintField(9, 1234567),
      proto.lengthDelimited(10, Buffer.from('x')),
      proto.key(11, 5),
      Buffer.alloc(4),
      proto.key(12, 1),
      Buffer.alloc(8),
    ]);
    const data = aggregate(encodeAggregatedMessage({ partitionKeys }, [{ partitionKeyIndex: 299, data: 'last key' }], unknown));

    expect(deaggregateKplRecord(data)).toEqual([{ subSequenceNumber: 0, partitionKey: 'k299', data: Buffer.from('last key') }]);
  });

  it('fails clearly when the MD5 trailer does not match', () => {
    const message = encodeAggregatedMessage({ partitionKeys: ['a'] }, [{ partitionKeyIndex: 0, data: 'x' }]);
    const data = aggregate(message, Buffer.alloc(16, 7));

    expect(() => deaggregateKplRecord(data)).toThrow(KinesisDeaggregationError);
    expect(() => deaggregateKplRecord(data)).toThrow(
      /starts with the KPL aggregation magic bytes but its MD5 trailer \(07070707070707070707070707070707\) does not match its content \([0-9a-f]{32}\): it is corrupt/,
    );
  });

  it.each([
    ['too short for the trailer', Buffer.from([0xf3, 0x89, 0x9a, 0xc2, 1, 2]), /is only 6 bytes long, too short for the MD5 trailer/],
    [
      'a truncated field',
      aggregate(Buffer.concat([proto.key(1, 2), proto.varint(50), Buffer.from('short')])),
      /protobuf is malformed: field of 50 bytes runs past the end/,
    ],
    ['a wrong wire type', aggregate(proto.varintField(3, 1)), /protobuf is malformed: field 3 has wire type 0, expected 2/],
    ['a group field', aggregate(Buffer.concat([proto.key(7, 3)])), /protobuf is malformed: unsupported wire type 3/],
    [
      'a record without data',
      aggregate(Buffer.concat([proto.lengthDelimited(1, Buffer.from('a')), proto.lengthDelimited(3, proto.varintField(1, 0))])),
      /a record has no data \(required\)/,
    ],
    [
      'a record without a partition key index',
      aggregate(
        Buffer.concat([proto.lengthDelimited(1, Buffer.from('a')), proto.lengthDelimited(3, proto.lengthDelimited(3, Buffer.from('d')))]),
      ),
      /a record has no partition_key_index \(required\)/,
    ],
    [
      'a partition key index out of the table',
      aggregate(encodeAggregatedMessage({ partitionKeys: ['a'] }, [{ partitionKeyIndex: 1, data: 'x' }])),
      /user record 0 points at partition key 1 of a table of 1/,
    ],
    [
      'an explicit hash key index out of the table',
      aggregate(encodeAggregatedMessage({ partitionKeys: ['a'] }, [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: 'x' }])),
      /user record 0 points at explicit hash key 0 of a table of 0/,
    ],
  ])('fails on %s', (_, data, message) => {
    expect(() => deaggregateKplRecord(data)).toThrow(KinesisDeaggregationError);
    expect(() => deaggregateKplRecord(data)).toThrow(message);
  });
});

describe('Class: ProtobufReader', () => {
  it.each([
    ['a varint that runs past the end', Buffer.from([0x80]), /varint runs past the end/],
    ['a varint of more than 10 bytes', Buffer.alloc(11, 0x80), /varint longer than 10 bytes/],
    ['a varint beyond 2^53', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /varint larger than 2\^53 - 1/],
  ])('refuses %s', (_, bytes, message) => {
    expect(() => new ProtobufReader(bytes).varint()).toThrow(message);
  });

  it('refuses field number 0 and a fixed field that runs past the end', () => {
    expect(() => new ProtobufReader(Buffer.from([0x02])).tag()).toThrow(/field number 0/);
    const reader = new ProtobufReader(Buffer.from([0x0d, 1, 2]));
    expect(reader.tag()).toEqual({ field: 1, wireType: 5 });
    expect(() => reader.skip(5)).toThrow(/fixed-size field runs past the end/);
  });
});
