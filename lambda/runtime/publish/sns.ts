import { type MessageAttributeValue, PublishBatchCommand, type PublishBatchRequestEntry, SNSClient } from '@aws-sdk/client-sns';
import { clientOption, integerOption, stringOption } from './private/options';
import { ENV } from '../../../lib/core/wire';
import { isRetryableErrorCode } from './private/retry';
import { BatchPublisher, type EntryOutcome, type PreparedEntry, type PublishEntryBase, type PublisherOptions } from './publisher';

/** One message of {@link SnsPublisher.publish}. */
export interface SnsPublishEntry extends PublishEntryBase {
  /** The message body. */
  readonly message: string;
  readonly subject?: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  /** FIFO topics: the message group, which is also the entry's ordering key (unless `orderingKey` says otherwise). */
  readonly messageGroupId?: string;
  /** FIFO topics without content-based deduplication. Set it so a retried entry is not delivered twice. */
  readonly messageDeduplicationId?: string;
  /** `json` to send a different message per protocol. */
  readonly messageStructure?: string;
}

/** What SNS assigned to a published message. */
export interface SnsPublished {
  readonly messageId: string;
  /** FIFO topics only. */
  readonly sequenceNumber?: string;
}

/** Options of {@link SnsPublisher}. */
export interface SnsPublisherOptions extends PublisherOptions {
  /** The topic to publish to. */
  readonly topicArn: string;
  /**
   * The SNS client to use (bring your own to set retries, or to add middleware).
   *
   * @default - a new `SNSClient` with the environment's settings
   */
  readonly client?: SNSClient;
  /**
   * The topic's `MaximumMessageSize`: the largest message (body and attributes), and the largest
   * total of one `PublishBatch` call. Raise it with the topic's attribute, up to 1 MiB.
   *
   * @default 262144 (256 KiB, SNS's default)
   */
  readonly maxMessageSizeBytes?: number;
}

type Request = Omit<PublishBatchRequestEntry, 'Id'>;

const utf8 = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/** Size of a message as SNS counts it: the body plus each attribute's name, data type and value. */
export function snsMessageSize(entry: Pick<SnsPublishEntry, 'message' | 'messageAttributes'>): number {
  let size = utf8(entry.message);
  for (const [name, value] of Object.entries(entry.messageAttributes ?? {})) {
    size += utf8(name) + utf8(value.DataType) + utf8(value.StringValue) + (value.BinaryValue?.byteLength ?? 0);
  }
  return size;
}

/**
 * Publishes messages to an SNS topic with `PublishBatch`: 10 messages per call and at most
 * `maxMessageSizeBytes` per call, retrying only the messages that failed. A message's ordering key
 * is its `messageGroupId`: on a FIFO topic a failed message holds back the rest of its group, so
 * subscribers never see a group's messages out of order or with a gap followed by later ones.
 * See {@link BatchPublisher} for the guarantees.
 *
 * Batch ids are the publisher's own (the position in the call), so entry ids can be any string.
 * An entry is retried when SNS's code is throttling or internal, or `SenderFault` is false.
 *
 * @example
 * const publisher = new SnsPublisher({ topicArn: process.env.TOPIC_ARN! });
 * const { failed } = await publisher.publish(orders.map((o) => ({
 *   id: o.eventId, message: JSON.stringify(o), messageGroupId: o.orderId, messageDeduplicationId: o.eventId,
 * })));
 */
export class SnsPublisher extends BatchPublisher<SnsPublishEntry, Request, SnsPublished> {
  public readonly topicArn: string;
  private readonly client: SNSClient;

  /**
   * A publisher for the topic in the `FAN_OUT_TOPIC_ARN` environment variable (or `variable`),
   * which `FanOut.connectPublisher(fn)` sets.
   */
  public static fromEnvironment(options: Omit<SnsPublisherOptions, 'topicArn'> = {}, variable: string = ENV.fanOutTopicArn): SnsPublisher {
    return new SnsPublisher({ ...options, topicArn: process.env[variable] as string });
  }

  constructor(options: SnsPublisherOptions) {
    const o = options ?? ({} as SnsPublisherOptions);
    const maxMessageSizeBytes = integerOption('maxMessageSizeBytes', o.maxMessageSizeBytes, 262_144, 1024, 1_048_576);
    super('SNS', { maxEntriesPerCall: 10, maxEntrySizeBytes: maxMessageSizeBytes, maxCallSizeBytes: maxMessageSizeBytes }, o);
    this.topicArn = stringOption('topicArn', o.topicArn, true);
    this.client = clientOption(o.client) ?? new SNSClient({});
  }

  protected override _defaultOrderingKey(entry: SnsPublishEntry): string | undefined {
    return entry.messageGroupId;
  }

  protected _prepare(entry: SnsPublishEntry): PreparedEntry<Request> {
    if (typeof entry.message !== 'string') throw new TypeError('message must be a string');
    return {
      request: {
        Message: entry.message,
        Subject: entry.subject,
        MessageAttributes: entry.messageAttributes as Record<string, MessageAttributeValue> | undefined,
        MessageGroupId: entry.messageGroupId,
        MessageDeduplicationId: entry.messageDeduplicationId,
        MessageStructure: entry.messageStructure,
      },
      sizeBytes: snsMessageSize(entry),
    };
  }

  protected async _send(requests: readonly Request[]): Promise<ReadonlyArray<EntryOutcome<SnsPublished>>> {
    const output = await this.client.send(
      new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: requests.map((r, i) => ({ ...r, Id: String(i) })) }),
    );
    const outcomes: Array<EntryOutcome<SnsPublished>> = new Array(requests.length);
    const at = (id: string | undefined) => (/^\d+$/.test(id ?? '') && Number(id) < requests.length ? Number(id) : -1);
    for (const s of output.Successful ?? []) {
      const i = at(s.Id);
      if (i >= 0)
        outcomes[i] = {
          ok: true,
          detail: { messageId: s.MessageId ?? '', ...(s.SequenceNumber ? { sequenceNumber: s.SequenceNumber } : {}) },
        };
    }
    for (const f of output.Failed ?? []) {
      const i = at(f.Id);
      const errorCode = f.Code ?? 'Unknown';
      if (i >= 0)
        outcomes[i] = {
          ok: false,
          errorCode,
          errorMessage: f.Message ?? '',
          retryable: isRetryableErrorCode(errorCode) || f.SenderFault === false,
        };
    }
    return outcomes;
  }
}
