import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmsProps, createAlarm } from '../../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  DEFAULT_STREAM_RETRY_ATTEMPTS,
  DYNAMODB_STREAM_MAX_RECORD_AGE,
  ITERATOR_AGE_ALARM_SHARE_OF_RECORD_AGE,
  ITERATOR_AGE_EVALUATION_PERIODS,
} from '../../core/defaults';
import { combineGrants, grantSendOnly } from '../../core/grants';
import {
  DYNAMODB_STREAM_RETENTION,
  NO_DURATION,
  STREAM_MAX_BATCH_SIZE,
  STREAM_MAX_BATCHING_WINDOW,
  STREAM_MAX_RETRY_ATTEMPTS,
  STREAM_MIN_RECORD_AGE,
} from '../../core/limits';
import { metricOptions, queueMetric } from '../../core/metrics';
import { acknowledgeDeadLetterQueue } from '../../core/nag';
import { buildQueue } from '../../core/queue-builder';
import { PropsValidator, describeValue, isUnresolved } from '../../core/validation';
import { RECORD_ATTRIBUTE } from '../../core/wire';

/** Alarm ids of a DynamoDB-stream consumer (the outbox relay, a projector). */
export const ITERATOR_AGE_ALARM = 'IteratorAgeTooHigh';
export const ON_FAILURE_DESTINATION_ALARM = 'OnFailureDestinationNotEmpty';
export const STREAM_CONSUMER_ALARMS = [ITERATOR_AGE_ALARM, ON_FAILURE_DESTINATION_ALARM];

/** The stream settings both constructs take. */
export interface StreamConsumerSettings {
  readonly batchSize?: number;
  readonly maxBatchingWindow?: Duration;
  readonly retryAttempts?: number;
  readonly maxRecordAge?: Duration;
  readonly onFailureQueueProps?: sqs.QueueProps;
}

/** What {@link validateStreamConsumer} derives. */
export interface StreamConsumerDerived {
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
  readonly iteratorAgeThresholdMs: number;
}

/** Checks the stream settings and the alarms into `v`. */
export function validateStreamConsumer(
  v: PropsValidator,
  props: StreamConsumerSettings,
  alarms: AlarmsProps | undefined,
): StreamConsumerDerived {
  v.integerInRange('batchSize', props.batchSize, 1, STREAM_MAX_BATCH_SIZE);
  v.durationInRange('maxBatchingWindow', props.maxBatchingWindow, NO_DURATION, STREAM_MAX_BATCHING_WINDOW);
  if (props.retryAttempts !== undefined && !isUnresolved(props.retryAttempts)) {
    v.check(
      'retryAttempts:range',
      Number.isInteger(props.retryAttempts) && props.retryAttempts >= 0 && props.retryAttempts <= STREAM_MAX_RETRY_ATTEMPTS,
      `retryAttempts must be an integer between 0 and ${STREAM_MAX_RETRY_ATTEMPTS}: the kit never retries until records expire (given ${props.retryAttempts})`,
    );
  }
  v.durationInRange(
    'maxRecordAge',
    props.maxRecordAge,
    STREAM_MIN_RECORD_AGE,
    DYNAMODB_STREAM_RETENTION,
    ': a DynamoDB stream keeps records 24 hours',
  );
  const q = props.onFailureQueueProps;
  if (q) {
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
  }
  const retryAttempts = props.retryAttempts ?? DEFAULT_STREAM_RETRY_ATTEMPTS;
  const maxRecordAge = props.maxRecordAge ?? DYNAMODB_STREAM_MAX_RECORD_AGE;
  const lifetime = maxRecordAge.isUnresolved() ? DYNAMODB_STREAM_MAX_RECORD_AGE : maxRecordAge;
  const iteratorAgeThresholdMs = Math.round(lifetime.toMilliseconds() * ITERATOR_AGE_ALARM_SHARE_OF_RECORD_AGE);
  const threshold = alarms?.overrides?.[ITERATOR_AGE_ALARM]?.threshold;
  if (threshold !== undefined) {
    v.check(
      `alarms.overrides.${ITERATOR_AGE_ALARM}.threshold:range`,
      threshold < lifetime.toMilliseconds(),
      `alarms.overrides.${ITERATOR_AGE_ALARM}.threshold must be below maxRecordAge, or records are skipped before it fires (given ${threshold} milliseconds, maxRecordAge ${lifetime.toMilliseconds()} milliseconds)`,
    );
  }
  return { retryAttempts, maxRecordAge, iteratorAgeThresholdMs };
}

/** The on-failure queue of a stream consumer: encrypted, TLS only, 14-day retention, standard. */
export function buildOnFailureQueue(scope: Construct, props: sqs.QueueProps | undefined, of: string): sqs.IQueue {
  const queue = buildQueue(scope, {
    queueProps: { retentionPeriod: DEAD_LETTER_RETENTION, ...props, fifo: undefined },
    deployDeadLetterQueue: false,
    ids: { queue: 'OnFailureQueue', key: 'OnFailureQueueKey' },
  }).queue;
  acknowledgeDeadLetterQueue(queue, of);
  return queue;
}

