import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { ENV, LIMIT } from '../../../lib/core/wire';
import { type Fail, checkClient, checkFunction, checkUrl } from '../internal/options';
import {
  ConvoyMessageIdError,
  type ConvoySendFailure,
  ConvoySendError,
  SequentialConvoyConfigurationError,
  SequentialConvoyError,
} from './errors';

/**
 * Picks an id from a message: a property path (`'entityId'`, `'order.customer.id'`) or a function.
 * The value must be a non-empty string or a finite number.
 */
export type IdSelector<T> = string | ((message: T) => string | number);

/** Options of {@link ConvoyProducer}. */
export interface ConvoyProducerOptions<T> {
  /** URL of the convoy's FIFO queue. */
  readonly queueUrl: string;
  /** The entity a message belongs to: its message group. Events of one group are processed in order. */
  readonly groupBy: IdSelector<T>;
  /**
   * The message's deduplication id. A retried send with the same id within 5 minutes is dropped by
   * SQS, so a producer can retry without creating duplicates.
   *
   * @default - none: the queue's content-based deduplication (the convoy's default) applies
   */
  readonly deduplicationId?: IdSelector<T>;
  /**
   * Turns a message into the body sent.
   *
   * @default JSON.stringify
   */
  readonly serialize?: (message: T) => string;
  /**
   * The SQS client.
   *
   * @default - a new `SQSClient` with the environment's configuration
   */
  readonly client?: Pick<SQSClient, 'send'>;
}

/** A message SQS accepted. */
export interface SentConvoyMessage {
  /** Position of the message in the list given. */
  readonly index: number;
  readonly groupId: string;
  readonly messageId: string;
  /** SQS's sequence number: strictly increasing within the group. */
  readonly sequenceNumber?: string;
}

/** SQS limits on one `SendMessageBatch` call. */
const MAX_ENTRIES = LIMIT.sqsMaxBatchEntries;
const MAX_BATCH_BYTES = LIMIT.sqsMaxBatchBytes;
const MAX_ID_LENGTH = 128;
/** Characters SQS allows in group and deduplication ids: alphanumerics and ASCII punctuation. */
const ID_PATTERN = /^[\x21-\x7e]+$/;

/** Reads `path` ('a.b.c') from `value`. */
function readPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function selectId<T>(selector: IdSelector<T>, message: T, index: number, field: 'MessageGroupId' | 'MessageDeduplicationId'): string {
  const raw = typeof selector === 'function' ? selector(message) : readPath(message, selector);
  const source = typeof selector === 'function' ? 'the selector' : `'${selector}'`;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw !== 'string' || raw === '') {
    throw new ConvoyMessageIdError(
      field,
      index,
      `from ${source} must be a non-empty string or a finite number (given ${JSON.stringify(raw) ?? 'undefined'})`,
    );
  }
  if (raw.length > MAX_ID_LENGTH) {
    throw new ConvoyMessageIdError(field, index, `from ${source} must be at most ${MAX_ID_LENGTH} characters (given ${raw.length})`);
  }
  if (!ID_PATTERN.test(raw)) {
    throw new ConvoyMessageIdError(
      field,
      index,
      `from ${source} may only hold letters, digits and ASCII punctuation (given ${JSON.stringify(raw)})`,
    );
  }
  return raw;
}

const fail: Fail = (option, message, value) => {
  throw new SequentialConvoyConfigurationError(option, message, { value });
};

/** An id selector: a non-empty property path or a function. */
function checkSelector(option: string, selector: unknown): void {
  if (typeof selector === 'function') return;
  if (typeof selector !== 'string' || selector.trim() === '' || selector.split('.').some((part) => part === '')) {
    fail(
      option,
      `${option} must be a property path ('entityId', 'order.customer.id') or a function (given ${JSON.stringify(selector) ?? String(selector)})`,
      selector,
    );
  }
}

interface Prepared {
  readonly index: number;
  readonly groupId: string;
  readonly entry: SendMessageBatchRequestEntry;
  readonly bytes: number;
}

/**
 * Sends events to a sequential convoy's FIFO queue, each with its entity as message group.
 *
 * `sendAll` keeps the order given within every group: batches of up to 10 entries (and 1 MiB) are
 * sent one after the other, and sending stops at the first batch SQS refuses part of
 * ({@link ConvoySendError} says what was sent and what was not). Every id is checked before the
 * first message goes out, so a bad `groupBy` sends nothing.
 *
 * @example
 * const producer = new ConvoyProducer<OrderEvent>({ queueUrl, groupBy: 'orderId', deduplicationId: 'eventId' });
 * await producer.sendAll(events);
 */
export class ConvoyProducer<T = unknown> {
  private readonly options: ConvoyProducerOptions<T>;
  private client?: Pick<SQSClient, 'send'>;

