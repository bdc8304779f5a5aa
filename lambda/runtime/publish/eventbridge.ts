import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PublishConfigurationError } from './errors';
import { clientOption, integerOption, stringOption } from './private/options';
import { ENV } from '../../../lib/core/wire';
import { isRetryableErrorCode } from './private/retry';
import { BatchPublisher, type EntryOutcome, type PreparedEntry, type PublishEntryBase, type PublisherOptions } from './publisher';

/** One event of {@link EventBridgePublisher.publish}. */
export interface EventBridgePublishEntry extends PublishEntryBase {
  readonly source: string;
  readonly detailType: string;
  /** The event's detail: a JSON object, or its JSON text. */
  readonly detail: string | Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
  readonly time?: Date;
  /** @default - the publisher's `eventBusName` */
  readonly eventBusName?: string;
  readonly traceHeader?: string;
}

/** What EventBridge assigned to a published event. */
export interface EventBridgePublished {
  readonly eventId: string;
}

/** Options of {@link EventBridgePublisher}. */
export interface EventBridgePublisherOptions extends PublisherOptions {
  /**
   * The bus of entries that name none.
   *
   * @default - the account's default event bus
   */
  readonly eventBusName?: string;
  /**
   * A global endpoint's id (`abcde.veo`), to publish through it.
   *
   * @default - none
   */
  readonly endpointId?: string;
  /**
   * The EventBridge client to use (bring your own to set retries, or to add middleware).
   *
   * @default - a new `EventBridgeClient` with the environment's settings
   */
  readonly client?: EventBridgeClient;
  /**
   * Largest entry, and largest total of one `PutEvents` call, as EventBridge counts sizes
   * ({@link eventBridgeEntrySize}).
   *
   * @default 262144 (256 KiB)
   */
  readonly maxEntrySizeBytes?: number;
}

const utf8 = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/**
 * Size of a `PutEvents` entry as AWS documents it ("Calculating Amazon EventBridge PutEvents event
 * entry size"): 14 bytes for `Time` if given, plus the UTF-8 bytes of `Source`, `DetailType`,
 * `Detail` and each `Resources` entry.
 */
export function eventBridgeEntrySize(
  entry: Pick<PutEventsRequestEntry, 'Time' | 'Source' | 'DetailType' | 'Detail' | 'Resources'>,
): number {
  let size = entry.Time !== undefined ? 14 : 0;
  size += utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail);
  for (const resource of entry.Resources ?? []) size += utf8(resource);
  return size;
}

/**
 * Publishes events with `PutEvents`: 10 entries per call and at most `maxEntrySizeBytes` per call;
 * an entry larger than that is reported failed (`EntryTooLarge`) without a call. Retries only the
 * entries that failed (`ThrottlingException`, `InternalFailure`); others (`MalformedDetail`,
 * `InvalidArgument`, access errors) are reported at once. See {@link BatchPublisher} for the
 * guarantees.
 *
 * Entries have no ordering key unless given one (`orderingKey`). EventBridge does not promise to
 * deliver events to targets in the order they were put: the ordering key only keeps *publishing*
 * in order (a later event of a key is never put after an earlier one failed), which matters for
 * consumers that reassemble a sequence or must not see a later state before an earlier one exists.
 *
 * @example
 * const publisher = new EventBridgePublisher({ eventBusName: process.env.EVENT_BUS_NAME });
 * await publisher.publish([{ id: 'e1', source: 'orders', detailType: 'OrderPlaced', detail: { orderId: '42' } }]);
 */
export class EventBridgePublisher extends BatchPublisher<EventBridgePublishEntry, PutEventsRequestEntry, EventBridgePublished> {
  public readonly eventBusName?: string;
  private readonly endpointId?: string;
  private readonly client: EventBridgeClient;

  /**
   * A publisher for the bus in the `EVENT_BUS_NAME` environment variable (or `variable`), which
   * `EventRouter.connectPublisher(fn)` sets.
   */
  public static fromEnvironment(
    options: Omit<EventBridgePublisherOptions, 'eventBusName'> = {},
    variable: string = ENV.eventBusName,
  ): EventBridgePublisher {
    const eventBusName = process.env[variable];
    if (!eventBusName)
      throw new PublishConfigurationError(
        'eventBusName',
        `missing: the environment variable ${variable} is not set (EventRouter.connectPublisher sets it)`,
      );
    return new EventBridgePublisher({ ...options, eventBusName });
  }

  constructor(options: EventBridgePublisherOptions = {}) {
    const o = options ?? {};
    const maxEntrySizeBytes = integerOption('maxEntrySizeBytes', o.maxEntrySizeBytes, 262_144, 1024, 1_048_576);
    super('EventBridge', { maxEntriesPerCall: 10, maxEntrySizeBytes, maxCallSizeBytes: maxEntrySizeBytes }, o);
    this.eventBusName = stringOption('eventBusName', o.eventBusName, false);
    this.endpointId = stringOption('endpointId', o.endpointId, false);
    this.client = clientOption(o.client) ?? new EventBridgeClient({});
  }

  protected _prepare(entry: EventBridgePublishEntry): PreparedEntry<PutEventsRequestEntry> {
    const detail = typeof entry.detail === 'string' ? entry.detail : JSON.stringify(entry.detail);
    if (typeof detail !== 'string') throw new TypeError('detail must be a JSON object or its JSON text');
    const request: PutEventsRequestEntry = {
      Source: entry.source,
      DetailType: entry.detailType,
      Detail: detail,
      Resources: entry.resources ? [...entry.resources] : undefined,
      Time: entry.time,
      EventBusName: entry.eventBusName ?? this.eventBusName,
      TraceHeader: entry.traceHeader,
    };
    return { request, sizeBytes: eventBridgeEntrySize(request) };
  }

  protected async _send(requests: readonly PutEventsRequestEntry[]): Promise<ReadonlyArray<EntryOutcome<EventBridgePublished>>> {
    const output = await this.client.send(new PutEventsCommand({ Entries: [...requests], EndpointId: this.endpointId }));
    return requests.map((_, i): EntryOutcome<EventBridgePublished> => {
      const result = output.Entries?.[i];
      if (result?.EventId && !result.ErrorCode) return { ok: true, detail: { eventId: result.EventId } };
      const errorCode = result?.ErrorCode ?? 'NoResult';
      const errorMessage = result?.ErrorMessage ?? (result ? '' : 'the EventBridge response did not mention the entry');
      return { ok: false, errorCode, errorMessage, retryable: errorCode === 'NoResult' || isRetryableErrorCode(errorCode) };
    });
  }
}
