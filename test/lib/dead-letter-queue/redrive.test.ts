import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DeadLetterQueueRedrive, MessagingPatternsError, WorkQueue } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

/** The statements of every IAM policy in the stack. */
function statements(stack: Stack): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  return Object.values(template(stack).findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('DeadLetterQueueRedrive', () => {
  describe('with a WorkQueue (one line)', () => {
    let stack: Stack;
    let wq: WorkQueue;
    let redrive: DeadLetterQueueRedrive;
    beforeEach(() => {
      stack = newStack();
      wq = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack) });
      redrive = new DeadLetterQueueRedrive(stack, 'OrdersRedrive', { sourceQueue: wq.queue });
    });

    it('finds the dead-letter queue of the source queue', () => {
      expect(redrive.deadLetterQueue).toBe(wq.deadLetterQueue);
    });

    it('creates the kit redrive function with the dead-letter queue ARN and no destination', () => {
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: 30,
        Environment: {
          Variables: {
            DEAD_LETTER_QUEUE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersDeadLetterQueue'), 'Arn'] },
            DESTINATION_QUEUE_ARN: Match.absent(),
            MAX_MESSAGES_PER_SECOND: Match.absent(),
          },
        },
      });
    });

    it('grants the move-task actions and consume rights on the DLQ, and send on the source queue only', () => {
      const all = statements(stack);
      const onDlq = all.filter((s) => JSON.stringify(s.Resource).includes('OrdersDeadLetterQueue'));
      expect(onDlq.flatMap(actionsOf)).toEqual(
        expect.arrayContaining([
          'sqs:StartMessageMoveTask',
          'sqs:ListMessageMoveTasks',
          'sqs:CancelMessageMoveTask',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
        ]),
      );
      const sends = all.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      expect(sends).toHaveLength(1);
      expect(sends[0].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^OrdersQueue/), 'Arn'] });
      // "*" only for X-Ray, which has no resource-level permissions.
      expect(
        all
          .filter((s) => s.Resource === '*')
          .flatMap(actionsOf)
          .every((a) => a.startsWith('xray:')),
      ).toBe(true);
    });

    it('creates no schedule by default', () => {
      template(stack).resourceCountIs('AWS::Events::Rule', 0);
      expect(redrive.rule).toBeUndefined();
      // Nor the schedule's dead-letter queue and alarm.
      expect(redrive.scheduleDeadLetterQueue).toBeUndefined();
      expect(redrive.alarms).toEqual([]);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes grantInvoke and metricErrors', () => {
      const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      redrive.grantInvoke(role);
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunction' })]) },
        Roles: [{ Ref: Match.stringLikeRegexp('Operator') }],
      });
      expect(redrive.metricErrors().metricName).toBe('Errors');
    });
  });

  it('runs on a schedule with a start payload, and passes the rate', () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack) });
    const redrive = new DeadLetterQueueRedrive(stack, 'Redrive', {
      sourceQueue: wq.queue,
      schedule: events.Schedule.rate(Duration.hours(6)),
      maxMessagesPerSecond: 20,
    });
    template(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [
        Match.objectLike({
          Input: JSON.stringify({ action: 'start', trigger: 'schedule' }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    template(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_MESSAGES_PER_SECOND: '20' }) },
    });
    expect(redrive.rule).toBeDefined();
  });

  it("gives the schedule's target a dead-letter queue (SSE-SQS, 14 days, EventBridge may send) with an alarm", () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack) });
    const redrive = new DeadLetterQueueRedrive(stack, 'Redrive', {
      sourceQueue: wq.queue,
      schedule: events.Schedule.rate(Duration.hours(6)),
    });
    const dlq = redrive.scheduleDeadLetterQueue!;
    const t = template(stack);
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: stack.resolve(dlq.queueArn) } })],
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(dlq.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
      RedrivePolicy: Match.absent(),
    });
    expect(redrive.alarms.map((a) => a.node.id)).toEqual(['ScheduleDeadLetterQueueNotEmpty']);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(dlq.queueName) }],
      Threshold: 1,
    });
  });

  it("turns the schedule's alarm off with alarms.overrides, and rejects unknown ids", () => {
    const stack = newStack();
    const wq = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack) });
    const quiet = new DeadLetterQueueRedrive(stack, 'Redrive', {
      sourceQueue: wq.queue,
      schedule: events.Schedule.rate(Duration.hours(6)),
      alarms: { overrides: { ScheduleDeadLetterQueueNotEmpty: { enabled: false } } },
    });
    expect(quiet.alarms).toEqual([]);
    expect(
      () => new DeadLetterQueueRedrive(stack, 'Other', { sourceQueue: wq.queue, alarms: { overrides: { DeadLetterQueueNotEmpty: {} } } }),
    ).toThrow(/given 'DeadLetterQueueNotEmpty'; its alarms: ScheduleDeadLetterQueueNotEmpty/);
  });

  it('moves to a custom destination, granting send there', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    const source = new sqs.Queue(stack, 'Source', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
    const dest = new sqs.Queue(stack, 'Retry');
    new DeadLetterQueueRedrive(stack, 'Redrive', { deadLetterQueue: dlq, destinationQueue: dest });
    template(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DESTINATION_QUEUE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Retry'), 'Arn'] } }) },
    });
    const sends = statements(stack).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(sends.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^Retry/), 'Arn'] }]);
    expect(source.deadLetterQueue?.queue).toBe(dlq);
  });

  it('covers the KMS keys of encrypted queues', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const wq = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack), encryptionKey: key });
    new DeadLetterQueueRedrive(stack, 'Redrive', { sourceQueue: wq.queue });
    const kmsActions = statements(stack)
      .filter((s) => JSON.stringify(s.Resource).includes('Key'))
      .flatMap(actionsOf);
    expect(kmsActions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  it('grantSendTo lets it return messages to another source of a shared DLQ', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    const a = new sqs.Queue(stack, 'A', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
    const b = new sqs.Queue(stack, 'B', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
    const redrive = new DeadLetterQueueRedrive(stack, 'Redrive', { sourceQueue: a });
    redrive.grantSendTo(b);
    const sends = statements(stack).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(sends.map((s) => JSON.stringify(s.Resource)).sort()).toEqual([
      expect.stringMatching(/"A[0-9A-F]+"/),
      expect.stringMatching(/"B[0-9A-F]+"/),
    ]);
  });

  it('warns when an sqs.Queue source has no dead-letter queue', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'Dlq');
    const source = new sqs.Queue(stack, 'Source');
    new DeadLetterQueueRedrive(stack, 'Redrive', { sourceQueue: source, deadLetterQueue: dlq });
    expect(warnings(stack)).toEqual([expect.stringMatching(/has no dead-letter queue the kit can see/)]);
  });

  describe('validation', () => {
    const build = (f: (stack: Stack) => ConstructorParameters<typeof DeadLetterQueueRedrive>[2]) => () => {
      const stack = newStack();
      new DeadLetterQueueRedrive(stack, 'Redrive', f(stack));
    };

    it('fails if neither a dead-letter queue nor a source with one is given', () => {
      expect(build(() => ({}))).toThrow(/deadLetterQueue is required, or a sourceQueue created with a deadLetterQueue \(given neither\)/);
    });

    it('fails if the source queue has no DLQ and none is given', () => {
      expect(build((s) => ({ sourceQueue: new sqs.Queue(s, 'Plain') }))).toThrow(
        /deadLetterQueue is required: sourceQueue TestStack\/Plain has no dead-letter queue/,
      );
    });

    it('fails if there is nowhere to send the messages', () => {
      expect(build((s) => ({ deadLetterQueue: new sqs.Queue(s, 'Dlq') }))).toThrow(
        /provide sourceQueue .* or destinationQueue .* \(given neither\)/,
      );
    });

    it('fails if both sourceQueue and destinationQueue are given', () => {
      expect(
        build((s) => {
          const dlq = new sqs.Queue(s, 'Dlq');
          return {
            sourceQueue: new sqs.Queue(s, 'Src', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } }),
            destinationQueue: new sqs.Queue(s, 'Dst'),
          };
        }),
      ).toThrow(/provide only one of sourceQueue, destinationQueue \(given sourceQueue and destinationQueue\)/);
    });

    it("fails if deadLetterQueue is not the source queue's DLQ", () => {
      expect(
        build((s) => {
          const dlq = new sqs.Queue(s, 'Dlq');
          return {
            sourceQueue: new sqs.Queue(s, 'Src', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } }),
            deadLetterQueue: new sqs.Queue(s, 'Other'),
          };
        }),
      ).toThrow(
        /deadLetterQueue must be the dead-letter queue of sourceQueue \(given TestStack\/Other, but TestStack\/Src dead-letters to TestStack\/Dlq\)/,
      );
    });

    it('fails if the destination is of the other queue type', () => {
      expect(
        build((s) => ({ deadLetterQueue: new sqs.Queue(s, 'Dlq', { fifo: true }), destinationQueue: new sqs.Queue(s, 'Dst') })),
      ).toThrow(/destinationQueue must be of the dead-letter queue's type.* \(given a standard queue for a FIFO dead-letter queue\)/);
    });

    it('fails if the destination is the dead-letter queue itself', () => {
      expect(
        build((s) => {
          const dlq = new sqs.Queue(s, 'Dlq');
          return { deadLetterQueue: dlq, destinationQueue: dlq };
        }),
      ).toThrow(/destinationQueue must not be the dead-letter queue itself \(given TestStack\/Dlq\)/);
    });

    it.each([0, 501, 2.5])('fails if maxMessagesPerSecond is %p', (n) => {
      expect(
        build((s) => ({ deadLetterQueue: new sqs.Queue(s, 'Dlq'), destinationQueue: new sqs.Queue(s, 'Dst'), maxMessagesPerSecond: n })),
      ).toThrow(new RegExp(`maxMessagesPerSecond must be an integer between 1 and 500 \\(given ${n}\\)`));
    });

    it('reports every problem together, with the kit error type', () => {
      let error: unknown;
      try {
        build((s) => {
          const dlq = new sqs.Queue(s, 'Dlq');
          return {
            sourceQueue: new sqs.Queue(s, 'Src', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } }),
            destinationQueue: new sqs.Queue(s, 'Dst'),
            maxMessagesPerSecond: 0,
          };
        })();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).problems).toEqual([
        expect.stringMatching(/provide only one of sourceQueue, destinationQueue/),
        expect.stringMatching(/maxMessagesPerSecond must be an integer between 1 and 500 \(given 0\)/),
      ]);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        const orders = new WorkQueue(stack, 'Orders', { consumer });
        new DeadLetterQueueRedrive(stack, 'OrdersRedrive', {
          sourceQueue: orders.queue,
          schedule: events.Schedule.rate(Duration.hours(1)),
        });
        const jobs = new WorkQueue(stack, 'Jobs', {
          consumer,
          fifo: true,
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
        });
        new DeadLetterQueueRedrive(stack, 'JobsRedrive', { sourceQueue: jobs.queue, maxMessagesPerSecond: 10 });
      });
      const kitFindings = findings.filter((f) => /\/(OrdersRedrive|JobsRedrive)\//.test(f.path));
      expect(kitFindings).toEqual([]);
    });
  });
});
