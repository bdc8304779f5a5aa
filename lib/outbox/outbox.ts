import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import {
  COMMAND_RETENTION,
  MAX_RECORD_RETENTION,
  MIN_RECORD_RETENTION,
  OUTBOX_MAX_DELIVERY_ATTEMPTS,
  OUTBOX_PUBLISHED_RETENTION,
  OUTBOX_RELAY_BATCH_SIZE,
  OUTBOX_RELAY_TIMEOUT,
} from '../core/defaults';
import { combineGrants, connectFunction } from '../core/grants';
import { KitFunction } from '../core/kit-function';
import { LAMBDA_MAX_TIMEOUT_SECONDS, LAMBDA_MIN_TIMEOUT } from '../core/limits';
import { metricOptions, queueMetric } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV, RECORD_ATTRIBUTE, RECORD_TYPE } from '../core/wire';
import { EventRouter } from '../event-router/event-router';
import { OutboxTarget } from './outbox-target';
import {
  STREAM_CONSUMER_ALARMS,
  buildOnFailureQueue,
  buildTable,
  grantFunction,
  grantTable,
  iteratorAgeMetric,
  mapTableStream,
  streamConsumerAlarms,
  validateExistingTable,
  validateStreamConsumer,
  validateTableSettings,
} from './private/stream-mapping';

/** Props of {@link TransactionalOutbox}. */
export interface TransactionalOutboxProps extends MessagingPatternProps {
  /**
   * An existing table to keep the outbox records in (a single-table design): partition key `pk`
   * and sort key `sk`, both strings, a stream with new images (NEW_IMAGE or NEW_AND_OLD_IMAGES), and
   * TTL on `expiresAt` for published records to expire. The relay only sees its own records.
   *
   * @default - a new table
   */
  readonly existingTable?: dynamodb.ITable;

  /**
   * The name of the table the kit creates.
   *
   * @default - a name CloudFormation generates
   */
  readonly tableName?: string;

  /**
   * Encryption at rest of the table the kit creates.
   *
   * @default - `CUSTOMER_MANAGED` when `encryptionKey` is given, else `DEFAULT` (an AWS owned key)
   */
  readonly encryption?: dynamodb.TableEncryption;

  /**
   * The customer managed key encrypting the table the kit creates.
   *
   * @default - none; with `encryption: CUSTOMER_MANAGED`, a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Point-in-time recovery of the table the kit creates.
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /**
   * Deletion protection of the table the kit creates.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the table the kit creates when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Where the relay publishes: an EventBridge bus (an `EventRouter`'s), an SNS FIFO topic or a
   * Kinesis stream. Choose the topic or the stream when consumers need each aggregate's events in
   * order: an EventBridge bus does not keep order.
   *
   * @default - a new `EventRouter` (`eventRouter`), its bus the target
   */
  readonly target?: OutboxTarget;

  /**
   * The `source` of the events on an EventBridge bus (what routes match). 1 to 256 characters, not
   * starting with `aws.`.
   *
   * @default - the construct's id
   */
  readonly eventSource?: string;

  /**
   * Stream records per relay batch (1–10,000).
   *
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * How long the mapping gathers records before invoking the relay (0–5 minutes).
   *
   * @default - none: the relay is invoked as soon as records arrive
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retries of a failing batch by Lambda (0–10,000) before it sends the batch's sequence numbers to
   * the on-failure queue. The relay gives up on a record itself after `maxDeliveryAttempts`, with
   * the reason; this bounds what it cannot catch (crashes, timeouts).
   *
   * @default 3
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are skipped to the on-failure queue (1 minute – 24 hours, a DynamoDB
   * stream's retention). Skipped records stay in the table unpublished: `Outbox.redrive` hands them
   * to the relay again.
   *
   * @default Duration.hours(12)
   */
  readonly maxRecordAge?: Duration;

