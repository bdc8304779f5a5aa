import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';
import { LIMIT, SHARED_DEFAULT } from '../../../lib/core/wire';
import { type RuntimeLogger, errorFields, resolveLogger } from '../internal/logger';
import {
  type Fail,
  checkClient,
  checkFunction,
  checkInteger,
  checkLogger,
  checkNumber,
  checkPattern,
  checkUrl,
  numberFromEnvironment,
} from '../internal/options';
import { ReplyQueueLostError, RequestRejectedError, RequestReplyError, RequestTimeoutError } from './errors';
import {
  CORRELATION_ID_ATTRIBUTE,
  EXPIRES_AT_ATTRIBUTE,
  HEARTBEAT_TAG,
  REPLY_QUEUE_IDLE_TIMEOUT_ENV,
  REPLY_QUEUE_PREFIX_ENV,
  REPLY_QUEUE_PREFIX_PATTERN,
  REPLY_QUEUE_PREFIX_RULE,
  REPLY_STATUS_ATTRIBUTE,
  REPLY_TO_ATTRIBUTE,
  REQUEST_QUEUE_ARN_ENV,
  REQUEST_QUEUE_URL_ENV,
  failRequestReplyOption as fail,
  isQueueGone,
  parseQueueArn,
} from './protocol';

/** Options of {@link SqsRequester}. */
export interface SqsRequesterOptions {
  /** URL of the request queue. */
  readonly requestQueueUrl: string;
  /** ARN of the request queue (its partition, region and account name the reply queue). */
  readonly requestQueueArn: string;
  /** Name prefix of reply queues; the construct grants the requester rights on `<prefix>*` only. */
  readonly replyQueuePrefix: string;
  /**
   * How long a reply queue may sit unused before the reaper deletes it, in seconds. The requester
   * refreshes its heartbeat tag when a quarter of this has passed.
   *
   * @default 3600
   */
  readonly replyQueueIdleTimeoutSeconds?: number;
  /**
   * Timeout of a request without its own, in milliseconds.
   *
   * @default 10000
   */
  readonly defaultTimeoutMs?: number;
  /**
   * How long SQS keeps an unread reply, in seconds (a whole number, 60–1209600): replies nobody
   * reads expire.
   *
   * @default 300
   */
  readonly replyRetentionSeconds?: number;
  /**
   * How long a new reply queue rests before its first use, in milliseconds: SQS asks to wait a
   * second after creating a queue before using it.
   *
   * @default 1000
   */
  readonly newQueueDelayMs?: number;
  /** @default - a client from the environment */
  readonly client?: SQSClient;
  /**
   * Where dropped replies and polling errors are logged (a Powertools `Logger`, `console`...).
   * `null` turns logging off.
   *
   * @default - the run-time library's shared Powertools `Logger`
   */
  readonly logger?: RuntimeLogger | null;
  /** Called for every reply dropped because no request waits for it. */
  readonly onDroppedReply?: (reply: DroppedReply) => void;
}

/** Options of one request. */
export interface RequestOptions {
  /** @default - the requester's defaultTimeoutMs */
  readonly timeoutMs?: number;
  /** Further string message attributes for the request (at most 7: the protocol uses 3 of SQS's 10). */
  readonly attributes?: Record<string, string>;
}

/** A reply dropped because no request waits for it. */
export interface DroppedReply {
  readonly correlationId?: string;
  /**
   * `expired`: its request timed out; `duplicate`: its request was already answered (SQS delivers
   * at least once, so a responder can answer twice); `unknown`: no request of this requester had
   * that id.
   */
  readonly reason: 'expired' | 'duplicate' | 'unknown';
  readonly messageId?: string;
}

/** Counters, for logs and metrics. */
export interface RequesterStats {
  sent: number;
  replied: number;
  rejected: number;
  timedOut: number;
  dropped: number;
  replyQueuesCreated: number;
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  deadline: number;
}

interface ReplyQueue {
  url: string;
  createdAt: number;
  heartbeatAt: number;
}

