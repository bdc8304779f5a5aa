import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { MessagingPatternProps, validateAlarms } from '../core/alarms';
import { ABORT_INCOMPLETE_UPLOADS_AFTER, ACCESS_LOG_EXPIRATION, CLAIM_EXPIRATION, STORAGE_METRIC_PERIOD } from '../core/defaults';
import { combineGrants, connectFunction } from '../core/grants';
import { ONE_DAY } from '../core/limits';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV, LIMIT, SHARED_DEFAULT } from '../core/wire';

/** Lowest `thresholdBytes`: below 1 KiB a claim is about as large as the payload it replaces. */
const MIN_THRESHOLD_BYTES = 1024;

/** Props of {@link ClaimCheck}. */
export interface ClaimCheckProps extends MessagingPatternProps {
  /**
   * An existing bucket to store payloads in, used as it is: the kit adds no encryption, policy,
   * lifecycle rule or access logging to it.
   *
   * @default - a new bucket is created
   */
  readonly existingBucket?: s3.IBucket;

  /**
   * Props for the bucket the construct creates, merged over the kit's defaults. The kit keeps
   * encryption, TLS-only access and the public access block whatever is given here; its lifecycle
   * rule is added to `lifecycleRules`.
   *
   * @default - SSE-S3 (or SSE-KMS with `encryptionKey`), TLS 1.2 only, public access blocked, object
   * ownership enforced, server access logs to a new bucket, claims expire after `expiration`
   */
  readonly bucketProps?: s3.BucketProps;

  /**
   * A customer managed KMS key encrypting the payloads (SSE-KMS with an S3 Bucket Key). The grants
   * cover it.
   *
   * @default - SSE-S3
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Payloads larger than this many bytes are stored in the bucket and sent as a claim; smaller ones
   * travel inline. Above 256 KiB only SQS can carry the inline messages (SNS and EventBridge limit
   * entries to 256 KiB); at most 1 MiB, the SQS limit. Passed to the run-time helper through
   * `environment`.
   *
   * @default 262144 (256 KiB)
   */
  readonly thresholdBytes?: number;

  /**
   * How long stored payloads are kept: the lifecycle rule deletes them after this many days (whole
   * days). It must outlive every message that carries a claim: SQS keeps messages up to 14 days, and
   * a FIFO dead-letter queue 14 more.
   *
   * @default Duration.days(30)
   */
  readonly expiration?: Duration;

  /**
   * Prefix of the keys payloads are stored under; the lifecycle rule and the grants are scoped to it.
   *
   * @default 'claims/'
   */
  readonly keyPrefix?: string;

  /**
   * Whether to log requests to the bucket (S3 server access logs).
   *
   * @default true
   */
  readonly serverAccessLogs?: boolean;

  /**
   * Where server access logs go.
   *
   * @default - a new bucket (SSE-S3, TLS only, public access blocked, logs expire after 90 days)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
}

/**
 * Claim check: large payloads go to S3, messages carry a small claim.
 *
 * A bucket for the payloads (encrypted, TLS only, public access blocked, object ownership enforced,
 * server access logs, a lifecycle rule that deletes claims after `expiration`), grants for each
 * side, and the settings for the run-time helper `S3ClaimCheck` from
 * `cdk-messaging-patterns/runtime/claim-check`: producers `checkIn(payload)` and send what it
 * returns (the payload when it fits under `thresholdBytes`, else a claim); consumers
 * `checkOut(message)` and get the payload back, from SQS, SNS (raw or enveloped) or EventBridge.
 *
 * @example
 * const claims = new ClaimCheck(this, 'Reports');
 * claims.connectProducer(producer); // grants check-in, sets the CLAIM_CHECK_* variables
 * claims.connectConsumer(consumer); // grants check-out, sets the CLAIM_CHECK_* variables
 */
export class ClaimCheck extends MessagingPattern {
  /** The bucket payloads are stored in. */
  public readonly bucket: s3.IBucket;
  /** The bucket server access logs go to, when the kit created it. */
  public readonly accessLogsBucket?: s3.IBucket;
  /** The key encrypting payloads, when it is a customer managed key the kit knows of. */
  public readonly encryptionKey?: kms.IKey;
  /** Payloads above this many bytes are stored. */
  public readonly thresholdBytes: number;
  /** Prefix of the stored payloads' keys. */
  public readonly keyPrefix: string;
  /** How long payloads are kept (`undefined` for an existing bucket). */
  public readonly expiration?: Duration;

