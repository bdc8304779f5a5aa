import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION, FAN_OUT_QUEUE_ENCRYPTION } from '../../core/defaults';
import { acknowledgeDeadLetterQueue } from '../../core/nag';
import { PropsValidator, isUnresolved } from '../../core/validation';
import { allowSnsToUseKey, isAwsManagedSqsKey } from './encryption';

/** Checks `subscriptionDeadLetterQueueProps` (and `deploySubscriptionDeadLetterQueue`) into `v`. */
export function validateSubscriptionDeadLetterQueue(
  v: PropsValidator,
  deploy: boolean | undefined,
  props: sqs.QueueProps | undefined,
  fifo: boolean,
): void {
  if (!props) return;
  const name = 'subscriptionDeadLetterQueueProps';
  v.check(
    `${name}:conflict`,
    deploy !== false,
    `${name} cannot be used with deploySubscriptionDeadLetterQueue: false (given ${name} and deploySubscriptionDeadLetterQueue false)`,
  );
  v.check(
    `${name}.encryption:insecure`,
    props.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    `${name}.encryption must not be UNENCRYPTED: the kit encrypts every queue at rest (given UNENCRYPTED)`,
  );
  v.check(
    `${name}.encryption:unsupported`,
    props.encryption !== sqs.QueueEncryption.KMS_MANAGED,
    `${name}.encryption must not be KMS_MANAGED: SNS cannot use the AWS managed key alias/aws/sqs, so it could not write to the subscription's dead-letter queue; use SQS_MANAGED (the default) or KMS (given KMS_MANAGED)`,
  );
  v.check(
    `${name}.encryptionMasterKey:unsupported`,
    !isAwsManagedSqsKey(props.encryptionMasterKey),
    `${name}.encryptionMasterKey must not be the AWS managed key alias/aws/sqs: SNS cannot use it; use a customer managed key (given ${props.encryptionMasterKey?.node.path})`,
  );
  v.check(
    `${name}.enforceSSL:insecure`,
    props.enforceSSL !== false,
    `${name}.enforceSSL must not be false: the kit denies requests that do not use TLS (given false)`,
  );
  if (props.fifo !== undefined && !isUnresolved(props.fifo)) {
    v.check(
      `${name}.fifo:mismatch`,
      props.fifo === fifo,
      `${name}.fifo must match the topic: a ${fifo ? 'FIFO' : 'standard'} topic needs a ${fifo ? 'FIFO' : 'standard'} subscription dead-letter queue (given ${props.fifo})`,
    );
  }
}

/** What {@link buildSubscriptionDeadLetterQueue} needs. */
export interface SubscriptionDeadLetterQueueOptions {
  readonly topic: sns.ITopic;
  readonly fifo: boolean;
  /** The user's props, merged over the defaults. */
  readonly props?: sqs.QueueProps;
  /** The subscription queue's customer managed key, used for the dead-letter queue too when no other is given. */
  readonly key?: kms.IKey;
  /** What the queue is the dead-letter queue of, for nag reasons and warnings. */
  readonly of: string;
}

/**
 * The dead-letter queue of an SNS subscription (its redrive policy target): SNS's own retries are
 * over, so it needs no DLQ itself. 14-day retention, the subscription queue's encryption (or SSE-SQS),
 * TLS only, FIFO for a FIFO topic; a customer managed key gets SNS's statement, scoped to the topic.
 * The queue policy letting SNS send to it is CDK's `Subscription`'s (also scoped to the topic).
 */
export function buildSubscriptionDeadLetterQueue(scope: Construct, options: SubscriptionDeadLetterQueueOptions): sqs.Queue {
  const user = options.props ?? {};
  const encryption: Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> =
    options.key && user.encryption === undefined && user.encryptionMasterKey === undefined
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: options.key }
      : { encryption: user.encryptionMasterKey ? sqs.QueueEncryption.KMS : (user.encryption ?? FAN_OUT_QUEUE_ENCRYPTION) };
  const queue = new sqs.Queue(scope, 'SubscriptionDeadLetterQueue', {
    retentionPeriod: DEAD_LETTER_RETENTION,
    ...user,
    ...encryption,
    encryptionMasterKey: user.encryptionMasterKey ?? encryption.encryptionMasterKey,
    // required
    fifo: options.fifo ? true : undefined,
    enforceSSL: true,
  });
  acknowledgeDeadLetterQueue(queue, options.of);
  // The subscription queue's key already carries SNS's statement (SqsSubscription adds it).
  if (queue.encryptionMasterKey && queue.encryptionMasterKey !== options.key) {
    allowSnsToUseKey(scope, queue.encryptionMasterKey, options.topic, `the dead-letter queue of ${options.of}`);
  }
  return queue;
}
