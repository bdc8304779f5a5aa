import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import { COMMAND_RETENTION, EVENT_STORE_SNAPSHOT_EVERY, MAX_RECORD_RETENTION, MIN_RECORD_RETENTION } from '../core/defaults';
import { combineGrants, connectFunction } from '../core/grants';
import { metricOptions } from '../core/metrics';
import { acknowledgeWildcardResource } from '../core/nag';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator } from '../core/validation';
import { ENV, RECORD_ATTRIBUTE, SHARED_DEFAULT } from '../core/wire';
import { TransactionalOutbox } from '../outbox/outbox';
import { buildTable, grantFunction, grantTable, validateTableSettings } from '../outbox/private/stream-mapping';
import { buildPayloadBucket, useBucketPolicyForAccessLogs } from './private/payload-bucket';
import { Projection, ProjectionOptions } from './projection';

/** Key prefixes of the payload bucket: event data and snapshot states above the threshold. */
const PAYLOAD_PREFIXES = ['events/', 'snapshots/'];
/** Bounds of `payloadThresholdBytes`: at least 1 KiB; at most 380,000 bytes, leaving room for the rest of a 400 KB item. */
const MIN_PAYLOAD_THRESHOLD = 1024;
const MAX_PAYLOAD_THRESHOLD = 380_000;

/** Props of {@link EventStore}. */
export interface EventStoreProps extends MessagingPatternProps {
  /**
   * The event table's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly tableName?: string;

  /**
   * Encryption at rest of the event table.
   *
   * @default - `CUSTOMER_MANAGED` when `encryptionKey` is given, else `DEFAULT` (an AWS owned key)
   */
  readonly encryption?: dynamodb.TableEncryption;

  /**
   * The customer managed key encrypting the event table.
   *
   * @default - none; with `encryption: CUSTOMER_MANAGED`, a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Point-in-time recovery of the event table.
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /**
   * Deletion protection of the event table.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the event table (and the payload buckets the kit creates) when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN - events are the system of record
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Events between two snapshots of an aggregate (1–100,000): loading reads the latest snapshot and
   * fewer events than this.
   *
   * @default 100
   */
  readonly snapshotEvery?: number;

  /**
   * Whether event data and snapshot states above `payloadThresholdBytes` go to S3 (claim-check style).
   * Without it such an append is refused.
   *
   * @default true
   */
  readonly largePayloads?: boolean;

  /**
   * A bucket of yours for the large payloads, used as it is (keys under `events/` and `snapshots/`).
   * Give it no expiry: events are kept for ever.
   *
   * @default - a new bucket (SSE-S3, TLS only, public access blocked, versioned, server access logs, RETAIN)
   */
  readonly payloadBucket?: s3.IBucket;

  /**
   * Event data (or a snapshot's state) above this many bytes goes to S3 (1,024–380,000).
   *
   * @default 350000 - a DynamoDB item holds 400 KB, the rest of the item included
   */
  readonly payloadThresholdBytes?: number;

  /**
   * How long a command id given to `append` is remembered (1 minute – 365 days).
   *
   * @default Duration.days(14) - the longest SQS keeps a message
   */
  readonly commandRetention?: Duration;

  /**
   * An outbox the events are distributed through: every appended event also gets an outbox record,
   * in the same transaction, and the outbox's relay publishes it to its target.
   *
   * @default - no distribution
   */
  readonly outbox?: TransactionalOutbox;
}

/**
 * Event sourcing on DynamoDB: a table of events keyed by aggregate id and version (and the
 * aggregates' snapshots and command records), with a NEW_IMAGE stream for projections, TTL for
 * command records, point-in-time recovery, encryption at rest and RETAIN; a bucket for payloads
 * above the item limit; optional distribution through a `TransactionalOutbox`.
 *
 * Writers and readers use `EventStore` from `cdk-messaging-patterns/runtime/event-store`: `append`
 * with optimistic concurrency (one `TransactWriteItems`: gapless versions, `ConcurrencyError`),
 * idempotent by command id; `load` from the latest snapshot of the reducer's version;
 * `loadAt(version | time)`; upcasters on every read. Projections (CQRS read models) are added with
 * {@link addProjection}.
 *
 * @example
 * const accounts = new EventStore(this, 'Accounts', { snapshotEvery: 50 });
 * accounts.connectProducer(commandHandler); // append and load: sets EVENT_STORE_CONFIG
 * accounts.addProjection('Summary', { projector: summaryFn });
 */
