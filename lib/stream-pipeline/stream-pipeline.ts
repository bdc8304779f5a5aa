import { Annotations, Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, createAlarm, validateAlarms } from '../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  DEFAULT_STREAM_BATCH_SIZE,
  DEFAULT_STREAM_RETENTION,
  DEFAULT_STREAM_RETRY_ATTEMPTS,
  DEFAULT_STREAM_STARTING_POSITION,
  ITERATOR_AGE_ALARM_SHARE_OF_RECORD_AGE,
  ITERATOR_AGE_EVALUATION_PERIODS,
  STREAM_RECORD_AGE_SHARE_OF_RETENTION,
} from '../core/defaults';
import { combineGrants, connectFunction, grantSendOnly } from '../core/grants';
import {
  KINESIS_CONSUMER_NAME_MAX_LENGTH,
  KINESIS_MAX_RETENTION,
  KINESIS_MIN_RETENTION,
  NO_DURATION,
  STREAM_MAX_BATCH_SIZE,
  STREAM_MAX_BATCHING_WINDOW,
  STREAM_MAX_PARALLELIZATION_FACTOR,
  STREAM_MAX_RECORD_AGE,
  STREAM_MAX_RETRY_ATTEMPTS,
  STREAM_MAX_TUMBLING_WINDOW,
  STREAM_MIN_RECORD_AGE,
} from '../core/limits';
import { metricOptions, queueMetric } from '../core/metrics';
import { acknowledgeDeadLetterQueue } from '../core/nag';
import { MessagingPattern } from '../core/pattern';
import { buildQueue } from '../core/queue-builder';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';
import { OnFailureQueueDestination, grantStreamRead, grantStreamWrite } from './private/grants';
import { buildStream, retentionOfExisting } from './private/stream';

/** Alarm ids of a stream pipeline. */
export const ITERATOR_AGE_ALARM = 'IteratorAgeTooHigh';
export const ON_FAILURE_DESTINATION_ALARM = 'OnFailureDestinationNotEmpty';

/** The ids of a stream pipeline's alarms, for `alarms.overrides`. */
export const STREAM_PIPELINE_ALARMS = [ITERATOR_AGE_ALARM, ON_FAILURE_DESTINATION_ALARM];

/** Props of {@link StreamPipeline}. */
export interface StreamPipelineProps extends MessagingPatternProps {
  /**
   * The function that processes the stream's records, in order per shard (per partition key with
   * `parallelizationFactor` above 1). It must return partial batch responses: the sequence number
   * of the first record that failed, and nothing processed after it; `processStreamBatch` from
   * `cdk-messaging-patterns/runtime/stream` does that.
   */
  readonly consumer: lambda.IFunction;

  /**
   * An existing stream to use as it is: the kit adds no encryption, retention or capacity to it.
   * Its retention is read from a `kinesis.Stream` of this app; for an imported stream the kit
   * assumes Kinesis's minimum, 24 hours, to derive `maxRecordAge` and the iterator-age alarm.
   *
   * @default - a new stream is created
   */
  readonly existingStream?: kinesis.IStream;

  /**
   * Props for the stream the kit creates, merged over its defaults. The kit keeps the stream
   * encrypted at rest whatever is given here: `encryption` may be `KMS` (the default, with a new
   * customer managed key with rotation, or `encryptionKey`) or `MANAGED` (the AWS managed
   * `alias/aws/kinesis` key), never `UNENCRYPTED`. A `shardCount` without `streamMode` makes the
   * stream provisioned.
   *
   * @default - on-demand capacity, 24-hour retention, a customer managed key with rotation, RETAIN (the key too)
   */
  readonly streamProps?: kinesis.StreamProps;

  /**
   * Records per batch (1–10,000).
   *
   * @default 100 - Lambda's default for streams
   */
  readonly batchSize?: number;

  /**
   * How long the event source mapping gathers records before invoking the consumer (0–5 minutes).
   *
   * @default - no batching window: the consumer is invoked as soon as records arrive
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Where a new mapping starts reading.
   *
   * @default lambda.StartingPosition.TRIM_HORIZON - the oldest record in the stream: nothing written before the mapping existed is skipped
   */
  readonly startingPosition?: lambda.StartingPosition;

