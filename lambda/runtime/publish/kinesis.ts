import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { PublishConfigurationError } from './errors';
import { clientOption, integerOption, stringOption } from './private/options';
import { ENV } from '../../../lib/core/wire';
import { isRetryableErrorCode } from './private/retry';
import { BatchPublisher, type EntryOutcome, type PreparedEntry, type PublishEntryBase, type PublisherOptions } from './publisher';

/** One record of {@link KinesisPublisher.publish}. */
export interface KinesisPublishEntry extends PublishEntryBase {
  /** Decides the shard, and is the record's ordering key (unless `orderingKey` says otherwise). 1 to 256 characters. */
  readonly partitionKey: string;
  /** The record's data: bytes, or text sent as UTF-8. */
  readonly data: Uint8Array | string;
  readonly explicitHashKey?: string;
}

/** Where Kinesis stored a published record. */
export interface KinesisPublished {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Options of {@link KinesisPublisher}: `streamName`, `streamArn` or both. */
export interface KinesisPublisherOptions extends PublisherOptions {
  /** @default - none: give `streamArn` */
  readonly streamName?: string;
  /** @default - none: give `streamName` */
  readonly streamArn?: string;
  /**
   * The Kinesis client to use (bring your own to set retries, or to add middleware).
   *
   * @default - a new `KinesisClient` with the environment's settings
   */
  readonly client?: KinesisClient;
  /**
   * Largest record, data and partition key together; a larger one is reported failed
   * (`EntryTooLarge`) without a call. Streams that allow larger records take up to 10 MiB.
   *
   * @default 1048576 (1 MiB)
   */
  readonly maxRecordSizeBytes?: number;
  /**
   * Largest `PutRecords` call, data and partition keys of all its records together.
   *
   * @default 5242880 (5 MiB)
   */
  readonly maxCallSizeBytes?: number;
}

/** Size of a record as Kinesis counts it: the data plus the partition key's UTF-8 bytes. */
export function kinesisRecordSize(entry: Pick<KinesisPublishEntry, 'partitionKey' | 'data'>): number {
  const data = typeof entry.data === 'string' ? Buffer.byteLength(entry.data, 'utf8') : entry.data.byteLength;
  return data + Buffer.byteLength(entry.partitionKey, 'utf8');
}

/**
 * Puts records into a Kinesis data stream with `PutRecords`: 500 records and at most
 * `maxCallSizeBytes` per call, retrying only the records that failed
 * (`ProvisionedThroughputExceededException`, `InternalFailure`, `KMSThrottlingException`); other
 * codes (KMS access, disabled key...) are reported at once. See {@link BatchPublisher}.
 *
 * Order: a record's ordering key is its partition key. AWS documents that a failed record does not
 * stop the records after it in the same `PutRecords` call, so "PutRecords doesn't guarantee the
 * ordering of records": a later record of the key may be stored while an earlier one was throttled.
 * Within one call Kinesis keeps the request order of a key's records only as long as each of them
 * succeeds. Hence the default `ordering: 'strict'` puts at most one record of a partition key in a
 * call (many keys still fill a call): a key's records reach the shard in input order, with no gap
 * followed by later records. With `'batched'`, up to a full call of one key goes at once: in order
 * when nothing fails; an earlier record that failed is retried after the later ones and lists them
 * in `overtakenBy`. Pass `orderingKey: null` for records whose order does not matter.
 *
 * @example
 * const publisher = new KinesisPublisher({ streamName: process.env.STREAM_NAME });
 * await publisher.publish(readings.map((r) => ({ id: r.id, partitionKey: r.deviceId, data: JSON.stringify(r) })));
 */
export class KinesisPublisher extends BatchPublisher<KinesisPublishEntry, PutRecordsRequestEntry, KinesisPublished> {
  public readonly streamName?: string;
  public readonly streamArn?: string;
  private readonly client: KinesisClient;

  /**
   * A publisher for the stream in the `STREAM_NAME` environment variable (or `variable`), which
   * `StreamPipeline.connectProducer(fn)` sets.
   */
  public static fromEnvironment(
    options: Omit<KinesisPublisherOptions, 'streamName' | 'streamArn'> = {},
    variable: string = ENV.streamName,
  ): KinesisPublisher {
    return new KinesisPublisher({ ...options, streamName: process.env[variable] });
  }

  constructor(options: KinesisPublisherOptions) {
    const o = options ?? ({} as KinesisPublisherOptions);
    const maxRecordSizeBytes = integerOption('maxRecordSizeBytes', o.maxRecordSizeBytes, 1_048_576, 1024, 10_485_760);
    const maxCallSizeBytes = integerOption(
      'maxCallSizeBytes',
      o.maxCallSizeBytes,
      Math.max(5_242_880, maxRecordSizeBytes),
      1024,
      10_485_760,
    );
    if (maxCallSizeBytes < maxRecordSizeBytes) {
      throw new PublishConfigurationError(
        'maxCallSizeBytes',
        `must be at least maxRecordSizeBytes (given ${maxCallSizeBytes} < ${maxRecordSizeBytes})`,
      );
    }
    super('Kinesis', { maxEntriesPerCall: 500, maxEntrySizeBytes: maxRecordSizeBytes, maxCallSizeBytes }, o);
    this.streamName = stringOption('streamName', o.streamName, false);
    this.streamArn = stringOption('streamArn', o.streamArn, false);
    if (!this.streamName && !this.streamArn) {
      throw new PublishConfigurationError('streamName', 'or streamArn must be given (given neither)');
    }
    this.client = clientOption(o.client) ?? new KinesisClient({});
  }

  protected override _defaultOrderingKey(entry: KinesisPublishEntry): string | undefined {
    return typeof entry.partitionKey === 'string' ? entry.partitionKey : undefined;
  }

  protected _prepare(entry: KinesisPublishEntry): PreparedEntry<PutRecordsRequestEntry> {
    const { partitionKey, data } = entry;
    if (typeof partitionKey !== 'string' || partitionKey.length === 0 || [...partitionKey].length > 256) {
      throw new TypeError(`partitionKey must be a string of 1 to 256 characters (given ${JSON.stringify(partitionKey)})`);
    }
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array or a string');
    return {
      request: {
        PartitionKey: partitionKey,
        Data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
        ExplicitHashKey: entry.explicitHashKey,
      },
      sizeBytes: kinesisRecordSize(entry),
    };
  }

  protected async _send(requests: readonly PutRecordsRequestEntry[]): Promise<ReadonlyArray<EntryOutcome<KinesisPublished>>> {
    const output = await this.client.send(
      new PutRecordsCommand({ StreamName: this.streamName, StreamARN: this.streamArn, Records: [...requests] }),
    );
    return requests.map((_, i): EntryOutcome<KinesisPublished> => {
      const result = output.Records?.[i];
      if (result?.SequenceNumber && !result.ErrorCode) {
        return { ok: true, detail: { shardId: result.ShardId ?? '', sequenceNumber: result.SequenceNumber } };
      }
      const errorCode = result?.ErrorCode ?? 'NoResult';
      const errorMessage = result?.ErrorMessage ?? (result ? '' : 'the Kinesis response did not mention the record');
      return { ok: false, errorCode, errorMessage, retryable: errorCode === 'NoResult' || isRetryableErrorCode(errorCode) };
    });
  }
}
