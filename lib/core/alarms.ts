import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import type { IMessagingDashboard } from './pattern';
import { DEAD_LETTER_ALARM_THRESHOLD, DEFAULT_MAX_MESSAGE_AGE, OLDEST_MESSAGE_EVALUATION_PERIODS } from './defaults';
import { ALARM_MAX_PERIOD, ALARM_MIN_PERIOD } from './limits';
import { queueMetric } from './metrics';
import { PropsValidator, describeValue } from './validation';

/**
 * Settings of one of a construct's alarms, by its id in {@link AlarmsProps.overrides}. Anything not
 * given keeps the kit's value for that alarm.
 */
export interface AlarmConfig {
  /**
   * Whether the alarm is created.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The threshold, in the metric's unit (messages, seconds, ...).
   *
   * @default - the kit's threshold for this alarm (see the construct's documentation)
   */
  readonly threshold?: number;

  /**
   * Periods over which the metric is compared to the threshold.
   *
   * @default - the kit's value for this alarm
   */
  readonly evaluationPeriods?: number;

  /**
   * Breaching periods, among `evaluationPeriods`, that raise the alarm.
   *
   * @default - `evaluationPeriods`
   */
  readonly datapointsToAlarm?: number;

  /**
   * The period of the metric.
   *
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;

  /**
   * How missing data points are treated.
   *
   * @default TreatMissingData.NOT_BREACHING - a queue nobody writes to emits no data
   */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

/**
 * The alarms of a construct: where they notify, and each alarm's settings. Every construct of the
 * kit takes these as `alarms`; its documentation lists the ids of the alarms it creates.
 */
export interface AlarmsProps {
  /**
   * SNS topic notified when an alarm fires and when it clears (the kit's alarms and those added
   * with `addAlarm`).
   *
   * @default - no topic
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Further actions run when an alarm fires and when it clears.
   *
   * @default - none
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * Settings of the kit's alarms by alarm id, e.g.
   * `{ OldestMessageTooOld: { threshold: 600 }, DeadLetterQueueNotEmpty: { enabled: false } }`.
   * An id the construct does not create is rejected.
   *
   * @default - every alarm with the kit's settings
   */
  readonly overrides?: { [alarmId: string]: AlarmConfig };
}

/** Props every construct of the kit accepts. */
export interface MessagingPatternProps {
  /**
   * A dashboard to add this construct to (a section with its alarms and key metrics).
   *
   * @default - on no dashboard (add it later with `dashboard.addPattern(construct)`)
   */
  readonly dashboard?: IMessagingDashboard;

