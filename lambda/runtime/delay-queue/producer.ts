import { createHash, randomUUID } from 'node:crypto';
import {
  ActionAfterCompletion,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  FlexibleTimeWindowMode,
  GetScheduleCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ENV, LIMIT } from '../../../lib/core/wire';
import {
  type Fail,
  checkClient,
  checkFunction,
  checkInteger,
  checkNumber,
  checkPattern,
  checkQueueArn,
  checkRoleArn,
  checkString,
  checkUrl,
} from '../internal/options';
import { DelayQueueConfigurationError, InvalidDelayError, ScheduleConflictError } from './errors';

/** Longest delay SQS applies itself (`DelaySeconds`). */
export const SQS_MAX_DELAY_SECONDS = LIMIT.sqsMaxDelaySeconds;
/** A schedule fires at least this far out. */
export const MIN_SCHEDULE_LEAD_SECONDS = 60;
/** Longest delay the producer accepts: a year. */
export const MAX_DELAY_SECONDS = LIMIT.delayQueueMaxDelaySeconds;
/** Default environment variable holding the producer's configuration (set by `connectProducer`). */
export const DELAY_QUEUE_CONFIG_ENV = ENV.delayQueueConfig;

/** EventBridge Scheduler's schedule group names. */
const SCHEDULE_GROUP_NAME = /^[0-9a-zA-Z_.-]{1,64}$/;

const fail: Fail = (option, message, value) => {
  throw new DelayQueueConfigurationError(option, message, { value });
};
/** A `fail` whose messages say where the configuration came from. */
const failIn =
  (source: string): Fail =>
  (option, message, value) => {
    throw new DelayQueueConfigurationError(option, `${source}: ${message}`, { value });
  };

/** The construct's `producerConfig`. */
export interface DelayQueueConfig {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly scheduleGroupName: string;
  readonly schedulerRoleArn: string;
  /** The schedules' dead-letter queue. */
  readonly deadLetterQueueArn: string;
  readonly retryAttempts: number;
  readonly maxEventAgeSeconds: number;
  /** The queue's own delivery delay, added by SQS to scheduled messages: schedules fire this much earlier. */
  readonly queueDelaySeconds: number;
}

/** Options of {@link DelayQueueProducer.scheduleMessage}: `at` or `delaySeconds`, and an `id`. */
export interface ScheduleMessageOptions {
  /** When the message should become visible. A time in the past means now. */
  readonly at?: Date;
  /** How long from now until the message becomes visible, 0 to a year. */
  readonly delaySeconds?: number;
  /**
   * Your id for the message: a schedule is named after it, so scheduling the same id again (a
   * retry) does not schedule a second message, and `cancel(id)` removes it.
   *
   * @default - a random UUID (the call is then not idempotent)
   */
  readonly id?: string;
}

/** What {@link DelayQueueProducer.scheduleMessage} did. */
export interface ScheduleResult {
  readonly id: string;
  /** `sqs`: sent with `DelaySeconds`. `scheduler`: held by a one-time schedule until due. */
  readonly path: 'sqs' | 'scheduler';
  /** `sent` (SQS path), `scheduled`, or `already-scheduled` (the id was scheduled before with the same body). */
  readonly status: 'sent' | 'scheduled' | 'already-scheduled';
  /**
   * When the message becomes visible (SQS path: exact; scheduler path: within about a minute). For
   * `already-scheduled` it is the time this call asked for; the existing schedule keeps its own time.
   */
  readonly deliverAt: Date;
  /** SQS path: the message id. */
  readonly messageId?: string;
  /** Scheduler path: the schedule's name and ARN (the ARN is absent for `already-scheduled`). */
  readonly scheduleName?: string;
  readonly scheduleArn?: string;
}

/** Options of {@link DelayQueueProducer}. */
export interface DelayQueueProducerOptions {
  readonly config: DelayQueueConfig;
  /** @default - a new `SQSClient` with the environment's settings */
  readonly sqs?: SQSClient;
  /** @default - a new `SchedulerClient` with the environment's settings */
  readonly scheduler?: SchedulerClient;
  /**
   * Delays up to this many seconds use SQS `DelaySeconds` (exact, but neither idempotent by id nor
   * cancellable); longer ones use a schedule. Lower it to make shorter delays idempotent and
   * cancellable, at the schedule's precision of about a minute.
   *
   * @default 900 - the SQS maximum
   */
  readonly maxSqsDelaySeconds?: number;
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
}