  /**
   * With `startingPosition: AT_TIMESTAMP`: the time to start reading from, in Unix seconds.
   *
   * @default - none; required with AT_TIMESTAMP
   */
  readonly startingPositionTimestamp?: number;

  /**
   * How many times a failing batch is retried (0–10,000) before its records' metadata goes to the
   * on-failure destination and the shard moves on. Always bounded: Lambda's default, retrying until
   * the record expires, would block the shard for up to the whole retention.
   *
   * @default 3
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are skipped to the on-failure destination (1 minute–7 days, at most the
   * stream's retention). Keep it well below the retention: only the records' metadata goes to the
   * on-failure destination, and an operator reads the records back from the stream.
   *
   * @default - half the stream's retention, at most 7 days (12 hours for the default 24-hour retention)
   */
  readonly maxRecordAge?: Duration;

  /**
   * Batches processed concurrently from each shard (1–10). Records of one partition key stay in order.
   *
   * @default 1
   */
  readonly parallelizationFactor?: number;

  /**
   * A tumbling window (0–15 minutes) for aggregations across invocations: the consumer then
   * receives and returns the window's `state` as well (`isFinalInvokeForWindow` marks the last
   * invocation of a window).
   *
   * @default - no tumbling window
   */
  readonly tumblingWindow?: Duration;

  /**
   * Read through a registered stream consumer with enhanced fan-out (`SubscribeToShard`: 2 MB/s per
   * shard for this consumer alone, about 70 ms delivery) instead of polling the shards' shared
   * 2 MB/s read throughput. Costs per consumer-shard hour and per GB.
   *
   * @default false
   */
  readonly enhancedFanOut?: boolean;

  /**
   * The registered consumer's name (1–128 characters `a-zA-Z0-9_.-`), with `enhancedFanOut`.
   *
   * @default - a name derived from the construct path
   */
  readonly consumerName?: string;

  /**
   * Props for the on-failure queue, merged over the kit's defaults. It receives one metadata
   * document per discarded batch (shard id, first and last sequence numbers, the reason), **not the
   * records**. The kit keeps it encrypted, TLS-only and a standard queue (Lambda does not send to
   * FIFO queues) whatever is given here.
   *
   * @default - SSE-SQS encryption, TLS-only policy, 14-day retention
   */
  readonly onFailureQueueProps?: sqs.QueueProps;

  /**
   * Whether the event source mapping starts enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * A Kinesis data stream processed by a Lambda function, in order, with bounded failure handling.
 *
 * The stream is encrypted (a customer managed key with rotation by default), on-demand, with
 * 24-hour retention (or an existing stream). The event source mapping bisects a batch whose
 * invocation fails, takes partial batch responses, retries a failing batch 3 times and skips
 * records older than half the retention, sending the metadata of what it skipped (not the records)
 * to an encrypted, TLS-only on-failure queue. The consumer's read permissions (and its permission
 * to send to the on-failure queue) exist before the mapping is created. Optional enhanced fan-out.
 *
 * Alarms (ids for `alarms.overrides`): `IteratorAgeTooHigh` (the stream's
 * `GetRecords.IteratorAgeMilliseconds`, or the registered consumer's
 * `SubscribeToShardEvent.MillisBehindLatest` with enhanced fan-out, at or above half the
 * `maxRecordAge` for 3 minutes; threshold in milliseconds) and `OnFailureDestinationNotEmpty` (any
 * message in the on-failure queue).
 *
 * @example
 * const clicks = new StreamPipeline(this, 'Clicks', { consumer: fn, batchSize: 500, parallelizationFactor: 4 });
 * clicks.connectProducer(producerFn); // grants PutRecord(s), sets STREAM_NAME and STREAM_ARN
 */
export class StreamPipeline extends MessagingPattern {
  /** The stream. */
  public readonly stream: kinesis.IStream;
  /** The customer managed key encrypting the stream, if any (none with the AWS managed key). */
  public readonly encryptionKey?: kms.IKey;
  /** The registered consumer the mapping reads through, with enhanced fan-out. */
  public readonly streamConsumer?: kinesis.IStreamConsumer;
  /** The on-failure destination: metadata of every batch the mapping discarded. */
  public readonly onFailureQueue: sqs.IQueue;
  /** The event source mapping feeding the consumer. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The stream's retention, when the kit knows it (not for an imported stream). */
  public readonly retentionPeriod?: Duration;
  /** The mapping's maximum record age. */
  public readonly maxRecordAge: Duration;
  /** The mapping's retry attempts. */
  public readonly retryAttempts: number;