const RECENT_IDS_KEPT = 1000;
/** SQS allows 10 message attributes; the protocol uses 3. */
const MAX_REQUEST_ATTRIBUTES = 7;
const PROTOCOL_ATTRIBUTES: readonly string[] = [CORRELATION_ID_ATTRIBUTE, REPLY_TO_ATTRIBUTE, EXPIRES_AT_ATTRIBUTE, REPLY_STATUS_ATTRIBUTE];
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_REPLY_RETENTION_SECONDS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const checkIdleTimeout = (f: Fail, option: string, seconds: unknown): number =>
  checkNumber(f, option, seconds, { min: 0, rule: 'a positive number of seconds' });
const checkTimeout = (option: string, timeoutMs: unknown, idleMs: number): number => {
  checkNumber(fail, option, timeoutMs, { min: 0, rule: 'positive, in milliseconds' });
  if ((timeoutMs as number) > idleMs / 2) {
    fail(
      option,
      `${option} must be at most half the reply queue idle timeout (${idleMs / 2} ms), or the reaper could delete the queue while the request waits (given ${timeoutMs})`,
      timeoutMs,
    );
  }
  return timeoutMs as number;
};

/**
 * The requester side of request-reply over SQS: sends a request with a correlation id and the URL
 * of its own reply queue, and resolves with the reply, or rejects with a typed error
 * ({@link RequestTimeoutError}, {@link RequestRejectedError}, {@link ReplyQueueLostError}).
 *
 * One reply queue per requester instance (per Lambda execution environment or process), created on
 * first use under the construct's name prefix and reused for every request of the instance, read
 * by this instance only: a reply is never seen by another requester, and a reply whose correlation
 * id no request of this instance waits for (it timed out, or it is a duplicate) is dropped with a
 * log, never handed to another request. The queue is long-polled only while requests wait; idle
 * queues are deleted by the construct's reaper (or by {@link close}).
 *
 * @example
 * const requester = SqsRequester.fromEnvironment();          // at init, reused across invocations
 * export const handler = async (event) => {
 *   const quote = await requester.request<QuoteRequest, Quote>({ sku: event.sku }, { timeoutMs: 5000 });
 *   ...
 * };
 */
export class SqsRequester {
  /**
   * A requester configured by the variables `RequestReply.connectRequester(fn)` sets; `options`
   * override them.
   *
   * @throws RequestReplyConfigurationError naming a variable that is not set or malformed
   */
  public static fromEnvironment(options: Partial<SqsRequesterOptions> = {}): SqsRequester {
    const env = (name: string, given: string | undefined, check: (f: Fail, option: string, value: string) => unknown) => {
      if (given !== undefined) return given;
      const value = process.env[name];
      if (!value) {
        fail(name, `${name} is not set: add the function as a requester (RequestReply.connectRequester) or pass the options`, value);
      }
      check(fail, name, value);
      return value;
    };
    const replyQueueIdleTimeoutSeconds =
      options.replyQueueIdleTimeoutSeconds ??
      numberFromEnvironment(fail, REPLY_QUEUE_IDLE_TIMEOUT_ENV, (f, v) => checkIdleTimeout(f, REPLY_QUEUE_IDLE_TIMEOUT_ENV, v));
    return new SqsRequester({
      ...options,
      requestQueueUrl: env(REQUEST_QUEUE_URL_ENV, options.requestQueueUrl, checkUrl),
      requestQueueArn: env(REQUEST_QUEUE_ARN_ENV, options.requestQueueArn, (_f, option, value) => parseQueueArn(value, option)),
      replyQueuePrefix: env(REPLY_QUEUE_PREFIX_ENV, options.replyQueuePrefix, (f, option, value) =>
        checkPattern(f, option, value, REPLY_QUEUE_PREFIX_PATTERN, REPLY_QUEUE_PREFIX_RULE),
      ),
      replyQueueIdleTimeoutSeconds,
    });
  }