  constructor(scope: Construct, id: string, props: ClaimCheckProps = {}) {
    super(scope, id, props);
    // Log delivery to the kit's access-log bucket through a bucket policy (what AWS recommends, and
    // what works with object ownership enforced), whatever the app's feature flags say.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    const b = props.bucketProps ?? {};
    const v = new PropsValidator(this);
    v.mutuallyExclusive({ existingBucket: props.existingBucket, bucketProps: props.bucketProps });
    if (props.existingBucket) {
      for (const [name, value] of Object.entries({
        encryptionKey: props.encryptionKey,
        expiration: props.expiration,
        serverAccessLogs: props.serverAccessLogs,
        serverAccessLogsBucket: props.serverAccessLogsBucket,
      })) {
        v.notWith(name, value, 'existingBucket', props.existingBucket);
      }
    }
    v.integerInRange(
      'thresholdBytes',
      props.thresholdBytes,
      MIN_THRESHOLD_BYTES,
      LIMIT.claimCheckMaxThresholdBytes,
      ' (1 KiB to the 1 MiB SQS limit)',
    );
    validateAlarms(v, props.alarms, []);
    if (props.expiration && !props.expiration.isUnresolved()) {
      const seconds = props.expiration.toSeconds();
      v.check(
        'expiration:format',
        seconds >= ONE_DAY.toSeconds() && seconds % ONE_DAY.toSeconds() === 0,
        `expiration must be a whole number of days, at least 1 (S3 lifecycle rules count days) (given ${describeValue(props.expiration)})`,
      );
    }
    const keyPrefix = props.keyPrefix ?? SHARED_DEFAULT.claimCheckKeyPrefix;
    if (!isUnresolved(keyPrefix)) {
      v.check(
        'keyPrefix:format',
        keyPrefix.length > 0 && keyPrefix.length <= 512 && !keyPrefix.startsWith('/'),
        `keyPrefix must be 1 to 512 characters and not start with '/' (given ${describeValue(keyPrefix)})`,
      );
    }
    v.check(
      'serverAccessLogsBucket:conflict',
      !(props.serverAccessLogs === false && props.serverAccessLogsBucket),
      'serverAccessLogsBucket cannot be used with serverAccessLogs: false',
    );
    v.check(
      'bucketProps.encryption:insecure',
      b.encryption !== s3.BucketEncryption.UNENCRYPTED,
      `bucketProps.encryption must not be UNENCRYPTED: the kit encrypts payloads at rest (given ${b.encryption})`,
    );
    v.check(
      'encryptionKey:conflict',
      !(props.encryptionKey && (b.encryptionKey || b.encryption)),
      'encryptionKey cannot be used with bucketProps.encryption or bucketProps.encryptionKey: give the encryption one way',
    );
    v.check(
      'bucketProps.enforceSSL:insecure',
      b.enforceSSL !== false,
      'bucketProps.enforceSSL must not be false: the kit denies requests that do not use TLS (given false)',
    );
    v.check(
      'bucketProps.publicReadAccess:insecure',
      b.publicReadAccess !== true,
      'bucketProps.publicReadAccess must not be true: payloads are private (given true)',
    );
    if (b.blockPublicAccess) {
      const bpa = b.blockPublicAccess;
      v.check(
        'bucketProps.blockPublicAccess:insecure',
        Boolean(bpa.blockPublicAcls && bpa.blockPublicPolicy && bpa.ignorePublicAcls && bpa.restrictPublicBuckets),
        `bucketProps.blockPublicAccess must block all public access (given ${JSON.stringify(bpa)})`,
      );
    }
    v.check(
      'serverAccessLogsBucket:conflict',
      !(props.serverAccessLogsBucket && b.serverAccessLogsBucket),
      'serverAccessLogsBucket cannot be used with bucketProps.serverAccessLogsBucket: give the log bucket one way',
    );
    v.throwIfInvalid();

    this.thresholdBytes = props.thresholdBytes ?? LIMIT.claimCheckDefaultThresholdBytes;
    this.keyPrefix = keyPrefix;
    if (!isUnresolved(this.thresholdBytes) && this.thresholdBytes > LIMIT.claimCheckDefaultThresholdBytes) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:claimCheckThresholdAboveSns',
        `thresholdBytes ${this.thresholdBytes} is above 262144 (256 KiB): inline messages up to that size only fit SQS. SNS and EventBridge reject entries above 256 KiB, so keep the default if producers publish there.`,
      );
    }

    if (props.existingBucket) {
      this.bucket = props.existingBucket;
      this.encryptionKey = props.existingBucket.encryptionKey;
      return;
    }

