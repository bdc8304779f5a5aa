import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import { PROJECTION_BATCH_SIZE } from '../core/defaults';
import { combineGrants, connectFunction } from '../core/grants';
import { queueMetric } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV, RECORD_ATTRIBUTE, RECORD_TYPE } from '../core/wire';
import {
  STREAM_CONSUMER_ALARMS,
  buildOnFailureQueue,
  buildTable,
  grantFunction,
  grantTable,
  iteratorAgeMetric,
  mapTableStream,
  streamConsumerAlarms,
  validateStreamConsumer,
  validateTableSettings,
} from '../outbox/private/stream-mapping';
import type { EventStore } from './event-store';

/** The ids of a projection's alarms, for `alarms.overrides`. */
const PROJECTION_ALARMS = STREAM_CONSUMER_ALARMS;
const PROJECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Options of a projection, as {@link EventStore.addProjection} takes them. */
export interface ProjectionOptions extends MessagingPatternProps {
  /**
   * Your projector function, built with `Projector` from `cdk-messaging-patterns/runtime/event-store`
   * (your projection's `initial` and `apply` in it). The kit maps the event table's stream to it
   * (event inserts only), grants it the read-model table, the event table (to fill gaps) and the
   * payloads, and sets `EVENT_STORE_CONFIG`, `READ_MODEL_TABLE_NAME` and `PROJECTION_NAME`.
   */
  readonly projector: lambda.IFunction;

  /**
   * The projection's name (in its checkpoints and logs): 1 to 128 letters, digits, `_`, `.`, `-`.
   *
   * @default - the construct's id
   */
  readonly projectionName?: string;

  /**
   * The read-model table's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly readModelTableName?: string;

  /**
   * Encryption at rest of the read-model table.
   *
   * @default - `CUSTOMER_MANAGED` when `encryptionKey` is given, else `DEFAULT` (an AWS owned key)
   */
  readonly encryption?: dynamodb.TableEncryption;

  /**
   * The customer managed key encrypting the read-model table.
   *
   * @default - none; with `encryption: CUSTOMER_MANAGED`, a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Point-in-time recovery of the read-model table.
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /**
   * What happens to the read-model table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN - a rebuild can recreate it, but not for free
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Stream records per projector batch (1–10,000).
   *
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * How long the mapping gathers records before invoking the projector (0–5 minutes).
   *
   * @default - none
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retries of a failing batch (0–10,000) before Lambda sends its sequence numbers to the
   * on-failure queue. Nothing is lost then: the projector reads the events it missed from the event
   * table when the aggregate's next event comes, and a rebuild recomputes everything.
   *
   * @default 3
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are skipped to the on-failure queue (1 minute – 24 hours).
   *
   * @default Duration.hours(12)
   */
  readonly maxRecordAge?: Duration;

  /**
   * Where a new mapping starts reading.
   *
   * @default lambda.StartingPosition.TRIM_HORIZON - the oldest record the stream holds (older history: rebuild)
   */
  readonly startingPosition?: lambda.StartingPosition;

  /**
   * Props of the on-failure queue, merged over the kit's defaults (kept encrypted, TLS-only, standard).
   *
   * @default - SSE-SQS encryption, TLS-only policy, 14-day retention
   */
  readonly onFailureQueueProps?: sqs.QueueProps;