  public readonly stats: RequesterStats = { sent: 0, replied: 0, rejected: 0, timedOut: 0, dropped: 0, replyQueuesCreated: 0 };
  private readonly client: SQSClient;
  private readonly logger: RuntimeLogger | null;
  /** The reply queue idle timeout, in milliseconds. */
  private readonly idleMs: number;
  private readonly pending = new Map<string, Waiter>();
  private readonly expired = new Set<string>();
  private readonly answered = new Set<string>();
  private queue?: Promise<ReplyQueue>;
  private polling = false;
  private closed = false;

  /** @throws RequestReplyConfigurationError naming the first invalid option */
  constructor(private readonly options: SqsRequesterOptions) {
    checkUrl(fail, 'requestQueueUrl', options.requestQueueUrl);
    parseQueueArn(options.requestQueueArn, 'requestQueueArn');
    checkPattern(fail, 'replyQueuePrefix', options.replyQueuePrefix, REPLY_QUEUE_PREFIX_PATTERN, REPLY_QUEUE_PREFIX_RULE);
    const idleSeconds = checkIdleTimeout(
      fail,
      'replyQueueIdleTimeoutSeconds',
      options.replyQueueIdleTimeoutSeconds ?? SHARED_DEFAULT.replyQueueIdleTimeoutSeconds,
    );
    this.idleMs = idleSeconds * 1000;
    if (options.defaultTimeoutMs !== undefined) checkTimeout('defaultTimeoutMs', options.defaultTimeoutMs, this.idleMs);
    if (options.replyRetentionSeconds !== undefined) {
      checkInteger(
        fail,
        'replyRetentionSeconds',
        options.replyRetentionSeconds,
        LIMIT.sqsMinRetentionSeconds,
        LIMIT.sqsMaxRetentionSeconds,
      );
    }
    if (options.newQueueDelayMs !== undefined) checkNumber(fail, 'newQueueDelayMs', options.newQueueDelayMs, { min: 0, inclusive: true });
    checkFunction(fail, 'onDroppedReply', options.onDroppedReply);
    this.client = checkClient(fail, 'client', options.client) ?? new SQSClient({});
    this.logger = resolveLogger(checkLogger(fail, 'logger', options.logger));
  }

  /** The URL of this instance's reply queue, once created. */
  public async replyQueueUrl(): Promise<string> {
    return (await this.ensureQueue()).url;
  }

  /**
   * Creates the reply queue ahead of the first request (call it during initialisation): SQS asks
   * to wait a second after creating a queue before using it, which the first request otherwise pays.
   */
  public async start(): Promise<void> {
    await this.ensureQueue();
  }

  /** Number of requests waiting for a reply. */
  public get waiting(): number {
    return this.pending.size;
  }

  /**
   * Sends `payload` as a request and resolves with the reply's payload.
   *
   * @throws RequestTimeoutError when no reply arrives within the timeout
   * @throws RequestRejectedError when the responder rejects the request
   * @throws ReplyQueueLostError when the reply queue is deleted while the request waits
   * @throws RequestReplyConfigurationError when `timeoutMs` or `attributes` are invalid (nothing is sent)
   */
  public async request<TRequest = unknown, TReply = unknown>(payload: TRequest, options: RequestOptions = {}): Promise<TReply> {
    if (this.closed) throw new RequestReplyError('the requester is closed', { retryable: false });
    const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS, this.idleMs);
    checkRequestAttributes(options.attributes);
    const queue = await this.readyQueue();
    const correlationId = randomUUID();
    const deadline = Date.now() + timeoutMs;

