import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MessagingPatternsError, PriorityMode, PriorityQueue, type PriorityQueueProps } from '../../../lib';
import { allocateConcurrency } from '../../../lib/priority-queue/private/concurrency';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

const queueArnOf = (t: ReturnType<typeof template>, logicalIdPart: RegExp) => {
  const ids = Object.keys(t.findResources('AWS::SQS::Queue')).filter((id) => logicalIdPart.test(id));
  expect(ids).toHaveLength(1);
  return { 'Fn::GetAtt': [ids[0], 'Arn'] };
};

describe('PriorityQueue', () => {
  describe('defaults (weighted mode)', () => {
    let stack: Stack;
    let pq: PriorityQueue;
    beforeEach(() => {
      stack = newStack();
      pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack, 'Consumer', Duration.seconds(10)) });
    });

    it('creates levels high, normal, low with normal as the default level', () => {
      expect(pq.levels.map((l) => [l.name, l.rank])).toEqual([
        ['high', 0],
        ['normal', 1],
        ['low', 2],
      ]);
      expect(pq.defaultLevel).toBe('normal');
      expect(pq.mode).toBe(PriorityMode.WEIGHTED);
    });

    it('gives each level a standard queue with SSE-SQS, visibility 6 x the consumer timeout and its own DLQ at maxReceiveCount 5', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::SQS::Queue', 6);
      for (const level of ['high', 'normal', 'low']) {
        t.hasResourceProperties('AWS::SQS::Queue', {
          SqsManagedSseEnabled: true,
          VisibilityTimeout: 60,
          RedrivePolicy: { deadLetterTargetArn: queueArnOf(t, new RegExp(`^Jobs${level}DeadLetterQueue`)), maxReceiveCount: 5 },
        });
      }
      for (const q of Object.values(t.findResources('AWS::SQS::Queue'))) expect(q.Properties.FifoQueue).toBeUndefined();
      expect(pq.visibilityTimeout.toSeconds()).toBe(60);
    });

    it('gives the DLQs 14-day retention and denies requests without TLS on all six queues', () => {
      const t = template(stack);
      expect(Object.values(t.findResources('AWS::SQS::Queue')).filter((q) => q.Properties.MessageRetentionPeriod === 1209600)).toHaveLength(
        3,
      );
      const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(6);
      for (const p of policies) {
        expect(p.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('maps every level to the consumer with partial batch responses and concurrency 11/6/3 of 20', () => {
      const t = template(stack);
      const expected: Record<string, number> = { high: 11, normal: 6, low: 3 };
      for (const [level, concurrency] of Object.entries(expected)) {
        t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: Match.stringLikeRegexp('^Consumer') },
          EventSourceArn: queueArnOf(t, new RegExp(`^Jobs${level}Queue`)),
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          BatchSize: 10,
          ScalingConfig: { MaximumConcurrency: concurrency },
        });
      }
      t.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
      expect(pq.levels.map((l) => l.maxConcurrency)).toEqual([11, 6, 3]);
    });

    it('creates each mapping after the consumer may read the queue', () => {
      const t = template(stack);
      for (const esm of Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))) {
        expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/ConsumerServiceRoleDefaultPolicy/)]));
      }
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
              Resource: queueArnOf(t, /^JobslowQueue/),
            }),
          ]),
        },
      });
    });

    it('alarms on every DLQ and on the oldest message of every level', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
      for (const level of pq.levels) expect(level.alarms).toHaveLength(2);
      expect(pq.alarms).toHaveLength(6);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobslowDeadLetterQueue'), 'QueueName'] } }],
        Threshold: 1,
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobshighQueue'), 'QueueName'] } }],
        Threshold: 3600,
      });
    });

    it('creates no dispatcher, no schedule and adds no warnings', () => {
      expect(pq.dispatcher).toBeUndefined();
      template(stack).resourceCountIs('AWS::Events::Rule', 0);
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes the producer configuration: levels in order with their queue URLs, and the default level', () => {
      const config = JSON.parse(JSON.stringify(stack.resolve(pq.producerConfig)));
      expect(config).toEqual({ 'Fn::Join': ['', expect.any(Array)] });
      const text = config['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '<url>')).join('');
      expect(JSON.parse(text)).toEqual({
        levels: [
          { name: 'high', queueUrl: '<url>' },
          { name: 'normal', queueUrl: '<url>' },
          { name: 'low', queueUrl: '<url>' },
        ],
        defaultLevel: 'normal',
      });
    });

    it('exposes metrics per level', () => {
      expect(pq.metricVisibleMessages('high').metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(pq.metricOldestMessageAge('low').metricName).toBe('ApproximateAgeOfOldestMessage');
      expect(pq.metricOldestMessageAge('low').statistic).toBe('Maximum');
      expect(pq.metricDeadLetterMessages('normal')?.metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(() => pq.metricVisibleMessages('urgent')).toThrow(
        /there is no priority level 'urgent' \(levels: high, normal, low\) \[level:unknown\]/,
      );
    });
  });

  describe('weighted concurrency', () => {
    it('splits maxConcurrency by custom weights', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack), maxConcurrency: 100, weights: [3, 1, 1] });
      expect(pq.levels.map((l) => l.maxConcurrency)).toEqual([60, 20, 20]);
    });

    it('keeps the lowest level at its guaranteed share', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', {
        consumer: inlineFunction(stack),
        maxConcurrency: 100,
        weights: [8, 2, 1],
        lowestLevelShare: 0.25,
      });
      const caps = pq.levels.map((l) => l.maxConcurrency!);
      expect(caps[2]).toBe(25);
      expect(caps[0] + caps[1] + caps[2]).toBe(100);
      expect(caps[0]).toBeGreaterThan(caps[1]);
    });

    it('supports custom levels and picks the middle one as the default', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack), levels: ['p0', 'p1', 'p2', 'p3', 'p4'] });
      expect(pq.defaultLevel).toBe('p2');
      expect(pq.levels.map((l) => l.maxConcurrency)).toEqual([9, 5, 2, 2, 2]);
      template(stack).resourceCountIs('AWS::Lambda::EventSourceMapping', 5);
    });

    it('warns when the consumer has less reserved concurrency than maxConcurrency', () => {
      const stack = newStack();
      const fn = new lambda.Function(stack, 'Consumer', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({})'),
        reservedConcurrentExecutions: 10,
      });
      new PriorityQueue(stack, 'Jobs', { consumer: fn, maxConcurrency: 20 });
      expect(warnings(stack).join('\n')).toMatch(/reserved concurrency \(10\) is below maxConcurrency \(20\)/);
    });

    it('sets batch size, batching window and enabled on every mapping, and adds the window to the visibility timeout', () => {
      const stack = newStack();
      new PriorityQueue(stack, 'Jobs', {
        consumer: inlineFunction(stack, 'Consumer', Duration.seconds(10)),
        batchSize: 50,
        maxBatchingWindow: Duration.seconds(5),
        enabled: false,
      });
      const t = template(stack);
      for (const esm of Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))) {
        expect(esm.Properties).toMatchObject({ BatchSize: 50, MaximumBatchingWindowInSeconds: 5, Enabled: false });
      }
      t.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 65 });
    });

    describe('allocateConcurrency', () => {
      it.each([
        [20, [4, 2, 1], [2, 2, 2], [11, 6, 3]],
        [6, [4, 2, 1], [2, 2, 2], [2, 2, 2]],
        [10, [1, 1], [2, 2], [5, 5]],
        [7, [1, 1, 1], [2, 2, 2], [3, 2, 2]],
        [30, [100, 1, 1], [2, 2, 5], [23, 2, 5]],
      ])('splits %p by %p with floors %p into %p', (total, weights, floors, expected) => {
        const caps = allocateConcurrency(total, weights, floors);
        expect(caps).toEqual(expected);
        expect(caps.reduce((s, c) => s + c, 0)).toBe(total);
      });
    });
  });

  describe('strict mode', () => {
    let stack: Stack;
    let pq: PriorityQueue;
    beforeEach(() => {
      stack = newStack();
      pq = new PriorityQueue(stack, 'Jobs', {
        consumer: inlineFunction(stack, 'Consumer', Duration.seconds(10)),
        mode: PriorityMode.STRICT,
        batchSize: 5,
        lowestLevelShare: 0.2,
      });
    });

    it('creates no event source mapping but a dispatcher started every minute by a schedule', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
      t.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDispatcher'), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          }),
        ],
      });
      expect(pq.dispatcher).toBeDefined();
      expect(pq.dispatchSchedule).toBeDefined();
    });

    it('runs one dispatcher at a time (reserved concurrency 1), so a late run never invokes the consumer beside the last', () => {
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        ReservedConcurrentExecutions: 1,
        Description: Match.stringLikeRegexp('Strict-priority dispatcher'),
      });
    });

    it("gives the dispatch schedule's target a dead-letter queue with an alarm (DispatchScheduleDeadLetterQueueNotEmpty)", () => {
      const dlq = pq.dispatchScheduleDeadLetterQueue!;
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
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: stack.resolve(dlq.queueName) }],
        Threshold: 1,
      });
      // Three levels with two alarms each, and the schedule's.
      expect(pq.alarms.map((a) => a.node.id)).toContain('DispatchScheduleDeadLetterQueueNotEmpty');
      expect(pq.alarms).toHaveLength(7);
    });

    it("turns the dispatch schedule's alarm off with alarms.overrides", () => {
      const s = newStack();
      const quiet = new PriorityQueue(s, 'Jobs', {
        consumer: inlineFunction(s, 'Consumer', Duration.seconds(10)),
        mode: PriorityMode.STRICT,
        alarms: { overrides: { DispatchScheduleDeadLetterQueueNotEmpty: { enabled: false } } },
      });
      expect(quiet.alarms.map((a) => a.node.id)).not.toContain('DispatchScheduleDeadLetterQueueNotEmpty');
      expect(quiet.dispatchScheduleDeadLetterQueue).toBeDefined();
    });

    it('runs the kit dispatcher with the levels in order, the batch size, the guard period and a timeout of the consumer timeout + 70 s', () => {
      const fn = Object.values(template(stack).findResources('AWS::Lambda::Function')).find((f) =>
        String(f.Properties.Description ?? '').startsWith('Strict-priority dispatcher'),
      )!;
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 80 });
      const env = fn.Properties.Environment.Variables;
      expect(env).toMatchObject({
        BATCH_SIZE: '5',
        LOWEST_LEVEL_EVERY: '5',
        CONSUMER_TIMEOUT_SECONDS: '10',
        RUN_SECONDS: '55',
        IDLE_WAIT_SECONDS: '2',
      });
      expect(env.CONSUMER_FUNCTION).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Consumer/), 'Arn'] });
      const levels = JSON.stringify(env.PRIORITY_LEVELS);
      expect(levels.indexOf('\\"high\\"')).toBeLessThan(levels.indexOf('\\"normal\\"'));
      expect(levels.indexOf('\\"normal\\"')).toBeLessThan(levels.indexOf('\\"low\\"'));
    });

    it('does not retry a failed dispatcher run asynchronously', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    });

    it('lets the dispatcher consume every level and invoke exactly the unqualified consumer', () => {
      const t = template(stack);
      const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Roles).includes('JobsDispatcherRole'),
      )!;
      const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Consumer/), 'Arn'] },
      });
      const consumed = statements.filter((s) => [s.Action].flat().includes('sqs:ReceiveMessage')).map((s) => JSON.stringify(s.Resource));
      expect(consumed).toHaveLength(3);
      for (const level of ['high', 'normal', 'low']) expect(consumed.join()).toMatch(new RegExp(`Jobs${level}Queue`));
    });

    it('sets the visibility timeout to 6 x the consumer timeout, or levels + 1 when there are more than 5 levels', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 60 });
      const big = newStack();
      new PriorityQueue(big, 'Jobs', {
        consumer: inlineFunction(big, 'Consumer', Duration.seconds(10)),
        mode: PriorityMode.STRICT,
        levels: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      });
      template(big).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 80 });
    });

    it('can start with the schedule disabled', () => {
      const s = newStack();
      new PriorityQueue(s, 'Jobs', { consumer: inlineFunction(s), mode: PriorityMode.STRICT, enabled: false });
      template(s).hasResourceProperties('AWS::Events::Rule', { State: 'DISABLED' });
    });
  });

  describe('encryption, grants and producers', () => {
    it('encrypts every level with one customer managed key created for KMS encryption', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack), queueProps: { encryption: sqs.QueueEncryption.KMS } });
      const t = template(stack);
      t.resourceCountIs('AWS::KMS::Key', 1);
      t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      for (const q of Object.values(t.findResources('AWS::SQS::Queue'))) {
        expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^JobsKey/), 'Arn'] });
      }
      expect(pq.encryptionKey).toBeDefined();
    });

    it('encrypts every level with a given key', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack), encryptionKey: key });
      for (const q of Object.values(template(stack).findResources('AWS::SQS::Queue'))) {
        expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
      }
      expect(pq.encryptionKey).toBe(key);
    });

    it('grantSend grants sending to every level, and the key', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack), encryptionKey: new kms.Key(stack, 'Key') });
      const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      pq.grantSend(role);
      const policy = Object.values(template(stack).findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p.Properties.Roles).includes('Producer'),
      )!;
      const text = JSON.stringify(policy.Properties.PolicyDocument);
      for (const level of ['high', 'normal', 'low']) expect(text).toMatch(new RegExp(`Jobs${level}Queue`));
      expect(text).toMatch(/sqs:SendMessage/);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      });
      expect(text).not.toMatch(/sqs:ReceiveMessage|kms:ReEncrypt/);
    });

    it('connectProducer grants sending and sets the configuration variable', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack) });
      const producer = inlineFunction(stack, 'Producer');
      pq.connectProducer(producer);
      pq.connectProducer(producer, { environmentVariable: 'OTHER_QUEUE' });
      const fn = template(stack).findResources('AWS::Lambda::Function', { Properties: { Environment: Match.anyValue() } });
      const vars = Object.values(fn)[0].Properties.Environment.Variables;
      expect(Object.keys(vars).sort()).toEqual(['OTHER_QUEUE', 'PRIORITY_QUEUE_CONFIG']);
      expect(JSON.stringify(vars.PRIORITY_QUEUE_CONFIG)).toMatch(/defaultLevel/);
    });

    it('grantConsumeDeadLetters covers every level', () => {
      const stack = newStack();
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack) });
      const grant = pq.grantConsumeDeadLetters(new iam.Role(stack, 'Ops', { assumedBy: new iam.AccountRootPrincipal() }));
      expect(grant.success).toBe(true);
      expect(grant.principalStatements).toHaveLength(3);
    });

    it('accepts an imported consumer with consumerTimeout, and warns that it cannot grant it', () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:worker');
      new PriorityQueue(stack, 'Jobs', { consumer: fn, consumerTimeout: Duration.seconds(20) });
      template(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 120 });
      expect(warnings(stack).join('\n')).toMatch(/imported without its role/);
    });
  });

  describe('validation', () => {
    const build = (props: Partial<PriorityQueueProps>, timeout = Duration.seconds(10)) => {
      const stack = newStack();
      return () => new PriorityQueue(stack, 'Jobs', { consumer: inlineFunction(stack, 'Consumer', timeout), ...props });
    };

    it.each([[['only']], [['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']]])('fails if levels has a bad count: %p', (levels) => {
      expect(build({ levels })).toThrow(new RegExp(`levels must name 2 to 10 levels \\(given ${levels.length}`));
    });

    it('fails if a level name is not a lowercase id', () => {
      expect(build({ levels: ['High', 'low'] })).toThrow(/levels must be lowercase letters.*\(given \["High"\]\)/);
    });

    it('fails if level names repeat', () => {
      expect(build({ levels: ['a', 'b', 'a'] })).toThrow(/levels must be unique \(given \["a"\] more than once\)/);
    });

    it('fails if defaultLevel is not a level', () => {
      expect(build({ defaultLevel: 'urgent' })).toThrow(
        /defaultLevel must be one of the levels \["high","normal","low"\] \(given 'urgent'\)/,
      );
    });

    it.each([0, 0.6])('fails if lowestLevelShare is %p', (share) => {
      expect(build({ lowestLevelShare: share })).toThrow(new RegExp(`lowestLevelShare must be between 0.01 and 0.5 \\(given ${share}\\)`));
    });

    it('fails if maxConcurrency cannot give each level its floor', () => {
      expect(build({ maxConcurrency: 5 })).toThrow(/maxConcurrency is too small for 3 levels.*6 in all \(given 5\)/);
      expect(build({ maxConcurrency: 6, lowestLevelShare: 0.5 })).toThrow(
        /the lowest level 3 \(lowestLevelShare 0.5\), 7 in all \(given 6\)/,
      );
    });

    it('fails if maxConcurrency is below 4 or not an integer', () => {
      expect(build({ maxConcurrency: 3 })).toThrow(/maxConcurrency must be an integer between 4 and 10000 \(given 3\)/);
      expect(build({ maxConcurrency: 20.5 })).toThrow(/maxConcurrency must be an integer between 4 and 10000 \(given 20.5\)/);
    });

    it('fails if weights do not match the levels, are not positive, or increase', () => {
      expect(build({ weights: [2, 1] })).toThrow(/weights must give one weight per level \(given 2 weights for 3 levels\)/);
      expect(build({ weights: [2, 0, -1] })).toThrow(/weights must be positive numbers \(given \[2,0,-1\]\)/);
      expect(build({ weights: [1, 2, 1] })).toThrow(/weights must not increase from a level to the next lower one \(given \[1,2,1\]/);
    });

    it('fails if strict mode is given weighted-mode settings, naming each', () => {
      let error: unknown;
      try {
        build({
          mode: PriorityMode.STRICT,
          maxConcurrency: 10,
          weights: [3, 2, 1],
          maxBatchingWindow: Duration.seconds(2),
          batchSize: 20,
        })();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^maxConcurrency cannot be used with mode STRICT.*\(given 10\)/),
          expect.stringMatching(/^weights cannot be used with mode STRICT.*\(given \[3,2,1\]\)/),
          expect.stringMatching(/^maxBatchingWindow cannot be used with mode STRICT.*\(given 2 seconds\)/),
          expect.stringMatching(/^batchSize must be an integer between 1 and 10 in strict mode \(given 20\)/),
        ]),
      );
    });

    it('fails if a weighted batch is above 10 without a batching window', () => {
      expect(build({ batchSize: 50 })).toThrow(/batchSize above 10 requires a maxBatchingWindow of at least 1 second \(given batchSize 50/);
    });

    it('fails if the visibility timeout is below 6 x the consumer timeout', () => {
      expect(build({ queueProps: { visibilityTimeout: Duration.seconds(30) } })).toThrow(
        /queueProps.visibilityTimeout must be at least 6 x the consumer timeout \+ maxBatchingWindow = 60 seconds \(given 30 seconds\)/,
      );
    });

    it('fails if the consumer timeout is too long for the strict dispatcher', () => {
      expect(build({ mode: PriorityMode.STRICT }, Duration.minutes(14))).toThrow(
        /consumer timeout must be at most 830 seconds in strict mode: .*\(given 840 seconds\)/,
      );
    });

    it('fails if an imported consumer has no consumerTimeout', () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:worker');
      expect(() => new PriorityQueue(stack, 'Jobs', { consumer: fn })).toThrow(
        /consumerTimeout is required when consumer is an imported function/,
      );
    });

    it('accepts an imported consumer without consumerTimeout when queueProps sets the visibility timeout, like a work queue', () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:worker');
      const pq = new PriorityQueue(stack, 'Jobs', { consumer: fn, queueProps: { visibilityTimeout: Duration.minutes(3) } });
      expect(pq.visibilityTimeout.toSeconds()).toBe(180);
      const levelQueues = Object.entries(template(stack).findResources('AWS::SQS::Queue')).filter(([id]) =>
        /^Jobs(high|normal|low)Queue/.test(id),
      );
      expect(levelQueues).toHaveLength(3);
      for (const [, q] of levelQueues) expect(q.Properties.VisibilityTimeout).toBe(180);
    });

    it("still requires consumerTimeout of an imported consumer in strict mode: the dispatcher's timeout derives from it", () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:worker');
      expect(
        () =>
          new PriorityQueue(stack, 'Jobs', {
            consumer: fn,
            mode: PriorityMode.STRICT,
            queueProps: { visibilityTimeout: Duration.minutes(3) },
          }),
      ).toThrow(
        /consumerTimeout is required in strict mode when consumer is an imported function \(given consumer TestStack\/Fn\): the dispatcher's timeout is the consumer's \+ 70 seconds/,
      );
    });

    it('fails if queue inputs that cannot apply to several queues are given, reporting them together', () => {
      const stack = newStack();
      let error: unknown;
      try {
        new PriorityQueue(stack, 'Jobs', {
          consumer: inlineFunction(stack),
          existingQueue: new sqs.Queue(stack, 'Q'),
          queueProps: { queueName: 'jobs', fifo: true },
          deadLetterQueueProps: { queueName: 'jobs-dlq' },
        });
      } catch (e) {
        error = e;
      }
      const problems = (error as MessagingPatternsError).problems;
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^existingQueue cannot be used with a priority queue: it creates one queue per level.*\(given TestStack\/Q\)/,
          ),
          expect.stringMatching(/^queueProps.fifo must not be true: priority levels are standard queues \(given true\)/),
          expect.stringMatching(/^queueProps.queueName cannot be used.*\(given 'jobs'\)/),
          expect.stringMatching(/^deadLetterQueueProps.queueName cannot be used.*\(given 'jobs-dlq'\)/),
          expect.stringMatching(/^provide only one of existingQueue, queueProps/),
        ]),
      );
      expect((error as Error).message).toMatch(/^\[TestStack\/Jobs\]\n {2}- /);
    });

    it('fails if queueProps turns encryption or TLS off (shared queue vocabulary)', () => {
      expect(build({ queueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } })).toThrow(
        /queueProps.encryption must not be UNENCRYPTED/,
      );
      expect(build({ queueProps: { enforceSSL: false } })).toThrow(/queueProps.enforceSSL must not be false/);
    });

    it('fails if maxReceiveCount is out of range', () => {
      expect(build({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount must be an integer between 1 and 1000 \(given 0\)/);
    });

    it('fails if the age alarm would fire after messages expire', () => {
      expect(
        build({ queueProps: { retentionPeriod: Duration.hours(2) }, alarms: { overrides: { OldestMessageTooOld: { threshold: 10800 } } } }),
      ).toThrow(/alarms.overrides.OldestMessageTooOld.threshold must be below the queue's retention period/);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates, in both modes', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        new PriorityQueue(stack, 'Weighted', { consumer });
        new PriorityQueue(stack, 'Strict', {
          consumer,
          mode: PriorityMode.STRICT,
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
        });
      });
      const kitFindings = findings.filter((f) => /\/(Weighted|Strict)\//.test(f.path));
      expect(kitFindings).toEqual([]);
    });
  });
});
