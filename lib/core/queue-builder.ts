import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION, DEFAULT_MAX_RECEIVE_COUNT } from './defaults';
import { SQS_DEFAULT_RETENTION, SQS_MAX_RECEIVE_COUNT } from './limits';
import { acknowledgeDeadLetterQueue } from './nag';
import { PropsValidator, describeValue, isUnresolved } from './validation';

/**
 * The queue vocabulary shared by every SQS-based pattern.
 */
export interface QueueInputProps {
  /**
   * An existing queue to use as it is. The kit adds no DLQ, encryption or policy to it.
   *
   * @default - a new queue is created
   */
  readonly existingQueue?: sqs.IQueue;

  /**
   * Props for the queue the pattern creates, merged over the kit's defaults. The kit keeps
   * encryption on and TLS enforced whatever is given here.
   *
   * @default - SSE-SQS encryption, TLS-only policy, a dead-letter queue
   */
  readonly queueProps?: sqs.QueueProps;

  /**
   * Whether to create a dead-letter queue for the queue.
   *
   * @default true
   */
  readonly deployDeadLetterQueue?: boolean;

  /**
   * Props for the dead-letter queue, merged over the kit's defaults.
   *
   * @default - same encryption and FIFO type as the queue, 14-day retention, TLS-only policy
   */
  readonly deadLetterQueueProps?: sqs.QueueProps;

  /**
   * How many times a message is received before it moves to the dead-letter queue.
   *
   * @default 5 - AWS's minimum recommendation for queues consumed by Lambda
   */
  readonly maxReceiveCount?: number;

  /**
   * A customer managed KMS key that encrypts the queue and its dead-letter queue.
   *
   * @default - SQS-managed encryption (SSE-SQS), or a new key with rotation when the pattern's
   * producer (SNS, EventBridge) needs one
   */
  readonly encryptionKey?: kms.IKey;
}

/** Options a pattern passes to {@link buildQueue} on top of the user's props. */
export interface BuildQueueOptions extends QueueInputProps {
  /**
   * Whether the queue (and its dead-letter queue) are FIFO.
   *
   * @default - `queueProps.fifo`, else false
   */
  readonly fifo?: boolean;

  /**
   * Visibility timeout the pattern computed; used when `queueProps.visibilityTimeout` is not set.
   *
   * @default - SQS default (30 seconds)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Create a customer managed key when none is given, because a producer service (SNS,
   * EventBridge, S3) cannot send to a queue encrypted with an AWS managed key.
   *
   * @default false
   */
  readonly requireCustomerManagedKey?: boolean;

  /**
   * Service principals allowed to use the queue's key to send messages (for example
   * `sns.amazonaws.com`). Only used when the kit creates the key.
   *
   * @default - none
   */
  readonly keyServicePrincipals?: string[];

  /**
   * Construct ids of the created resources. Ids are public API: change them and CloudFormation
   * replaces the resources.
   *
   * @default - 'Queue', 'DeadLetterQueue', 'Key'
   */
  readonly ids?: { readonly queue?: string; readonly deadLetterQueue?: string; readonly key?: string };

  /**
   * What the dead-letter queue the kit creates belongs to (e.g. 'the work queue'), for the reason of
   * the cdk-nag acknowledgements on it. A dead-letter queue the user gives is not acknowledged.
   *
   * @default 'the queue'
   */
  readonly deadLetterQueueOf?: string;
}

/** What {@link buildQueue} returns. */
export interface BuiltQueue {
  /** The queue: created, or the existing one. */
  readonly queue: sqs.IQueue;
  /** The dead-letter queue, when one was created or can be read from an existing queue. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** The KMS key encrypting the queues, when a customer managed key is used. */
  readonly encryptionKey?: kms.IKey;
  /** Receives before a message moves to the dead-letter queue, when known. */
  readonly maxReceiveCount?: number;
  /** Whether the kit created the queue (false for `existingQueue`). */
  readonly created: boolean;
}

/**
 * A customer managed key for a pattern's queues, with rotation on, usable by the given service
 * principals (for example `sns.amazonaws.com`) to send messages.
 */
