import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import { combineGrants, connectFunction } from '../core/grants';
import { metricOptions } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator } from '../core/validation';
import { ENV } from '../core/wire';

/** Props of {@link IdempotencyTable}. */
export interface IdempotencyTableProps extends MessagingPatternProps {
  /**
   * The table's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly tableName?: string;

  /**
   * Encryption at rest. `DEFAULT` uses a key AWS owns (no cost, no key policy to manage);
   * `CUSTOMER_MANAGED` a KMS key you control (`encryptionKey`, or a new key with rotation).
   *
   * @default - `CUSTOMER_MANAGED` when `encryptionKey` is given, else `DEFAULT` (AWS owned key)
   */
  readonly encryption?: dynamodb.TableEncryption;

  /**
   * The customer managed key encrypting the table.
   *
   * @default - none; with `encryption: CUSTOMER_MANAGED`, a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Point-in-time recovery (continuous backups for 35 days).
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /**
   * Deletion protection: the table cannot be deleted until it is turned off.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN - CDK's default for tables
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The DynamoDB table of idempotency records, shared by the run-time library's two modes
 * (transactional and lock) and by Powertools idempotency: partition key `id` (string), TTL on
 * `expiration`, on-demand billing, encryption at rest, point-in-time recovery.
 *
 * Connect each consumer with {@link connectConsumer} (grants and the `IDEMPOTENCY_TABLE_NAME` variable),
 * or pass the table to a pattern (`new WorkQueue(this, 'Q', { consumer, idempotencyTable })`).
 *
 * @example
 * const idempotency = new IdempotencyTable(this, 'Idempotency');
 * idempotency.connectConsumer(consumerFn);
 */
export class IdempotencyTable extends MessagingPattern {
  /** Name of the partition key attribute. */
  public static readonly PARTITION_KEY = 'id';
  /** Name of the TTL attribute (epoch seconds). */
  public static readonly TTL_ATTRIBUTE = 'expiration';

  /** The table. */
  public readonly table: dynamodb.Table;
  /** The table's name. */
  public readonly tableName: string;
  /** The table's ARN. */
  public readonly tableArn: string;
  /** The customer managed key encrypting the table, if any. */
  public readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps = {}) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    const encryption =
      props.encryption ?? (props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.DEFAULT);
    v.check(
      'encryptionKey:conflict',
      props.encryptionKey === undefined || encryption === dynamodb.TableEncryption.CUSTOMER_MANAGED,
      `encryptionKey requires encryption CUSTOMER_MANAGED (given encryption ${props.encryption} and an encryptionKey)`,
    );
    v.matches('tableName', props.tableName, /^[a-zA-Z0-9_.-]{3,255}$/, "3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'");
    validateAlarms(v, props.alarms, []);
    v.throwIfInvalid();

    this.table = new dynamodb.Table(this, 'Resource', {
      tableName: props.tableName,
      partitionKey: { name: IdempotencyTable.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: IdempotencyTable.TTL_ATTRIBUTE,
      encryption,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      deletionProtection: props.deletionProtection ?? false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.tableName = this.table.tableName;
    this.tableArn = this.table.tableArn;
    this.encryptionKey = this.table.encryptionKey;
    this._showOnDashboard(this.metricConsumedWriteCapacityUnits(), this.metricThrottledRequests());
  }

  /**
   * Grants what the run-time library needs on the table, and no more: `GetItem`, `PutItem`,
   * `UpdateItem`, `DeleteItem`, `ConditionCheckItem` (a `TransactWriteItems` request is authorised
   * through the actions of its items), plus encrypt/decrypt on a customer managed key.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(
      grantee,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    );
    return combineGrants(grantee, [grant, this.encryptionKey?.grantEncryptDecrypt(grantee)], 'nothing to grant');
  }

  /**
   * Makes `consumer` a user of the table: {@link grantReadWrite}, and the table's name in its
   * `IDEMPOTENCY_TABLE_NAME` environment variable, which the run-time library reads.
   */
  public connectConsumer(consumer: lambda.IFunction): iam.Grant {
    return connectFunction(this, consumer, { [ENV.idempotencyTableName]: this.tableName }, this.grantReadWrite(consumer));
  }

  /** Write capacity the table consumes (Sum over 1 minute): one transaction item costs two units. */
  public metricConsumedWriteCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metricConsumedWriteCapacityUnits(metricOptions(cloudwatch.Stats.SUM, props));
  }

  /** Requests throttled on the operations the run-time library uses (Sum over 1 minute). */
  public metricThrottledRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.table.metricThrottledRequestsForOperations({
      operations: [
        dynamodb.Operation.GET_ITEM,
        dynamodb.Operation.PUT_ITEM,
        dynamodb.Operation.UPDATE_ITEM,
        dynamodb.Operation.DELETE_ITEM,
        dynamodb.Operation.TRANSACT_WRITE_ITEMS,
      ],
      ...metricOptions(cloudwatch.Stats.SUM, props),
    });
  }
}
