import { MalformedBrokerMessageError, UnsupportedBrokerEventError } from './errors';

/** The AMQP 0-9-1 properties of a RabbitMQ message, as the event delivers them. */
export interface RabbitMqBasicProperties {
  readonly contentType?: string | null;
  readonly contentEncoding?: string | null;
  /** Headers: a text value arrives as `{ "bytes": [...] }`, numbers and booleans as they are. */
  readonly headers?: { readonly [name: string]: unknown } | null;
  readonly deliveryMode?: number | null;
  readonly priority?: number | null;
  readonly correlationId?: string | null;
  readonly replyTo?: string | null;
  readonly expiration?: string | null;
  readonly messageId?: string | null;
  /** E.g. `Nov 14, 2023, 10:13:20 PM` (UTC). */
  readonly timestamp?: string | null;
  readonly type?: string | null;
  readonly userId?: string | null;
  readonly appId?: string | null;
  readonly clusterId?: string | null;
  readonly bodySize?: number;
}

/** One RabbitMQ message of an `aws:rmq` event. */
export interface RabbitMqEventMessage {
  readonly basicProperties: RabbitMqBasicProperties;
  readonly redelivered: boolean;
  /** Base64. */
  readonly data: string;
}

/** The event of a RabbitMQ event source mapping: messages by `<queue>::<virtual host>`. */
export interface RabbitMqEvent {
  readonly eventSource: 'aws:rmq';
  readonly eventSourceArn: string;
  readonly rmqMessagesByQueue: { readonly [queueAndVhost: string]: RabbitMqEventMessage[] };
}

/** One ActiveMQ message of an `aws:amq` event. */
export interface ActiveMqEventMessage {
  readonly messageID: string;
  /** `jms/text-message` or `jms/bytes-message`. */
  readonly messageType: string;
  /** Base64. */
  readonly data: string;
  readonly redelivered: boolean;
  readonly destination?: { readonly physicalName: string };
  readonly timestamp?: number;
  readonly brokerInTime?: number;
  readonly brokerOutTime?: number;
  readonly deliveryMode?: number;
  readonly persistent?: boolean;
  readonly priority?: number;
  readonly expiration?: number;
  readonly correlationID?: string;
  readonly replyTo?: string;
  readonly type?: string;
  readonly connectionId?: string;
  readonly properties?: { readonly [name: string]: unknown };
}

/** The event of an ActiveMQ event source mapping. */
export interface ActiveMqEvent {
  readonly eventSource: 'aws:amq';
  readonly eventSourceArn: string;
  readonly messages: ActiveMqEventMessage[];
}

/** The event of an Amazon MQ event source mapping (RabbitMQ or ActiveMQ). */
export type BrokerEvent = RabbitMqEvent | ActiveMqEvent;

/** One message of a RabbitMQ or ActiveMQ batch, in one shape. */
export interface BrokerMessage {
  /** `aws:rmq` (RabbitMQ) or `aws:amq` (ActiveMQ). */
  readonly source: 'aws:rmq' | 'aws:amq';
  /** The broker's ARN. */
  readonly eventSourceArn: string;
  /** The queue the message was read from. */
  readonly queue: string;
  /** RabbitMQ: the queue's virtual host. */
  readonly vhost?: string;
  /**
   * The message's id: RabbitMQ's `messageId` property (set by the producer; absent unless it set
   * one), ActiveMQ's `messageID` (JMS, assigned when the message is sent). The same on every
   * redelivery.
   */
  readonly id?: string;
  /** `id`, or `<queue>#<position>` for a message without one: for logs, not for idempotency. */
  readonly messageId: string;
  /**
   * The key the idempotency library uses by default (`defaultIdempotencyKey` reads an object's
   * `idempotencyKey`): `id`. A RabbitMQ message without a `messageId` has none, and the idempotency
   * library fails it (`IdempotencyKeyError`): publish with a `messageId`, or give the library a
   * `keySelector`.
   */
  readonly idempotencyKey?: string;
  /** Its position in the batch, from 0. */
  readonly position: number;
  /** True when the broker delivered the message before (a failed batch, a consumer that crashed before acknowledging). */
  readonly redelivered: boolean;
  /** The body, base64-decoded. */
  readonly data: Buffer;
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly priority?: number;
  /** When the message was sent, epoch milliseconds (RabbitMQ's `timestamp` property has whole seconds). */
  readonly timestamp?: number;
  /** 2 for persistent messages, 1 for transient ones. */
  readonly deliveryMode?: number;
  /** The message's type (RabbitMQ's `type` property, JMS `JMSType`). */
  readonly type?: string;
  /** RabbitMQ's headers (text values decoded from their bytes) or ActiveMQ's properties. */
  readonly properties: { readonly [name: string]: unknown };
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; throws {@link MalformedBrokerMessageError} when it is not JSON. */
  json<T = unknown>(): T;
  /** A header or property as text (numbers and booleans converted); undefined when there is none. */
  header(name: string): string | undefined;
  /** The message as the event delivered it. */
  readonly message: RabbitMqEventMessage | ActiveMqEventMessage;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RABBIT_TIMESTAMP = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})\s?(AM|PM)$/;