  /**
   * Invocations in which a record was the relay's first unpublished one before the relay sends it
   * to the on-failure queue with its reason and holds back the rest of its aggregate (1 to
   * `retryAttempts` + 1).
   *
   * @default 3
   */
  readonly maxDeliveryAttempts?: number;

  /**
   * How long a published record stays in the table before its TTL deletes it (1 minute – 365 days).
   *
   * @default Duration.days(7)
   */
  readonly publishedRecordRetention?: Duration;

  /**
   * How long a command id given to `Outbox.write` is remembered (1 minute – 365 days).
   *
   * @default Duration.days(14) - the longest SQS keeps a message
   */
  readonly commandRetention?: Duration;

  /**
   * The relay's timeout.
   *
   * @default Duration.minutes(1)
   */
  readonly relayTimeout?: Duration;

  /**
   * Props of the on-failure queue, merged over the kit's defaults. It receives the relay's dead
   * letters (each record given up on, with its reason) and Lambda's (the sequence numbers of a batch
   * it discarded). Kept encrypted, TLS-only and standard whatever is given here.
   *
   * @default - SSE-SQS encryption, TLS-only policy, 14-day retention
   */
  readonly onFailureQueueProps?: sqs.QueueProps;

  /**
   * Whether the relay's mapping starts enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/** The ids of a transactional outbox's alarms, for `alarms.overrides`. */
const TRANSACTIONAL_OUTBOX_ALARMS = STREAM_CONSUMER_ALARMS;

/**
 * Transactional outbox: events are written in the same DynamoDB transaction as the business change
 * and published by a relay, so a change is never published without being committed, nor committed
 * without being published.
 *
 * A table (or `existingTable`) with a NEW_IMAGE stream and TTL; the kit's relay function on the
 * stream, filtered to outbox inserts (FilterCriteria: the relay's own marks, modifications and TTL
 * removals never reach it), publishing to an `EventRouter` bus (default), an SNS FIFO topic or a
 * Kinesis stream. The mapping processes one batch per shard at a time, bisects on errors, takes
 * partial batch responses, retries 3 times, skips records older than 12 hours, and sends what it
 * discards to an encrypted on-failure queue. The relay publishes in calls of 10, retries only the
 * failed entries, keeps order per aggregate (an aggregate's records share a partition key, hence a
 * shard), gives up on a record after 3 invocations with its reason (on-failure queue) and then holds
 * the aggregate back, and stamps every event with its outbox record's `eventId`.
 *
 * Producers use `Outbox` from `cdk-messaging-patterns/runtime/outbox`:
 * `write(businessWrites, events, { commandId })` is one `TransactWriteItems`.
 *
 * Alarms (ids for `alarms.overrides`): `IteratorAgeTooHigh` (the relay's `IteratorAge` at or above
 * 6 hours for 3 minutes; threshold in milliseconds) and `OnFailureDestinationNotEmpty`.
 *
 * @example
 * const outbox = new TransactionalOutbox(this, 'Orders');
 * outbox.connectProducer(placeOrderFn); // grants the writes, sets OUTBOX_TABLE_NAME
 * outbox.eventRouter!.addRoute('Billing', { eventPattern: { source: ['Orders'] }, targets: [RouteTarget.queue(billing.queue)] });
 */
export class TransactionalOutbox extends MessagingPattern {
  /** The outbox table. */
  public readonly table: dynamodb.ITable;
  /** The table's name. */
  public readonly tableName: string;
  /** The customer managed key encrypting the table, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** Where the relay publishes. */
  public readonly target: OutboxTarget;
  /** The router the kit created as the target (none when `target` was given). */
  public readonly eventRouter?: EventRouter;
  /** The relay. */
  public readonly relayFunction: lambda.Function;
  /** The relay's event source mapping. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** Where records given up on go (the relay's, with their reason; Lambda's, with sequence numbers). */
  public readonly onFailureQueue: sqs.IQueue;
  /** The `source` of the events on an EventBridge bus. */
  public readonly eventSource: string;
  /** How long command ids are remembered. */
  public readonly commandRetention: Duration;