  constructor(scope: Construct, id: string, props: StreamPipelineProps) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    const derived = validateStreamPipelineProps(v, props);
    v.throwIfInvalid();

    const built = buildStream(this, props.existingStream, props.streamProps);
    this.stream = built.stream;
    this.encryptionKey = built.encryptionKey;
    this.retentionPeriod = built.retentionPeriod;
    this.maxRecordAge = derived.maxRecordAge;
    this.retryAttempts = derived.retryAttempts;

    if (props.enhancedFanOut) {
      this.streamConsumer = new kinesis.StreamConsumer(this, 'Consumer', {
        stream: this.stream,
        streamConsumerName: props.consumerName ?? Names.uniqueResourceName(this, { maxLength: KINESIS_CONSUMER_NAME_MAX_LENGTH }),
      });
    }

    // The on-failure destination is this pipeline's dead-letter queue: it needs none of its own.
    const onFailure = buildQueue(this, {
      queueProps: { retentionPeriod: DEAD_LETTER_RETENTION, ...props.onFailureQueueProps, fifo: undefined },
      deployDeadLetterQueue: false,
      ids: { queue: 'OnFailureQueue', key: 'OnFailureQueueKey' },
    });
    this.onFailureQueue = onFailure.queue;
    acknowledgeDeadLetterQueue(this.onFailureQueue, `the event source mapping of ${this.node.path} (its on-failure destination)`);

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'EventSourceMapping', {
      target: props.consumer,
      eventSourceArn: this.streamConsumer?.streamConsumerArn ?? this.stream.streamArn,
      startingPosition: props.startingPosition ?? DEFAULT_STREAM_STARTING_POSITION,
      startingPositionTimestamp: props.startingPositionTimestamp,
      batchSize: props.batchSize ?? DEFAULT_STREAM_BATCH_SIZE,
      maxBatchingWindow: props.maxBatchingWindow,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: this.retryAttempts,
      maxRecordAge: this.maxRecordAge,
      parallelizationFactor: props.parallelizationFactor,
      tumblingWindow: props.tumblingWindow,
      onFailure: new OnFailureQueueDestination(this.onFailureQueue),
      enabled: props.enabled,
    });
    // Lambda checks the consumer's permissions when it creates the mapping: create the policy first.
    if (props.consumer.role) {
      grantStreamRead(this.stream, props.consumer, this.streamConsumer).applyBefore(this.eventSourceMapping);
      grantSendOnly(this.onFailureQueue, props.consumer).applyBefore(this.eventSourceMapping);
    } else {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:consumerWithoutRole',
        `consumer ${props.consumer.node.path} was imported without its role, so the kit could not grant it read access to the stream${this.streamConsumer ? ' and its registered consumer' : ''}${this.encryptionKey ? ' (kms:Decrypt on its key)' : ''}, nor sqs:SendMessage on the on-failure queue: grant them to its role.`,
      );
    }

    const what = `Stream pipeline ${this.node.path}`;
    createAlarm(this, props.alarms, {
      id: ITERATOR_AGE_ALARM,
      metric: this.metricIteratorAge(),
      threshold: derived.iteratorAgeThresholdMs,
      evaluationPeriods: ITERATOR_AGE_EVALUATION_PERIODS,
      description: (ms) =>
        `${what}: the consumer is ${Duration.millis(ms).toHumanString()} or more behind the stream (iterator age). ` +
        `Records older than ${this.maxRecordAge.toHumanString()} are skipped to the on-failure queue; the stream deletes them at the end of its retention.`,
    });
    createAlarm(this, props.alarms, {
      id: ON_FAILURE_DESTINATION_ALARM,
      metric: this.metricOnFailureMessages(),
      threshold: DEAD_LETTER_ALARM_THRESHOLD,
      description: (n) =>
        `${what}: ${n === 1 ? 'a batch was' : `${n} or more batches were`} discarded (retries exhausted or records too old). ` +
        'The on-failure queue holds their shard and sequence numbers, not the records: read them back from the stream before its retention ends.',
    });
    this._showOnDashboard(this.metricIncomingRecords(), this.metricIteratorAge());
  }

  /**
   * Grants `grantee` permission to put records: `kinesis:PutRecord`, `kinesis:PutRecords`,
   * `kinesis:ListShards`, and on a customer managed key only `kms:GenerateDataKey`.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return grantStreamWrite(this.stream, grantee);
  }

  /**
   * Grants `grantee` permission to read the stream (describe, list shards, shard iterators, get
   * records, subscribe), and on a customer managed key only `kms:Decrypt`: for another consumer, or
   * for an operator reading back records named in the on-failure queue.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantStreamRead(this.stream, grantee);
  }

  /** Grants `grantee` permission to read and delete the on-failure queue's messages (operators). */
  public grantConsumeOnFailureMessages(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(grantee, [this.onFailureQueue.grantConsumeMessages(grantee)], 'the pipeline has no on-failure queue');
  }

  /** Makes `fn` a producer: {@link grantWrite}, and the stream's name and ARN in its `STREAM_NAME` and `STREAM_ARN` environment variables. */
  public connectProducer(fn: lambda.IFunction): iam.Grant {
    let grant: iam.Grant;
    if (fn.role) {
      grant = this.grantWrite(fn);
    } else {
      grant = iam.Grant.drop(fn, `${fn.node.path} was imported without its role`);
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:producerWithoutRole',
        `producer ${fn.node.path} was imported without its role, so the kit could not grant it kinesis:PutRecord, kinesis:PutRecords and kinesis:ListShards on the stream${this.encryptionKey ? ' (kms:GenerateDataKey on its key)' : ''}: grant them to its role.`,
      );
    }
    return connectFunction(this, fn, { [ENV.streamName]: this.stream.streamName, [ENV.streamArn]: this.stream.streamArn }, grant);
  }

  /**
   * How far the pipeline's consumer is behind the stream, in milliseconds (Maximum over 1 minute):
   * the stream's `GetRecords.IteratorAgeMilliseconds` (`StreamName` dimension, every shared-throughput
   * reader of the stream), or with enhanced fan-out the registered consumer's
   * `SubscribeToShardEvent.MillisBehindLatest` (`StreamName` and `ConsumerName`).
   */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (this.streamConsumer) {
      return new cloudwatch.Metric({
        namespace: 'AWS/Kinesis',
        metricName: 'SubscribeToShardEvent.MillisBehindLatest',
        dimensionsMap: { StreamName: this.stream.streamName, ConsumerName: this.streamConsumer.streamConsumerName },
        ...metricOptions(cloudwatch.Stats.MAXIMUM, props),
      });
    }
    return this.stream.metric('GetRecords.IteratorAgeMilliseconds', metricOptions(cloudwatch.Stats.MAXIMUM, props));
  }

  /** Records put into the stream (Sum over 1 minute). */
  public metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metric('IncomingRecords', metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Bytes put into the stream (Sum over 1 minute). */
  public metricIncomingBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metric('IncomingBytes', metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Reads throttled because the shards' shared read throughput was exceeded (Sum over 1 minute). */
  public metricReadThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metric('ReadProvisionedThroughputExceeded', metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Puts throttled because a shard's write throughput was exceeded (Sum over 1 minute). */
  public metricWriteThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metric('WriteProvisionedThroughputExceeded', metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Discarded batches waiting in the on-failure queue (Maximum over 1 minute). */
  public metricOnFailureMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.onFailureQueue, 'ApproximateNumberOfMessagesVisible', props);
  }
}

/** What the constructor derives from a stream pipeline's props. */
export interface StreamPipelineDerived {
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
  readonly iteratorAgeThresholdMs: number;
}

/**
 * Checks a stream pipeline's props into `v`, and returns what the constructor derives from them:
 * the retry attempts, the maximum record age and the iterator-age alarm's threshold.
 */
export function validateStreamPipelineProps(v: PropsValidator, props: StreamPipelineProps): StreamPipelineDerived {
  v.mutuallyExclusive({ existingStream: props.existingStream, streamProps: props.streamProps });
  const retention = validateStreamProps(v, props);

  // Event source mapping.
  v.integerInRange('batchSize', props.batchSize, 1, STREAM_MAX_BATCH_SIZE);
  v.durationInRange('maxBatchingWindow', props.maxBatchingWindow, NO_DURATION, STREAM_MAX_BATCHING_WINDOW);
  v.integerInRange('parallelizationFactor', props.parallelizationFactor, 1, STREAM_MAX_PARALLELIZATION_FACTOR);
  v.durationInRange('tumblingWindow', props.tumblingWindow, NO_DURATION, STREAM_MAX_TUMBLING_WINDOW);
  if (props.retryAttempts !== undefined && !isUnresolved(props.retryAttempts)) {
    v.check(
      'retryAttempts:range',
      Number.isInteger(props.retryAttempts) && props.retryAttempts >= 0 && props.retryAttempts <= STREAM_MAX_RETRY_ATTEMPTS,
      `retryAttempts must be an integer between 0 and ${STREAM_MAX_RETRY_ATTEMPTS}: the kit never retries until records expire (given ${props.retryAttempts})`,
    );
  }
  validateStartingPosition(v, props);
  validateRecordAge(v, props.maxRecordAge, retention);
  if (props.consumerName !== undefined) {
    v.check(
      'consumerName:conflict',
      props.enhancedFanOut === true,
      `consumerName names the registered consumer of enhanced fan-out: it needs enhancedFanOut: true (given ${describeValue(props.consumerName)})`,
    );
    v.matches(
      'consumerName',
      props.consumerName,
      new RegExp(`^[a-zA-Z0-9_.-]{1,${KINESIS_CONSUMER_NAME_MAX_LENGTH}}$`),
      `1 to ${KINESIS_CONSUMER_NAME_MAX_LENGTH} characters a-z, A-Z, 0-9, '_', '.' or '-'`,
    );
  }
  validateOnFailureQueueProps(v, props.onFailureQueueProps);

  const retryAttempts = props.retryAttempts ?? DEFAULT_STREAM_RETRY_ATTEMPTS;
  const maxRecordAge = props.maxRecordAge ?? defaultMaxRecordAge(retention.value);
  const lifetime = maxRecordAge.isUnresolved() ? defaultMaxRecordAge(retention.value) : maxRecordAge;
  const iteratorAgeThresholdMs = Math.round(lifetime.toMilliseconds() * ITERATOR_AGE_ALARM_SHARE_OF_RECORD_AGE);

  validateAlarms(v, props.alarms, STREAM_PIPELINE_ALARMS);
  const threshold = props.alarms?.overrides?.[ITERATOR_AGE_ALARM]?.threshold;
  if (threshold !== undefined && !lifetime.isUnresolved()) {
    v.check(
      `alarms.overrides.${ITERATOR_AGE_ALARM}.threshold:range`,
      threshold < lifetime.toMilliseconds(),
      `alarms.overrides.${ITERATOR_AGE_ALARM}.threshold must be below maxRecordAge, or records are skipped before it fires (given ${threshold} milliseconds, maxRecordAge ${lifetime.toMilliseconds()} milliseconds)`,
    );
  }
  return { retryAttempts, maxRecordAge, iteratorAgeThresholdMs };
}

/** The stream's retention, and whether it is known or Kinesis's minimum assumed. */
interface Retention {
  readonly value: Duration;
  readonly known: boolean;
}

/** `maxRecordAge` when not given: half the retention, at most Lambda's 7 days. */
function defaultMaxRecordAge(retention: Duration): Duration {
  const seconds = Math.floor(retention.toSeconds() * STREAM_RECORD_AGE_SHARE_OF_RETENTION);
  return Duration.seconds(Math.min(seconds, STREAM_MAX_RECORD_AGE.toSeconds()));
}

function validateStreamProps(v: PropsValidator, props: StreamPipelineProps): Retention {
  if (props.existingStream) {
    const known = retentionOfExisting(props.existingStream);
    return known ? { value: known, known: true } : { value: KINESIS_MIN_RETENTION, known: false };
  }
  const s = props.streamProps ?? {};
  v.check(
    'streamProps.encryption:insecure',
    s.encryption !== kinesis.StreamEncryption.UNENCRYPTED,
    'streamProps.encryption must not be UNENCRYPTED: the kit encrypts every stream at rest (use KMS or MANAGED)',
  );
  v.check(
    'streamProps.encryptionKey:conflict',
    !(s.encryptionKey && s.encryption === kinesis.StreamEncryption.MANAGED),
    'streamProps.encryptionKey cannot be used with streamProps.encryption MANAGED: MANAGED is the AWS managed alias/aws/kinesis key',
  );
  v.check(
    'streamProps.shardCount:conflict',
    !(s.shardCount !== undefined && s.streamMode === kinesis.StreamMode.ON_DEMAND),
    `streamProps.shardCount cannot be used with streamProps.streamMode ON_DEMAND: an on-demand stream sizes its shards itself (given ${s.shardCount})`,
  );
  if (s.shardCount !== undefined && !isUnresolved(s.shardCount)) {
    v.check(
      'streamProps.shardCount:range',
      Number.isInteger(s.shardCount) && s.shardCount >= 1,
      `streamProps.shardCount must be an integer of at least 1 (given ${s.shardCount})`,
    );
  }
  const r = s.retentionPeriod;
  if (r === undefined) return { value: DEFAULT_STREAM_RETENTION, known: true };
  if (r.isUnresolved()) return { value: KINESIS_MIN_RETENTION, known: false };
  const hours = r.toSeconds() / 3600;
  v.check(
    'streamProps.retentionPeriod:range',
    Number.isInteger(hours) && hours >= KINESIS_MIN_RETENTION.toHours() && hours <= KINESIS_MAX_RETENTION.toHours(),
    `streamProps.retentionPeriod must be a whole number of hours between ${KINESIS_MIN_RETENTION.toHours()} and ${KINESIS_MAX_RETENTION.toHours()} (given ${describeValue(r)})`,
  );
  return { value: r, known: true };
}

function validateStartingPosition(v: PropsValidator, props: StreamPipelineProps): void {
  const atTimestamp = props.startingPosition === lambda.StartingPosition.AT_TIMESTAMP;
  v.check(
    'startingPositionTimestamp:required',
    !atTimestamp || props.startingPositionTimestamp !== undefined,
    'startingPositionTimestamp is required with startingPosition AT_TIMESTAMP',
  );
  v.check(
    'startingPositionTimestamp:conflict',
    atTimestamp || props.startingPositionTimestamp === undefined,
    `startingPositionTimestamp can only be used with startingPosition AT_TIMESTAMP (given startingPosition ${props.startingPosition ?? 'TRIM_HORIZON'})`,
  );
  const t = props.startingPositionTimestamp;
  if (t !== undefined && !isUnresolved(t)) {
    v.check(
      'startingPositionTimestamp:range',
      Number.isFinite(t) && t > 0,
      `startingPositionTimestamp must be a time in Unix seconds (given ${t})`,
    );
  }
}

function validateRecordAge(v: PropsValidator, maxRecordAge: Duration | undefined, retention: Retention): void {
  v.durationInRange('maxRecordAge', maxRecordAge, STREAM_MIN_RECORD_AGE, STREAM_MAX_RECORD_AGE);
  if (maxRecordAge === undefined || maxRecordAge.isUnresolved() || !retention.known) return;
  v.check(
    'maxRecordAge:range',
    maxRecordAge.toSeconds() <= retention.value.toSeconds(),
    `maxRecordAge must not exceed the stream's retention: records expire first (given ${describeValue(maxRecordAge)}, retention ${describeValue(retention.value)})`,
  );
}

function validateOnFailureQueueProps(v: PropsValidator, q: sqs.QueueProps | undefined): void {
  if (!q) return;
  v.check(
    'onFailureQueueProps.encryption:insecure',
    q.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    'onFailureQueueProps.encryption must not be UNENCRYPTED: the kit encrypts every queue at rest',
  );
  v.check(
    'onFailureQueueProps.enforceSSL:insecure',
    q.enforceSSL !== false,
    'onFailureQueueProps.enforceSSL must not be false: the kit denies requests that do not use TLS (given false)',
  );
  v.check(
    'onFailureQueueProps.fifo:unsupported',
    q.fifo !== true,
    'onFailureQueueProps.fifo must not be true: Lambda sends on-failure records to standard queues only (given true)',
  );
  v.check(
    'onFailureQueueProps.encryptionMasterKey:conflict',
    !(q.encryptionMasterKey && q.encryption !== undefined && q.encryption !== sqs.QueueEncryption.KMS),
    `onFailureQueueProps.encryptionMasterKey needs encryption KMS (given ${q.encryption})`,
  );
}
