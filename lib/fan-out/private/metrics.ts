import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { metricOptions } from '../../core/metrics';

/** The SNS topic metrics a fan-out exposes. */
export type TopicMetricName =
  | 'NumberOfMessagesPublished'
  | 'NumberOfNotificationsDelivered'
  | 'NumberOfNotificationsFailed'
  | 'NumberOfNotificationsFilteredOut'
  | 'NumberOfNotificationsRedrivenToDlq'
  | 'NumberOfNotificationsFailedToRedriveToDlq';

/** An SNS metric of `topic` with the kit's period, as a Sum (SNS's counts are events per period), the caller's options over them. */
export function topicMetric(topic: sns.ITopic, name: TopicMetricName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return topic.metric(name, metricOptions(cloudwatch.Stats.SUM, props));
}