/** Parses and checks a producer configuration (the JSON of the construct's `producerConfig`). */
export function parseDelayQueueConfig(json: string | undefined, source = 'configuration'): DelayQueueConfig {
  if (!json) {
    throw new DelayQueueConfigurationError(
      'config',
      `${source} is empty: set it to the DelayQueue's producerConfig (connectProducer does)`,
      {
        value: json,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new DelayQueueConfigurationError('config', `${source} is not valid JSON`, { cause, value: json.slice(0, 200) });
  }
  return checkDelayQueueConfig(parsed, source);
}

/** Checks a producer configuration already parsed (or given as an object). */
export function checkDelayQueueConfig(value: unknown, source = 'configuration'): DelayQueueConfig {
  const config = value as Partial<DelayQueueConfig> | null | undefined;
  const strings = ['queueUrl', 'queueArn', 'scheduleGroupName', 'schedulerRoleArn', 'deadLetterQueueArn'] as const;
  const numbers = ['retryAttempts', 'maxEventAgeSeconds', 'queueDelaySeconds'] as const;
  const missing = [
    ...strings.filter((k) => typeof config?.[k] !== 'string' || config[k] === ''),
    ...numbers.filter((k) => typeof config?.[k] !== 'number' || !Number.isFinite(config[k])),
  ];
  if (missing.length > 0) {
    throw new DelayQueueConfigurationError(missing[0], `${source} lacks ${missing.join(', ')}`, { context: { missing } });
  }
  const c = config as DelayQueueConfig;
  const f = failIn(source);
  checkUrl(f, 'queueUrl', c.queueUrl);
  checkQueueArn(f, 'queueArn', c.queueArn);
  checkPattern(f, 'scheduleGroupName', c.scheduleGroupName, SCHEDULE_GROUP_NAME, '1-64 letters, digits, hyphens, underscores or dots');
  checkRoleArn(f, 'schedulerRoleArn', c.schedulerRoleArn);
  checkQueueArn(f, 'deadLetterQueueArn', c.deadLetterQueueArn);
  checkInteger(f, 'retryAttempts', c.retryAttempts, 0, LIMIT.scheduleMaxRetryAttempts);
  checkInteger(f, 'maxEventAgeSeconds', c.maxEventAgeSeconds, LIMIT.scheduleMinEventAgeSeconds, LIMIT.scheduleMaxEventAgeSeconds);
  checkInteger(f, 'queueDelaySeconds', c.queueDelaySeconds, 0, SQS_MAX_DELAY_SECONDS);
  // A copy: the producer's configuration does not change when the caller's object does.
  return { ...c };
}

/**
 * The schedule name for an id: the id itself when it is a valid schedule name (1–64 letters,
 * digits, hyphens, underscores, dots), else `sha256-` and 56 hex digits of its SHA-256.
 */
export function scheduleNameFor(id: string): string {
  if (/^[0-9A-Za-z_.-]{1,64}$/.test(id) && !id.startsWith('sha256-')) return id;
  return `sha256-${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 56)}`;
}

/** The `at(...)` expression (UTC, whole seconds, rounded up) for a time. */
export function atExpression(time: Date): string {
  const rounded = new Date(Math.ceil(time.getTime() / 1000) * 1000);
  return `at(${rounded.toISOString().slice(0, 19)})`;
}

/**
 * Sends messages to a delay queue after a delay of up to a year: up to 15 minutes with SQS
 * `DelaySeconds`, beyond with an EventBridge Scheduler one-time schedule named after the
 * message's id (idempotent, cancellable, deleted by Scheduler after it ran).
 *
 * @example
 * const reminders = DelayQueueProducer.fromEnvironment();
 * await reminders.scheduleMessage(JSON.stringify(reminder), { delaySeconds: 3 * 86400, id: `reminder-${orderId}` });
 * await reminders.cancel(`reminder-${orderId}`);
 */
export class DelayQueueProducer {
  public readonly config: DelayQueueConfig;
  private readonly maxSqsDelaySeconds: number;
  private readonly now: () => Date;
  private sqsClient?: SQSClient;
  private schedulerClient?: SchedulerClient;

  constructor(options: DelayQueueProducerOptions) {
    this.config = checkDelayQueueConfig(options.config);
    this.maxSqsDelaySeconds = checkNumber(fail, 'maxSqsDelaySeconds', options.maxSqsDelaySeconds ?? SQS_MAX_DELAY_SECONDS, {
      min: 0,
      inclusive: true,
      max: SQS_MAX_DELAY_SECONDS,
      rule: `between 0 and ${SQS_MAX_DELAY_SECONDS}`,
    });
    this.now = checkFunction(fail, 'now', options.now) ?? (() => new Date());
    this.sqsClient = checkClient(fail, 'sqs', options.sqs);
    this.schedulerClient = checkClient(fail, 'scheduler', options.scheduler);
  }

  /** A producer configured from an environment variable holding the construct's `producerConfig`. */
  public static fromEnvironment(
    variable: string = DELAY_QUEUE_CONFIG_ENV,
    options: Omit<DelayQueueProducerOptions, 'config'> = {},
  ): DelayQueueProducer {
    checkString(fail, 'variable', variable, ': the name of the environment variable holding the configuration');
    return new DelayQueueProducer({ ...options, config: parseDelayQueueConfig(process.env[variable], `environment variable ${variable}`) });
  }

  /**
   * Sends `body` to the queue so that it becomes visible at `at`, or after `delaySeconds`.
   *
   * Scheduler path: idempotent by `id` — a second call with the same id and body returns
   * `already-scheduled` and schedules nothing; with a different body it throws
   * {@link ScheduleConflictError}. SQS path: each call sends a message.
   */
  public async scheduleMessage(body: string, options: ScheduleMessageOptions): Promise<ScheduleResult> {
    const now = this.now();
    const deliverAt = this.deliveryTime(now, options);
    const delaySeconds = Math.max(0, (deliverAt.getTime() - now.getTime()) / 1000);
    const id = options.id ?? randomUUID();

    // SQS adds the queue's own delay to what a schedule sends: a schedule fires that much earlier,
    // and never sooner than a minute out (a schedule in the past is not a promise to keep).
    const lead = delaySeconds - this.config.queueDelaySeconds;
    if (delaySeconds <= this.maxSqsDelaySeconds || (delaySeconds <= SQS_MAX_DELAY_SECONDS && lead < MIN_SCHEDULE_LEAD_SECONDS)) {
      const res = await this.sqs.send(
        new SendMessageCommand({ QueueUrl: this.config.queueUrl, MessageBody: body, DelaySeconds: Math.ceil(delaySeconds) }),
      );
      return { id, path: 'sqs', status: 'sent', deliverAt, messageId: res.MessageId };
    }

    const scheduleName = scheduleNameFor(id);
    const fireAt = new Date(now.getTime() + Math.max(lead, MIN_SCHEDULE_LEAD_SECONDS) * 1000);
    try {
      const res = await this.scheduler.send(
        new CreateScheduleCommand({
          Name: scheduleName,
          GroupName: this.config.scheduleGroupName,
          Description: `delay-queue message ${id}`.slice(0, 512),
          ScheduleExpression: atExpression(fireAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: FlexibleTimeWindowMode.OFF },
          ActionAfterCompletion: ActionAfterCompletion.DELETE,
          Target: {
            Arn: this.config.queueArn,
            RoleArn: this.config.schedulerRoleArn,
            Input: body,
            DeadLetterConfig: { Arn: this.config.deadLetterQueueArn },
            RetryPolicy: { MaximumRetryAttempts: this.config.retryAttempts, MaximumEventAgeInSeconds: this.config.maxEventAgeSeconds },
          },
        }),
      );
      return { id, path: 'scheduler', status: 'scheduled', deliverAt, scheduleName, scheduleArn: res.ScheduleArn };
    } catch (error) {
      if ((error as Error).name !== 'ConflictException') throw error;
    }

    // The id is taken: the same message (a retry) is fine, a different one is a conflict.
    try {
      const existing = await this.scheduler.send(new GetScheduleCommand({ Name: scheduleName, GroupName: this.config.scheduleGroupName }));
      if (existing.Target?.Input !== body) throw new ScheduleConflictError(id, scheduleName);
    } catch (error) {
      // Deleted in between: it ran (or was cancelled) after the conflict. Its body can no longer be
      // compared, so a different message under the same id is reported as already-scheduled too.
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    return { id, path: 'scheduler', status: 'already-scheduled', deliverAt, scheduleName };
  }

  /**
   * Cancels the scheduled message with this id. Returns false when there is no such schedule:
   * it was delivered already, cancelled, never scheduled, or sent on the SQS path (which cannot
   * be cancelled).
   */
  public async cancel(id: string): Promise<boolean> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: scheduleNameFor(id), GroupName: this.config.scheduleGroupName }));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return false;
      throw error;
    }
  }

  private deliveryTime(now: Date, options: ScheduleMessageOptions): Date {
    const { at, delaySeconds } = options;
    if ((at === undefined) === (delaySeconds === undefined)) {
      throw new InvalidDelayError(`give exactly one of at and delaySeconds (given ${at === undefined ? 'neither' : 'both'})`, {
        option: 'at',
        value: at,
      });
    }
    let deliverAt: Date;
    if (at !== undefined) {
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
        throw new InvalidDelayError(`at must be a valid Date (given ${String(at)})`, { option: 'at', value: String(at) });
      }
      deliverAt = at.getTime() < now.getTime() ? now : at;
    } else {
      if (typeof delaySeconds !== 'number' || !Number.isFinite(delaySeconds) || delaySeconds < 0) {
        throw new InvalidDelayError(`delaySeconds must be a number of seconds, 0 or more (given ${String(delaySeconds)})`, {
          option: 'delaySeconds',
          value: delaySeconds,
        });
      }
      deliverAt = new Date(now.getTime() + delaySeconds * 1000);
    }
    const seconds = (deliverAt.getTime() - now.getTime()) / 1000;
    if (seconds > MAX_DELAY_SECONDS) {
      throw new InvalidDelayError(
        `the delay must be at most a year (${MAX_DELAY_SECONDS} seconds) (given ${Math.round(seconds)} seconds)`,
        {
          option: at !== undefined ? 'at' : 'delaySeconds',
          value: Math.round(seconds),
        },
      );
    }
    return deliverAt;
  }

  private get sqs(): SQSClient {
    this.sqsClient ??= new SQSClient({});
    return this.sqsClient;
  }

  private get scheduler(): SchedulerClient {
    this.schedulerClient ??= new SchedulerClient({});
    return this.schedulerClient;
  }
}
