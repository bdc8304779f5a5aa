import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DelayQueue, type DelayQueueProps, MessagingPatternsError, WorkQueue } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

/** The resolved producer config with every token replaced by a placeholder naming its target. */
function producerConfigOf(stack: Stack, dq: DelayQueue): Record<string, unknown> {
  const resolved = stack.resolve(dq.producerConfig) as { 'Fn::Join': [string, unknown[]] };
  const text = resolved['Fn::Join'][1]
    .map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p).match(/"([A-Za-z0-9]+?)[0-9A-F]{8}"/)?.[1] ?? 'token'}>`))
    .join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('DelayQueue', () => {
  describe('defaults', () => {
    let stack: Stack;
    let dq: DelayQueue;
    beforeEach(() => {
      stack = newStack();
      dq = new DelayQueue(stack, 'Reminders');
    });

    it('creates the queue with SSE-SQS, a DLQ at maxReceiveCount 5, and no queue-level delay', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemindersDeadLetterQueue'), 'Arn'] },
          maxReceiveCount: 5,
        },
        DelaySeconds: Match.absent(),
      });
      expect(dq.queueDelay.toSeconds()).toBe(0);
      expect(dq.maxReceiveCount).toBe(5);
    });

    it('creates a schedule dead-letter queue: encrypted, 14-day retention, TLS only', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::SQS::Queue', 3);
      const [id, dlq] = Object.entries(t.findResources('AWS::SQS::Queue')).find(([k]) => k.startsWith('RemindersScheduleDeadLetterQueue'))!;
      expect(dlq.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
      const policy = Object.values(t.findResources('AWS::SQS::QueuePolicy')).find((p) => JSON.stringify(p.Properties.Queues).includes(id))!;
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      t.resourceCountIs('AWS::SQS::QueuePolicy', 3);
    });

    it('creates a schedule group with a generated name that is destroyed with the stack', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: Match.stringLikeRegexp('Reminders') });
      t.hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Delete' });
    });

    it('creates the scheduler role, assumable only by Scheduler for schedules of this group in this account', () => {
      // Scheduler sets aws:SourceArn to the schedule GROUP's ARN (AWS: "Confused deputy prevention
      // in EventBridge Scheduler"): a condition on schedule ARNs would never match.
      template(stack).hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                  'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemindersScheduleGroup'), 'Arn'] },
                },
              },
            },
          ],
        },
      });
    });

    it("scopes the scheduler role's trust to the schedule group ARN, never to schedule ARNs or a prefix", () => {
      const role = Object.values(template(stack).findResources('AWS::IAM::Role')).find((r) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      )!;
      const [statement] = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(Object.keys(statement.Condition)).toEqual(['StringEquals']);
      const text = JSON.stringify(statement.Condition);
      expect(text).not.toMatch(/:schedule\/|\*/);
      const groupId = Object.keys(template(stack).findResources('AWS::Scheduler::ScheduleGroup'))[0];
      expect(statement.Condition.StringEquals['aws:SourceArn']).toEqual({ 'Fn::GetAtt': [groupId, 'Arn'] });
    });

    it('lets the scheduler role send to the queue and to the schedule DLQ, and nothing else', () => {
      const t = template(stack);
      const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Roles).includes('RemindersSchedulerRole'),
      )!;
      const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string; Resource: { 'Fn::GetAtt': string[] } }>;
      expect(statements).toHaveLength(2);
      for (const s of statements) expect(s.Action).toBe('sqs:SendMessage');
      expect(statements.map((s) => s.Resource['Fn::GetAtt'][0]).sort()).toEqual([
        expect.stringMatching(/^RemindersQueue/),
        expect.stringMatching(/^RemindersScheduleDeadLetterQueue/),
      ]);
    });

    it('alarms on both DLQs, the oldest message, and messages Scheduler could not even dead-letter', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemindersScheduleDeadLetterQueue'), 'QueueName'] } },
        ],
        Threshold: 1,
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Scheduler',
        MetricName: 'InvocationsFailedToBeSentToDeadLetterCount',
        Dimensions: [{ Name: 'ScheduleGroup', Value: Match.anyValue() }],
        Statistic: 'Sum',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(dq.alarms.map((a) => a.node.id).sort()).toEqual([
        'DeadLetterQueueNotEmpty',
        'OldestMessageTooOld',
        'ScheduleDeadLetterQueueNotEmpty',
        'ScheduleMessagesLost',
      ]);
    });

    it('exposes the producer configuration with the AWS retry defaults', () => {
      expect(producerConfigOf(stack, dq)).toEqual({
        queueUrl: '<RemindersQueue>',
        queueArn: '<RemindersQueue>',
        scheduleGroupName: dq.scheduleGroup.scheduleGroupName,
        schedulerRoleArn: '<RemindersSchedulerRole>',
        deadLetterQueueArn: '<RemindersScheduleDeadLetterQueue>',
        retryAttempts: 185,
        maxEventAgeSeconds: 86400,
        queueDelaySeconds: 0,
      });
    });

    it('adds no warnings and exposes metrics', () => {
      expect(warnings(stack)).toEqual([]);
      expect(dq.metricDelayedMessages().metricName).toBe('ApproximateNumberOfMessagesDelayed');
      expect(dq.metricVisibleMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(dq.metricOldestMessageAge().metricName).toBe('ApproximateAgeOfOldestMessage');
      expect(dq.metricScheduleAttempts().metricName).toBe('InvocationAttemptCount');
      expect(dq.metricScheduleDeadLetters().metricName).toBe('InvocationsSentToDeadLetterCount');
    });
  });

  describe('grants', () => {
    it('grantSend: send to the queue; create/get/delete schedules of the group only and pass the scheduler role to Scheduler only, through one producer policy', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders');
      const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const other = new iam.Role(stack, 'Other', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      dq.grantSend(role);
      dq.grantSend(other);
      const t = template(stack);
      const own = Object.values(t.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.Roles).includes('Producer'))!;
      expect(own.Properties.PolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RemindersQueue/), 'Arn'] },
        },
      ]);
      t.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
      const managed = Object.values(t.findResources('AWS::IAM::ManagedPolicy'))[0].Properties;
      expect(managed.Roles).toEqual([{ Ref: expect.stringMatching(/^Producer/) }, { Ref: expect.stringMatching(/^Other/) }]);
      const [schedules, passRole] = managed.PolicyDocument.Statement;
      expect(schedules.Action).toEqual(['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule']);
      expect(JSON.stringify(schedules.Resource)).toContain(`:schedule/${dq.scheduleGroup.scheduleGroupName}/*`);
      expect(passRole).toEqual({
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RemindersSchedulerRole/), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      });
    });

    it('grantSend attaches the producer policy to an imported role too', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders');
      dq.grantSend(iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::111122223333:role/producer'));
      template(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', { Roles: ['producer'] });
    });

    it('grantSend adds the schedule statements to a principal that is not a role (an IAM user)', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders');
      dq.grantSend(new iam.User(stack, 'Operator'));
      const t = template(stack);
      t.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
      const own = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Users ?? []).includes('Operator'),
      )!;
      const actions = (own.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((s) => [s.Action].flat());
      expect(actions).toEqual(
        expect.arrayContaining(['sqs:SendMessage', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole']),
      );
    });

    it('grantSend gives a producer only kms:GenerateDataKey and kms:Decrypt on the key', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders', { encryptionKey: new kms.Key(stack, 'Key') });
      const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      dq.grantSend(role);
      const own = Object.values(template(stack).findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Roles).includes('Producer'),
      )!;
      expect(own.Properties.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      });
    });

    it('connectProducer grants and sets DELAY_QUEUE_CONFIG (or a given variable)', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders');
      const fn = inlineFunction(stack, 'Producer');
      dq.connectProducer(fn);
      dq.connectProducer(fn, { environmentVariable: 'REMINDERS' });
      const vars = Object.values(template(stack).findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
      expect(Object.keys(vars).sort()).toEqual(['DELAY_QUEUE_CONFIG', 'REMINDERS']);
      expect(JSON.stringify(vars.DELAY_QUEUE_CONFIG)).toMatch(/schedulerRoleArn/);
      template(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^ProducerServiceRole') }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'iam:PassRole' })]) },
      });
    });

    it('grantConsumeDeadLetters covers both dead-letter queues', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders');
      const grant = dq.grantConsumeDeadLetters(new iam.Role(stack, 'Ops', { assumedBy: new iam.AccountRootPrincipal() }));
      expect(grant.success).toBe(true);
      expect(grant.principalStatements).toHaveLength(2);
    });
  });

  describe('options', () => {
    it('uses queueProps.deliveryDelay as the queue default and tells the producer to fire schedules that much earlier', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders', { queueProps: { deliveryDelay: Duration.minutes(2) } });
      template(stack).hasResourceProperties('AWS::SQS::Queue', { DelaySeconds: 120 });
      expect(dq.queueDelay.toSeconds()).toBe(120);
      expect(producerConfigOf(stack, dq).queueDelaySeconds).toBe(120);
    });

    it("delivers into an existing queue (a WorkQueue's), reading its delay and DLQ, and grants the scheduler role on it", () => {
      const stack = newStack();
      const work = new WorkQueue(stack, 'Work', { consumer: inlineFunction(stack), queueProps: { deliveryDelay: Duration.seconds(30) } });
      const dq = new DelayQueue(stack, 'Later', { existingQueue: work.queue });
      expect(dq.queue).toBe(work.queue);
      expect(dq.deadLetterQueue).toBe(work.deadLetterQueue);
      expect(dq.queueDelay.toSeconds()).toBe(30);
      const t = template(stack);
      t.resourceCountIs('AWS::SQS::Queue', 3); // the work queue, its DLQ, the schedule DLQ
      const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Roles).includes('LaterSchedulerRole'),
      )!;
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toMatch(/WorkQueue/);
      expect(warnings(stack)).toEqual([]);
      // The work queue alarms on its own queues: the delay queue adds only its schedule alarms, so one
      // dead letter does not page twice.
      expect(dq.alarms.map((a) => a.node.id).sort()).toEqual(['ScheduleDeadLetterQueueNotEmpty', 'ScheduleMessagesLost']);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    });

    it("encrypts the schedule DLQ with the queue's key and lets the scheduler role use it", () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      new DelayQueue(stack, 'Reminders', { encryptionKey: key });
      const t = template(stack);
      for (const q of Object.values(t.findResources('AWS::SQS::Queue'))) {
        expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
      }
      const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Roles).includes('RemindersSchedulerRole'),
      )!;
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      });
    });

    it('takes a schedule group name, retry policy and removal policy', () => {
      const stack = newStack();
      const dq = new DelayQueue(stack, 'Reminders', {
        scheduleGroupName: 'reminders',
        scheduleRetryAttempts: 3,
        scheduleMaxEventAge: Duration.hours(1),
        scheduleGroupRemovalPolicy: RemovalPolicy.RETAIN,
      });
      template(stack).hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'reminders' });
      template(stack).hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Retain' });
      expect(producerConfigOf(stack, dq)).toMatchObject({ scheduleGroupName: 'reminders', retryAttempts: 3, maxEventAgeSeconds: 3600 });
    });

    it('wires every alarm, the lost-message alarm too, to the alarm topic', () => {
      const stack = newStack();
      const topic = new sns.Topic(stack, 'Alarms');
      new DelayQueue(stack, 'Reminders', { alarms: { alarmTopic: topic } });
      const alarms = Object.values(template(stack).findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(4);
      for (const a of alarms) {
        expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
        expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      }
    });
  });

  describe('validation', () => {
    const build = (props: DelayQueueProps) => {
      const stack = newStack();
      return () => new DelayQueue(stack, 'Reminders', props);
    };

    it('fails if the queue is FIFO', () => {
      expect(build({ queueProps: { fifo: true } })).toThrow(
        /a delay queue must be a standard queue: FIFO queues support no per-message delay.*\(given a FIFO queueProps\)/,
      );
      const stack = newStack();
      const fifo = new sqs.Queue(stack, 'Fifo', { fifo: true });
      expect(() => new DelayQueue(stack, 'Reminders', { existingQueue: fifo })).toThrow(/\(given a FIFO existingQueue\)/);
    });

    it('fails if the queue delay is above 15 minutes', () => {
      expect(build({ queueProps: { deliveryDelay: Duration.minutes(16) } })).toThrow(
        /queueProps.deliveryDelay must be between 0 seconds and 900 seconds \(given 960 seconds\)/,
      );
    });

    it.each([-1, 186, 1.5])('fails if scheduleRetryAttempts is %p', (n) => {
      expect(build({ scheduleRetryAttempts: n })).toThrow(
        new RegExp(`scheduleRetryAttempts must be an integer between 0 and 185 \\(given ${n}\\)`),
      );
    });

    it.each([
      ['30 seconds', Duration.seconds(30)],
      ['25 hours', Duration.hours(25)],
    ])('fails if scheduleMaxEventAge is %s', (_label, age) => {
      expect(build({ scheduleMaxEventAge: age })).toThrow(
        new RegExp(`scheduleMaxEventAge must be between 60 seconds and 86400 seconds \\(given ${age.toSeconds()} seconds\\)`),
      );
    });

    it('fails if the schedule group name is not valid', () => {
      expect(build({ scheduleGroupName: 'my group' })).toThrow(
        /scheduleGroupName must be 1 to 64 letters, digits, hyphens, underscores and dots \(given 'my group'\)/,
      );
    });

    it('reports conflicting queue inputs together', () => {
      const stack = newStack();
      let error: unknown;
      try {
        new DelayQueue(stack, 'Reminders', {
          existingQueue: new sqs.Queue(stack, 'Q'),
          queueProps: {},
          maxReceiveCount: 3,
          scheduleRetryAttempts: 500,
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/provide only one of existingQueue, queueProps/),
          expect.stringMatching(/maxReceiveCount cannot be used with existingQueue/),
          expect.stringMatching(/scheduleRetryAttempts must be an integer between 0 and 185 \(given 500\)/),
        ]),
      );
    });

    it('fails if queueProps turns encryption off', () => {
      expect(build({ queueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } })).toThrow(
        /queueProps.encryption must not be UNENCRYPTED/,
      );
    });

    it('fails if the age alarm would fire after messages expire', () => {
      expect(
        build({ queueProps: { retentionPeriod: Duration.hours(2) }, alarms: { overrides: { OldestMessageTooOld: { threshold: 10800 } } } }),
      ).toThrow(/alarms.overrides.OldestMessageTooOld.threshold must be below the queue's retention period/);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates (and on a producer it grants)', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const dq = new DelayQueue(stack, 'Reminders');
        const keyed = new DelayQueue(stack, 'Keyed', { encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
        const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
        dq.grantSend(producer);
        keyed.grantSend(producer);
        // An env-bound stack renders region and account as literals in the finding ids.
        const bound = new Stack(app, 'Bound', { env: { account: '111122223333', region: 'eu-west-1' } });
        new DelayQueue(bound, 'Reminders').grantSend(
          new iam.Role(bound, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
        );
      });
      const kitFindings = findings.filter((f) => /\/(Reminders|Keyed|Producer)\//.test(f.path));
      expect(kitFindings).toEqual([]);
    });

    it('acknowledges exactly the schedule-group wildcard of the producer policy, nothing broader', () => {
      const acknowledged = (stack: Stack, dq: DelayQueue) => {
        dq.grantSend(new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
        return dq.producerPolicy.node.metadata
          .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
          .flatMap((m) => Object.keys(m.data as Record<string, string>).map((k) => k.replace(/^annotation::/i, '')));
      };
      const agnostic = newStack();
      const a = new DelayQueue(agnostic, 'Reminders');
      expect(acknowledged(agnostic, a)).toEqual([
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${a.scheduleGroup.scheduleGroupName}/*]`,
      ]);
      const bound = new Stack(new App(), 'Bound', { env: { account: '111122223333', region: 'eu-west-1' } });
      const b = new DelayQueue(bound, 'Reminders');
      expect(acknowledged(bound, b)).toEqual([
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:eu-west-1:111122223333:schedule/${b.scheduleGroup.scheduleGroupName}/*]`,
      ]);
    });

    it('the gate catches the same wildcard on a policy the kit did not acknowledge', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const dq = new DelayQueue(stack, 'Reminders');
        const role = new iam.Role(stack, 'Mine', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
        role.addToPolicy(
          new iam.PolicyStatement({
            actions: ['scheduler:CreateSchedule'],
            resources: [`arn:aws:scheduler:eu-west-1:111122223333:schedule/${dq.scheduleGroup.scheduleGroupName}/*`],
          }),
        );
      });
      expect(findings.map((f) => f.ruleId)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:scheduler:.*\/\*\]$/)]),
      );
    });
  });
});