  /** @throws SequentialConvoyConfigurationError naming the first invalid option */
  constructor(options: ConvoyProducerOptions<T>) {
    checkUrl(fail, 'queueUrl', options.queueUrl);
    if (!options.queueUrl.endsWith('.fifo')) {
      fail('queueUrl', `queueUrl must be the URL of a FIFO queue (a name ending in .fifo) (given '${options.queueUrl}')`, options.queueUrl);
    }
    checkSelector('groupBy', options.groupBy);
    if (options.deduplicationId !== undefined) checkSelector('deduplicationId', options.deduplicationId);
    checkFunction(fail, 'serialize', options.serialize);
    this.options = options;
    this.client = checkClient(fail, 'client', options.client);
  }

  /**
   * A producer for the queue in the `CONVOY_QUEUE_URL` environment variable, which
   * `SequentialConvoy.connectProducer(fn)` sets.
   *
   * @throws SequentialConvoyConfigurationError when the variable is missing or is no FIFO queue URL
   */
  public static fromEnvironment<T>(options: Omit<ConvoyProducerOptions<T>, 'queueUrl'>): ConvoyProducer<T> {
    return new ConvoyProducer<T>({ ...options, queueUrl: process.env[ENV.convoyQueueUrl] as string });
  }

  /** The message group of `message`. */
  public groupIdOf(message: T, index = 0): string {
    return selectId(this.options.groupBy, message, index, 'MessageGroupId');
  }

  /** Sends one event. */
  public async send(message: T): Promise<SentConvoyMessage> {
    const [sent] = await this.sendAll([message]);
    return sent;
  }

  /** Sends events in order (per group), in as few requests as SQS allows. */
  public async sendAll(messages: readonly T[]): Promise<SentConvoyMessage[]> {
    const prepared = messages.map((m, i) => this.prepare(m, i));
    const sent: SentConvoyMessage[] = [];
    for (const batch of batches(prepared)) {
      const res = await this.sqs().send(
        new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: batch.map((p) => p.entry) }),
      );
      const byId = new Map(batch.map((p) => [p.entry.Id!, p]));
      for (const ok of res.Successful ?? []) {
        const p = byId.get(ok.Id!)!;
        sent.push({ index: p.index, groupId: p.groupId, messageId: ok.MessageId!, sequenceNumber: ok.SequenceNumber });
      }
      if (res.Failed && res.Failed.length > 0) {
        const failures: ConvoySendFailure[] = res.Failed.map((f) => {
          const p = byId.get(f.Id!)!;
          return { index: p.index, groupId: p.groupId, code: f.Code, message: f.Message, senderFault: f.SenderFault ?? false };
        });
        const sentIndexes = new Set(sent.map((s) => s.index));
        const unsent = prepared.filter((p) => !sentIndexes.has(p.index)).map((p) => p.index);
        const outOfOrder = new Set<string>();
        for (const f of failures) {
          if (batch.some((p) => p.groupId === f.groupId && p.index > f.index && sentIndexes.has(p.index))) outOfOrder.add(f.groupId);
        }
        throw new ConvoySendError(
          failures,
          [...sentIndexes].sort((a, b) => a - b),
          unsent,
          [...outOfOrder],
        );
      }
    }
    return sent.sort((a, b) => a.index - b.index);
  }

  private prepare(message: T, index: number): Prepared {
    const groupId = selectId(this.options.groupBy, message, index, 'MessageGroupId');
    const deduplicationId =
      this.options.deduplicationId === undefined
        ? undefined
        : selectId(this.options.deduplicationId, message, index, 'MessageDeduplicationId');
    const body = (this.options.serialize ?? JSON.stringify)(message);
    if (typeof body !== 'string' || body.length === 0) {
      throw new SequentialConvoyError(`message ${index}: serializes to an empty body, which SQS rejects`, {
        retryable: false,
        context: { index },
      });
    }
    return {
      index,
      groupId,
      entry: { Id: String(index), MessageBody: body, MessageGroupId: groupId, MessageDeduplicationId: deduplicationId },
      bytes: Buffer.byteLength(body, 'utf8'),
    };
  }

  private sqs(): Pick<SQSClient, 'send'> {
    this.client ??= new SQSClient({});
    return this.client;
  }
}

/** Consecutive runs of at most 10 entries and 1 MiB: the order given is kept. */
function* batches(prepared: readonly Prepared[]): Generator<Prepared[]> {
  let batch: Prepared[] = [];
  let bytes = 0;
  for (const p of prepared) {
    if (batch.length > 0 && (batch.length === MAX_ENTRIES || bytes + p.bytes > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(p);
    bytes += p.bytes;
  }
  if (batch.length > 0) yield batch;
}
