import { Annotations, Duration, Tags, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import { DEAD_LETTER_RETENTION, FAILURE_REASON_RETENTION } from '../core/defaults';
import { combineGrants, connectFunction } from '../core/grants';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue } from '../core/validation';
import { ENV, SHARED_DEFAULT, TAG } from '../core/wire';

/** Props of {@link FailureReasonStore}. */
export interface FailureReasonStoreProps extends MessagingPatternProps {
  /**
   * An existing bucket to record into, used as it is (no lifecycle rule is added).
   *
   * @default - a new bucket
   */
  readonly existingBucket?: s3.IBucket;

  /**
   * Props for the bucket the store creates, merged over the kit's defaults. The kit keeps TLS
   * enforced and public access blocked whatever is given here.
   *
   * @default - SSE-S3 encryption, TLS 1.2+ only, all public access blocked, objects expire after `retention`
   */
  readonly bucketProps?: s3.BucketProps;

  /**
   * How long a failure reason is kept. Reasons are written when a message fails, so keeping them as
   * long as the dead-letter queue keeps messages (14 days at most) keeps every reason a peek can ask
   * for. Whole days.
   *
   * @default Duration.days(15)
   */
  readonly retention?: Duration;

  /**
   * Key prefix of the records: `<prefix><messageId>.json`.
   *
   * @default 'reasons/'
   */
  readonly prefix?: string;
}

/**
 * Where consumers record why messages failed, so that an operator peeking a dead-letter queue sees
 * the reason next to each message (`npx ts-node scripts/dlq.ts peek --queue <dlq>`).
 *
 * SQS keeps a message's id when it moves it to the dead-letter queue but cannot add attributes to
 * it, so the reason is a side record keyed by message id: one small JSON object in S3 per failed
 * message (one PUT per failure, nothing while nothing fails), expired by a lifecycle rule.
 *
 * @example
 * const reasons = new FailureReasonStore(this, 'FailureReasons');
 * reasons.connectRecorder(consumer);                      // consumer: onRecordFailure: S3FailureReasonStore.fromEnvironment().onRecordFailure
 * reasons.addDeadLetterQueue(orders.deadLetterQueue!); // so `dlq peek` finds the reasons
 */
export class FailureReasonStore extends MessagingPattern {
  /** The bucket holding the records. */
  public readonly bucket: s3.IBucket;
  /** Key prefix of the records. */
  public readonly prefix: string;

  constructor(scope: Construct, id: string, props: FailureReasonStoreProps = {}) {
    super(scope, id, props);
    const v = new PropsValidator(this);
    v.mutuallyExclusive({ existingBucket: props.existingBucket, bucketProps: props.bucketProps });
    v.notWith('retention', props.retention, 'existingBucket', props.existingBucket);
    if (props.retention && !props.retention.isUnresolved()) {
      const days = props.retention.toDays({ integral: false });
      v.check(
        'retention:format',
        Number.isInteger(days) && days >= 1,
        `retention must be a whole number of days, at least 1 (given ${describeValue(props.retention)})`,
      );
    }
    v.check(
      'bucketProps.enforceSSL:insecure',
      props.bucketProps?.enforceSSL !== false,
      'bucketProps.enforceSSL must not be false: the kit denies requests that do not use TLS (given false)',
    );
    v.check(
      'bucketProps.publicReadAccess:insecure',
      props.bucketProps?.publicReadAccess !== true,
      'bucketProps.publicReadAccess must not be true: failure reasons can hold data from the messages (given true)',
    );
    validateAlarms(v, props.alarms, []);
    const prefix = props.prefix ?? SHARED_DEFAULT.failureReasonPrefix;
    v.check(
      'prefix:format',
      /^[A-Za-z0-9_.:=+@/-]{0,200}$/.test(prefix) && !prefix.startsWith('/'),
      `prefix must be up to 200 letters, digits or _.:=+@/- and must not start with '/' (given ${describeValue(prefix)})`,
    );
    v.throwIfInvalid();

    this.prefix = prefix;
    const retention = props.retention ?? FAILURE_REASON_RETENTION;
    if (!retention.isUnresolved() && retention.toDays({ integral: false }) < DEAD_LETTER_RETENTION.toDays()) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:failureReasonRetention',
        `retention (${describeValue(retention)}) is shorter than the longest dead-letter retention (14 days): reasons of old dead letters can expire before the messages.`,
      );
    }

    if (props.existingBucket) {
      this.bucket = props.existingBucket;
    } else {
      const bucket = new s3.Bucket(this, 'Bucket', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        ...props.bucketProps,
        // required
        enforceSSL: true,
        minimumTLSVersion: props.bucketProps?.minimumTLSVersion ?? 1.2,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        publicReadAccess: false,
        lifecycleRules: [
          { id: 'ExpireFailureReasons', prefix: prefix || undefined, expiration: retention },
          ...(props.bucketProps?.lifecycleRules ?? []),
        ],
      });
      this.bucket = bucket;
      if (!props.bucketProps?.serverAccessLogsBucket) {
        Validations.of(bucket).acknowledge({
          id: 'AwsSolutions-S1',
          reason:
            'Holds short-lived diagnostic records (failure reasons) written only by consumer roles the kit grants and read by operators; who read or wrote an object is auditable with CloudTrail S3 data events without a second bucket. Set bucketProps.serverAccessLogsBucket to turn server access logs on.',
        });
      }
    }
  }

  /**
   * Lets `fn` record failure reasons: grants `s3:PutObject` on the records and sets the variables
   * `S3FailureReasonStore.fromEnvironment()` reads (FAILURE_REASON_BUCKET, FAILURE_REASON_PREFIX).
   */
  public connectRecorder(fn: lambda.IFunction): iam.Grant {
    return connectFunction(
      this,
      fn,
      { [ENV.failureReasonBucket]: this.bucket.bucketName, [ENV.failureReasonPrefix]: this.prefix },
      this.grantRecord(fn),
    );
  }

  /**
   * Tags `deadLetterQueue` with this store's location, so `dlq peek` shows the reasons without being
   * told where they are. Only queues created in this app can be tagged.
   */
  public addDeadLetterQueue(deadLetterQueue: sqs.IQueue): void {
    if (!(deadLetterQueue instanceof sqs.Queue)) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:failureReasonsUntaggedQueue',
        `${deadLetterQueue.node.path} was imported, so it cannot be tagged with the failure-reason store: pass --reasons s3://<bucket>/${this.prefix} to dlq peek.`,
      );
      return;
    }
    Tags.of(deadLetterQueue).add(TAG.failureReasons, `s3://${this.bucket.bucketName}/${this.prefix}`);
  }

  /**
   * Grants `grantee` permission to write failure reasons: `s3:PutObject` on the records only (not the
   * `s3:Abort*`, tagging and retention actions `bucket.grantPut` adds), plus the key's encrypt actions
   * when the bucket has a customer managed key.
   */
  public grantRecord(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.prefix}*`)],
      resource: this.bucket,
    });
    return combineGrants(grantee, [grant, this.bucket.encryptionKey?.grantEncrypt(grantee)], 'nothing to grant');
  }

  /**
   * Grants `grantee` permission to read failure reasons (operators, the peek script). Includes
   * `s3:ListBucket`, so a message without a reason reads as missing rather than access denied.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.bucket.grantRead(grantee, `${this.prefix}*`);
  }
}