export function createQueueKey(scope: Construct, id: string, servicePrincipals: readonly string[] = []): kms.Key {
  const key = new kms.Key(scope, id, {
    enableKeyRotation: true,
    description: `Encrypts the queues of ${scope.node.path}`,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  for (const principal of servicePrincipals) {
    key.grant(new iam.ServicePrincipal(principal), 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
  return key;
}

/**
 * True when `queue` is encrypted with the AWS managed key `alias/aws/sqs`, which AWS services (SNS,
 * EventBridge, S3) cannot use: they cannot send to such a queue, and the message is dropped.
 */
export function isAwsManagedQueueKey(queue: sqs.IQueue): boolean {
  if (queue.encryptionType === sqs.QueueEncryption.KMS_MANAGED) return true;
  const key = queue.encryptionMasterKey as (kms.IKey & { aliasName?: string }) | undefined;
  return key?.aliasName === 'alias/aws/sqs';
}

/**
 * Checks the shared queue props. Every conflict is collected into `v`; call `v.throwIfInvalid()`.
 */
export function validateQueueInputs(v: PropsValidator, props: BuildQueueOptions): void {
  const q = props.queueProps ?? {};
  v.mutuallyExclusive({ existingQueue: props.existingQueue, queueProps: props.queueProps });
  if (props.existingQueue) {
    for (const [name, value] of Object.entries({
      deadLetterQueueProps: props.deadLetterQueueProps,
      maxReceiveCount: props.maxReceiveCount,
      encryptionKey: props.encryptionKey,
      deployDeadLetterQueue: props.deployDeadLetterQueue,
    })) {
      v.notWith(name, value, 'existingQueue', props.existingQueue);
    }
  }
  if (props.deployDeadLetterQueue === false) {
    v.check(
      'deployDeadLetterQueue:conflict',
      props.deadLetterQueueProps === undefined && props.maxReceiveCount === undefined,
      'deadLetterQueueProps and maxReceiveCount cannot be used with deployDeadLetterQueue: false',
    );
  }
  v.check(
    'queueProps.deadLetterQueue:conflict',
    q.deadLetterQueue === undefined || (props.deadLetterQueueProps === undefined && props.maxReceiveCount === undefined),
    'queueProps.deadLetterQueue cannot be used with deadLetterQueueProps or maxReceiveCount: give the dead-letter queue one way',
  );
  v.integerInRange('maxReceiveCount', props.maxReceiveCount, 1, SQS_MAX_RECEIVE_COUNT);
  v.check(
    'queueProps.encryption:insecure',
    q.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    `queueProps.encryption must not be UNENCRYPTED: the kit encrypts every queue at rest (given ${q.encryption})`,
  );
  v.check(
    'deadLetterQueueProps.encryption:insecure',
    props.deadLetterQueueProps?.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    `deadLetterQueueProps.encryption must not be UNENCRYPTED: the kit encrypts every queue at rest (given ${props.deadLetterQueueProps?.encryption})`,
  );
  v.check(
    'encryptionKey:conflict',
    !(props.encryptionKey && (q.encryptionMasterKey || q.encryption)),
    'encryptionKey cannot be used with queueProps.encryption or queueProps.encryptionMasterKey: give the key one way',
  );
  v.check(
    'queueProps.encryption:unsupported',
    !(props.requireCustomerManagedKey && q.encryption === sqs.QueueEncryption.KMS_MANAGED),
    "queueProps.encryption must not be KMS_MANAGED here: this pattern's producer cannot use the AWS managed aws/sqs key; use KMS or pass encryptionKey (given KMS_MANAGED)",
  );
  v.check(
    'queueProps.enforceSSL:insecure',
    q.enforceSSL !== false,
    'queueProps.enforceSSL must not be false: the kit denies requests that do not use TLS (given false)',
  );
  if (props.fifo !== undefined && q.fifo !== undefined) {
    v.check('queueProps.fifo:mismatch', props.fifo === q.fifo, `fifo and queueProps.fifo disagree (given ${props.fifo} and ${q.fifo})`);
  }
  const fifo = props.fifo ?? q.fifo ?? false;
  const dlqFifo = props.deadLetterQueueProps?.fifo;
  v.check(
    'deadLetterQueueProps.fifo:mismatch',
    dlqFifo === undefined || dlqFifo === fifo,
    `deadLetterQueueProps.fifo must match the queue: a ${fifo ? 'FIFO' : 'standard'} queue needs a ${fifo ? 'FIFO' : 'standard'} dead-letter queue (given ${dlqFifo})`,
  );
  const userDlq = q.deadLetterQueue?.queue;
  if (userDlq && !isUnresolved(userDlq.fifo)) {
    v.check(
      'queueProps.deadLetterQueue:mismatch',
      userDlq.fifo === fifo,
      `queueProps.deadLetterQueue must match the queue: a ${fifo ? 'FIFO' : 'standard'} queue needs a ${fifo ? 'FIFO' : 'standard'} dead-letter queue (given a ${userDlq.fifo ? 'FIFO' : 'standard'} queue)`,
    );
  }
  if (q.queueName && !isUnresolved(q.queueName)) {
    v.check(
      'queueProps.queueName:format',
      q.queueName.endsWith('.fifo') === fifo,
      `queueProps.queueName must ${fifo ? '' : 'not '}end in '.fifo' for a ${fifo ? 'FIFO' : 'standard'} queue (given ${describeValue(q.queueName)})`,
    );
  }
}

/**
 * Builds a queue with the kit's secure defaults, or adopts an existing one.
 *
 * Defaults, then the user's `queueProps`, then what the kit requires:
 * - encryption at rest: SSE-SQS, or the given/required customer managed key (also on the DLQ);
 * - a TLS-only queue policy (deny `aws:SecureTransport=false`);
 * - a dead-letter queue (same FIFO type and key, 14-day retention, TLS-only) with `maxReceiveCount` 5,
 *   on which cdk-nag's "a queue needs a DLQ" rules are acknowledged (see `deadLetterQueueOf`).
 *
 * Call {@link validateQueueInputs} first (the pattern's validator throws all problems together).
 */
export function buildQueue(scope: Construct, options: BuildQueueOptions): BuiltQueue {
  const ids = { queue: 'Queue', deadLetterQueue: 'DeadLetterQueue', key: 'Key', ...options.ids };

  if (options.existingQueue) {
    const existing = options.existingQueue;
    const redrive = existing instanceof sqs.Queue ? existing.deadLetterQueue : undefined;
    if (!redrive) {
      Annotations.of(scope).addWarningV2(
        'cdk-messaging-patterns:existingQueueWithoutDlq',
        'existingQueue has no dead-letter queue the kit can see: messages that keep failing are retried until they expire. ' +
          'Pass a queue created with a deadLetterQueue, or let the pattern create one.',
      );
    }
    return {
      queue: existing,
      deadLetterQueue: redrive?.queue,
      maxReceiveCount: redrive?.maxReceiveCount,
      encryptionKey: existing.encryptionMasterKey,
      created: false,
    };
  }

  const userProps = options.queueProps ?? {};
  const fifo = options.fifo ?? userProps.fifo ?? false;

  // Encryption: the user's key, else a key the pattern requires, else SSE-SQS.
  let encryptionKey: kms.IKey | undefined = options.encryptionKey ?? userProps.encryptionMasterKey;
  const needsKey = options.requireCustomerManagedKey || userProps.encryption === sqs.QueueEncryption.KMS;
  if (!encryptionKey && needsKey) {
    encryptionKey = createQueueKey(scope, ids.key, options.keyServicePrincipals);
  }
  const encryption: Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> = encryptionKey
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: encryptionKey }
    : { encryption: userProps.encryption ?? sqs.QueueEncryption.SQS_MANAGED };

  let deadLetterQueue: sqs.DeadLetterQueue | undefined = userProps.deadLetterQueue;
  if (!deadLetterQueue && options.deployDeadLetterQueue !== false) {
    const dlqProps = options.deadLetterQueueProps ?? {};
    const dlq = new sqs.Queue(scope, ids.deadLetterQueue, {
      retentionPeriod: DEAD_LETTER_RETENTION,
      ...encryption,
      ...dlqProps,
      // required
      fifo: fifo ? true : undefined,
      enforceSSL: true,
    });
    deadLetterQueue = { queue: dlq, maxReceiveCount: options.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT };
    // Only the DLQ the kit created: a DLQ the user gives keeps every finding cdk-nag has for it.
    acknowledgeDeadLetterQueue(dlq, options.deadLetterQueueOf ?? 'the queue');
    const sourceRetention = userProps.retentionPeriod ?? SQS_DEFAULT_RETENTION;
    const dlqRetention = dlqProps.retentionPeriod ?? DEAD_LETTER_RETENTION;
    if (!sourceRetention.isUnresolved() && !dlqRetention.isUnresolved() && dlqRetention.toSeconds() <= sourceRetention.toSeconds()) {
      Annotations.of(scope).addWarningV2(
        'cdk-messaging-patterns:deadLetterRetention',
        `deadLetterQueueProps.retentionPeriod (${describeValue(dlqRetention)}) is not longer than the queue's (${describeValue(sourceRetention)}): ` +
          'SQS keeps the original enqueue time, so dead letters can expire soon after they arrive.',
      );
    }
  }

  const queue = new sqs.Queue(scope, ids.queue, {
    visibilityTimeout: options.visibilityTimeout,
    ...userProps,
    // required
    ...encryption,
    fifo: fifo ? true : undefined,
    deadLetterQueue,
    enforceSSL: true,
  });

  return {
    queue,
    deadLetterQueue: deadLetterQueue?.queue,
    maxReceiveCount: deadLetterQueue?.maxReceiveCount,
    encryptionKey,
    created: true,
  };
}