/**
 * The on-failure destination of a mapping: an SQS queue. Unlike CDK's `SqsDlq`, it grants nothing
 * when bound: the construct grants least-privilege sending itself, before the mapping exists.
 */
class OnFailureQueueDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.IQueue) {}

  public bind(): lambda.DlqDestinationConfig {
    return { destination: this.queue.queueArn };
  }
}

/** What {@link mapTableStream} needs. */
export interface TableStreamMappingOptions {
  readonly table: dynamodb.ITable;
  readonly target: lambda.IFunction;
  /** The `recordType` the mapping lets through (inserts only). */
  readonly recordType: string;
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
  readonly startingPosition?: lambda.StartingPosition;
  readonly onFailureQueue: sqs.IQueue;
  readonly enabled?: boolean;
  /** What reads the stream, for the warning about a function imported without its role. */
  readonly what: string;
}

/**
 * The event source mapping of a DynamoDB stream consumer, with the kit's stream settings: inserts
 * of one record type only (FilterCriteria: modifications and TTL removals never reach the
 * function), one batch per shard at a time (parallelization 1: order per partition key), bisection
 * on function errors, partial batch responses, bounded retries, a maximum record age and the
 * on-failure queue. The function's permissions exist before the mapping (Lambda checks them).
 */
export function mapTableStream(scope: Construct, options: TableStreamMappingOptions): lambda.EventSourceMapping {
  const { table, target } = options;
  const mapping = new lambda.EventSourceMapping(scope, 'EventSourceMapping', {
    target,
    eventSourceArn: table.tableStreamArn!,
    startingPosition: options.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON,
    batchSize: options.batchSize,
    maxBatchingWindow: options.maxBatchingWindow,
    parallelizationFactor: 1,
    bisectBatchOnError: true,
    reportBatchItemFailures: true,
    retryAttempts: options.retryAttempts,
    maxRecordAge: options.maxRecordAge,
    onFailure: new OnFailureQueueDestination(options.onFailureQueue),
    filters: [
      lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.isEqual('INSERT'),
        dynamodb: { NewImage: { [RECORD_ATTRIBUTE.recordType]: { S: lambda.FilterRule.isEqual(options.recordType) } } },
      }),
    ],
    enabled: options.enabled,
  });
  if (target.role) {
    grantStreamRead(scope, table, target).applyBefore(mapping);
    grantSendOnly(options.onFailureQueue, target).applyBefore(mapping);
    const listStreams = scope.node.tryFindChild('ListStreamsPolicy');
    if (listStreams) mapping.node.addDependency(listStreams);
  } else {
    Annotations.of(scope).addWarningV2(
      'cdk-messaging-patterns:consumerWithoutRole',
      `${options.what} ${target.node.path} was imported without its role, so the kit could not grant it read access to the table's stream (dynamodb:DescribeStream, GetRecords, GetShardIterator, ListStreams${table.encryptionKey ? ', kms:Decrypt on its key' : ''}) nor sqs:SendMessage on the on-failure queue: grant them to its role.`,
    );
  }
  return mapping;
}

/**
 * Read access to the table's stream: `DescribeStream`, `GetRecords`, `GetShardIterator` on the
 * stream, `kms:Decrypt` on a customer managed key, and `ListStreams` (which Lambda checks when it
 * creates the mapping, and which takes no resource but `*`) in a policy of its own, on which that
 * one cdk-nag finding is acknowledged.
 */
export function grantStreamRead(scope: Construct, table: dynamodb.ITable, grantee: lambda.IFunction): iam.Grant {
  const stream = iam.Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
    resourceArns: [table.tableStreamArn!],
  });
  if (grantee.role) {
    const policy = new iam.Policy(scope, 'ListStreamsPolicy', {
      statements: [new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] })],
      roles: [grantee.role],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams supports no resource-level permissions, and Lambda checks it when it creates a DynamoDB stream event source mapping; this policy holds that one action.',
    });
  }
  return combineGrants(grantee, [stream, table.encryptionKey?.grant(grantee, 'kms:Decrypt')], 'nothing to grant');
}

/** The iterator-age and on-failure alarms of a stream consumer. */
export function streamConsumerAlarms(
  scope: Construct,
  alarms: AlarmsProps | undefined,
  what: string,
  iteratorAge: cloudwatch.Metric,
  thresholdMs: number,
  maxRecordAge: Duration,
  onFailureQueue: sqs.IQueue,
): void {
  createAlarm(scope, alarms, {
    id: ITERATOR_AGE_ALARM,
    metric: iteratorAge,
    threshold: thresholdMs,
    evaluationPeriods: ITERATOR_AGE_EVALUATION_PERIODS,
    description: (ms) =>
      `${what}: ${Duration.millis(ms).toHumanString()} or more behind the table's stream (iterator age). Records older than ${maxRecordAge.toHumanString()} are skipped to the on-failure queue; the stream deletes them after 24 hours.`,
  });
  createAlarm(scope, alarms, {
    id: ON_FAILURE_DESTINATION_ALARM,
    metric: queueMetric(onFailureQueue, 'ApproximateNumberOfMessagesVisible'),
    threshold: DEAD_LETTER_ALARM_THRESHOLD,
    description: (n) =>
      `${what}: ${n === 1 ? 'a message is' : `${n} or more messages are`} in the on-failure queue (records given up on, with their reason, or batches Lambda discarded, with their sequence numbers).`,
  });
}

