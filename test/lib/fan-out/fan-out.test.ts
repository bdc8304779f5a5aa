import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { FanOut, type FanOutProps, FanOutSubscription, IdempotencyTable, MessagingPatternsError } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

/** The codes of the error `fn` throws. */
function codesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error.codes;
    throw error;
  }
  return [];
}

const build =
  (props: FanOutProps = {}, stack = newStack()): (() => FanOut) =>
  () =>
    new FanOut(stack, 'Orders', props);

const SNS_KEY_STATEMENT = {
  Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
  Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^Orders') } } },
  Effect: 'Allow',
  Principal: { Service: 'sns.amazonaws.com' },
  Resource: '*',
};

describe('FanOut', () => {
  describe('defaults', () => {
    let stack: Stack;
    let fanOut: FanOut;
    beforeEach(() => {
      stack = newStack();
      fanOut = new FanOut(stack, 'Orders');
    });

    it('creates a standard topic encrypted with a new customer managed key, rotation on', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::SNS::Topic', 1);
      t.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersKey'), 'Arn'] },
        FifoTopic: Match.absent(),
        ContentBasedDeduplication: Match.absent(),
      });
      t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      expect(fanOut.encryptionKey).toBeDefined();
      expect(fanOut.fifo).toBe(false);
    });

    it('denies publishing without TLS', () => {
      template(stack).hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('creates the NotificationsFailed alarm on the SNS metric, Sum >= 1', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SNS',
        MetricName: 'NumberOfNotificationsFailed',
        Dimensions: [{ Name: 'TopicName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Orders'), 'TopicName'] } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(fanOut.alarms.map((a) => a.node.id)).toEqual(['NotificationsFailed']);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes the topic metrics as Sums over 1 minute', () => {
      const metrics = [
        fanOut.metricNumberOfMessagesPublished(),
        fanOut.metricNumberOfNotificationsDelivered(),
        fanOut.metricNumberOfNotificationsFailed(),
        fanOut.metricNumberOfNotificationsFilteredOut(),
        fanOut.metricNumberOfNotificationsRedrivenToDlq(),
        fanOut.metricNumberOfNotificationsFailedToRedriveToDlq(),
      ];
      expect(metrics.map((m) => m.metricName)).toEqual([
        'NumberOfMessagesPublished',
        'NumberOfNotificationsDelivered',
        'NumberOfNotificationsFailed',
        'NumberOfNotificationsFilteredOut',
        'NumberOfNotificationsRedrivenToDlq',
        'NumberOfNotificationsFailedToRedriveToDlq',
      ]);
      for (const m of metrics) {
        expect(m.statistic).toBe('Sum');
        expect(m.period.toSeconds()).toBe(60);
      }
      expect(fanOut.metricNumberOfMessagesPublished({ period: Duration.minutes(5) }).period.toSeconds()).toBe(300);
    });
  });

  describe('topic', () => {
    it('creates a FIFO topic with content-based deduplication by default', () => {
      const stack = newStack();
      const fanOut = build({ fifo: true }, stack)();
      template(stack).hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, ContentBasedDeduplication: true });
      expect(fanOut.fifo).toBe(true);
    });

    it('honours contentBasedDeduplication false and topicProps.fifo', () => {
      const stack = newStack();
      build({ topicProps: { fifo: true, displayName: 'Orders' }, contentBasedDeduplication: false }, stack)();
      template(stack).hasResourceProperties('AWS::SNS::Topic', {
        FifoTopic: true,
        ContentBasedDeduplication: false,
        DisplayName: 'Orders',
      });
    });

    it('uses a given key, from encryptionKey or topicProps.masterKey, and creates none', () => {
      for (const where of ['encryptionKey', 'masterKey'] as const) {
        const stack = newStack();
        const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
        const fanOut = build(where === 'encryptionKey' ? { encryptionKey: key } : { topicProps: { masterKey: key } }, stack)();
        template(stack).resourceCountIs('AWS::KMS::Key', 1);
        template(stack).hasResourceProperties('AWS::SNS::Topic', {
          KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MyKey'), 'Arn'] },
        });
        expect(fanOut.encryptionKey).toBe(key);
      }
    });

    it('keeps TLS enforced whatever topicProps says', () => {
      const stack = newStack();
      build({ topicProps: { displayName: 'x' } }, stack)();
      template(stack).resourceCountIs('AWS::SNS::TopicPolicy', 1);
    });

    it('uses an existing topic as it is, with its key and type', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'TopicKey');
      const topic = new sns.Topic(stack, 'Existing', { fifo: true, masterKey: key, contentBasedDeduplication: true });
      const fanOut = build({ existingTopic: topic }, stack)();
      expect(fanOut.topic).toBe(topic);
      expect(fanOut.encryptionKey).toBe(key);
      expect(fanOut.fifo).toBe(true);
      template(stack).resourceCountIs('AWS::SNS::Topic', 1);
      template(stack).resourceCountIs('AWS::KMS::Key', 1);
    });

    it('fails if existingTopic and topicProps are both given', () => {
      const stack = newStack();
      expect(codesOf(build({ existingTopic: new sns.Topic(stack, 'T'), topicProps: {} }, stack))).toEqual([
        'existingTopic|topicProps:exclusive',
      ]);
    });

    it('fails if existingTopic comes with topic settings', () => {
      const stack = newStack();
      const existingTopic = new sns.Topic(stack, 'T');
      expect(
        codesOf(build({ existingTopic, encryptionKey: new kms.Key(stack, 'K'), fifo: true, contentBasedDeduplication: true }, stack)),
      ).toEqual(['encryptionKey:conflict', 'fifo:conflict', 'contentBasedDeduplication:conflict']);
    });

    it('fails if the key is given two ways', () => {
      const stack = newStack();
      expect(codesOf(build({ encryptionKey: new kms.Key(stack, 'A'), topicProps: { masterKey: new kms.Key(stack, 'B') } }, stack))).toEqual(
        ['encryptionKey:conflict'],
      );
    });

    it('fails if topicProps turns TLS off', () => {
      expect(build({ topicProps: { enforceSSL: false } })).toThrow(
        /topicProps.enforceSSL must not be false: .* \[topicProps.enforceSSL:insecure\]/,
      );
    });

    it('fails if fifo and topicProps.fifo disagree', () => {
      expect(codesOf(build({ fifo: true, topicProps: { fifo: false } }))).toEqual(['topicProps.fifo:mismatch']);
    });

    it('fails if a standard topic asks for deduplication', () => {
      expect(codesOf(build({ contentBasedDeduplication: true }))).toEqual(['contentBasedDeduplication:conflict']);
      expect(codesOf(build({ topicProps: { contentBasedDeduplication: true } }))).toEqual([
        'topicProps.contentBasedDeduplication:conflict',
      ]);
      expect(build({ contentBasedDeduplication: true })).toThrow(
        /contentBasedDeduplication needs a FIFO topic: .*\(given true for a standard topic\)/,
      );
    });

    it('fails if the two deduplication settings disagree', () => {
      expect(codesOf(build({ fifo: true, contentBasedDeduplication: true, topicProps: { contentBasedDeduplication: false } }))).toEqual([
        'contentBasedDeduplication:mismatch',
      ]);
    });

    it("fails if a standard topic's name ends in .fifo", () => {
      expect(codesOf(build({ topicProps: { topicName: 'orders.fifo' } }))).toEqual(['topicProps.topicName:format']);
    });

    it('fails if an alarm override names an alarm the fan-out does not create', () => {
      expect(build({ alarms: { overrides: { QueueTooDeep: {} } } })).toThrow(
        /alarms.overrides names an alarm this construct does not create \(given 'QueueTooDeep'; its alarms: NotificationsFailed, DeadLetterQueueNotEmpty, OldestMessageTooOld, SubscriptionDeadLetterQueueNotEmpty\)/,
      );
    });

    it('reports every problem together, under the construct path', () => {
      try {
        build({ topicProps: { enforceSSL: false, fifo: false }, fifo: true, contentBasedDeduplication: false })();
        throw new Error('no error');
      } catch (error) {
        expect(MessagingPatternsError.isMessagingPatternsError(error)).toBe(true);
        const e = error as MessagingPatternsError;
        expect(e.constructPath).toBe('TestStack/Orders');
        expect(e.codes).toEqual(['topicProps.enforceSSL:insecure', 'topicProps.fifo:mismatch']);
      }
    });
  });

  describe('publishers', () => {
    it('grants sns:Publish and only kms:GenerateDataKey and kms:Decrypt on the topic key', () => {
      const stack = newStack();
      const fanOut = build({}, stack)();
      const role = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const grant = fanOut.grantPublish(role);
      expect(grant.success).toBe(true);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^Orders') } },
            {
              Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersKey'), 'Arn'] },
            },
          ],
        },
      });
    });

    it('grants only sns:Publish on an existing topic whose key it does not know', () => {
      const stack = newStack();
      const fanOut = build({ existingTopic: sns.Topic.fromTopicArn(stack, 'T', 'arn:aws:sns:us-east-1:111111111111:orders') }, stack)();
      const role = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      fanOut.grantPublish(role);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: [{ Action: 'sns:Publish', Effect: 'Allow', Resource: 'arn:aws:sns:us-east-1:111111111111:orders' }] },
      });
    });

    it('connectPublisher grants publishing and sets FAN_OUT_TOPIC_ARN (or the variable asked for)', () => {
      const stack = newStack();
      const fanOut = build({}, stack)();
      const fn = inlineFunction(stack, 'Api');
      const other = inlineFunction(stack, 'Other');
      expect(fanOut.connectPublisher(fn).success).toBe(true);
      fanOut.connectPublisher(other, { environmentVariable: 'ORDERS_TOPIC' });
      const t = template(stack);
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { FAN_OUT_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Orders') } } },
      });
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { ORDERS_TOPIC: { Ref: Match.stringLikeRegexp('^Orders') } } },
      });
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish' })]) },
        Roles: [{ Ref: Match.stringLikeRegexp('^ApiServiceRole') }],
      });
    });

    it('warns when the publisher was imported and its environment cannot be set', () => {
      const stack = newStack();
      const fanOut = build({}, stack)();
      const fn = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
        functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:api',
        role: new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
      });
      fanOut.connectPublisher(fn);
      expect(warnings(stack)).toEqual([expect.stringMatching(/set FAN_OUT_TOPIC_ARN yourself/)]);
    });
  });

  describe('queue subscriptions', () => {
    describe('defaults', () => {
      let stack: Stack;
      let fanOut: FanOut;
      let sub: ReturnType<FanOut['addQueueSubscription']>;
      beforeEach(() => {
        stack = newStack();
        fanOut = new FanOut(stack, 'Orders');
        sub = fanOut.addQueueSubscription('Billing');
      });

      it('creates the queue with SSE-SQS and a DLQ at maxReceiveCount 5, and a subscription DLQ, all without a key of their own', () => {
        const t = template(stack);
        t.resourceCountIs('AWS::SQS::Queue', 3);
        t.resourceCountIs('AWS::KMS::Key', 1); // the topic's
        t.hasResourceProperties('AWS::SQS::Queue', {
          SqsManagedSseEnabled: true,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingDeadLetterQueue'), 'Arn'] },
            maxReceiveCount: 5,
          },
        });
        for (const id of ['OrdersSubscriptionsBillingDeadLetterQueue', 'OrdersSubscriptionsBillingSubscriptionDeadLetterQueue']) {
          const [q] = Object.entries(t.findResources('AWS::SQS::Queue')).filter(([k]) => k.startsWith(id) && !k.includes('Policy'));
          expect(q[1].Properties).toEqual({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
        }
        expect(sub.queue).toBeDefined();
        expect(sub.deadLetterQueue).toBeDefined();
        expect(sub.subscriptionDeadLetterQueue).toBeDefined();
        expect(sub.encryptionKey).toBeUndefined();
        expect(sub.workQueue).toBeUndefined();
        expect(sub.maxReceiveCount).toBe(5);
        expect(sub.visibilityTimeout?.toSeconds()).toBe(30);
      });

      it('subscribes the queue raw, with the redrive policy to the subscription DLQ', () => {
        template(stack).hasResourceProperties('AWS::SNS::Subscription', {
          Protocol: 'sqs',
          TopicArn: { Ref: Match.stringLikeRegexp('^Orders') },
          Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingQueue'), 'Arn'] },
          RawMessageDelivery: true,
          RedrivePolicy: {
            deadLetterTargetArn: {
              'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingSubscriptionDeadLetterQueue'), 'Arn'],
            },
          },
          FilterPolicy: Match.absent(),
          FilterPolicyScope: Match.absent(),
        });
        expect(sub.rawMessageDelivery).toBe(true);
      });

      it('lets only this topic send to the queue and to the subscription DLQ (aws:SourceArn), and denies requests without TLS on every queue', () => {
        const policies = Object.entries(template(stack).findResources('AWS::SQS::QueuePolicy'));
        expect(policies).toHaveLength(3);
        const snsStatement = (queue: string) => ({
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': { Ref: expect.stringMatching(/^Orders/) } } },
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Resource: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${queue}`)), 'Arn'] },
        });
        for (const [id, p] of policies) {
          const statements = p.Properties.PolicyDocument.Statement;
          expect(statements).toContainEqual(
            expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          );
          if (id.startsWith('OrdersSubscriptionsBillingQueuePolicy'))
            expect(statements).toContainEqual(snsStatement('OrdersSubscriptionsBillingQueue'));
          if (id.startsWith('OrdersSubscriptionsBillingSubscriptionDeadLetterQueuePolicy'))
            expect(statements).toContainEqual(snsStatement('OrdersSubscriptionsBillingSubscriptionDeadLetterQueue'));
          if (id.startsWith('OrdersSubscriptionsBillingDeadLetterQueuePolicy')) expect(statements).toHaveLength(1);
        }
      });

      it("creates the subscription after the queue policy and the subscription DLQ's policy (the DLQ itself through its ARN)", () => {
        const [subscription] = Object.values(template(stack).findResources('AWS::SNS::Subscription'));
        expect(subscription.DependsOn).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^OrdersSubscriptionsBillingQueuePolicy/),
            expect.stringMatching(/^OrdersSubscriptionsBillingSubscriptionDeadLetterQueuePolicy/),
          ]),
        );
        // No DependsOn the redrive policy's GetAtt already implies (cfn-lint W3005).
        const dlq = subscription.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
        expect(subscription.DependsOn).not.toContain(dlq);
      });

      it('creates the three subscription alarms, on the DLQ, the queue age and the subscription DLQ', () => {
        const t = template(stack);
        t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            {
              Name: 'QueueName',
              Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingDeadLetterQueue'), 'QueueName'] },
            },
          ],
          Threshold: 1,
        });
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [
            { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingQueue'), 'QueueName'] } },
          ],
          Threshold: 3600,
          EvaluationPeriods: 3,
        });
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            {
              Name: 'QueueName',
              Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingSubscriptionDeadLetterQueue'), 'QueueName'] },
            },
          ],
          Threshold: 1,
          AlarmDescription: Match.stringLikeRegexp('SNS could not deliver them'),
        });
        expect(sub.alarms.map((a) => a.node.id)).toEqual([
          'DeadLetterQueueNotEmpty',
          'OldestMessageTooOld',
          'SubscriptionDeadLetterQueueNotEmpty',
        ]);
        expect(fanOut.alarms).toHaveLength(4);
      });

      it('adds no warnings', () => {
        expect(warnings(stack)).toEqual([]);
      });

      it('exposes the queue metrics', () => {
        expect(sub.metricVisibleMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
        expect(sub.metricInFlightMessages().metricName).toBe('ApproximateNumberOfMessagesNotVisible');
        expect(sub.metricOldestMessageAge().metricName).toBe('ApproximateAgeOfOldestMessage');
        expect(sub.metricDeadLetterMessages()?.metricName).toBe('ApproximateNumberOfMessagesVisible');
        expect(sub.metricSubscriptionDeadLetterMessages()?.metricName).toBe('ApproximateNumberOfMessagesVisible');
        expect(sub.metricVisibleMessages().statistic).toBe('Maximum');
      });

      it('grants consuming the queue, the DLQ and the subscription DLQ', () => {
        const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
        for (const grant of [
          sub.grantConsumeMessages(role),
          sub.grantConsumeDeadLetters(role),
          sub.grantConsumeSubscriptionDeadLetters(role),
        ]) {
          expect(grant.success).toBe(true);
        }
        const [policy] = Object.values(template(stack).findResources('AWS::IAM::Policy'));
        const resources = policy.Properties.PolicyDocument.Statement.map(
          (s: { Resource: { 'Fn::GetAtt': string[] } }) => s.Resource['Fn::GetAtt'][0],
        );
        expect(resources).toEqual([
          expect.stringMatching(/^OrdersSubscriptionsBillingQueue/),
          expect.stringMatching(/^OrdersSubscriptionsBillingDeadLetterQueue/),
          expect.stringMatching(/^OrdersSubscriptionsBillingSubscriptionDeadLetterQueue/),
        ]);
      });
    });

    it('delivers the SNS envelope when rawMessageDelivery is false', () => {
      const stack = newStack();
      const sub = new FanOut(stack, 'Orders').addQueueSubscription('Audit', { rawMessageDelivery: false });
      template(stack).hasResourceProperties('AWS::SNS::Subscription', { RawMessageDelivery: false });
      expect(sub.rawMessageDelivery).toBe(false);
    });

    describe('filters', () => {
      it('filters on message attributes', () => {
        const stack = newStack();
        new FanOut(stack, 'Orders').addQueueSubscription('Refunds', {
          filterPolicy: {
            type: sns.SubscriptionFilter.stringFilter({ allowlist: ['refund'] }),
            amount: sns.SubscriptionFilter.numericFilter({ greaterThan: 100 }),
          },
        });
        template(stack).hasResourceProperties('AWS::SNS::Subscription', {
          FilterPolicy: { type: ['refund'], amount: [{ numeric: ['>', 100] }] },
          FilterPolicyScope: Match.absent(),
        });
      });

      it('filters on the message body', () => {
        const stack = newStack();
        new FanOut(stack, 'Orders').addQueueSubscription('Europe', {
          filterPolicyWithMessageBody: {
            region: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['eu'] })),
            customer: sns.FilterOrPolicy.policy({
              tier: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['gold', 'silver'] })),
            }),
          },
        });
        template(stack).hasResourceProperties('AWS::SNS::Subscription', {
          FilterPolicyScope: 'MessageBody',
          FilterPolicy: { region: ['eu'], customer: { tier: ['gold', 'silver'] } },
        });
      });

      const build = (options: Parameters<FanOut['addQueueSubscription']>[1]) => () =>
        new FanOut(newStack(), 'Orders').addQueueSubscription('S', options);
      const allow = (...values: string[]) => sns.SubscriptionFilter.stringFilter({ allowlist: values });

      it('fails if both filter scopes are given', () => {
        expect(
          codesOf(build({ filterPolicy: { a: allow('x') }, filterPolicyWithMessageBody: { a: sns.FilterOrPolicy.filter(allow('x')) } })),
        ).toEqual(['filterPolicy|filterPolicyWithMessageBody:exclusive']);
      });

      it('fails if a filter policy has more than 5 keys, or none', () => {
        const six = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, allow('x')]));
        expect(build({ filterPolicy: six })).toThrow(
          /filterPolicy must have between 1 and 5 keys: .*\(given 6: \["a","b","c","d","e","f"\]\)/,
        );
        expect(codesOf(build({ filterPolicy: {} }))).toEqual(['filterPolicy:range']);
      });

      it('counts the leaf keys of a body policy', () => {
        const leaf = sns.FilterOrPolicy.filter(allow('x'));
        const nested = {
          a: sns.FilterOrPolicy.policy({ b: leaf, c: leaf, d: leaf }),
          e: sns.FilterOrPolicy.policy({ f: leaf, g: leaf, h: leaf }),
        };
        expect(build({ filterPolicyWithMessageBody: nested })).toThrow(
          /filterPolicyWithMessageBody must have between 1 and 5 keys \(leaf keys\).*\["a.b","a.c","a.d","e.f","e.g","e.h"\]/,
        );
      });

      it('fails if the combinations of values exceed 150', () => {
        const many = (n: number) => allow(...Array.from({ length: n }, (_, i) => `v${i}`));
        expect(build({ filterPolicy: { a: many(13), b: many(12) } })).toThrow(/must not exceed 150 combinations .*\(given 156\)/);
        expect(codesOf(build({ filterPolicy: { a: many(15), b: many(10) } }))).toEqual([]);
      });
    });

    describe('subscription dead-letter queue', () => {
      it('can be turned off, and its alarm, metric and grant with it', () => {
        const stack = newStack();
        const sub = new FanOut(stack, 'Orders').addQueueSubscription('Billing', { deploySubscriptionDeadLetterQueue: false });
        template(stack).resourceCountIs('AWS::SQS::Queue', 2);
        template(stack).hasResourceProperties('AWS::SNS::Subscription', { RedrivePolicy: Match.absent() });
        expect(sub.subscriptionDeadLetterQueue).toBeUndefined();
        expect(sub.metricSubscriptionDeadLetterMessages()).toBeUndefined();
        expect(sub.alarms.map((a) => a.node.id)).toEqual(['DeadLetterQueueNotEmpty', 'OldestMessageTooOld']);
        const grant = sub.grantConsumeSubscriptionDeadLetters(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }));
        expect(grant.success).toBe(false);
      });

      it('merges subscriptionDeadLetterQueueProps over the defaults', () => {
        const stack = newStack();
        new FanOut(stack, 'Orders').addQueueSubscription('Billing', {
          subscriptionDeadLetterQueueProps: { queueName: 'billing-undeliverable', retentionPeriod: Duration.days(7) },
        });
        template(stack).hasResourceProperties('AWS::SQS::Queue', {
          QueueName: 'billing-undeliverable',
          MessageRetentionPeriod: 604800,
          SqsManagedSseEnabled: true,
        });
      });

      const build = (options: Parameters<FanOut['addQueueSubscription']>[1]) => () =>
        new FanOut(newStack(), 'Orders').addQueueSubscription('S', options);

      it('fails if its props come with deploySubscriptionDeadLetterQueue false', () => {
        expect(codesOf(build({ deploySubscriptionDeadLetterQueue: false, subscriptionDeadLetterQueueProps: {} }))).toEqual([
          'subscriptionDeadLetterQueueProps:conflict',
        ]);
      });

      it('fails if it would be unencrypted, use aws/sqs, allow plain HTTP or have the wrong type', () => {
        expect(codesOf(build({ subscriptionDeadLetterQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } }))).toEqual([
          'subscriptionDeadLetterQueueProps.encryption:insecure',
        ]);
        expect(codesOf(build({ subscriptionDeadLetterQueueProps: { encryption: sqs.QueueEncryption.KMS_MANAGED } }))).toEqual([
          'subscriptionDeadLetterQueueProps.encryption:unsupported',
        ]);
        const stack = newStack();
        const awsManaged = kms.Alias.fromAliasName(stack, 'AwsSqs', 'alias/aws/sqs');
        expect(
          codesOf(() =>
            new FanOut(stack, 'Orders').addQueueSubscription('S', {
              subscriptionDeadLetterQueueProps: { encryptionMasterKey: awsManaged },
            }),
          ),
        ).toEqual(['subscriptionDeadLetterQueueProps.encryptionMasterKey:unsupported']);
        expect(codesOf(build({ subscriptionDeadLetterQueueProps: { enforceSSL: false } }))).toEqual([
          'subscriptionDeadLetterQueueProps.enforceSSL:insecure',
        ]);
        expect(codesOf(build({ subscriptionDeadLetterQueueProps: { fifo: true } }))).toEqual([
          'subscriptionDeadLetterQueueProps.fifo:mismatch',
        ]);
      });
    });

    describe('consumer (a WorkQueue over the subscription queue)', () => {
      it('maps the queue to the consumer with partial batch responses, and sets the visibility timeout to 6 x its timeout + the window', () => {
        const stack = newStack();
        const consumer = inlineFunction(stack, 'Consumer', Duration.seconds(20));
        const sub = new FanOut(stack, 'Orders').addQueueSubscription('Billing', {
          consumer,
          batchSize: 100,
          maxBatchingWindow: Duration.seconds(5),
          maxConcurrency: 10,
        });
        const t = template(stack);
        t.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 125 });
        t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsBillingQueue'), 'Arn'] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          BatchSize: 100,
          MaximumBatchingWindowInSeconds: 5,
          ScalingConfig: { MaximumConcurrency: 10 },
        });
        expect(sub.workQueue?.queue).toBe(sub.queue);
        expect(sub.visibilityTimeout?.toSeconds()).toBe(125);
      });

      it('keeps the queue, its ids and its alarms whether or not there is a consumer', () => {
        const ids = (withConsumer: boolean) => {
          const stack = newStack();
          new FanOut(stack, 'Orders').addQueueSubscription('Billing', withConsumer ? { consumer: inlineFunction(stack) } : {});
          const t = template(stack);
          return [
            ...Object.keys(t.findResources('AWS::SQS::Queue')),
            ...Object.keys(t.findResources('AWS::CloudWatch::Alarm')),
            ...Object.keys(t.findResources('AWS::SNS::Subscription')),
          ].sort();
        };
        expect(ids(true)).toEqual(ids(false));
      });

      it('wires an idempotency table to the consumer', () => {
        const stack = newStack();
        const idempotencyTable = new IdempotencyTable(stack, 'Idem');
        new FanOut(stack, 'Orders').addQueueSubscription('Billing', { consumer: inlineFunction(stack), idempotencyTable });
        template(stack).hasResourceProperties('AWS::Lambda::Function', {
          Environment: { Variables: { IDEMPOTENCY_TABLE_NAME: { Ref: Match.stringLikeRegexp('^Idem') } } },
        });
      });

      it('competing consumers: several subscriptions each get their own mapping and concurrency', () => {
        const stack = newStack();
        const fanOut = new FanOut(stack, 'Orders');
        fanOut.addQueueSubscription('Billing', { consumer: inlineFunction(stack, 'B'), maxConcurrency: 5 });
        fanOut.addQueueSubscription('Shipping', { consumer: inlineFunction(stack, 'S'), maxConcurrency: 50 });
        const mappings = Object.values(template(stack).findResources('AWS::Lambda::EventSourceMapping'));
        expect(mappings.map((m) => m.Properties.ScalingConfig.MaximumConcurrency).sort((a, b) => a - b)).toEqual([5, 50]);
      });

      const build =
        (options: Parameters<FanOut['addQueueSubscription']>[1], props: FanOutProps = {}) =>
        () =>
          new FanOut(newStack(), 'Orders', props).addQueueSubscription('S', options);

      it('fails if consumer settings come without a consumer', () => {
        expect(codesOf(build({ batchSize: 5, maxConcurrency: 5 }))).toEqual(['consumer:required', 'consumer:required']);
        expect(build({ batchSize: 5 })).toThrow(/batchSize needs a consumer: .*\(given batchSize without consumer\)/);
      });

      it('fails if the consumer is imported without consumerTimeout', () => {
        const stack = newStack();
        const consumer = lambda.Function.fromFunctionArn(stack, 'C', 'arn:aws:lambda:us-east-1:111111111111:function:c');
        expect(codesOf(() => new FanOut(stack, 'Orders').addQueueSubscription('S', { consumer }))).toEqual(['consumerTimeout:required']);
      });

      it("fails with the work queue's checks: batch limits, the visibility timeout", () => {
        const stack = newStack();
        const consumer = inlineFunction(stack, 'C', Duration.seconds(30));
        const fanOut = new FanOut(stack, 'Orders');
        expect(codesOf(() => fanOut.addQueueSubscription('A', { consumer, batchSize: 50 }))).toEqual(['maxBatchingWindow:required']);
        expect(
          codesOf(() => fanOut.addQueueSubscription('B', { consumer, queueProps: { visibilityTimeout: Duration.seconds(60) } })),
        ).toEqual(['queueProps.visibilityTimeout:range']);
        expect(codesOf(() => fanOut.addQueueSubscription('C', { consumer, maxConcurrency: 1 }))).toEqual(['maxConcurrency:range']);
      });
    });

    describe('encryption', () => {
      it('encrypts the queue and both dead-letter queues with a given key, which lets SNS in for this topic only', () => {
        const stack = newStack();
        const key = new kms.Key(stack, 'QueueKey', { enableKeyRotation: true });
        const sub = new FanOut(stack, 'Orders').addQueueSubscription('Billing', { encryptionKey: key });
        const t = template(stack);
        for (const q of Object.values(t.findResources('AWS::SQS::Queue'))) {
          expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^QueueKey/), 'Arn'] });
        }
        const [, queueKey] = Object.entries(t.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('QueueKey'))!;
        const snsStatements = queueKey.Properties.KeyPolicy.Statement.filter(
          (s: { Principal: { Service?: string } }) => s.Principal.Service,
        );
        expect(snsStatements).toEqual([
          {
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: expect.stringMatching(/^Orders/) } } },
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Resource: '*',
          },
        ]);
        expect(sub.encryptionKey).toBe(key);
      });

      it('creates a rotating key when queueProps asks for KMS without one, and lets SNS in for this topic only', () => {
        const stack = newStack();
        new FanOut(stack, 'Orders').addQueueSubscription('Billing', { queueProps: { encryption: sqs.QueueEncryption.KMS } });
        const t = template(stack);
        t.resourceCountIs('AWS::KMS::Key', 2);
        t.hasResourceProperties('AWS::KMS::Key', {
          EnableKeyRotation: true,
          KeyPolicy: { Statement: Match.arrayWith([SNS_KEY_STATEMENT]) },
        });
      });

      it("lets SNS use a subscription DLQ's own key, for this topic only", () => {
        const stack = newStack();
        const dlqKey = new kms.Key(stack, 'DlqKey', { enableKeyRotation: true });
        new FanOut(stack, 'Orders').addQueueSubscription('Billing', { subscriptionDeadLetterQueueProps: { encryptionMasterKey: dlqKey } });
        const t = template(stack);
        t.hasResourceProperties('AWS::SQS::Queue', {
          MessageRetentionPeriod: 1209600,
          KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DlqKey'), 'Arn'] },
        });
        const [, key] = Object.entries(t.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('DlqKey'))!;
        expect(key.Properties.KeyPolicy.Statement).toContainEqual(
          expect.objectContaining({ Principal: { Service: 'sns.amazonaws.com' }, Condition: expect.anything() }),
        );
      });

      it('scopes the key statement to the topic whatever the app says of the feature flag, for an existing topic too', () => {
        for (const existing of [false, true]) {
          const app = new App({ context: { [cxapi.SNS_SUBSCRIPTIONS_SQS_DECRYPTION_POLICY]: false } });
          const stack = new Stack(app, 'TestStack');
          const key = new kms.Key(stack, 'QueueKey');
          const existingTopic = existing ? new sns.Topic(stack, 'Existing') : undefined;
          new FanOut(stack, 'Orders', { existingTopic }).addQueueSubscription('Billing', { encryptionKey: key });
          const [, queueKey] = Object.entries(template(stack).findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('QueueKey'))!;
          const snsStatements = queueKey.Properties.KeyPolicy.Statement.filter(
            (s: { Principal: { Service?: string } }) => s.Principal.Service,
          );
          expect(snsStatements).toEqual([
            expect.objectContaining({
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: expect.stringMatching(existing ? /^Existing/ : /^Orders/) } } },
            }),
          ]);
        }
      });

      it('warns when the queue key was imported: its policy is the user to change', () => {
        const stack = newStack();
        const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
        new FanOut(stack, 'Orders').addQueueSubscription('Billing', { encryptionKey: key });
        expect(warnings(stack)).toEqual([
          expect.stringMatching(/could not let SNS use it.*ArnEquals aws:SourceArn.*cdk-messaging-patterns:importedKey/),
        ]);
      });

      const build = (options: (stack: Stack) => Parameters<FanOut['addQueueSubscription']>[1]) => () => {
        const stack = newStack();
        return new FanOut(stack, 'Orders').addQueueSubscription('Billing', options(stack));
      };

      it('fails if the queue uses the AWS managed key aws/sqs, naming the subscription', () => {
        expect(build(() => ({ queueProps: { encryption: sqs.QueueEncryption.KMS_MANAGED } }))).toThrow(
          /^\[TestStack\/Orders\/Subscriptions\/Billing\] queueProps.encryption must not be KMS_MANAGED for the queue of subscription 'Billing': SNS cannot use the AWS managed key alias\/aws\/sqs, so every message sent to this subscription would be dropped; .* \[queueProps.encryption:unsupported\]$/,
        );
      });

      it('fails if a key given is the AWS managed key aws/sqs, by alias or by ARN', () => {
        expect(codesOf(build((s) => ({ encryptionKey: kms.Alias.fromAliasName(s, 'A', 'alias/aws/sqs') })))).toEqual([
          'encryptionKey:unsupported',
        ]);
        expect(
          codesOf(build((s) => ({ encryptionKey: kms.Key.fromKeyArn(s, 'A', 'arn:aws:kms:us-east-1:111111111111:alias/aws/sqs') }))),
        ).toEqual(['encryptionKey:unsupported']);
        expect(codesOf(build((s) => ({ queueProps: { encryptionMasterKey: kms.Alias.fromAliasName(s, 'A', 'alias/aws/sqs') } })))).toEqual([
          'queueProps.encryptionMasterKey:unsupported',
        ]);
        expect(build((s) => ({ encryptionKey: kms.Alias.fromAliasName(s, 'A', 'alias/aws/sqs') }))).toThrow(/subscription 'Billing'/);
      });

      it('fails if an existing queue is encrypted with aws/sqs, naming the queue', () => {
        expect(build((s) => ({ existingQueue: new sqs.Queue(s, 'Legacy', { encryption: sqs.QueueEncryption.KMS_MANAGED }) }))).toThrow(
          /existingQueue must not be encrypted with the AWS managed key alias\/aws\/sqs \(subscription 'Billing'\): .*\(given TestStack\/Legacy\) \[existingQueue:unsupported\]/,
        );
        expect(
          codesOf(
            build((s) => ({
              existingQueue: new sqs.Queue(s, 'Legacy', { encryptionMasterKey: kms.Alias.fromAliasName(s, 'A', 'alias/aws/sqs') }),
            })),
          ),
        ).toEqual(['existingQueue:unsupported']);
      });

      it('fails if the queue would be unencrypted', () => {
        expect(codesOf(build(() => ({ queueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } })))).toEqual([
          'queueProps.encryption:insecure',
        ]);
      });
    });

    describe('FIFO', () => {
      it('makes the queue, its DLQ and the subscription DLQ FIFO, delivering raw', () => {
        const stack = newStack();
        const sub = new FanOut(stack, 'Ledger', { fifo: true }).addQueueSubscription('Projector', {
          consumer: inlineFunction(stack),
          batchSize: 10,
        });
        const queues = Object.values(template(stack).findResources('AWS::SQS::Queue'));
        expect(queues).toHaveLength(3);
        for (const q of queues) expect(q.Properties.FifoQueue).toBe(true);
        template(stack).hasResourceProperties('AWS::SNS::Subscription', { RawMessageDelivery: true });
        expect(sub.queue.fifo).toBe(true);
        expect(sub.subscriptionDeadLetterQueue?.fifo).toBe(true);
      });

      it('takes FIFO from an existing FIFO topic', () => {
        const stack = newStack();
        const topic = new sns.Topic(stack, 'T', { fifo: true });
        const sub = new FanOut(stack, 'Ledger', { existingTopic: topic }).addQueueSubscription('P');
        expect(sub.queue.fifo).toBe(true);
      });

      const build = (fifo: boolean, options: (stack: Stack) => Parameters<FanOut['addQueueSubscription']>[1]) => () => {
        const stack = newStack();
        return new FanOut(stack, 'Ledger', { fifo }).addQueueSubscription('P', options(stack));
      };

      it('fails if a FIFO topic gets a standard queue, or a standard topic a FIFO queue', () => {
        expect(build(true, () => ({ queueProps: { fifo: false } }))).toThrow(
          /queueProps.fifo must match the topic: a FIFO topic is subscribed with a FIFO queue \(given false\); a standard queue would lose the order/,
        );
        expect(codesOf(build(false, () => ({ queueProps: { fifo: true } })))).toEqual(['queueProps.fifo:mismatch']);
        expect(build(true, (s) => ({ existingQueue: new sqs.Queue(s, 'Std') }))).toThrow(
          /existingQueue must be a FIFO queue for a FIFO topic \(given the standard queue TestStack\/Std\) \[existingQueue:mismatch\]/,
        );
        expect(codesOf(build(true, () => ({ deadLetterQueueProps: { fifo: false } })))).toEqual(['deadLetterQueueProps.fifo:mismatch']);
      });

      it('fails with the FIFO batch limits', () => {
        expect(codesOf(build(true, (s) => ({ consumer: inlineFunction(s), batchSize: 11 })))).toEqual(['batchSize:range']);
        expect(codesOf(build(true, (s) => ({ consumer: inlineFunction(s), maxBatchingWindow: Duration.seconds(1) })))).toEqual([
          'maxBatchingWindow:unsupported',
        ]);
      });
    });

    describe('existing queue', () => {
      it('subscribes it as it is, letting the topic send to it', () => {
        const stack = newStack();
        const dlq = new sqs.Queue(stack, 'MyDlq', { enforceSSL: true });
        const queue = new sqs.Queue(stack, 'Mine', { enforceSSL: true, deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
        const sub = new FanOut(stack, 'Orders').addQueueSubscription('Billing', { existingQueue: queue, consumer: inlineFunction(stack) });
        expect(sub.queue).toBe(queue);
        expect(sub.deadLetterQueue).toBe(dlq);
        expect(sub.maxReceiveCount).toBe(3);
        expect(sub.visibilityTimeout).toBeUndefined();
        template(stack).hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: Match.stringLikeRegexp('^Mine') }],
          PolicyDocument: {
            Statement: Match.arrayWith([Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'sns.amazonaws.com' } })]),
          },
        });
        template(stack).resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
        expect(warnings(stack)).toEqual([]);
      });

      it('warns once when it has no dead-letter queue, and when it was imported', () => {
        const stack = newStack();
        const fanOut = new FanOut(stack, 'Orders');
        fanOut.addQueueSubscription('A', { existingQueue: new sqs.Queue(stack, 'NoDlq') });
        fanOut.addQueueSubscription('B', {
          existingQueue: sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:us-east-1:111111111111:q'),
        });
        const w = warnings(stack);
        expect(w.filter((m) => /existingQueueWithoutDlq/.test(m))).toHaveLength(2);
        expect(w.filter((m) => /could not add the queue policy.*cdk-messaging-patterns:importedQueue/.test(m))).toHaveLength(1);
      });

      it('fails if it comes with settings of the queue the kit would create', () => {
        const stack = newStack();
        expect(
          codesOf(() =>
            new FanOut(stack, 'Orders').addQueueSubscription('A', { existingQueue: new sqs.Queue(stack, 'Q'), maxReceiveCount: 3 }),
          ),
        ).toEqual(['maxReceiveCount:conflict']);
      });
    });

    describe('alarms', () => {
      it("applies the fan-out's overrides to every subscription, and a subscription's own over them", () => {
        const stack = newStack();
        const topic = new sns.Topic(stack, 'Pager');
        const fanOut = new FanOut(stack, 'Orders', {
          alarms: {
            alarmTopic: topic,
            overrides: { NotificationsFailed: { threshold: 5 }, DeadLetterQueueNotEmpty: { threshold: 10, evaluationPeriods: 2 } },
          },
        });
        const a = fanOut.addQueueSubscription('A');
        const b = fanOut.addQueueSubscription('B', {
          alarms: { overrides: { DeadLetterQueueNotEmpty: { threshold: 3 }, OldestMessageTooOld: { enabled: false } } },
        });
        const t = template(stack);
        const byPath = (sub: typeof a, id: string) => {
          const alarm = sub.alarms.find((x) => x.node.id === id)!;
          return t.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as never)].Properties;
        };
        expect(byPath(a, 'DeadLetterQueueNotEmpty')).toMatchObject({ Threshold: 10, EvaluationPeriods: 2 });
        expect(byPath(b, 'DeadLetterQueueNotEmpty')).toMatchObject({ Threshold: 3, EvaluationPeriods: 2 });
        expect(b.alarms.map((x) => x.node.id)).toEqual(['DeadLetterQueueNotEmpty', 'SubscriptionDeadLetterQueueNotEmpty']);
        t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'NumberOfNotificationsFailed', Threshold: 5 });
        for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) {
          expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
        }
      });

      it('can turn every alarm off', () => {
        const stack = newStack();
        const off = { enabled: false };
        const fanOut = new FanOut(stack, 'Orders', {
          alarms: {
            overrides: {
              NotificationsFailed: off,
              DeadLetterQueueNotEmpty: off,
              OldestMessageTooOld: off,
              SubscriptionDeadLetterQueueNotEmpty: off,
            },
          },
        });
        fanOut.addQueueSubscription('A');
        fanOut.addLambdaSubscription('L', inlineFunction(stack));
        template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
      });

      it("fails if a subscription's override names an alarm it does not create", () => {
        const fanOut = new FanOut(newStack(), 'Orders');
        expect(codesOf(() => fanOut.addQueueSubscription('A', { alarms: { overrides: { NotificationsFailed: {} } } }))).toEqual([
          'alarms.overrides:unknown',
        ]);
        expect(
          codesOf(() => fanOut.addQueueSubscription('B', { alarms: { overrides: { OldestMessageTooOld: { threshold: 345_600 } } } })),
        ).toEqual(['alarms.overrides.OldestMessageTooOld.threshold:range']);
      });
    });

    describe('names', () => {
      it('fails if a name is malformed or taken', () => {
        const stack = newStack();
        const fanOut = new FanOut(stack, 'Orders');
        fanOut.addQueueSubscription('Billing');
        expect(codesOf(() => fanOut.addQueueSubscription('Billing'))).toEqual(['subscriptionName:conflict']);
        expect(codesOf(() => fanOut.addLambdaSubscription('Billing', inlineFunction(stack)))).toEqual(['subscriptionName:conflict']);
        expect(codesOf(() => fanOut.addQueueSubscription('a/b'))).toEqual(['subscriptionName:format']);
        expect(codesOf(() => fanOut.addQueueSubscription(''))).toEqual(['subscriptionName:format']);
      });
    });

    it('can subscribe a queue in another stack to the topic', () => {
      const app = new App();
      const producer = new Stack(app, 'Producer');
      const consumer = new Stack(app, 'Consumer');
      const fanOut = new FanOut(producer, 'Orders');
      new FanOutSubscription(consumer, 'Billing', { topic: fanOut.topic, consumer: inlineFunction(consumer) });
      app.synth();
      template(consumer).hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        TopicArn: { 'Fn::ImportValue': Match.anyValue() },
      });
      template(producer).resourceCountIs('AWS::SNS::Subscription', 0);
    });
  });

  describe('Lambda subscriptions', () => {
    it('subscribes the function, lets SNS invoke it for this topic only, with a subscription DLQ and its alarm', () => {
      const stack = newStack();
      const fn = inlineFunction(stack, 'Notifier');
      const sub = new FanOut(stack, 'Orders').addLambdaSubscription('Notify', fn, {
        filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['order'] }) },
      });
      const t = template(stack);
      t.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Notifier'), 'Arn'] },
        FilterPolicy: { type: ['order'] },
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSubscriptionsNotifySubscriptionDeadLetterQueue'), 'Arn'] },
        },
      });
      t.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: { Ref: Match.stringLikeRegexp('^Orders') },
      });
      t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
      expect(sub.alarms.map((a) => a.node.id)).toEqual(['SubscriptionDeadLetterQueueNotEmpty']);
      expect(sub.fn).toBe(fn);
      expect(sub.metricSubscriptionDeadLetterMessages()?.metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(sub.grantConsumeSubscriptionDeadLetters(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() })).success).toBe(
        true,
      );
    });

    it('subscribes one function twice with different filters', () => {
      const stack = newStack();
      const fn = inlineFunction(stack, 'Notifier');
      const fanOut = new FanOut(stack, 'Orders');
      fanOut.addLambdaSubscription('Orders', fn, { filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['order'] }) } });
      fanOut.addLambdaSubscription('Refunds', fn, {
        filterPolicyWithMessageBody: { kind: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['refund'] })) },
      });
      template(stack).resourceCountIs('AWS::SNS::Subscription', 2);
      template(stack).resourceCountIs('AWS::Lambda::Permission', 2);
      template(stack).hasResourceProperties('AWS::SNS::Subscription', { FilterPolicyScope: 'MessageBody' });
    });

    it('puts the subscription with a function of another stack, so the stacks do not depend on each other both ways', () => {
      const app = new App();
      const producer = new Stack(app, 'Producer');
      const consumer = new Stack(app, 'Consumer');
      new FanOut(producer, 'Orders').addLambdaSubscription('Notify', inlineFunction(consumer, 'Notifier'));
      expect(() => app.synth()).not.toThrow();
      template(consumer).resourceCountIs('AWS::SNS::Subscription', 1);
      template(producer).resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('can go without a subscription DLQ', () => {
      const stack = newStack();
      const sub = new FanOut(stack, 'Orders').addLambdaSubscription('Notify', inlineFunction(stack), {
        deploySubscriptionDeadLetterQueue: false,
      });
      template(stack).resourceCountIs('AWS::SQS::Queue', 0);
      expect(sub.alarms).toEqual([]);
    });

    it('fails on a FIFO topic, and with the filter checks', () => {
      const stack = newStack();
      const fn = inlineFunction(stack);
      expect(codesOf(() => new FanOut(stack, 'Ledger', { fifo: true }).addLambdaSubscription('L', fn))).toEqual(['fn:unsupported']);
      const fanOut = new FanOut(stack, 'Orders');
      expect(codesOf(() => fanOut.addLambdaSubscription('L', fn, { filterPolicy: {} }))).toEqual(['filterPolicy:range']);
      expect(codesOf(() => fanOut.addLambdaSubscription('M', fn, { alarms: { overrides: { DeadLetterQueueNotEmpty: {} } } }))).toEqual([
        'alarms.overrides:unknown',
      ]);
    });
  });

  describe('cdk-nag', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        const orders = new FanOut(stack, 'Orders');
        orders.addQueueSubscription('Billing', {
          consumer,
          filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['order'] }) },
        });
        orders.addQueueSubscription('Audit', {
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
          rawMessageDelivery: false,
        });
        orders.addLambdaSubscription('Notify', consumer);
        const ledger = new FanOut(stack, 'Ledger', { fifo: true });
        ledger.addQueueSubscription('Projector', { consumer });
        orders.connectPublisher(inlineFunction(stack, 'Publisher'));
      });
      expect(findings.filter((f) => /\/(Orders|Ledger)\//.test(f.path))).toEqual([]);
    });

    it('leaves the redrive-policy finding on a subscription whose DLQ was turned off', () => {
      const findings = nagErrors((app: App) => {
        new FanOut(new Stack(app, 'Gate'), 'Orders').addQueueSubscription('Billing', { deploySubscriptionDeadLetterQueue: false });
      });
      expect(findings.filter((f) => /\/Orders\//.test(f.path)).map((f) => f.ruleId)).toEqual(['Serverless-SNSRedrivePolicy']);
    });
  });
});
