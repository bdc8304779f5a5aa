import {
  type MessageAttributeValue,
  SQSClient,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { ENV, LIMIT } from '../../../lib/core/wire';
import { type Fail, checkClient, checkInteger, checkPattern, checkString, checkUrl } from '../internal/options';
import { PriorityQueueConfigurationError, UnknownPriorityError } from './errors';
import { PRIORITY_ATTRIBUTE } from './protocol';

export { PRIORITY_ATTRIBUTE } from './protocol';

/** Default environment variable holding the producer's configuration (set by `connectProducer`). */
export const PRIORITY_QUEUE_CONFIG_ENV = ENV.priorityQueueConfig;

/** What SQS allows as a batch entry id. */
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

const fail: Fail = (option, message, value) => {
  throw new PriorityQueueConfigurationError(option, message, { value });
};
/** A `fail` whose messages say where the configuration came from. */
const failIn =
  (source: string): Fail =>
  (option, message, value) => {
    throw new PriorityQueueConfigurationError(option, `${source}: ${message}`, { value });
  };

/** Where each level's messages go: the construct's `producerConfig`. */
export interface PriorityQueueConfig {
  /** The levels, highest priority first. */
  readonly levels: ReadonlyArray<{ readonly name: string; readonly queueUrl: string }>;
  /** The level used when a message names none. */
  readonly defaultLevel: string;
}

/** Options of {@link PriorityQueueProducer.send}. */
export interface PrioritySendOptions {
  /**
   * The level to send to. When absent, the `priority` message attribute decides, else the
   * default level.
   */
  readonly priority?: string;
  /** Message attributes. The `priority` attribute is set to the level the message is sent to. */
  readonly messageAttributes?: Record<string, MessageAttributeValue>;
  /** Delay before the message becomes visible, 0–900 seconds. */
  readonly delaySeconds?: number;
}

/** One message of {@link PriorityQueueProducer.sendBatch}. */
export interface PriorityBatchEntry extends PrioritySendOptions {
  /** Your id for the entry, unique in the call (up to 80 letters, digits, hyphens and underscores). */
  readonly id: string;
  /** The message body. */
  readonly body: string;
}

/** What {@link PriorityQueueProducer.sendBatch} returns. */
export interface PriorityBatchResult {
  readonly successful: ReadonlyArray<{ readonly id: string; readonly priority: string; readonly messageId: string }>;
  readonly failed: ReadonlyArray<{
    readonly id: string;
    readonly priority: string;
    readonly code: string;
    readonly message?: string;
    readonly senderFault: boolean;
  }>;
}

/** Options of {@link PriorityQueueProducer}. */
export interface PriorityQueueProducerOptions {
  readonly config: PriorityQueueConfig;
  /** @default - a new `SQSClient` with the environment's settings */
  readonly client?: SQSClient;
}

/** Parses and checks a producer configuration (the JSON of the construct's `producerConfig`). */
export function parsePriorityQueueConfig(json: string | undefined, source = 'configuration'): PriorityQueueConfig {
  if (!json) {
    throw new PriorityQueueConfigurationError(
      'config',
      `${source} is empty: set it to the PriorityQueue's producerConfig (connectProducer does)`,
      {
        value: json,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new PriorityQueueConfigurationError('config', `${source} is not valid JSON`, { cause, value: json.slice(0, 200) });
  }
  return validateConfig(parsed, source, json);
}

/** Checks a producer configuration already parsed (or given as an object); returns its levels and default level. */
export function checkPriorityQueueConfig(value: unknown, source = 'configuration'): PriorityQueueConfig {
  return validateConfig(value, source);
}

/** `text`: how the configuration is shown in an error (its JSON by default). */
function validateConfig(value: unknown, source: string, text: string = String(JSON.stringify(value))): PriorityQueueConfig {
  const config = value as Partial<PriorityQueueConfig> | null | undefined;
  const levels = config?.levels;
  if (
    !Array.isArray(levels) ||
    levels.length === 0 ||
    !levels.every((l) => typeof l?.name === 'string' && typeof l?.queueUrl === 'string' && l.queueUrl !== '')
  ) {
    throw new PriorityQueueConfigurationError(
      'levels',
      `${source} must list levels as [{ name, queueUrl }, ...] (given ${text.slice(0, 200)})`,
      {
        value: text.slice(0, 200),
      },
    );
  }
  const f = failIn(source);
  const names = new Set<string>();
  levels.forEach((level, i) => {
    checkString(f, `levels[${i}].name`, level.name);
    if (names.has(level.name)) f(`levels[${i}].name`, `level '${level.name}' is listed twice`, level.name);
    names.add(level.name);
  });
  const defaultLevel = typeof config!.defaultLevel === 'string' ? config!.defaultLevel : levels[Math.floor((levels.length - 1) / 2)].name;
  if (!levels.some((l) => l.name === defaultLevel)) {
    throw new PriorityQueueConfigurationError('defaultLevel', `${source}: defaultLevel '${defaultLevel}' is not one of the levels`, {
      value: defaultLevel,
    });
  }
  levels.forEach((level, i) => checkUrl(f, `levels[${i}].queueUrl`, level.queueUrl));
  // A copy: the producer's configuration does not change when the caller's object does.
  return { levels: levels.map((l) => ({ ...l })), defaultLevel };
}

/**
 * Sends messages to a priority queue's levels: each message goes to the queue of its priority
 * (the `priority` option, else its `priority` message attribute, else the default level) and
 * carries that level in its `priority` message attribute.
 *
 * @example
 * const jobs = PriorityQueueProducer.fromEnvironment();
 * await jobs.send(JSON.stringify(job), { priority: 'high' });
 */
export class PriorityQueueProducer {
  /** The configuration in use. */
  public readonly config: PriorityQueueConfig;
  private readonly urls: Map<string, string>;
  private clientInstance?: SQSClient;

  constructor(options: PriorityQueueProducerOptions) {
    this.config = checkPriorityQueueConfig(options.config);
    this.urls = new Map(this.config.levels.map((l) => [l.name, l.queueUrl]));
    this.clientInstance = checkClient(fail, 'client', options.client);
  }

  /** A producer configured from an environment variable holding the construct's `producerConfig`. */
  public static fromEnvironment(variable: string = PRIORITY_QUEUE_CONFIG_ENV, client?: SQSClient): PriorityQueueProducer {
    checkString(fail, 'variable', variable, ': the name of the environment variable holding the configuration');
    return new PriorityQueueProducer({
      config: parsePriorityQueueConfig(process.env[variable], `environment variable ${variable}`),
      client,
    });
  }

  /** Level names, highest priority first. */
  public get levels(): string[] {
    return this.config.levels.map((l) => l.name);
  }

  /**
   * The level a message with these options goes to; throws {@link UnknownPriorityError}, or
   * {@link PriorityQueueConfigurationError} for a `delaySeconds` SQS would refuse.
   */
  public resolvePriority(options: PrioritySendOptions = {}): string {
    if (options.delaySeconds !== undefined) checkInteger(fail, 'delaySeconds', options.delaySeconds, 0, LIMIT.sqsMaxDelaySeconds);
    const priority = options.priority ?? options.messageAttributes?.[PRIORITY_ATTRIBUTE]?.StringValue ?? this.config.defaultLevel;
    if (!this.urls.has(priority)) throw new UnknownPriorityError(priority, this.levels);
    return priority;
  }

  /** The queue URL of a level; throws {@link UnknownPriorityError}. */
  public queueUrlOf(priority: string): string {
    const url = this.urls.get(priority);
    if (url === undefined) throw new UnknownPriorityError(priority, this.levels);
    return url;
  }

  /** Sends one message to the queue of its level. */
  public async send(body: string, options: PrioritySendOptions = {}): Promise<{ messageId: string; priority: string }> {
    const priority = this.resolvePriority(options);
    const res = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrlOf(priority),
        MessageBody: body,
        DelaySeconds: options.delaySeconds,
        MessageAttributes: withPriority(options.messageAttributes, priority),
      }),
    );
    return { messageId: res.MessageId ?? '', priority };
  }

  /**
   * Sends many messages, grouped by level in batches of 10. Every priority is checked before
   * anything is sent; entries SQS rejects are returned in `failed` (retry them).
   */
  public async sendBatch(entries: readonly PriorityBatchEntry[]): Promise<PriorityBatchResult> {
    const byLevel = new Map<string, Array<SendMessageBatchRequestEntry & { Id: string }>>();
    const seen = new Set<string>();
    for (const entry of entries) {
      checkPattern(fail, 'id', entry.id, ENTRY_ID, 'up to 80 letters, digits, hyphens and underscores');
      if (seen.has(entry.id)) fail('id', `sendBatch: entry id '${entry.id}' is used more than once`, entry.id);
      seen.add(entry.id);
      const priority = this.resolvePriority(entry);
      const list = byLevel.get(priority) ?? [];
      list.push({
        Id: entry.id,
        MessageBody: entry.body,
        DelaySeconds: entry.delaySeconds,
        MessageAttributes: withPriority(entry.messageAttributes, priority),
      });
      byLevel.set(priority, list);
    }
    const successful: Array<PriorityBatchResult['successful'][number]> = [];
    const failed: Array<PriorityBatchResult['failed'][number]> = [];
    const requests: Array<Promise<void>> = [];
    for (const [priority, list] of byLevel) {
      for (let i = 0; i < list.length; i += 10) {
        const chunk = list.slice(i, i + 10);
        requests.push(
          this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrlOf(priority), Entries: chunk })).then(
            (res) => {
              for (const s of res.Successful ?? []) successful.push({ id: s.Id!, priority, messageId: s.MessageId! });
              for (const f of res.Failed ?? [])
                failed.push({ id: f.Id!, priority, code: f.Code ?? 'Unknown', message: f.Message, senderFault: f.SenderFault ?? false });
            },
            (error: unknown) => {
              const e = error instanceof Error ? error : new Error(String(error));
              for (const c of chunk) failed.push({ id: c.Id, priority, code: e.name, message: e.message, senderFault: false });
            },
          ),
        );
      }
    }
    await Promise.all(requests);
    return { successful, failed };
  }

  private get client(): SQSClient {
    this.clientInstance ??= new SQSClient({});
    return this.clientInstance;
  }
}

function withPriority(
  attributes: Record<string, MessageAttributeValue> | undefined,
  priority: string,
): Record<string, MessageAttributeValue> {
  return { ...attributes, [PRIORITY_ATTRIBUTE]: { DataType: 'String', StringValue: priority } };
}
