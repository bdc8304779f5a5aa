/**
 * Decoding Kafka keys and values with a schema (JSON, Avro, Protobuf), through Powertools for AWS
 * Lambda's Kafka utility (`@aws-lambda-powertools/kafka`), which also strips the framing of the AWS
 * Glue and Confluent schema registries and validates the decoded value with a Standard Schema
 * (Zod, Valibot, ArkType) when given one.
 *
 * You pass Powertools' `kafkaConsumer` in: the kit does not import `@aws-lambda-powertools/kafka`
 * itself, because importing it makes a bundler resolve its Avro and Protobuf deserializers, which
 * need the `avro-js` and `protobufjs` packages — a function that decodes with a schema installs
 * them (as Powertools documents); one that does not, bundles without them.
 */
import type { ConsumerRecords, MSKEvent, SchemaConfig } from '@aws-lambda-powertools/kafka/types';
import type { Context } from 'aws-lambda';
import { KafkaConfigurationError, MalformedKafkaRecordError } from './errors';
import type { KafkaRecord } from './records';

/** Powertools' `kafkaConsumer` (`import { kafkaConsumer } from '@aws-lambda-powertools/kafka'`). */
export type PowertoolsKafkaConsumer = <K, V>(
  handler: (event: ConsumerRecords<K, V>, context: Context) => Promise<unknown>,
  config?: SchemaConfig,
) => (event: MSKEvent, context: Context) => Promise<unknown>;

export type { SchemaConfig, SchemaConfigValue } from '@aws-lambda-powertools/kafka/types';

/** A record's key and value, decoded with their schemas. */
export interface DecodedKafkaRecord<K = unknown, V = unknown> {
  /** The decoded key (undefined when the record has none). Without a key schema, the key as UTF-8 text. */
  readonly key: K;
  /** The decoded value (undefined for a tombstone). */
  readonly value: V;
}

const TYPES = ['json', 'avro', 'protobuf'];

function checkConfig(config: SchemaConfig | undefined): SchemaConfig {
  if (typeof config !== 'object' || config === null) {
    throw new KafkaConfigurationError(
      'schema',
      `schema must be an object with a value schema (given ${config === null ? 'null' : typeof config})`,
      { value: config },
    );
  }
  for (const part of ['value', 'key'] as const) {
    const c = config[part];
    if (c === undefined && part === 'key') continue;
    if (typeof c !== 'object' || c === null || !TYPES.includes((c as { type?: string }).type ?? '')) {
      throw new KafkaConfigurationError(
        `schema.${part}`,
        `schema.${part}.type must be one of 'json', 'avro', 'protobuf' (given ${JSON.stringify((c as { type?: unknown } | undefined)?.type)})`,
        {
          value: c,
        },
      );
    }
    if ((c.type === 'avro' || c.type === 'protobuf') && !c.schema) {
      throw new KafkaConfigurationError(`schema.${part}.schema`, `schema.${part}.schema is required for ${c.type}`, { value: c });
    }
  }
  return config;
}

/** Powertools' JSON deserializer returns the text of a value that is not JSON; the kit fails the record instead. */
function checkJson(text: Buffer | undefined, recordId: string, part: string): void {
  if (text === undefined) return;
  try {
    JSON.parse(text.toString('utf8'));
  } catch (cause) {
    throw new MalformedKafkaRecordError(recordId, `the ${part} of Kafka record ${recordId} is not valid JSON`, { cause });
  }
}

/** Decodes one record's key and value with the schemas it was made with. */
export type KafkaDecoder<K = unknown, V = unknown> = (record: KafkaRecord) => Promise<DecodedKafkaRecord<K, V>>;

/**
 * A decoder of records' keys and values with the given schemas, through Powertools'
 * `kafkaConsumer` (`{ value: { type: 'avro', schema }, key: { type: 'json', parserSchema } }`). The
 * configuration is checked here, once. A value that does not match its schema, or fails its parser
 * schema, throws {@link MalformedKafkaRecordError} (the record fails, and ends in the on-failure
 * destination after the retries); a JSON value that is not JSON fails too (Powertools would return
 * its text).
 *
 * @throws KafkaConfigurationError when `kafkaConsumer` or the schema configuration is invalid
 *
 * @example
 * import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
 * const decode = kafkaDecoder<string, Order>(kafkaConsumer, { value: { type: 'avro', schema: ORDER_AVRO_SCHEMA } });
 * export const handler = kafkaBatchHandler(async (record) => save((await decode(record)).value));
 */
export function kafkaDecoder<K = unknown, V = unknown>(kafkaConsumer: PowertoolsKafkaConsumer, config: SchemaConfig): KafkaDecoder<K, V> {
  if (typeof kafkaConsumer !== 'function') {
    throw new KafkaConfigurationError(
      'kafkaConsumer',
      `kafkaConsumer must be Powertools' kafkaConsumer function (import { kafkaConsumer } from '@aws-lambda-powertools/kafka') (given ${typeof kafkaConsumer})`,
      { value: kafkaConsumer },
    );
  }
  const c = checkConfig(config);
  const decode = kafkaConsumer<K, V>(async (e: ConsumerRecords<K, V>) => {
    const [r] = e.records;
    return { key: r.key, value: r.value } satisfies DecodedKafkaRecord<K, V>;
  }, c);
  return async (record) => {
    if (c.value.type === 'json' && !record.tombstone) checkJson(record.data, record.recordId, 'value');
    if (c.key?.type === 'json') checkJson(record.key, record.recordId, 'key');
    const raw = record.record;
    const event = {
      eventSource: 'aws:kafka' as const,
      eventSourceArn: record.eventSourceArn ?? '',
      bootstrapServers: '',
      records: { [record.topicPartition]: [{ ...raw, headers: raw.headers ?? [] }] },
    };
    try {
      return (await decode(event as unknown as MSKEvent, {} as Context)) as DecodedKafkaRecord<K, V>;
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new MalformedKafkaRecordError(record.recordId, `Kafka record ${record.recordId} does not match its schema: ${detail}`, {
        cause,
      });
    }
  };
}
