import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternsError, PropsValidator, type BuildQueueOptions, buildQueue, validateQueueInputs } from '../../../lib';
import { newStack, template, warnings } from '../../helpers/cdk';

/** Validates then builds, as a pattern does. */
function build(stack: Stack, options: BuildQueueOptions) {
  const scope = new Construct(stack, 'Pattern');
  const v = new PropsValidator(scope);
  validateQueueInputs(v, options);
  v.throwIfInvalid();
  return buildQueue(scope, options);
}

describe('buildQueue', () => {
  it('creates a queue and a DLQ with the kit defaults', () => {
    const stack = newStack();
    const built = build(stack, { visibilityTimeout: Duration.seconds(45) });
    expect(built.created).toBe(true);
    expect(built.maxReceiveCount).toBe(5);
    expect(built.encryptionKey).toBeUndefined();
    template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 45, SqsManagedSseEnabled: true, RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() } });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
  });

  it('creates a rotating customer managed key, granted to the producer services, when the pattern requires one', () => {
    const stack = newStack();
    const built = build(stack, { requireCustomerManagedKey: true, keyServicePrincipals: ['sns.amazonaws.com', 'events.amazonaws.com'] });
    expect(built.encryptionKey).toBeDefined();
    const t = template(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'sns.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
          Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    for (const q of Object.values(t.findResources('AWS::SQS::Queue'))) {
      expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Key/), 'Arn'] });
    }
  });

  it('uses a given key rather than creating one, even when the pattern requires a key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Mine');
    expect(build(stack, { requireCustomerManagedKey: true, encryptionKey: key }).encryptionKey).toBe(key);
    template(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  it('honours ids', () => {
    const stack = newStack();
    build(stack, { ids: { queue: 'Inbox', deadLetterQueue: 'InboxDlq' } });
    expect(stack.node.tryFindChild('Pattern')?.node.tryFindChild('Inbox')).toBeInstanceOf(sqs.Queue);
    expect(stack.node.tryFindChild('Pattern')?.node.tryFindChild('InboxDlq')).toBeInstanceOf(sqs.Queue);
  });

  it('warns when the DLQ retention is not longer than the queue\'s', () => {
    const stack = newStack();
    build(stack, { queueProps: { retentionPeriod: Duration.days(14) } });
    expect(warnings(stack).join('\n')).toMatch(/deadLetterQueueProps.retentionPeriod \(1209600 seconds\) is not longer than the queue's \(1209600 seconds\)/);
  });

  it('keeps a user-given dead-letter queue', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    const built = build(stack, { queueProps: { deadLetterQueue: { queue: dlq, maxReceiveCount: 9 } } });
    expect(built.deadLetterQueue).toBe(dlq);
    expect(built.maxReceiveCount).toBe(9);
  });

  it('fails if the pattern needs a customer managed key and queueProps asks for the AWS managed one', () => {
    expect(() => build(newStack(), { requireCustomerManagedKey: true, queueProps: { encryption: sqs.QueueEncryption.KMS_MANAGED } })).toThrow(
      /queueProps.encryption must not be KMS_MANAGED here.*\(given KMS_MANAGED\)/,
    );
  });

  it('fails if the key is given twice', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'K');
    expect(() => build(stack, { encryptionKey: key, queueProps: { encryptionMasterKey: key } })).toThrow(/encryptionKey cannot be used with queueProps.encryption or queueProps.encryptionMasterKey/);
  });

  it('fails if a given DLQ comes with deadLetterQueueProps', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    expect(() => build(stack, { queueProps: { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } }, deadLetterQueueProps: {} })).toThrow(
      /queueProps.deadLetterQueue cannot be used with deadLetterQueueProps or maxReceiveCount/,
    );
  });

  it('fails with every problem at once, in the kit error type', () => {
    let error: unknown;
    try {
      build(newStack(), { maxReceiveCount: 0, queueProps: { enforceSSL: false, encryption: sqs.QueueEncryption.UNENCRYPTED } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MessagingPatternsError);
    expect((error as MessagingPatternsError).problems).toHaveLength(3);
    expect((error as MessagingPatternsError).constructPath).toBe('TestStack/Pattern');
  });
});

describe('PropsValidator', () => {
  it('skips unresolved tokens', () => {
    const v = new PropsValidator(newStack());
    const tokenNumber = Token.asNumber({ Ref: 'SomeParameter' });
    v.integerInRange('n', tokenNumber, 1, 2).durationInRange('d', Duration.seconds(tokenNumber), Duration.seconds(1), Duration.seconds(2));
    expect(v.count).toBe(0);
    v.integerInRange('m', 3, 1, 2);
    expect(v.count).toBe(1);
  });

  it('collects problems and throws them together', () => {
    const v = new PropsValidator(newStack());
    v.check(false, 'a is wrong').check(true, 'never').integerInRange('b', 11, 1, 10).mutuallyExclusive({ x: 1, y: 2, z: undefined });
    expect(v.count).toBe(3);
    expect(() => v.throwIfInvalid()).toThrow(/a is wrong[\s\S]*b must be an integer between 1 and 10 \(given 11\)[\s\S]*provide only one of x, y, z \(given x and y\)/);
  });
});
