import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternsError } from '../../../lib';
import { type BuildQueueOptions, buildQueue, createQueueKey, validateQueueInputs } from '../../../lib/core/queue-builder';
import { PropsValidator } from '../../../lib/core/validation';
import { newStack, template, warnings } from '../../helpers/cdk';

/** The rule ids acknowledged on `construct` itself, with their reasons. */
function acknowledgements(construct: Construct): Record<string, string> {
  return Object.assign(
    {},
    ...construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .map((m) => m.data as Record<string, string>),
  );
}

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
    template(stack).hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 45,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
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

  it("warns when the DLQ retention is not longer than the queue's", () => {
    const stack = newStack();
    build(stack, { queueProps: { retentionPeriod: Duration.days(14) } });
    expect(warnings(stack).join('\n')).toMatch(
      /deadLetterQueueProps.retentionPeriod \(1209600 seconds\) is not longer than the queue's \(1209600 seconds\)/,
    );
  });

  it('acknowledges cdk-nag\'s "a queue needs a DLQ" rules on the dead-letter queue it creates, naming what it belongs to', () => {
    const stack = newStack();
    const built = build(stack, { deadLetterQueueOf: 'the test queue' });
    const acks = acknowledgements(built.deadLetterQueue!);
    expect(Object.keys(acks)).toEqual([expect.stringMatching(/AwsSolutions-SQS3$/), expect.stringMatching(/Serverless-SQSRedrivePolicy$/)]);
    expect(Object.values(acks).join('\n')).toMatch(/dead-letter queue of the test queue/);
    expect(acknowledgements(built.queue as sqs.Queue)).toEqual({});
  });

  it('acknowledges nothing on a dead-letter queue the user gives', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    build(stack, { queueProps: { deadLetterQueue: { queue: dlq, maxReceiveCount: 9 } } });
    expect(acknowledgements(dlq)).toEqual({});
  });

  it('createQueueKey creates a rotating key granted to the given services only', () => {
    const stack = newStack();
    createQueueKey(stack, 'Key', ['sns.amazonaws.com']);
    createQueueKey(stack, 'Plain');
    const keys = template(stack).findResources('AWS::KMS::Key');
    expect(Object.keys(keys)).toHaveLength(2);
    for (const key of Object.values(keys)) expect(key.Properties.EnableKeyRotation).toBe(true);
    const [withService, plain] = [
      Object.entries(keys).find(([id]) => id.startsWith('Key'))![1],
      Object.entries(keys).find(([id]) => id.startsWith('Plain'))![1],
    ];
    expect(JSON.stringify(withService.Properties.KeyPolicy)).toMatch(/sns\.amazonaws\.com/);
    expect(JSON.stringify(plain.Properties.KeyPolicy)).not.toMatch(/amazonaws\.com"/);
  });

  it('keeps a user-given dead-letter queue', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    const built = build(stack, { queueProps: { deadLetterQueue: { queue: dlq, maxReceiveCount: 9 } } });
    expect(built.deadLetterQueue).toBe(dlq);
    expect(built.maxReceiveCount).toBe(9);
  });

  it('fails if the pattern needs a customer managed key and queueProps asks for the AWS managed one', () => {
    expect(() =>
      build(newStack(), { requireCustomerManagedKey: true, queueProps: { encryption: sqs.QueueEncryption.KMS_MANAGED } }),
    ).toThrow(/queueProps.encryption must not be KMS_MANAGED here.*\(given KMS_MANAGED\)/);
  });

  it('fails if the key is given twice', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'K');
    expect(() => build(stack, { encryptionKey: key, queueProps: { encryptionMasterKey: key } })).toThrow(
      /encryptionKey cannot be used with queueProps.encryption or queueProps.encryptionMasterKey/,
    );
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
    v.check('a:format', false, 'a is wrong')
      .check('b:format', true, 'never')
      .integerInRange('b', 11, 1, 10)
      .mutuallyExclusive({ x: 1, y: 2, z: undefined });
    expect(v.count).toBe(3);
    expect(() => v.throwIfInvalid()).toThrow(
      /a is wrong[\s\S]*b must be an integer between 1 and 10 \(given 11\)[\s\S]*provide only one of x, y, z \(given x and y\)/,
    );
  });
});