/** RabbitMQ's `timestamp` as Lambda formats it (`Nov 14, 2023, 10:13:20 PM`, UTC), in epoch milliseconds. */
export function rabbitMqTimestamp(text: string | null | undefined): number | undefined {
  const m = RABBIT_TIMESTAMP.exec((text ?? '').replace(/\u202f/g, ' ').trim());
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]);
  if (month < 0) return undefined;
  const hour = (Number(m[4]) % 12) + (m[7] === 'PM' ? 12 : 0);
  return Date.UTC(Number(m[3]), month, Number(m[2]), hour, Number(m[5]), Number(m[6]));
}

/** A RabbitMQ header value: `{ bytes: [...] }` as text, anything else as it is. */
function headerValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && Array.isArray((value as { bytes?: unknown }).bytes)) {
    return Buffer.from((value as { bytes: number[] }).bytes).toString('utf8');
  }
  return value;
}

const orUndefined = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function message(fields: Omit<BrokerMessage, 'text' | 'json' | 'header'>): BrokerMessage {
  return {
    ...fields,
    text: () => fields.data.toString('utf8'),
    json<T>(): T {
      try {
        return JSON.parse(fields.data.toString('utf8')) as T;
      } catch (cause) {
        throw new MalformedBrokerMessageError(
          fields.messageId,
          `message ${fields.messageId} of queue ${fields.queue} does not hold valid JSON`,
          {
            cause,
          },
        );
      }
    },
    header(name: string): string | undefined {
      const v = fields.properties[name];
      if (v === undefined || v === null) return undefined;
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    },
  };
}

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : v === null ? 'null' : typeof v);

/**
 * Every message of a RabbitMQ (`aws:rmq`) or ActiveMQ (`aws:amq`) batch, in one shape: `source`,
 * `queue`, `vhost` (RabbitMQ), `id`, `redelivered`, `data` (base64-decoded), `text()`, `json()`,
 * headers or properties. RabbitMQ's `rmqMessagesByQueue` is keyed `<queue>::<virtual host>`; its
 * text headers arrive as bytes and are decoded here.
 *
 * @throws UnsupportedBrokerEventError when the event is neither
 *
 * @example
 * for (const m of brokerMessages(event)) console.log(m.queue, m.id, m.redelivered, m.json());
 */
export function brokerMessages(event: BrokerEvent): BrokerMessage[] {
  const e = event as unknown as
    | {
        eventSource?: unknown;
        eventSourceArn?: string;
        rmqMessagesByQueue?: RabbitMqEvent['rmqMessagesByQueue'];
        messages?: ActiveMqEventMessage[];
      }
    | null
    | undefined;
  if (e?.eventSource === 'aws:rmq') {
    const byQueue = e.rmqMessagesByQueue;
    if (typeof byQueue !== 'object' || byQueue === null || !Object.values(byQueue).every(Array.isArray)) {
      throw new UnsupportedBrokerEventError('the aws:rmq event has no rmqMessagesByQueue map of arrays');
    }
    const out: BrokerMessage[] = [];
    for (const [key, messages] of Object.entries(byQueue)) {
      const at = key.lastIndexOf('::');
      const queue = at < 0 ? key : key.slice(0, at);
      const vhost = at < 0 ? '/' : key.slice(at + 2);
      for (const m of messages) {
        const p = m.basicProperties ?? {};
        const position = out.length;
        const id = orUndefined(p.messageId) || undefined;
        const properties: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(p.headers ?? {})) properties[name] = headerValue(value);
        out.push(
          message({
            source: 'aws:rmq',
            eventSourceArn: e.eventSourceArn ?? '',
            queue,
            vhost,
            ...(id === undefined ? {} : { id, idempotencyKey: id }),
            messageId: id ?? `${queue}#${position}`,
            position,
            redelivered: m.redelivered === true,
            data: Buffer.from(m.data ?? '', 'base64'),
            contentType: orUndefined(p.contentType),
            correlationId: orUndefined(p.correlationId),
            replyTo: orUndefined(p.replyTo),
            priority: orUndefined(p.priority),
            timestamp: rabbitMqTimestamp(p.timestamp),
            deliveryMode: orUndefined(p.deliveryMode),
            type: orUndefined(p.type),
            properties,
            message: m,
          }),
        );
      }
    }
    return out;
  }
  if (e?.eventSource === 'aws:amq') {
    if (!Array.isArray(e.messages)) throw new UnsupportedBrokerEventError('the aws:amq event has no messages array');
    return e.messages.map((m, position) => {
      const queue = m.destination?.physicalName ?? '';
      const id = m.messageID || undefined;
      return message({
        source: 'aws:amq',
        eventSourceArn: e.eventSourceArn ?? '',
        queue,
        ...(id === undefined ? {} : { id, idempotencyKey: id }),
        messageId: id ?? `${queue}#${position}`,
        position,
        redelivered: m.redelivered === true,
        data: Buffer.from(m.data ?? '', 'base64'),
        correlationId: m.correlationID,
        replyTo: m.replyTo,
        priority: m.priority,
        timestamp: m.timestamp,
        deliveryMode: m.deliveryMode,
        type: m.type,
        properties: { ...(m.properties ?? {}) },
        message: m,
      });
    });
  }
  throw new UnsupportedBrokerEventError(
    `the event comes from ${show(e?.eventSource)}, not from an Amazon MQ event source mapping (aws:rmq, aws:amq)`,
    { context: { eventSource: e?.eventSource } },
  );
}