  constructor(scope: Construct, id: string, props: TransactionalOutboxProps = {}) {
    super(scope, id, props);
    const v = new PropsValidator(this);
    const derived = validateTransactionalOutboxProps(v, props);
    v.throwIfInvalid();

    if (props.existingTable) {
      this.table = props.existingTable;
    } else {
      this.table = buildTable(this, 'Resource', props, derived.encryption, {
        partitionKey: { name: RECORD_ATTRIBUTE.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: RECORD_ATTRIBUTE.sortKey, type: dynamodb.AttributeType.STRING },
        stream: true,
      });
    }
    this.tableName = this.table.tableName;
    this.encryptionKey = this.table.encryptionKey;
    this.eventSource = props.eventSource ?? this.node.id;
    this.commandRetention = props.commandRetention ?? COMMAND_RETENTION;

    if (props.target) {
      this.target = props.target;
    } else {
      this.eventRouter = new EventRouter(this, 'Router');
      this.target = OutboxTarget.eventRouter(this.eventRouter);
    }
    this.target._warnings(this);

    this.onFailureQueue = buildOnFailureQueue(this, props.onFailureQueueProps, `the outbox relay of ${this.node.path}`);
    this.relayFunction = new KitFunction(this, 'Relay', {
      handler: 'outbox/relay',
      functionProps: {
        description: `Outbox relay of ${this.node.path}`,
        timeout: props.relayTimeout ?? OUTBOX_RELAY_TIMEOUT,
        environment: {
          [ENV.outboxRelayConfig]: Stack.of(this).toJsonString({
            tableName: this.tableName,
            target: this.target._config(),
            source: this.eventSource,
            deadLetterQueueUrl: this.onFailureQueue.queueUrl,
            maxDeliveryAttempts: props.maxDeliveryAttempts ?? OUTBOX_MAX_DELIVERY_ATTEMPTS,
            publishedRetentionSeconds: (props.publishedRecordRetention ?? OUTBOX_PUBLISHED_RETENTION).toSeconds(),
          }),
        },
      },
      synchronousOnlyReason:
        'The relay is invoked by its DynamoDB stream event source mapping only, whose on-failure queue takes what fails.',
    });
    // The relay marks what it published (TTL), counts failed attempts, reads and writes the hold markers.
    grantTable(
      this.table,
      this.relayFunction,
      ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    );
    this.target._grantPublish(this.relayFunction);

    this.eventSourceMapping = mapTableStream(this, {
      table: this.table,
      target: this.relayFunction,
      recordType: RECORD_TYPE.outbox,
      batchSize: props.batchSize ?? OUTBOX_RELAY_BATCH_SIZE,
      maxBatchingWindow: props.maxBatchingWindow,
      retryAttempts: derived.retryAttempts,
      maxRecordAge: derived.maxRecordAge,
      onFailureQueue: this.onFailureQueue,
      enabled: props.enabled,
      what: 'the relay',
    });

    streamConsumerAlarms(
      this,
      props.alarms,
      `Outbox ${this.node.path}: the relay is`,
      this.metricIteratorAge(),
      derived.iteratorAgeThresholdMs,
      derived.maxRecordAge,
      this.onFailureQueue,
    );
    this._showOnDashboard(this.metricIteratorAge(), this.metricOnFailureMessages(), this.metricRelayErrors());
  }

