import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MessagingPatternsError, SequentialConvoy, type SequentialConvoyProps } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

describe('SequentialConvoy', () => {
  describe('defaults', () => {
    let stack: Stack;
    let convoy: SequentialConvoy;
    beforeEach(() => {
      stack = newStack();
      convoy = new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack, 'Consumer', Duration.seconds(10)) });
    });

    it('creates a FIFO queue with content-based deduplication, SSE-SQS, visibility 6 x the consumer timeout and a FIFO DLQ at 5 receives', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        ContentBasedDeduplication: true,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 60,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
      });
      expect(convoy.visibilityTimeout?.toSeconds()).toBe(60);
      expect(convoy.maxReceiveCount).toBe(5);
      expect(convoy.queue.fifo).toBe(true);
      expect(convoy.deadLetterQueue?.fifo).toBe(true);
    });

    it('gives the FIFO DLQ 14-day retention, encryption, and no redrive of its own', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
        RedrivePolicy: Match.absent(),
      });
      template(stack).resourceCountIs('AWS::SQS::Queue', 2);
    });

    it('leaves high-throughput mode off (per-queue deduplication and throughput)', () => {
      const queues = Object.values(template(stack).findResources('AWS::SQS::Queue'));
      for (const q of queues) {
        expect(q.Properties.DeduplicationScope).toBeUndefined();
        expect(q.Properties.FifoThroughputLimit).toBeUndefined();
      }
    });

    it('denies requests without TLS on both queues', () => {
      const policies = Object.values(template(stack).findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(2);
      for (const p of policies) {
        expect(p.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('maps the queue to the consumer with partial batch responses, batch size 10 and no batching window', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('Consumer') },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: Match.absent(),
      });
      expect(convoy.eventSourceMapping).toBe(convoy.workQueue.eventSourceMapping);
    });

    it('alarms on the DLQ and on the age of the oldest event (a stuck group)', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 3600 });
      expect(convoy.alarms).toHaveLength(2);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes metrics with the Maximum statistic', () => {
      expect(convoy.metricVisibleMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(convoy.metricInFlightMessages().metricName).toBe('ApproximateNumberOfMessagesNotVisible');
      expect(convoy.metricOldestMessageAge().metricName).toBe('ApproximateAgeOfOldestMessage');
      expect(convoy.metricDeadLetterMessages()?.metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(convoy.metricOldestMessageAge().statistic).toBe('Maximum');
    });
  });

  it('turns on FIFO high-throughput mode on request', () => {
    const stack = newStack();
    new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), highThroughput: true });
    template(stack).hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
  });

  it('can require explicit deduplication ids', () => {
    const stack = newStack();
    new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), contentBasedDeduplication: false });
    template(stack).hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it("keeps the user's queueProps and still makes the queue FIFO", () => {
    const stack = newStack();
    new SequentialConvoy(stack, 'Orders', {
      consumer: inlineFunction(stack),
      queueProps: { queueName: 'orders.fifo', retentionPeriod: Duration.days(7) },
    });
    template(stack).hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'orders.fifo',
      FifoQueue: true,
      MessageRetentionPeriod: 604800,
      ContentBasedDeduplication: true,
    });
  });

  it('sets batch size and maximum concurrency on the mapping', () => {
    const stack = newStack();
    new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), batchSize: 3, maxConcurrency: 20 });
    template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 3, ScalingConfig: { MaximumConcurrency: 20 } });
  });

  it('encrypts both queues with a given key and grants senders the key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const convoy = new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), encryptionKey: key });
    const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    convoy.grantSend(role);
    for (const q of Object.values(template(stack).findResources('AWS::SQS::Queue'))) {
      expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    }
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Producer') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']) }),
          Match.objectLike({ Action: Match.arrayWith(['kms:GenerateDataKey', 'kms:Decrypt']) }),
        ]),
      },
    });
    expect(convoy.encryptionKey).toBe(key);
  });

  it('grants operators the dead-letter queue', () => {
    const stack = newStack();
    const convoy = new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack) });
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    expect(convoy.grantConsumeDeadLetters(role)).toBeDefined();
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Operator') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:ReceiveMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('uses an existing FIFO queue as it is', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'MyDlq', { fifo: true });
    const existing = new sqs.Queue(stack, 'Mine', { fifo: true, deadLetterQueue: { queue: dlq, maxReceiveCount: 9 } });
    const convoy = new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), existingQueue: existing });
    expect(convoy.queue).toBe(existing);
    expect(convoy.deadLetterQueue).toBe(dlq);
    expect(convoy.maxReceiveCount).toBe(9);
    template(stack).resourceCountIs('AWS::SQS::Queue', 2);
  });

  describe('validation', () => {
    const build = (props: Partial<SequentialConvoyProps>, timeout = Duration.seconds(10)) => {
      const stack = newStack();
      return () => new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack, 'Consumer', timeout), ...props });
    };

    it('fails if queueProps makes the queue standard', () => {
      expect(build({ queueProps: { fifo: false } })).toThrow(
        /queueProps.fifo must not be false: a sequential convoy is always a FIFO queue \(given false\)/,
      );
    });

    it('fails if an existing queue is a standard queue', () => {
      const stack = newStack();
      const standard = new sqs.Queue(stack, 'Standard');
      expect(() => new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), existingQueue: standard })).toThrow(
        /existingQueue must be a FIFO queue.*\(given the standard queue TestStack\/Standard\)/,
      );
    });

    it('fails if the two deduplication settings disagree', () => {
      expect(build({ contentBasedDeduplication: true, queueProps: { contentBasedDeduplication: false } })).toThrow(
        /contentBasedDeduplication and queueProps.contentBasedDeduplication disagree \(given true and false\)/,
      );
    });

    it('fails if highThroughput meets a per-queue deduplication scope or throughput limit', () => {
      expect(
        build({
          highThroughput: true,
          queueProps: { deduplicationScope: sqs.DeduplicationScope.QUEUE, fifoThroughputLimit: sqs.FifoThroughputLimit.PER_QUEUE },
        }),
      ).toThrow(
        /highThroughput needs queueProps.deduplicationScope MESSAGE_GROUP \(given queue\)[\s\S]*highThroughput needs queueProps.fifoThroughputLimit PER_MESSAGE_GROUP_ID \(given perQueue\)/,
      );
    });

    it('fails if the dead-letter queue props make it standard', () => {
      expect(build({ deadLetterQueueProps: { fifo: false } })).toThrow(/deadLetterQueueProps.fifo must not be false/);
    });

    it('fails if batchSize is above the FIFO limit of 10', () => {
      expect(build({ batchSize: 11 })).toThrow(/batchSize must be an integer between 1 and 10 for a FIFO queue \(given 11\)/);
    });

    it('fails if batchSize is above 10 with an existing FIFO queue', () => {
      const stack = newStack();
      const existing = new sqs.Queue(stack, 'Mine', { fifo: true });
      expect(
        () => new SequentialConvoy(stack, 'Orders', { consumer: inlineFunction(stack), existingQueue: existing, batchSize: 11 }),
      ).toThrow(/batchSize must be an integer between 1 and 10 for a FIFO queue \(given 11\)/);
    });

    it('fails if the visibility timeout is below 6 x the consumer timeout', () => {
      expect(build({ queueProps: { visibilityTimeout: Duration.seconds(30) } })).toThrow(
        /queueProps.visibilityTimeout must be at least 6 x the consumer timeout \+ maxBatchingWindow = 60 seconds \(given 30 seconds\)/,
      );
    });

    it('fails if a queue name lacks .fifo', () => {
      expect(build({ queueProps: { queueName: 'orders' } })).toThrow(
        /queueProps.queueName must end in '.fifo' for a FIFO queue \(given 'orders'\)/,
      );
    });

    it('fails if an imported consumer has no consumerTimeout', () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:projector');
      expect(() => new SequentialConvoy(stack, 'Orders', { consumer: fn })).toThrow(
        /consumerTimeout is required when consumer is an imported function/,
      );
    });

    it("reports the convoy's and the work queue's problems together, under the convoy's path", () => {
      const stack = newStack();
      const q = new sqs.Queue(stack, 'Q', { fifo: true });
      let error: unknown;
      try {
        new SequentialConvoy(stack, 'Orders', {
          consumer: inlineFunction(stack),
          existingQueue: q,
          queueProps: {},
          highThroughput: true,
          contentBasedDeduplication: false,
          batchSize: 20,
          maxConcurrency: 1,
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).constructPath).toBe('TestStack/Orders');
      expect((error as MessagingPatternsError).problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/contentBasedDeduplication cannot be used with existingQueue/),
          expect.stringMatching(/highThroughput cannot be used with existingQueue/),
          expect.stringMatching(/provide only one of existingQueue, queueProps/),
          expect.stringMatching(/batchSize must be an integer between 1 and 10 for a FIFO queue \(given 20\)/),
          expect.stringMatching(/maxConcurrency must be an integer between 2 and 1000 \(given 1\)/),
        ]),
      );
    });
  });

  it("reports an imported consumer without timeout with the convoy's own problems, once each, before creating anything", () => {
    const stack = newStack();
    const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:projector');
    let error: unknown;
    try {
      new SequentialConvoy(stack, 'Orders', { consumer: fn, queueProps: { fifo: false }, maxConcurrency: 1 });
    } catch (e) {
      error = e;
    }
    expect((error as MessagingPatternsError).constructPath).toBe('TestStack/Orders');
    expect((error as MessagingPatternsError).problems).toEqual([
      'queueProps.fifo must not be false: a sequential convoy is always a FIFO queue (given false)',
      'maxConcurrency must be an integer between 2 and 1000 (given 1)',
      expect.stringMatching(/^consumerTimeout is required when consumer is an imported function/),
    ]);
    expect(stack.node.tryFindChild('Orders')?.node.tryFindChild('WorkQueue')).toBeUndefined();
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        new SequentialConvoy(stack, 'Orders', { consumer });
        new SequentialConvoy(stack, 'Payments', {
          consumer,
          highThroughput: true,
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
        });
      });
      expect(findings.filter((f) => /\/(Orders|Payments)\//.test(f.path))).toEqual([]);
    });
  });
});
