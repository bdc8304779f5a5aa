import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MessagingPatternsError, WorkQueue } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

describe('WorkQueue', () => {
  describe('defaults', () => {
    let stack: Stack;
    let wq: WorkQueue;
    beforeEach(() => {
      stack = newStack();
      wq = new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack, 'Consumer', Duration.seconds(20)) });
    });

    it('creates a standard queue with SSE-SQS, a DLQ at maxReceiveCount 5, and visibility 6 x the consumer timeout', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 120,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TasksDeadLetterQueue'), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
      expect(wq.visibilityTimeout?.toSeconds()).toBe(120);
      expect(wq.maxReceiveCount).toBe(5);
    });

    it('gives the DLQ 14-day retention and the same encryption', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', {
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
        RedrivePolicy: Match.absent(),
      });
    });

    it('creates exactly two queues, no FIFO', () => {
      const queues = template(stack).findResources('AWS::SQS::Queue');
      expect(Object.keys(queues)).toHaveLength(2);
      for (const q of Object.values(queues)) expect(q.Properties.FifoQueue).toBeUndefined();
    });

    it('denies requests without TLS on both queues', () => {
      const policies = template(stack).findResources('AWS::SQS::QueuePolicy');
      expect(Object.keys(policies)).toHaveLength(2);
      for (const p of Object.values(policies)) {
        expect(p.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Principal: { AWS: '*' },
          }),
        );
      }
    });

    it('maps the queue to the consumer with partial batch responses on and batch size 10', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('Consumer') },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TasksQueue'), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        ScalingConfig: Match.absent(),
      });
    });

    it('grants the consumer consume rights, and creates the mapping after the grant', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('TasksQueue'), 'Arn'] },
            }),
          ]),
        },
      });
      const esm = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/ConsumerServiceRoleDefaultPolicy/)]));
    });

    it('creates a DLQ alarm on visible messages >= 1 and an oldest-message alarm at 1 hour', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('TasksDeadLetterQueue'), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Maximum',
        TreatMissingData: 'notBreaching',
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('TasksQueue'), 'QueueName'] } }],
        Threshold: 3600,
      });
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      expect(wq.alarms).toHaveLength(2);
    });

    it('never alarms on NumberOfMessagesSent, which misses redriven messages', () => {
      const alarms = template(stack).findResources('AWS::CloudWatch::Alarm');
      for (const a of Object.values(alarms)) expect(a.Properties.MetricName).not.toBe('NumberOfMessagesSent');
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes metrics', () => {
      expect(wq.metricVisibleMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(wq.metricInFlightMessages().metricName).toBe('ApproximateNumberOfMessagesNotVisible');
      expect(wq.metricOldestMessageAge().metricName).toBe('ApproximateAgeOfOldestMessage');
      expect(wq.metricDeadLetterMessages()?.metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(wq.metricVisibleMessages().statistic).toBe('Maximum');
    });
  });

  it('adds the batching window to the visibility timeout', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack, 'Consumer', Duration.seconds(30)),
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(20),
    });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 200 });
    template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 100, MaximumBatchingWindowInSeconds: 20 });
  });

  it('uses the 3-second Lambda default when the consumer sets no timeout', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack) });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 18 });
  });

  it('keeps a given visibility timeout that is long enough', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack, 'Consumer', Duration.seconds(10)),
      queueProps: { visibilityTimeout: Duration.minutes(5) },
    });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 300 });
  });

  it('sets maxConcurrency on the mapping (competing consumers)', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), maxConcurrency: 50 });
    template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 50 } });
  });

  it('creates a FIFO queue with a FIFO DLQ', () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), fifo: true, batchSize: 5 });
    const queues = Object.values(template(stack).findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.Properties.FifoQueue).toBe(true);
    expect(wq.queue.fifo).toBe(true);
    expect(wq.deadLetterQueue?.fifo).toBe(true);
    template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5 });
  });

  it('accepts fifo through queueProps as well', () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack),
      queueProps: { fifo: true, contentBasedDeduplication: true },
    });
    expect(wq.deadLetterQueue?.fifo).toBe(true);
    template(stack).hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, ContentBasedDeduplication: true });
  });

  it('honours maxReceiveCount and deadLetterQueueProps', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack),
      maxReceiveCount: 8,
      deadLetterQueueProps: { queueName: 'tasks-dlq' },
    });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }) });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { QueueName: 'tasks-dlq', MessageRetentionPeriod: 1209600 });
  });

  it('encrypts both queues with a given customer managed key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const wq = new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), encryptionKey: key });
    const queues = Object.values(template(stack).findResources('AWS::SQS::Queue'));
    for (const q of queues) expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    expect(wq.encryptionKey).toBe(key);
  });

  it('creates a rotating key when queueProps asks for KMS encryption without a key', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), queueProps: { encryption: sqs.QueueEncryption.KMS } });
    template(stack).resourceCountIs('AWS::KMS::Key', 1);
    template(stack).hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('can skip the DLQ (and its alarm) on request', () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), deployDeadLetterQueue: false });
    template(stack).resourceCountIs('AWS::SQS::Queue', 1);
    expect(wq.deadLetterQueue).toBeUndefined();
    expect(wq.alarms.map((a) => a.node.id)).toEqual(['OldestMessageTooOld']);
  });

  it('wires alarms to a topic and to extra actions, for ALARM and OK', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Alarms');
    new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack),
      alarms: { alarmTopic: topic, overrides: { OldestMessageTooOld: { threshold: 600 } } },
    });
    const alarms = Object.values(template(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    }
    template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 600 });
  });

  it('can turn each alarm off', () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack),
      alarms: { overrides: { DeadLetterQueueNotEmpty: { enabled: false }, OldestMessageTooOld: { enabled: false } } },
    });
    template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(wq.alarms).toEqual([]);
  });

  it('configures each alarm: threshold, periods, data points, period and missing data', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Tasks', {
      consumer: inlineFunction(stack),
      alarms: {
        overrides: {
          DeadLetterQueueNotEmpty: {
            threshold: 10,
            evaluationPeriods: 5,
            datapointsToAlarm: 2,
            period: Duration.minutes(5),
            treatMissingData: cloudwatch.TreatMissingData.MISSING,
          },
        },
      },
    });
    template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 10,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 2,
      Period: 300,
      TreatMissingData: 'missing',
      AlarmDescription: Match.stringLikeRegexp('10 or more messages in the dead-letter queue'),
    });
    // The other alarm keeps the kit's settings.
    template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 3600,
      EvaluationPeriods: 3,
    });
  });

  it("adds alarms of your own, wired to the same topic, and lists them with the kit's", () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    const consumer = inlineFunction(stack);
    const wq = new WorkQueue(stack, 'Tasks', { consumer, alarms: { alarmTopic: topic } });
    const own = wq.addAlarm('ConsumerErrors', { metric: consumer.metricErrors(), threshold: 1, evaluationPeriods: 1 });
    expect(own.node.path).toBe('TestStack/Tasks/Alarms/ConsumerErrors');
    expect(wq.alarms).toHaveLength(3);
    template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Ops') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^Ops') }],
    });
  });

  it('grantSend grants sending and only the key actions sending needs', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const wq = new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), encryptionKey: key });
    const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    wq.grantSend(role);
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Producer') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']) }),
          Match.objectLike({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
        ]),
      },
    });
    const actions = Object.values(
      template(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Producer') }] } }),
    ).flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string | string[] }) => st.Action));
    expect(actions.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
  });

  it('uses an existing queue as it is, with its DLQ when the kit can see it', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'MyDlq');
    const existing = new sqs.Queue(stack, 'Mine', { deadLetterQueue: { queue: dlq, maxReceiveCount: 7 } });
    const wq = new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), existingQueue: existing });
    expect(wq.queue).toBe(existing);
    expect(wq.deadLetterQueue).toBe(dlq);
    expect(wq.maxReceiveCount).toBe(7);
    expect(wq.visibilityTimeout).toBeUndefined();
    template(stack).resourceCountIs('AWS::SQS::Queue', 2);
    expect(warnings(stack)).toEqual([]);
  });

  it('validates the mapping for an existing FIFO queue as FIFO', () => {
    const stack = newStack();
    const existing = new sqs.Queue(stack, 'Mine', { fifo: true });
    expect(
      () =>
        new WorkQueue(stack, 'Tasks', {
          consumer: inlineFunction(stack),
          existingQueue: existing,
          batchSize: 20,
          maxBatchingWindow: Duration.seconds(1),
        }),
    ).toThrow(
      /batchSize must be an integer between 1 and 10 for a FIFO queue \(given 20\)[\s\S]*maxBatchingWindow is not supported for a FIFO queue/,
    );
  });

  it('warns when an existing queue has no DLQ the kit can see', () => {
    const stack = newStack();
    const existing = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:111122223333:jobs');
    new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), existingQueue: existing });
    expect(warnings(stack).join('\n')).toMatch(/existingQueue has no dead-letter queue/);
  });

  it('accepts an imported consumer with consumerTimeout', () => {
    const stack = newStack();
    const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:worker');
    new WorkQueue(stack, 'Tasks', { consumer: fn, consumerTimeout: Duration.minutes(1) });
    template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 360 });
    expect(warnings(stack).join('\n')).toMatch(/imported without its role/);
  });

  it('skips checks on token values instead of failing', () => {
    const stack = newStack();
    const fn = inlineFunction(stack);
    expect(() => new WorkQueue(stack, 'Tasks', { consumer: fn, maxReceiveCount: stack.resolve(5) })).not.toThrow();
  });

  describe('validation', () => {
    const build = (props: Partial<ConstructorParameters<typeof WorkQueue>[2]>, timeout = Duration.seconds(10)) => {
      const stack = newStack();
      return () => new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack, 'Consumer', timeout), ...props });
    };

    it('fails if the visibility timeout is below 6 x the consumer timeout, naming both values', () => {
      expect(build({ queueProps: { visibilityTimeout: Duration.seconds(30) } })).toThrow(
        /queueProps.visibilityTimeout must be at least 6 x the consumer timeout \+ maxBatchingWindow = 60 seconds \(given 30 seconds\)/,
      );
    });

    it('fails if the visibility timeout ignores the batching window', () => {
      expect(build({ queueProps: { visibilityTimeout: Duration.seconds(60) }, maxBatchingWindow: Duration.seconds(5) })).toThrow(
        /= 65 seconds \(given 60 seconds\)/,
      );
    });

    it('fails if 6 x the consumer timeout exceeds the SQS limit', () => {
      expect(build({}, Duration.hours(2.5))).toThrow(/54000 seconds exceeds the 43200-second visibility timeout limit/);
    });

    it('fails if a FIFO batch is above 10', () => {
      expect(build({ fifo: true, batchSize: 11 })).toThrow(/batchSize must be an integer between 1 and 10 for a FIFO queue \(given 11\)/);
    });

    it('fails if a FIFO queue has a batching window', () => {
      expect(build({ fifo: true, maxBatchingWindow: Duration.seconds(1) })).toThrow(
        /maxBatchingWindow is not supported for a FIFO queue \(given 1 seconds\)/,
      );
    });

    it('fails if a standard batch is above 10 without a batching window', () => {
      expect(build({ batchSize: 50 })).toThrow(/batchSize above 10 requires a maxBatchingWindow of at least 1 second \(given batchSize 50/);
    });

    it('fails if a standard batch is above 10000', () => {
      expect(build({ batchSize: 10_001, maxBatchingWindow: Duration.seconds(1) })).toThrow(
        /between 1 and 10000 for a standard queue \(given 10001\)/,
      );
    });

    it('fails if the batching window is above 5 minutes', () => {
      expect(build({ maxBatchingWindow: Duration.minutes(6) })).toThrow(
        /maxBatchingWindow must be between 0 seconds and 300 seconds \(given 360 seconds\)/,
      );
    });

    it.each([1, 1001, 2.5])('fails if maxConcurrency is %p', (n) => {
      expect(build({ maxConcurrency: n })).toThrow(new RegExp(`maxConcurrency must be an integer between 2 and 1000 \\(given ${n}\\)`));
    });

    it.each([0, 1001])('fails if maxReceiveCount is %p', (n) => {
      expect(build({ maxReceiveCount: n })).toThrow(new RegExp(`maxReceiveCount must be an integer between 1 and 1000 \\(given ${n}\\)`));
    });

    it('fails if existingQueue and queueProps are both given', () => {
      const stack = newStack();
      const q = new sqs.Queue(stack, 'Q');
      expect(() => new WorkQueue(stack, 'Tasks', { consumer: inlineFunction(stack), existingQueue: q, queueProps: {} })).toThrow(
        /provide only one of existingQueue, queueProps \(given existingQueue and queueProps\)/,
      );
    });

    it('reports every conflicting input together in one error', () => {
      const stack = newStack();
      const q = new sqs.Queue(stack, 'Q');
      let error: unknown;
      try {
        new WorkQueue(stack, 'Tasks', {
          consumer: inlineFunction(stack),
          existingQueue: q,
          queueProps: {},
          maxReceiveCount: 3,
          fifo: true,
          batchSize: 20,
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      const problems = (error as MessagingPatternsError).problems;
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/provide only one of existingQueue, queueProps/),
          expect.stringMatching(/maxReceiveCount cannot be used with existingQueue/),
          expect.stringMatching(/fifo cannot be used with existingQueue/),
          expect.stringMatching(/batchSize must be an integer between 1 and 10 for a FIFO queue \(given 20\)/),
        ]),
      );
      expect((error as Error).message).toMatch(/^\[TestStack\/Tasks\]\n {2}- /);
    });

    it('fails if queueProps turns encryption off', () => {
      expect(build({ queueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } })).toThrow(
        /queueProps.encryption must not be UNENCRYPTED/,
      );
    });

    it('fails if the DLQ turns encryption off', () => {
      expect(build({ deadLetterQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } })).toThrow(
        /deadLetterQueueProps.encryption must not be UNENCRYPTED/,
      );
    });

    it('fails if queueProps turns TLS enforcement off', () => {
      expect(build({ queueProps: { enforceSSL: false } })).toThrow(/queueProps.enforceSSL must not be false/);
    });

    it('fails if fifo and queueProps.fifo disagree', () => {
      expect(build({ fifo: true, queueProps: { fifo: false } })).toThrow(/fifo and queueProps.fifo disagree \(given true and false\)/);
    });

    it('fails if the DLQ props break FIFO parity', () => {
      expect(build({ fifo: true, deadLetterQueueProps: { fifo: false } })).toThrow(
        /a FIFO queue needs a FIFO dead-letter queue \(given false\)/,
      );
    });

    it('fails if a given DLQ breaks FIFO parity', () => {
      const stack = newStack();
      const dlq = new sqs.Queue(stack, 'Dlq');
      expect(
        () =>
          new WorkQueue(stack, 'Tasks', {
            consumer: inlineFunction(stack),
            fifo: true,
            queueProps: { deadLetterQueue: { queue: dlq, maxReceiveCount: 5 } },
          }),
      ).toThrow(/a FIFO queue needs a FIFO dead-letter queue \(given a standard queue\)/);
    });

    it('fails if a FIFO queue name lacks .fifo', () => {
      expect(build({ fifo: true, queueProps: { queueName: 'jobs' } })).toThrow(
        /queueProps.queueName must end in '.fifo' for a FIFO queue \(given 'jobs'\)/,
      );
    });

    it('fails if DLQ props are given with deployDeadLetterQueue false', () => {
      expect(build({ deployDeadLetterQueue: false, maxReceiveCount: 3 })).toThrow(/cannot be used with deployDeadLetterQueue: false/);
    });

    it('fails if an imported consumer has no consumerTimeout', () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:worker');
      expect(() => new WorkQueue(stack, 'Tasks', { consumer: fn })).toThrow(
        /consumerTimeout is required when consumer is an imported function/,
      );
    });

    it('fails if the age alarm would fire after messages expire', () => {
      expect(
        build({ queueProps: { retentionPeriod: Duration.hours(2) }, alarms: { overrides: { OldestMessageTooOld: { threshold: 10800 } } } }),
      ).toThrow(
        /alarms.overrides.OldestMessageTooOld.threshold must be below the queue's retention period.*given 10800 seconds, retention 7200 seconds.*\[alarms.overrides.OldestMessageTooOld.threshold:range\]/,
      );
    });

    it('fails if an alarm override names an alarm the construct does not create, or has bad numbers', () => {
      expect(build({ alarms: { overrides: { DlqNotEmpty: { enabled: false } } } })).toThrow(
        /alarms.overrides names an alarm this construct does not create \(given 'DlqNotEmpty'; its alarms: DeadLetterQueueNotEmpty, OldestMessageTooOld\) \[alarms.overrides:unknown\]/,
      );
      expect(build({ alarms: { overrides: { DeadLetterQueueNotEmpty: { evaluationPeriods: 0, threshold: -1 } } } })).toThrow(
        /evaluationPeriods must be an integer between 1 and 100 \(given 0\)[\s\S]*threshold must be a number of at least 0 \(given -1\)/,
      );
      expect(build({ alarms: { overrides: { DeadLetterQueueNotEmpty: { evaluationPeriods: 2, datapointsToAlarm: 3 } } } })).toThrow(
        /datapointsToAlarm must be an integer between 1 and 2 \(given 3\)/,
      );
    });

    it('fails with the kit error type and the construct path', () => {
      expect(build({ maxConcurrency: 1 })).toThrow(MessagingPatternsError);
      expect(build({ maxConcurrency: 1 })).toThrow(/^\[TestStack\/Tasks\] maxConcurrency/);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        new WorkQueue(stack, 'Tasks', { consumer, fifo: true });
        new WorkQueue(stack, 'Jobs', { consumer, encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
      });
      const kitFindings = findings.filter((f) => /\/(Tasks|Jobs)\//.test(f.path));
      expect(kitFindings).toEqual([]);
    });

    it("leaves cdk-nag's DLQ rules on a dead-letter queue the user gives: it is not the kit's to acknowledge", () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const mine = new sqs.Queue(stack, 'MyDeadLetters', { enforceSSL: true });
        new WorkQueue(stack, 'Tasks', {
          consumer: inlineFunction(stack),
          queueProps: { deadLetterQueue: { queue: mine, maxReceiveCount: 5 } },
        });
      });
      // (AwsSolutions-SQS3 already spares a queue that a redrive policy names.)
      expect(findings.filter((f) => /^Gate\/MyDeadLetters\//.test(f.path)).map((f) => f.ruleId)).toEqual(['Serverless-SQSRedrivePolicy']);
      expect(findings.filter((f) => /\/Tasks\//.test(f.path))).toEqual([]);
    });

    it('the gate catches a real problem (a queue without DLQ or TLS)', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        new sqs.Queue(stack, 'Bare');
      });
      expect(findings.map((f) => f.ruleId)).toEqual(
        expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4', 'Serverless-SQSRedrivePolicy']),
      );
    });
  });
});
