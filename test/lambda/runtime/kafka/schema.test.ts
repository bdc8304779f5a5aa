import * as z from 'zod';
import {
  KafkaConfigurationError,
  MalformedKafkaRecordError,
  type PowertoolsKafkaConsumer,
  type SchemaConfig,
  kafkaDecoder,
  kafkaRecords,
} from '../../../../lambda/runtime/kafka';
import { kafkaEvent, kafkaRecord } from './events';

// The package declares its entry point through `exports` only, which the kit's `node10` type
// resolution cannot see; jest resolves it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { kafkaConsumer } = require('@aws-lambda-powertools/kafka') as { kafkaConsumer: PowertoolsKafkaConsumer };
const decodeKafkaRecord = <K, V>(record: Parameters<ReturnType<typeof kafkaDecoder>>[0], config: SchemaConfig) =>
  kafkaDecoder<K, V>(kafkaConsumer, config)(record);

// avro-js and protobufjs are not dependencies of the kit (Powertools loads them on first use, from
// the function's bundle): stand-ins that decode the bytes as JSON check the wiring (the schema
// reaches the decoder, the result comes back, a decoding error fails the record).
jest.mock(
  'avro-js',
  () => ({
    parse: (schema: string) => ({
      fromBuffer: (buffer: Buffer) => {
        if (!schema.includes('"record"')) throw new Error('not an avro record schema');
        return { ...JSON.parse(buffer.toString('utf8')), decodedWith: 'avro' };
      },
    }),
  }),
  { virtual: true },
);

const one = (value: unknown, key?: string) => kafkaRecords(kafkaEvent([kafkaRecord('orders', 0, 3, value, { key })]))[0];

describe('Function: kafkaDecoder', () => {
  it('decodes a JSON value, validates it with a Standard Schema (Zod), and a key without schema as text', async () => {
    const Order = z.object({ id: z.number() });
    const decoded = await decodeKafkaRecord<string, { id: number }>(one({ id: 4 }, 'k-1'), {
      value: { type: 'json', parserSchema: Order },
    });
    expect(decoded).toEqual({ key: 'k-1', value: { id: 4 } });
  });

  it('fails the record when the JSON value is not JSON (Powertools would return its text)', async () => {
    await expect(decodeKafkaRecord(one('not json'), { value: { type: 'json' } })).rejects.toThrow(MalformedKafkaRecordError);
  });

  it('fails the record when the value does not pass its parser schema', async () => {
    const error = await decodeKafkaRecord(one({ id: 'x' }), { value: { type: 'json', parserSchema: z.object({ id: z.number() }) } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MalformedKafkaRecordError);
    expect((error as MalformedKafkaRecordError).recordId).toBe('orders-0:3');
    expect((error as Error).message).toMatch(/does not match its schema/);
  });

  it('decodes an Avro value with its schema through Powertools (avro-js)', async () => {
    const schema = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }] });
    await expect(decodeKafkaRecord(one({ id: 9 }), { value: { type: 'avro', schema } })).resolves.toEqual({
      key: undefined,
      value: { id: 9, decodedWith: 'avro' },
    });
    await expect(decodeKafkaRecord(one({ id: 9 }), { value: { type: 'avro', schema: '"int"' } })).rejects.toThrow(
      MalformedKafkaRecordError,
    );
  });

  it('returns no value for a tombstone', async () => {
    const [tombstone] = kafkaRecords(kafkaEvent([kafkaRecord('t', 0, 0, null)]));
    await expect(decodeKafkaRecord(tombstone, { value: { type: 'json' } })).resolves.toEqual({ key: undefined, value: undefined });
  });

  it("throws KafkaConfigurationError without Powertools' kafkaConsumer", () => {
    expect(() => kafkaDecoder(undefined as never, { value: { type: 'json' } })).toThrow(KafkaConfigurationError);
  });

  it.each([
    ['schema', null],
    ['schema.value', { value: { type: 'xml' } }],
    ['schema.value.schema', { value: { type: 'avro' } }],
    ['schema.key', { value: { type: 'json' }, key: { type: 'yaml' } }],
  ])('throws KafkaConfigurationError for an invalid %s', async (option, config) => {
    const error = await Promise.resolve()
      .then(() => decodeKafkaRecord(one({ id: 1 }), config as never))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaConfigurationError);
    expect((error as KafkaConfigurationError).option).toBe(option);
  });
});
