import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { AlarmConfig, AlarmsProps, createAlarm } from '../../core/alarms';
import { DEAD_LETTER_ALARM_THRESHOLD } from '../../core/defaults';
import { queueMetric } from '../../core/metrics';

/** Alarm id: a message in a subscription's own (SNS) dead-letter queue. */
export const SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM = 'SubscriptionDeadLetterQueueNotEmpty';

/** Alarm id: SNS failed to deliver notifications of the topic. */
export const NOTIFICATIONS_FAILED_ALARM = 'NotificationsFailed';

/**
 * The alarms of a subscription added through a fan-out: the fan-out's notifications and the overrides
 * of the alarm ids a subscription has (`ids`), with the subscription's own `alarms` over them (per
 * alarm id, setting by setting).
 */
export function inheritAlarms(base: AlarmsProps | undefined, own: AlarmsProps | undefined, ids: readonly string[]): AlarmsProps {
  const overrides: { [id: string]: AlarmConfig } = {};
  for (const [id, config] of Object.entries(base?.overrides ?? {})) if (ids.includes(id)) overrides[id] = config;
  for (const [id, config] of Object.entries(own?.overrides ?? {})) overrides[id] = { ...overrides[id], ...config };
  return {
    alarmTopic: own?.alarmTopic ?? base?.alarmTopic,
    alarmActions: own?.alarmActions ?? base?.alarmActions,
    overrides,
  };
}

/** The subscription dead-letter-queue alarm: any message SNS could not deliver to the subscriber. */
export function subscriptionDeadLetterQueueAlarm(
  scope: IConstruct,
  props: AlarmsProps | undefined,
  deadLetterQueue: sqs.IQueue | undefined,
  what: string,
): cloudwatch.Alarm | undefined {
  if (!deadLetterQueue) return undefined;
  return createAlarm(scope, props, {
    id: SUBSCRIPTION_DEAD_LETTER_QUEUE_ALARM,
    metric: queueMetric(deadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
    threshold: DEAD_LETTER_ALARM_THRESHOLD,
    description: (n) =>
      `${what}: ${n === 1 ? 'messages' : `${n} or more messages`} in the subscription's dead-letter queue. SNS could not deliver them ` +
      '(queue or key policy, a deleted queue or function, a client error); fix the cause, then send them to the subscriber again.',
  });
}