    this.expiration = props.expiration ?? CLAIM_EXPIRATION;
    const key = props.encryptionKey ?? b.encryptionKey;
    const logsEnabled = props.serverAccessLogs !== false;
    let logsBucket = props.serverAccessLogsBucket ?? b.serverAccessLogsBucket;
    if (logsEnabled && !logsBucket) {
      const created = new s3.Bucket(this, 'AccessLogsBucket', {
        encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption S3 log delivery supports
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [
          {
            id: 'ExpireAccessLogs',
            expiration: ACCESS_LOG_EXPIRATION,
            abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
          },
        ],
        removalPolicy: b.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          "This bucket receives the claim check bucket's server access logs: logging it as well would need a third bucket, or log into itself in a loop.",
      });
      this.accessLogsBucket = created;
      logsBucket = created;
    }

    const bucket = new s3.Bucket(this, 'Bucket', {
      // defaults
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsPrefix: logsEnabled ? `${this.node.path.replace(/\//g, '-')}/` : undefined,
      // the user's
      ...b,
      // required
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: b.bucketKeyEnabled ?? true }
        : { encryption: b.encryption ?? s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      publicReadAccess: false,
      enforceSSL: true,
      serverAccessLogsBucket: logsEnabled ? logsBucket : undefined,
      lifecycleRules: [
        {
          id: 'ExpireClaims',
          prefix: keyPrefix,
          expiration: this.expiration,
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
        },
        ...(b.lifecycleRules ?? []),
      ],
    });
    if (!logsEnabled) {
      Validations.of(bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason: 'Server access logging was turned off on purpose (serverAccessLogs: false) for this claim check bucket.',
      });
    }
    this.bucket = bucket;
    this.encryptionKey = bucket.encryptionKey;
  }

  /**
   * The settings the run-time helper `S3ClaimCheck` reads, by environment variable name
   * (`CLAIM_CHECK_BUCKET_NAME`, `CLAIM_CHECK_THRESHOLD_BYTES`, `CLAIM_CHECK_KEY_PREFIX`), for a
   * function the kit cannot connect (a container, another account's function).
   */
  public get environment(): { [name: string]: string } {
    return {
      [ENV.claimCheckBucketName]: this.bucket.bucketName,
      [ENV.claimCheckThresholdBytes]: String(this.thresholdBytes),
      [ENV.claimCheckKeyPrefix]: this.keyPrefix,
    };
  }

  /** Grants `grantee` permission to store payloads: `s3:PutObject` under the prefix, and `kms:GenerateDataKey` on a customer managed key. */
  public grantCheckIn(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.objectsArn()] });
    return combineGrants(grantee, [grant, this.encryptionKey?.grant(grantee, 'kms:GenerateDataKey')], 'nothing to grant');
  }

  /**
   * Grants `grantee` permission to read payloads: `s3:GetObject` under the prefix, `kms:Decrypt` on a
   * customer managed key, and `s3:ListBucket` limited to the prefix — without it S3 answers a missing
   * object (an expired or released claim) with 403 instead of 404, and the run-time helper could not
   * tell `ClaimNotFoundError` from a permission problem.
   */
  public grantCheckOut(grantee: iam.IGrantable): iam.Grant {
    const get = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.objectsArn()] });
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${this.keyPrefix}*`] } },
    });
    return combineGrants(grantee, [get, list, this.encryptionKey?.grant(grantee, 'kms:Decrypt')], 'nothing to grant');
  }

  /**
   * Grants `grantee` permission to delete payloads after processing (`release`). Only for a single
   * consumer: with fan-out, other consumers may still need the payload.
   */
  public grantRelease(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:DeleteObject'], resourceArns: [this.objectsArn()] });
  }

  /** Makes `fn` a producer: {@link grantCheckIn}, and the settings `S3ClaimCheck.fromEnvironment()` reads in its environment. */
  public connectProducer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(this, fn, this.environment, this.grantCheckIn(fn));
  }

  /** Makes `fn` a consumer: {@link grantCheckOut}, and the settings `S3ClaimCheck.fromEnvironment()` reads in its environment. */
  public connectConsumer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(this, fn, this.environment, this.grantCheckOut(fn));
  }

  /** Bytes stored in the bucket (S3 storage metric, reported daily; Average over 1 day). */
  public metricStoredBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'BucketSizeBytes',
      dimensionsMap: { BucketName: this.bucket.bucketName, StorageType: 'StandardStorage' },
      statistic: cloudwatch.Stats.AVERAGE,
      period: STORAGE_METRIC_PERIOD,
      ...props,
    });
  }

  /** Objects stored in the bucket (S3 storage metric, reported daily; Average over 1 day). */
  public metricStoredObjects(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'NumberOfObjects',
      dimensionsMap: { BucketName: this.bucket.bucketName, StorageType: 'AllStorageTypes' },
      statistic: cloudwatch.Stats.AVERAGE,
      period: STORAGE_METRIC_PERIOD,
      ...props,
    });
  }

  private objectsArn(): string {
    return this.bucket.arnForObjects(`${this.keyPrefix}*`);
  }
}