  /**
   * The construct's alarms: notifications, and each alarm's threshold or whether it exists.
   *
   * @default - the kit's alarms with its thresholds, no actions
   */
  readonly alarms?: AlarmsProps;
}

/** One alarm a construct creates, before the user's overrides (internal). */
export interface KitAlarmSpec {
  /** The alarm's id: its construct id, and its key in `overrides` unless `overrideId` says otherwise. */
  readonly id: string;
  /**
   * The key in `overrides` when several alarms share one (the alarms of a route's second rule).
   *
   * @default - `id`
   */
  readonly overrideId?: string;
  /** The metric, with the kit's period and statistic. */
  readonly metric: cloudwatch.Metric;
  readonly threshold: number;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** Says what firing means, given the threshold in use. */
  readonly description: (threshold: number) => string;
}

/** Checks `alarms` props: overrides name alarms the construct creates, with sane numbers. */
export function validateAlarms(v: PropsValidator, props: AlarmsProps | undefined, knownIds: readonly string[]): void {
  for (const [id, config] of Object.entries(props?.overrides ?? {})) {
    v.check(
      'alarms.overrides:unknown',
      knownIds.includes(id),
      `alarms.overrides names an alarm this construct does not create (given ${describeValue(id)}; its alarms: ${knownIds.join(', ') || 'none'})`,
    );
    v.integerInRange(`alarms.overrides.${id}.evaluationPeriods`, config.evaluationPeriods, 1, 100);
    v.integerInRange(`alarms.overrides.${id}.datapointsToAlarm`, config.datapointsToAlarm, 1, config.evaluationPeriods ?? 100);
    v.durationInRange(`alarms.overrides.${id}.period`, config.period, ALARM_MIN_PERIOD, ALARM_MAX_PERIOD);
    if (config.threshold !== undefined) {
      v.check(
        `alarms.overrides.${id}.threshold:range`,
        Number.isFinite(config.threshold) && config.threshold >= 0,
        `alarms.overrides.${id}.threshold must be a number of at least 0 (given ${config.threshold})`,
      );
    }
  }
}

/** The `Alarms` child of `scope` that holds its alarms. */
function alarmScope(scope: IConstruct): Construct {
  return (scope.node.tryFindChild('Alarms') as Construct | undefined) ?? new Construct(scope, 'Alarms');
}

/** Notifies `alarmTopic` and runs `alarmActions` when `alarm` fires and when it clears. */
export function addAlarmActions(alarm: cloudwatch.Alarm, props: AlarmsProps | undefined): void {
  const actions: cloudwatch.IAlarmAction[] = [
    ...(props?.alarmTopic ? [new cwActions.SnsAction(props.alarmTopic)] : []),
    ...(props?.alarmActions ?? []),
  ];
  alarm.addAlarmAction(...actions);
  alarm.addOkAction(...actions);
}

/**
 * The alarm factory: creates one of a construct's alarms in its `Alarms` scope, with the user's
 * overrides applied and the alarm actions wired; nothing when the user turned it off.
 */
export function createAlarm(scope: IConstruct, props: AlarmsProps | undefined, spec: KitAlarmSpec): cloudwatch.Alarm | undefined {
  const config = props?.overrides?.[spec.overrideId ?? spec.id] ?? {};
  if (config.enabled === false) return undefined;
  const threshold = config.threshold ?? spec.threshold;
  const evaluationPeriods = config.evaluationPeriods ?? spec.evaluationPeriods ?? 1;
  const alarm = new cloudwatch.Alarm(alarmScope(scope), spec.id, {
    alarmDescription: spec.description(threshold),
    metric: config.period ? spec.metric.with({ period: config.period }) : spec.metric,
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods,
    datapointsToAlarm: config.datapointsToAlarm ?? (evaluationPeriods > 1 ? evaluationPeriods : undefined),
    treatMissingData: config.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  addAlarmActions(alarm, props);
  return alarm;
}

/** Alarm ids of the queue alarms. */
export const DEAD_LETTER_QUEUE_ALARM = 'DeadLetterQueueNotEmpty';
export const OLDEST_MESSAGE_ALARM = 'OldestMessageTooOld';

/**
 * The dead-letter-queue alarm: any message visible in the DLQ. Watches its depth
 * (`ApproximateNumberOfMessagesVisible`), not `NumberOfMessagesSent`, which does not count messages
 * moved there by a redrive policy.
 */
export function deadLetterQueueAlarm(
  scope: IConstruct,
  props: AlarmsProps | undefined,
  deadLetterQueue: sqs.IQueue | undefined,
  what: string,
  id = DEAD_LETTER_QUEUE_ALARM,
): cloudwatch.Alarm | undefined {
  if (!deadLetterQueue) return undefined;
  return createAlarm(scope, props, {
    id,
    metric: queueMetric(deadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
    threshold: DEAD_LETTER_ALARM_THRESHOLD,
    description: (n) =>
      `${what}: ${n === 1 ? 'messages' : `${n} or more messages`} in the dead-letter queue. They failed every retry and wait for an operator (peek, fix, redrive).`,
  });
}

/** The age alarm: the oldest message of `queue` is older than the threshold (seconds) for 3 minutes. */
export function oldestMessageAlarm(
  scope: IConstruct,
  props: AlarmsProps | undefined,
  queue: sqs.IQueue,
  what: string,
): cloudwatch.Alarm | undefined {
  return createAlarm(scope, props, {
    id: OLDEST_MESSAGE_ALARM,
    metric: queueMetric(queue, 'ApproximateAgeOfOldestMessage'),
    threshold: DEFAULT_MAX_MESSAGE_AGE.toSeconds(),
    evaluationPeriods: OLDEST_MESSAGE_EVALUATION_PERIODS,
    description: (s) =>
      `${what}: the oldest message is older than ${Duration.seconds(s).toHumanString()}. Consumers are failing or too slow; messages expire at the end of the retention period.`,
  });
}

/**
 * Checks the age alarm against the queue's retention: a threshold at or above the retention never
 * fires, because messages expire first.
 */
export function validateOldestMessageAlarm(v: PropsValidator, props: AlarmsProps | undefined, retention: Duration): void {
  const threshold = props?.overrides?.[OLDEST_MESSAGE_ALARM]?.threshold;
  if (threshold === undefined || retention.isUnresolved()) return;
  v.check(
    `alarms.overrides.${OLDEST_MESSAGE_ALARM}.threshold:range`,
    threshold < retention.toSeconds(),
    `alarms.overrides.${OLDEST_MESSAGE_ALARM}.threshold must be below the queue's retention period, or messages expire before it fires (given ${threshold} seconds, retention ${retention.toSeconds()} seconds)`,
  );
}