  /**
   * Grants `grantee` what `Outbox.write` needs on the outbox table: `PutItem` (records and command
   * records, in a transaction), `ConditionCheckItem`, `GetItem` (a duplicate command's stored result),
   * and `kms:Decrypt`, `kms:Encrypt`, `kms:GenerateDataKey` on a customer managed key. Your business
   * writes' tables are yours to grant.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return grantTable(
      this.table,
      grantee,
      ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    );
  }

  /**
   * Grants `grantee` (an operator, a redrive function) what `Outbox.pending` and `Outbox.redrive`
   * need: `Query`, `DeleteItem` and `PutItem` on the table, and `kms:Decrypt`, `kms:Encrypt`,
   * `kms:GenerateDataKey` on a customer managed key.
   */
  public grantRedrive(grantee: iam.IGrantable): iam.Grant {
    return grantTable(
      this.table,
      grantee,
      ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:PutItem'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    );
  }

  /** Grants `grantee` permission to read and delete the on-failure queue's messages (operators). */
  public grantConsumeOnFailureMessages(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(grantee, [this.onFailureQueue.grantConsumeMessages(grantee)], 'the outbox has no on-failure queue');
  }

  /**
   * Makes `fn` a producer: {@link grantWrite}, and the table's name and the command retention in its
   * `OUTBOX_TABLE_NAME` and `OUTBOX_COMMAND_RETENTION_SECONDS` environment variables, which
   * `new Outbox()` reads.
   */
  public connectProducer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      { [ENV.outboxTableName]: this.tableName, [ENV.outboxCommandRetentionSeconds]: String(this.commandRetention.toSeconds()) },
      grantFunction(this, fn, 'dynamodb:PutItem, ConditionCheckItem and GetItem on the outbox table', () => this.grantWrite(fn)),
    );
  }

  /** How far the relay is behind the table's stream, in milliseconds (`IteratorAge`, Maximum over 1 minute). */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return iteratorAgeMetric(this.relayFunction, props);
  }

  /** Messages in the on-failure queue (Maximum over 1 minute). */
  public metricOnFailureMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.onFailureQueue, 'ApproximateNumberOfMessagesVisible', props);
  }

  /** Failed relay invocations (Sum over 1 minute). */
  public metricRelayErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relayFunction.metricErrors(metricOptions(cloudwatch.Stats.SUM, props));
  }
}

/** What the constructor derives from the props. */
export interface TransactionalOutboxDerived {
  readonly encryption: dynamodb.TableEncryption;
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
  readonly iteratorAgeThresholdMs: number;
}

/** Checks a transactional outbox's props into `v`, and returns what the constructor derives from them. */
export function validateTransactionalOutboxProps(v: PropsValidator, props: TransactionalOutboxProps): TransactionalOutboxDerived {
  if (props.existingTable) {
    for (const [name, value] of Object.entries({
      tableName: props.tableName,
      encryption: props.encryption,
      encryptionKey: props.encryptionKey,
      pointInTimeRecovery: props.pointInTimeRecovery,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    })) {
      v.notWith(name, value, 'existingTable', props.existingTable);
    }
  }
  validateExistingTable(v, props.existingTable, 'existingTable');
  const encryption = validateTableSettings(v, props);
  const stream = validateStreamConsumer(v, props, props.alarms);
  const eventSource = props.eventSource;
  if (eventSource !== undefined && !isUnresolved(eventSource)) {
    v.check(
      'eventSource:format',
      eventSource.length >= 1 && eventSource.length <= 256 && !eventSource.startsWith('aws.'),
      `eventSource must be 1 to 256 characters and not start with 'aws.' (EventBridge reserves it) (given ${describeValue(eventSource)})`,
    );
  }
  v.integerInRange(
    'maxDeliveryAttempts',
    props.maxDeliveryAttempts,
    1,
    stream.retryAttempts + 1,
    ' (at most retryAttempts + 1: Lambda gives up after that)',
  );
  v.durationInRange('publishedRecordRetention', props.publishedRecordRetention, MIN_RECORD_RETENTION, MAX_RECORD_RETENTION);
  v.durationInRange('commandRetention', props.commandRetention, MIN_RECORD_RETENTION, MAX_RECORD_RETENTION);
  v.durationInRange('relayTimeout', props.relayTimeout, LAMBDA_MIN_TIMEOUT, Duration.seconds(LAMBDA_MAX_TIMEOUT_SECONDS));
  validateAlarms(v, props.alarms, TRANSACTIONAL_OUTBOX_ALARMS);
  return { encryption, ...stream };
}