/** The function's `IteratorAge` (AWS/Lambda, Maximum over 1 minute). */
export function iteratorAgeMetric(fn: lambda.IFunction, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return fn.metric('IteratorAge', metricOptions(cloudwatch.Stats.MAXIMUM, props));
}

/** Table props both constructs take (the IdempotencyTable vocabulary). */
export interface TableSettings {
  readonly tableName?: string;
  readonly encryption?: dynamodb.TableEncryption;
  readonly encryptionKey?: kms.IKey;
  readonly pointInTimeRecovery?: boolean;
  readonly deletionProtection?: boolean;
  readonly removalPolicy?: RemovalPolicy;
}

/** Checks table settings into `v` (problem codes under `prefix`); returns the encryption to use. */
export function validateTableSettings(v: PropsValidator, t: TableSettings, prefix = ''): dynamodb.TableEncryption {
  const encryption = t.encryption ?? (t.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.DEFAULT);
  v.check(
    `${prefix}encryptionKey:conflict`,
    t.encryptionKey === undefined || encryption === dynamodb.TableEncryption.CUSTOMER_MANAGED,
    `${prefix}encryptionKey requires encryption CUSTOMER_MANAGED (given encryption ${t.encryption} and an encryptionKey)`,
  );
  v.matches(`${prefix}tableName`, t.tableName, /^[a-zA-Z0-9_.-]{3,255}$/, "3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'");
  return encryption;
}

/** A table with the kit's defaults: on-demand, encrypted, point-in-time recovery, RETAIN, a NEW_IMAGE stream, TTL on `expiresAt`. */
export function buildTable(
  scope: Construct,
  id: string,
  t: TableSettings,
  encryption: dynamodb.TableEncryption,
  keys: { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute; stream: boolean },
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    tableName: t.tableName,
    partitionKey: keys.partitionKey,
    sortKey: keys.sortKey,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: keys.stream ? RECORD_ATTRIBUTE.timeToLive : undefined,
    stream: keys.stream ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
    encryption,
    encryptionKey: t.encryptionKey,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: t.pointInTimeRecovery ?? true },
    deletionProtection: t.deletionProtection ?? false,
    removalPolicy: t.removalPolicy ?? RemovalPolicy.RETAIN,
  });
}

/**
 * What `connectX` grants a function: the grant `grant` builds, or, for a function imported without
 * its role, a dropped grant and a warning saying what to grant by hand.
 */
export function grantFunction(scope: Construct, fn: lambda.IFunction, what: string, grant: () => iam.Grant): iam.Grant {
  if (fn.role) return grant();
  Annotations.of(scope).addWarningV2(
    'cdk-messaging-patterns:functionWithoutRole',
    `${fn.node.path} was imported without its role, so the kit could not grant it ${what}: grant it to its role.`,
  );
  return iam.Grant.drop(fn, `${fn.node.path} was imported without its role`);
}

/** Grants `actions` on `table`, and the key actions on a customer managed key, as one grant. */
export function grantTable(table: dynamodb.ITable, grantee: iam.IGrantable, actions: string[], keyActions: string[]): iam.Grant {
  return combineGrants(
    grantee,
    [table.grant(grantee, ...actions), keyActions.length > 0 ? table.encryptionKey?.grant(grantee, ...keyActions) : undefined],
    'nothing to grant',
  );
}

/** A stream view type that carries new images, read from an existing `dynamodb.Table` of this app (undefined when unknown). */
export function streamViewTypeOf(table: dynamodb.ITable): string | undefined {
  if (!(table instanceof dynamodb.Table)) return undefined;
  const cfn = table.node.defaultChild as dynamodb.CfnTable | undefined;
  const spec = cfn?.streamSpecification as dynamodb.CfnTable.StreamSpecificationProperty | undefined;
  return spec?.streamViewType;
}

/** Checks an existing table for what a stream consumer needs: a stream with new images. */
export function validateExistingTable(v: PropsValidator, table: dynamodb.ITable | undefined, name: string): void {
  if (!table) return;
  v.check(
    `${name}:required`,
    table.tableStreamArn !== undefined,
    `${name} needs a stream: create it with stream NEW_IMAGE (or NEW_AND_OLD_IMAGES), or import it with its tableStreamArn (given ${table.node.path})`,
  );
  const view = streamViewTypeOf(table);
  if (view !== undefined && !isUnresolved(view)) {
    v.check(
      `${name}:unsupported`,
      view === dynamodb.StreamViewType.NEW_IMAGE || view === dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      `${name}'s stream must show new images: NEW_IMAGE or NEW_AND_OLD_IMAGES (given ${describeValue(view)})`,
    );
  }
}
