import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';

/** The AWS managed key of SQS: SNS cannot use it (its key policy cannot be changed to let SNS in). */
export const AWS_MANAGED_SQS_KEY = 'alias/aws/sqs';

/** True when `key` is the AWS managed key `alias/aws/sqs` (an alias, or a key ARN/id naming it). */
export function isAwsManagedSqsKey(key: kms.IKey | undefined): boolean {
  if (!key) return false;
  const aliasName = (key as Partial<kms.IAlias>).aliasName;
  if (aliasName === AWS_MANAGED_SQS_KEY) return true;
  // Literal parts of a token string survive, so an ARN built with tokens still ends in the alias.
  return [key.keyArn, key.keyId].some((s) => typeof s === 'string' && (s === AWS_MANAGED_SQS_KEY || s.endsWith(`:${AWS_MANAGED_SQS_KEY}`)));
}

/** Whether the kit can add a statement to `key`'s policy (a key, or an alias of a key, defined in the app). */
export function canEditKeyPolicy(key: kms.IKey): boolean {
  if (key instanceof kms.Key) return true;
  return key instanceof kms.Alias && key.aliasTargetKey instanceof kms.Key;
}

/**
 * Lets SNS use `key` to send to a queue it encrypts, for messages of `topic` only: `kms:Decrypt` and
 * `kms:GenerateDataKey` for `sns.amazonaws.com` with `aws:SourceArn` = the topic (the statement
 * CDK's `SqsSubscription` adds to a subscribed queue's key). A key the kit cannot change gets a
 * warning saying what to add.
 */
export function allowSnsToUseKey(scope: IConstruct, key: kms.IKey, topic: sns.ITopic, what: string): void {
  if (!canEditKeyPolicy(key)) {
    warnImportedKey(scope, key, what);
    return;
  }
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      resources: ['*'],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
      conditions: { ArnEquals: { 'aws:SourceArn': topic.topicArn } },
    }),
  );
}

/** Warns that `key` was imported, so SNS's key-policy statement is the user's to add. */
export function warnImportedKey(scope: IConstruct, key: kms.IKey, what: string): void {
  Annotations.of(scope).addWarningV2(
    'cdk-messaging-patterns:importedKey',
    `the key of ${what} (${key.node.path}) was imported, so the kit could not let SNS use it: add to its key policy a statement allowing ` +
      'sns.amazonaws.com kms:Decrypt and kms:GenerateDataKey with the condition ArnEquals aws:SourceArn = the topic, or SNS drops every message.',
  );
}