    // Register before sending: a fast reply must find its waiter.
    const reply = new Promise<TReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(correlationId)) return;
        this.remember(correlationId);
        this.stats.timedOut += 1;
        reject(new RequestTimeoutError(correlationId, timeoutMs));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve: resolve as (v: unknown) => void, reject, timer, deadline });
    });

    const attributes: Record<string, MessageAttributeValue> = {
      [CORRELATION_ID_ATTRIBUTE]: { DataType: 'String', StringValue: correlationId },
      [REPLY_TO_ATTRIBUTE]: { DataType: 'String', StringValue: queue.url },
      [EXPIRES_AT_ATTRIBUTE]: { DataType: 'Number', StringValue: String(deadline) },
    };
    for (const [k, v] of Object.entries(options.attributes ?? {})) attributes[k] = { DataType: 'String', StringValue: v };
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.options.requestQueueUrl,
          MessageBody: JSON.stringify(payload ?? null),
          MessageAttributes: attributes,
        }),
      );
      this.stats.sent += 1;
    } catch (error) {
      const waiter = this.pending.get(correlationId);
      this.pending.delete(correlationId);
      if (waiter) clearTimeout(waiter.timer);
      throw error;
    }
    this.startPolling();
    return reply;
  }

  /**
   * Deletes the reply queue and rejects requests still waiting. Call it when a process shuts down;
   * in Lambda, where there is no shutdown hook, the construct's reaper deletes idle queues.
   */
  public async close(): Promise<void> {
    this.closed = true;
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new RequestReplyError(`the requester was closed while request ${id} waited`, { context: { correlationId: id } }));
    }
    this.pending.clear();
    const queue = this.queue;
    this.queue = undefined;
    if (!queue) return;
    const url = (await queue.catch(() => undefined))?.url;
    if (url)
      await this.client.send(new DeleteQueueCommand({ QueueUrl: url })).catch((e: unknown) => {
        if (!isQueueGone(e)) throw e;
      });
  }

  private ensureQueue(): Promise<ReplyQueue> {
    this.queue ??= this.createQueue().catch((error: unknown) => {
      this.queue = undefined;
      throw error;
    });
    return this.queue;
  }

  /** The reply queue, created if needed, at least a second old, with a fresh heartbeat. */
  private async readyQueue(): Promise<ReplyQueue> {
    let queue = await this.ensureQueue();
    if (Date.now() - queue.heartbeatAt > this.idleMs / 4) {
      try {
        await this.client.send(
          new TagQueueCommand({ QueueUrl: queue.url, Tags: { [HEARTBEAT_TAG]: String(Math.floor(Date.now() / 1000)) } }),
        );
        queue.heartbeatAt = Date.now();
      } catch (error) {
        if (!isQueueGone(error)) throw error;
        this.queue = undefined; // reaped while idle: make a new one
        queue = await this.ensureQueue();
      }
    }
    const rest = (this.options.newQueueDelayMs ?? 1000) - (Date.now() - queue.createdAt);
    if (rest > 0) await sleep(rest); // SQS: wait a second after creating a queue before using it
    return queue;
  }

  private async createQueue(): Promise<ReplyQueue> {
    const { partition, region, account } = parseQueueArn(this.options.requestQueueArn);
    const name = `${this.options.replyQueuePrefix}${randomBytes(8).toString('hex')}`;
    const arn = `arn:${partition}:sqs:${region}:${account}:${name}`;
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:*',
          Resource: arn,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    };
    const res = await this.client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          SqsManagedSseEnabled: 'true',
          MessageRetentionPeriod: String(this.options.replyRetentionSeconds ?? DEFAULT_REPLY_RETENTION_SECONDS),
          VisibilityTimeout: '30',
          Policy: JSON.stringify(policy),
        },
        tags: { [HEARTBEAT_TAG]: String(Math.floor(Date.now() / 1000)) },
      }),
    );
    this.stats.replyQueuesCreated += 1;
    const now = Date.now();
    return { url: res.QueueUrl!, createdAt: now, heartbeatAt: now };
  }

  /** Keeps the last ids of timed-out (or answered) requests, to say why a stray reply is dropped. */
  private remember(correlationId: string, set: Set<string> = this.expired): void {
    set.add(correlationId);
    if (set.size > RECENT_IDS_KEPT) set.delete(set.values().next().value!);
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    void this.poll().finally(() => {
      this.polling = false;
      // A request may have started between the loop's last check and now.
      if (this.pending.size > 0 && this.queue) this.startPolling();
    });
  }

  /** Long-polls the reply queue while requests wait, and hands each reply to its request. */
  private async poll(): Promise<void> {
    while (this.pending.size > 0 && this.queue) {
      const queue = await this.queue;
      const earliest = Math.min(...[...this.pending.values()].map((w) => w.deadline));
      // Never poll past the earliest deadline: no receive is left in flight when the last request ends.
      const waitSeconds = Math.max(1, Math.min(20, Math.ceil((earliest - Date.now()) / 1000)));
      let messages: Message[];
      try {
        const res = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: waitSeconds,
            MessageAttributeNames: ['All'],
          }),
        );
        messages = res.Messages ?? [];
      } catch (error) {
        if (isQueueGone(error)) {
          this.queue = undefined;
          for (const [id, waiter] of this.pending) {
            clearTimeout(waiter.timer);
            waiter.reject(new ReplyQueueLostError(id, { cause: error }));
          }
          this.pending.clear();
          return;
        }
        this.logger?.warn('receiving replies failed; retrying', { queueUrl: queue.url, ...errorFields(error) });
        await sleep(500);
        continue;
      }
      if (messages.length > 0) {
        // Delete before handing replies over: a Lambda handler may return (and its environment
        // freeze) as soon as its reply arrives, and an undeleted reply would come back.
        await this.client
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: queue.url,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          )
          .catch((error: unknown) => this.logger?.warn('deleting replies failed', { queueUrl: queue.url, ...errorFields(error) }));
      }
      for (const m of messages) this.dispatch(m);
    }
  }

  private dispatch(m: Message): void {
    const correlationId = m.MessageAttributes?.[CORRELATION_ID_ATTRIBUTE]?.StringValue;
    const waiter = correlationId !== undefined ? this.pending.get(correlationId) : undefined;
    if (!waiter || correlationId === undefined) {
      const dropped: DroppedReply = {
        correlationId,
        reason:
          correlationId === undefined
            ? 'unknown'
            : this.expired.has(correlationId)
              ? 'expired'
              : this.answered.has(correlationId)
                ? 'duplicate'
                : 'unknown',
        messageId: m.MessageId,
      };
      this.stats.dropped += 1;
      this.logger?.warn('reply dropped: no request waits for it', { ...dropped });
      this.options.onDroppedReply?.(dropped);
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(waiter.timer);
    this.remember(correlationId, this.answered);
    let body: unknown;
    try {
      body = JSON.parse(m.Body ?? 'null');
    } catch (cause) {
      waiter.reject(
        new RequestReplyError(`the reply to request ${correlationId} is not valid JSON`, {
          cause,
          retryable: false,
          context: { correlationId },
        }),
      );
      return;
    }
    if (m.MessageAttributes?.[REPLY_STATUS_ATTRIBUTE]?.StringValue === 'error') {
      const e = (body ?? {}) as { name?: string; message?: string };
      this.stats.rejected += 1;
      waiter.reject(new RequestRejectedError(correlationId, e.name ?? 'Error', e.message ?? ''));
      return;
    }
    this.stats.replied += 1;
    waiter.resolve(body);
  }
}

/** Checks a request's further attributes: at most 7 strings, none named like the protocol's own. */
function checkRequestAttributes(attributes: Record<string, string> | undefined): void {
  if (attributes === undefined) return;
  if (typeof attributes !== 'object' || attributes === null) fail('attributes', 'attributes must be an object of strings', attributes);
  const names = Object.keys(attributes);
  if (names.length > MAX_REQUEST_ATTRIBUTES) {
    fail(
      'attributes',
      `attributes must hold at most ${MAX_REQUEST_ATTRIBUTES} attributes (the protocol uses 3 of SQS's 10) (given ${names.length})`,
      names,
    );
  }
  for (const name of names) {
    if (PROTOCOL_ATTRIBUTES.includes(name))
      fail('attributes', `attributes must not set the protocol's own ${name} (given '${name}')`, name);
    if (typeof attributes[name] !== 'string')
      fail(`attributes.${name}`, `attributes.${name} must be a string (given ${typeof attributes[name]})`, attributes[name]);
  }
}
