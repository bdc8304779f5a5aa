import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';

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

/**
 * One grant out of several (a queue's and its key's, one per level...): what every `grantX` of
 * the kit returns. With nothing to grant, a dropped grant that says why.
 */
export function combineGrants(grantee: iam.IGrantable, grants: ReadonlyArray<iam.Grant | undefined>, whyNone: string): iam.Grant {
  const given = grants.filter((g): g is iam.Grant => g !== undefined);
  if (given.length === 0) return iam.Grant.drop(grantee, whyNone);
  return given.slice(1).reduce((all, g) => all.combine(g), given[0]);
}

/**
 * The one way a construct wires a function to itself (`connectProducer`, `connectConsumer`, ...):
 * the grant, and the environment variables the run-time helper reads. A function imported without
 * the kit being able to set its environment gets the grant and a warning naming the variables.
 */
export function connectFunction(scope: IConstruct, fn: lambda.IFunction, environment: Record<string, string>, grant: iam.Grant): iam.Grant {
  if (fn instanceof lambda.Function) {
    for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
  } else if (Object.keys(environment).length > 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-messaging-patterns:importedFunction',
      `${fn.node.path} was imported, so the kit could not set its environment: set ${Object.keys(environment).join(', ')} yourself (see ${scope.node.path}).`,
    );
  }
  return grant;
}
