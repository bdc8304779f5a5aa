import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { ABORT_INCOMPLETE_UPLOADS_AFTER, ACCESS_LOG_EXPIRATION } from '../../core/defaults';

/**
 * Log delivery to the access-log bucket through a bucket policy (what AWS recommends, and what works
 * with object ownership enforced), whatever the app's feature flags say. Call it before `scope` has
 * children.
 */
export function useBucketPolicyForAccessLogs(scope: Construct): void {
  scope.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
}

/** The buckets {@link buildPayloadBucket} creates. */
export interface PayloadBuckets {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
}

/**
 * The bucket of an event store's large payloads: SSE-S3, TLS 1.2 only, public access blocked,
 * object ownership enforced, versioned (an event's payload is never lost to an overwrite or a
 * delete), no expiry (events are kept for ever), server access logs to a bucket of its own; both
 * retained with the stack.
 */
export function buildPayloadBucket(scope: Construct, removalPolicy: RemovalPolicy | undefined): PayloadBuckets {
  const common = {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: removalPolicy ?? RemovalPolicy.RETAIN,
  };
  const accessLogsBucket = new s3.Bucket(scope, 'AccessLogsBucket', {
    ...common,
    lifecycleRules: [
      { id: 'ExpireAccessLogs', expiration: ACCESS_LOG_EXPIRATION, abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER },
    ],
  });
  Validations.of(accessLogsBucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      "This bucket receives the payload bucket's server access logs: logging it as well would need a third bucket, or log into itself in a loop.",
  });
  const bucket = new s3.Bucket(scope, 'PayloadBucket', {
    ...common,
    versioned: true,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: `${scope.node.path.replace(/\//g, '-')}/`,
    lifecycleRules: [{ id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER }],
  });
  return { bucket, accessLogsBucket };
}