  /**
   * Whether the mapping starts enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/** Props of {@link Projection}. */
export interface ProjectionProps extends ProjectionOptions {
  /** The event store whose events are projected. */
  readonly eventStore: EventStore;
}

/**
 * A projection of an `EventStore` (CQRS): a read-model table (one item per aggregate, partition key
 * `pk`) kept up to date by your projector function on the event table's stream, filtered to event
 * inserts, with the kit's stream settings (parallelization 1, bisection, partial batch responses, 3
 * retries, 12-hour maximum record age, an encrypted on-failure queue).
 *
 * The projector (`Projector` from `cdk-messaging-patterns/runtime/event-store`) writes each read
 * model conditionally on its version, so every event is folded in exactly once whatever the stream
 * redelivers; it keeps a checkpoint item per projection; `Projector.rebuild()` re-reads the event
 * table (a function connected with {@link connectReplayer} can run it).
 *
 * Alarms (ids for `alarms.overrides`): `IteratorAgeTooHigh` (the projector's `IteratorAge` at or
 * above 6 hours for 3 minutes; threshold in milliseconds) and `OnFailureDestinationNotEmpty`.
 *
 * @example
 * const summary = accounts.addProjection('Summary', { projector: summaryFn });
 * summary.connectConsumer(queryApiFn); // reads the read models: sets READ_MODEL_TABLE_NAME
 */
export class Projection extends MessagingPattern {
  /** The event store projected. */
  public readonly eventStore: EventStore;
  /** The read-model table. */
  public readonly readModelTable: dynamodb.Table;
  /** The read-model table's name. */
  public readonly readModelTableName: string;
  /** The projection's name. */
  public readonly projectionName: string;
  /** The projector. */
  public readonly projector: lambda.IFunction;
  /** The projector's event source mapping. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** Where Lambda sends the sequence numbers of batches it discarded. */
  public readonly onFailureQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: ProjectionProps) {
    super(scope, id, props);
    const v = new PropsValidator(this);
    const derived = validateProjectionProps(v, props);
    v.throwIfInvalid();

    this.eventStore = props.eventStore;
    this.projector = props.projector;
    this.projectionName = props.projectionName ?? this.node.id;
    this.readModelTable = buildTable(
      this,
      'ReadModel',
      { ...props, tableName: props.readModelTableName, deletionProtection: undefined },
      derived.encryption,
      { partitionKey: { name: RECORD_ATTRIBUTE.partitionKey, type: dynamodb.AttributeType.STRING }, stream: false },
    );
    this.readModelTableName = this.readModelTable.tableName;
    this.onFailureQueue = buildOnFailureQueue(this, props.onFailureQueueProps, `the projector of ${this.node.path}`);

    // Gaps are filled from the event table, offloaded payloads read from S3.
    const grant = grantFunction(this, props.projector, 'the event table reads, the payloads and the read models writes', () =>
      combineGrants(
        props.projector,
        [this.eventStore.grantRead(props.projector), this.grantReadModelWrite(props.projector)],
        'nothing to grant',
      ),
    );
    connectFunction(this, props.projector, this.environment(true), grant);

    this.eventSourceMapping = mapTableStream(this, {
      table: this.eventStore.table,
      target: props.projector,
      recordType: RECORD_TYPE.event,
      batchSize: props.batchSize ?? PROJECTION_BATCH_SIZE,
      maxBatchingWindow: props.maxBatchingWindow,
      retryAttempts: derived.retryAttempts,
      maxRecordAge: derived.maxRecordAge,
      startingPosition: props.startingPosition,
      onFailureQueue: this.onFailureQueue,
      enabled: props.enabled,
      what: 'the projector',
    });

    streamConsumerAlarms(
      this,
      props.alarms,
      `Projection ${this.node.path}: the projector is`,
      this.metricIteratorAge(),
      derived.iteratorAgeThresholdMs,
      derived.maxRecordAge,
      this.onFailureQueue,
    );
    this._showOnDashboard(this.metricIteratorAge(), this.metricOnFailureMessages());
  }

  /** Grants `grantee` permission to read the read models: `GetItem`, `BatchGetItem`, `Query`, `Scan`, and `kms:Decrypt` on a customer managed key. */
  public grantReadModelRead(grantee: iam.IGrantable): iam.Grant {
    return grantTable(
      this.readModelTable,
      grantee,
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'],
      ['kms:Decrypt'],
    );
  }

  /** Makes `fn` a reader of the read models: {@link grantReadModelRead}, and the table and projection names in `READ_MODEL_TABLE_NAME` and `PROJECTION_NAME`. */
  public connectConsumer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      this.environment(false),
      grantFunction(this, fn, 'read access to the read models', () => this.grantReadModelRead(fn)),
    );
  }

  /**
   * Makes `fn` a rebuilder (`Projector.rebuild()`): the event store's replay grant (Scan, Query,
   * payloads), the read models' writes, and `EVENT_STORE_CONFIG`, `READ_MODEL_TABLE_NAME` and
   * `PROJECTION_NAME` in its environment.
   */
  public connectReplayer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      this.environment(true),
      grantFunction(this, fn, 'the event table scan and reads, and the read models writes', () =>
        combineGrants(fn, [this.eventStore.grantReplay(fn), this.grantReadModelWrite(fn)], 'nothing to grant'),
      ),
    );
  }

  /** How far the projector is behind the event table's stream, in milliseconds (`IteratorAge`, Maximum over 1 minute). */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return iteratorAgeMetric(this.projector, props);
  }

  /** Messages in the on-failure queue (Maximum over 1 minute). */
  public metricOnFailureMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.onFailureQueue, 'ApproximateNumberOfMessagesVisible', props);
  }

  private grantReadModelWrite(grantee: iam.IGrantable): iam.Grant {
    return grantTable(
      this.readModelTable,
      grantee,
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    );
  }

  private environment(withStore: boolean): Record<string, string> {
    return {
      ...(withStore ? { [ENV.eventStoreConfig]: this.eventStore.config } : {}),
      [ENV.readModelTableName]: this.readModelTableName,
      [ENV.projectionName]: this.projectionName,
    };
  }
}

/** What the constructor derives from the props. */
export interface ProjectionDerived {
  readonly encryption: dynamodb.TableEncryption;
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
  readonly iteratorAgeThresholdMs: number;
}

/** Checks a projection's props into `v`. */
export function validateProjectionProps(v: PropsValidator, props: ProjectionProps): ProjectionDerived {
  const encryption = validateTableSettings(v, { ...props, tableName: undefined });
  v.matches(
    'readModelTableName',
    props.readModelTableName,
    /^[a-zA-Z0-9_.-]{3,255}$/,
    "3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'",
  );
  if (props.projectionName !== undefined && !isUnresolved(props.projectionName)) {
    v.check(
      'projectionName:format',
      PROJECTION_NAME.test(props.projectionName),
      `projectionName must be 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit (given ${describeValue(props.projectionName)})`,
    );
  }
  const stream = validateStreamConsumer(v, props, props.alarms);
  validateAlarms(v, props.alarms, PROJECTION_ALARMS);
  return { encryption, ...stream };
}
