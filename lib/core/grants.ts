import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * Grants sending to `queue` with least privilege: `sqs:SendMessage` (plus `extra` actions) on the
 * queue, and only `kms:GenerateDataKey` and `kms:Decrypt` on its key. CDK's `grantSendMessages` adds
 * `kms:ReEncrypt*` and `kms:GenerateDataKey*`, which sending does not need and cdk-nag flags.
 */
export function grantSendOnly(
  queue: sqs.IQueue,
  grantee: iam.IGrantable,
  extra: string[] = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
): iam.Grant {
  const grant = queue.grant(grantee, 'sqs:SendMessage', ...extra);
  return queue.encryptionMasterKey ? grant.combine(queue.encryptionMasterKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt')) : grant;
}