export class EventStore extends MessagingPattern {
  /** The event table. */
  public readonly table: dynamodb.Table;
  /** The table's name. */
  public readonly tableName: string;
  /** The customer managed key encrypting the table, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** Where large payloads go, when `largePayloads` is on. */
  public readonly payloadBucket?: s3.IBucket;
  /** The access-log bucket of the payload bucket the kit created. */
  public readonly accessLogsBucket?: s3.IBucket;
  /** The outbox the events are distributed through. */
  public readonly outbox?: TransactionalOutbox;
  /** Events between two snapshots. */
  public readonly snapshotEvery: number;
  /** Payloads above this many bytes go to S3. */
  public readonly payloadThresholdBytes: number;

  private readonly projectionList: Projection[] = [];
  private readonly commandRetention: Duration;

  constructor(scope: Construct, id: string, props: EventStoreProps = {}) {
    super(scope, id, props);
    const createsBucket = props.largePayloads !== false && !props.payloadBucket;
    if (createsBucket) useBucketPolicyForAccessLogs(this);
    const v = new PropsValidator(this);
    const { encryption } = validateEventStoreProps(v, props);
    v.throwIfInvalid();

    this.table = buildTable(this, 'Resource', props, encryption, {
      partitionKey: { name: RECORD_ATTRIBUTE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RECORD_ATTRIBUTE.sortKey, type: dynamodb.AttributeType.NUMBER },
      stream: true,
    });
    this.tableName = this.table.tableName;
    this.encryptionKey = this.table.encryptionKey;
    this.snapshotEvery = props.snapshotEvery ?? EVENT_STORE_SNAPSHOT_EVERY;
    this.payloadThresholdBytes = props.payloadThresholdBytes ?? SHARED_DEFAULT.eventStorePayloadThresholdBytes;
    this.commandRetention = props.commandRetention ?? COMMAND_RETENTION;
    this.outbox = props.outbox;
    if (props.payloadBucket) {
      this.payloadBucket = props.payloadBucket;
    } else if (createsBucket) {
      const built = buildPayloadBucket(this, props.removalPolicy);
      this.payloadBucket = built.bucket;
      this.accessLogsBucket = built.accessLogsBucket;
    }
    this._showOnDashboard(this.metricConsumedWriteCapacityUnits(), this.metricTransactionConflicts());
  }

  /** The projections added with {@link addProjection}. */
  public get projections(): Projection[] {
    return [...this.projectionList];
  }

  /**
   * The configuration the run-time `EventStore.fromEnvironment()` reads from `EVENT_STORE_CONFIG`
   * (JSON: table, payload bucket and threshold, snapshot interval, command retention, outbox table).
   */
  public get config(): string {
    return Lazy.string({
      produce: () =>
        Stack.of(this).toJsonString({
          tableName: this.tableName,
          ...(this.payloadBucket ? { bucketName: this.payloadBucket.bucketName } : {}),
          snapshotEvery: this.snapshotEvery,
          payloadThresholdBytes: this.payloadThresholdBytes,
          commandRetentionSeconds: this.commandRetention.toSeconds(),
          ...(this.outbox ? { outboxTableName: this.outbox.tableName } : {}),
        }),
    });
  }

  /**
   * Adds a projection (a CQRS read model) fed by the table's stream: `projector` is your function,
   * built with `Projector` from `cdk-messaging-patterns/runtime/event-store`; the kit creates the
   * read-model table and the mapping, and grants and configures the function.
   */
  public addProjection(id: string, options: ProjectionOptions): Projection {
    const projection = new Projection(this, id, { ...options, eventStore: this });
    this.projectionList.push(projection);
    return projection;
  }

