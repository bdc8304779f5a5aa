import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRIC_PERIOD } from './defaults';

/** The SQS metrics the kit's constructs expose. */
export type QueueMetricName =
  | 'ApproximateNumberOfMessagesVisible'
  | 'ApproximateNumberOfMessagesNotVisible'
  | 'ApproximateNumberOfMessagesDelayed'
  | 'ApproximateAgeOfOldestMessage';

/** Metric options with the kit's period (1 minute) and the given statistic, the caller's options over them. */
export function metricOptions(statistic: string, props?: cloudwatch.MetricOptions): cloudwatch.MetricOptions {
  return { statistic, period: METRIC_PERIOD, ...props };
}

/**
 * The one metric helper: an SQS metric of `queue` with the kit's defaults (Maximum over 1 minute:
 * queue depth and age are gauges, and the worst value in a minute is the one that matters), the
 * caller's options over them.
 */
export function queueMetric(queue: sqs.IQueue, name: QueueMetricName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return queue.metric(name, metricOptions(cloudwatch.Stats.MAXIMUM, props));
}

/** {@link queueMetric}, or `undefined` when there is no queue (a dead-letter queue the kit does not know of). */
export function optionalQueueMetric(
  queue: sqs.IQueue | undefined,
  name: QueueMetricName,
  props?: cloudwatch.MetricOptions,
): cloudwatch.Metric | undefined {
  return queue ? queueMetric(queue, name, props) : undefined;
}