  /**
   * Grants `grantee` what loading needs: `GetItem`, `Query` on the table, `s3:GetObject` on the
   * payloads, `kms:Decrypt` on customer managed keys.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [
        grantTable(this.table, grantee, ['dynamodb:GetItem', 'dynamodb:Query'], ['kms:Decrypt']),
        this.grantPayloads(grantee, 's3:GetObject', 'kms:Decrypt'),
      ],
      'nothing to grant',
    );
  }

  /**
   * Grants `grantee` what appending (and loading) needs: {@link grantRead}, `PutItem` and
   * `ConditionCheckItem` (in a transaction), `s3:PutObject` on the payloads, `kms:Encrypt` and
   * `kms:GenerateDataKey` on customer managed keys, and the outbox's writes when events are distributed.
   */
  public grantAppend(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(
      grantee,
      [
        this.grantRead(grantee),
        grantTable(this.table, grantee, ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'], ['kms:Encrypt', 'kms:GenerateDataKey']),
        this.grantPayloads(grantee, 's3:PutObject', 'kms:GenerateDataKey'),
        this.outbox?.grantWrite(grantee),
      ],
      'nothing to grant',
    );
  }

  /** Grants `grantee` what a rebuild reads: {@link grantRead} and `Scan` of the table. */
  public grantReplay(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(grantee, [this.grantRead(grantee), grantTable(this.table, grantee, ['dynamodb:Scan'], [])], 'nothing to grant');
  }

  /** Makes `fn` a producer (a command handler): {@link grantAppend}, and {@link config} in its `EVENT_STORE_CONFIG` environment variable. */
  public connectProducer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      { [ENV.eventStoreConfig]: this.config },
      grantFunction(this, fn, 'the event table writes and reads, and the payloads', () => this.grantAppend(fn)),
    );
  }

  /** Makes `fn` a consumer (loads aggregates, reads events): {@link grantRead}, and {@link config} in its `EVENT_STORE_CONFIG` environment variable. */
  public connectConsumer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      { [ENV.eventStoreConfig]: this.config },
      grantFunction(this, fn, 'the event table reads and the payloads', () => this.grantRead(fn)),
    );
  }

  /** Write capacity the event table consumes (Sum over 1 minute): each item of a transaction costs two units per KB. */
  public metricConsumedWriteCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metricConsumedWriteCapacityUnits(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Requests DynamoDB rejected because a concurrent transaction touched the same items: appends racing on one aggregate (Sum over 1 minute). */
  public metricTransactionConflicts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/DynamoDB',
      metricName: 'TransactionConflict',
      dimensionsMap: { TableName: this.tableName },
      ...metricOptions(cloudwatch.Stats.SUM, props),
    });
  }

  private grantPayloads(grantee: iam.IGrantable, action: string, keyAction: string): iam.Grant | undefined {
    const bucket = this.payloadBucket;
    if (!bucket) return undefined;
    const resourceArns = PAYLOAD_PREFIXES.map((p) => bucket.arnForObjects(`${p}*`));
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [action], resourceArns });
    if (grantee.grantPrincipal instanceof iam.Role) {
      for (const arn of resourceArns) {
        acknowledgeWildcardResource(
          grantee.grantPrincipal,
          arn,
          "Payload objects are named at run time (one per large event or snapshot); the grant is limited to the event store's prefixes of its payload bucket.",
        );
      }
    }
    return combineGrants(grantee, [grant, bucket.encryptionKey?.grant(grantee, keyAction)], 'nothing to grant');
  }
}

/** What the constructor derives from the props. */
export interface EventStoreDerived {
  readonly encryption: dynamodb.TableEncryption;
}

/** Checks an event store's props into `v`. */
export function validateEventStoreProps(v: PropsValidator, props: EventStoreProps): EventStoreDerived {
  const encryption = validateTableSettings(v, props);
  v.integerInRange('snapshotEvery', props.snapshotEvery, 1, 100_000);
  v.integerInRange('payloadThresholdBytes', props.payloadThresholdBytes, MIN_PAYLOAD_THRESHOLD, MAX_PAYLOAD_THRESHOLD);
  v.durationInRange('commandRetention', props.commandRetention, MIN_RECORD_RETENTION, MAX_RECORD_RETENTION);
  if (props.largePayloads === false) {
    v.check(
      'payloadBucket:conflict',
      props.payloadBucket === undefined,
      'payloadBucket cannot be used with largePayloads: false (no payload goes to S3)',
    );
  }
  validateAlarms(v, props.alarms, []);
  return { encryption };
}
