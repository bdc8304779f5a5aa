import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MessagingPatternsError, RequestReply } from '../../../lib';
import { KitFunction } from '../../../lib/core/kit-function';
import { acknowledgeWildcardResource } from '../../../lib/core/nag';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Statements of the IAM policies attached to the role whose logical id matches `role`. */
function statementsOf(stack: Stack, role: RegExp): Statement[] {
  return Object.values(template(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => role.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const replyArnPattern = (prefix: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${prefix}*`]],
});

describe('RequestReply', () => {
  describe('defaults', () => {
    let stack: Stack;
    let rr: RequestReply;
    let responder: lambda.Function;
    let requester: lambda.Function;
    beforeEach(() => {
      stack = newStack();
      responder = inlineFunction(stack, 'Responder', Duration.seconds(5));
      requester = inlineFunction(stack, 'Requester');
      rr = new RequestReply(stack, 'Quotes', { responder });
      rr.connectRequester(requester);
    });

    it('builds the request side as a WorkQueue: standard queue, DLQ, visibility 6 x the responder timeout, batch 10', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: 30,
        SqsManagedSseEnabled: true,
        RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
        FifoQueue: Match.absent(),
      });
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('Responder') },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumBatchingWindowInSeconds: Match.absent(),
      });
      expect(rr.requestQueue).toBe(rr.requests.queue);
      expect(rr.deadLetterQueue).toBeDefined();
      // The request queue's two, and the reaper schedule's dead-letter queue's.
      t.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    });

    it('derives a unique reply-queue prefix ending in -reply-', () => {
      expect(rr.replyQueuePrefix).toMatch(/^[A-Za-z0-9-]{1,40}-reply-$/);
      const other = new RequestReply(stack, 'Orders', { responder: inlineFunction(stack, 'R2') });
      expect(other.replyQueuePrefix).not.toBe(rr.replyQueuePrefix);
    });

    it('lets the responder send to reply queues only, and tells it the prefix', () => {
      const sends = statementsOf(stack, /^ResponderServiceRole/).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      expect(sends.map((s) => s.Resource)).toEqual([replyArnPattern(rr.replyQueuePrefix)]);
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        Environment: { Variables: { REPLY_QUEUE_PREFIX: rr.replyQueuePrefix } },
      });
    });

    it('gives a requester the variables and rights it needs: send requests, own reply queues under the prefix', () => {
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            REQUEST_QUEUE_URL: { Ref: Match.stringLikeRegexp('QuotesRequestsQueue') },
            REQUEST_QUEUE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('QuotesRequestsQueue'), 'Arn'] },
            REPLY_QUEUE_PREFIX: rr.replyQueuePrefix,
            REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '3600',
          },
        },
      });
      const statements = statementsOf(stack, /^RequesterServiceRole/);
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Action: expect.arrayContaining(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [expect.stringMatching(/QuotesRequestsQueue/), 'Arn'] },
          }),
          expect.objectContaining({
            Action: ['sqs:CreateQueue', 'sqs:TagQueue', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:DeleteQueue'],
            Resource: replyArnPattern(rr.replyQueuePrefix),
          }),
        ]),
      );
      // Nothing on "*", nothing on other queues.
      expect(statements.every((s) => s.Resource !== '*')).toBe(true);
    });

    it('runs the reaper every 15 minutes with list rights on the account and delete rights on reply queues only', () => {
      template(stack).hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('QuotesReaper'), 'Arn'] } })],
      });
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Environment: { Variables: Match.objectLike({ REPLY_QUEUE_PREFIX: rr.replyQueuePrefix, REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '3600' }) },
      });
      const statements = statementsOf(stack, /^QuotesReaperRole/);
      const list = statements.find((s) => actionsOf(s).includes('sqs:ListQueues'))!;
      expect(list.Resource).toEqual({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']],
      });
      const del = statements.find((s) => actionsOf(s).includes('sqs:DeleteQueue'))!;
      expect(del.Resource).toEqual(replyArnPattern(rr.replyQueuePrefix));
    });

    it("gives the reaper's schedule target a dead-letter queue (SSE-SQS, TLS-only, 14 days) with an alarm", () => {
      const t = template(stack);
      const dlq = stack.resolve(rr.reaperScheduleDeadLetterQueue.queueArn);
      t.hasResourceProperties('AWS::Events::Rule', {
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: dlq }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
      });
      t.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: Match.absent(),
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
        RedrivePolicy: Match.absent(),
      });
      // EventBridge may send to it for this rule only.
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [stack.resolve(rr.reaperScheduleDeadLetterQueue.queueUrl)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
            }),
          ]),
        },
      });
      const alarm = rr.alarms.find((a) => a.node.id === 'ReaperScheduleDeadLetterQueueNotEmpty')!;
      expect(alarm).toBeDefined();
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: stack.resolve(rr.reaperScheduleDeadLetterQueue.queueName) }],
        Threshold: 1,
      });
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes metrics', () => {
      expect(rr.metricWaitingRequests().metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(rr.metricOldestRequestAge().metricName).toBe('ApproximateAgeOfOldestMessage');
      expect(rr.metricDeadLetterRequests()?.metricName).toBe('ApproximateNumberOfMessagesVisible');
    });
  });

  it('honours prefix, idle timeout, schedule, batch size, concurrency and the shared queue props', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const rr = new RequestReply(stack, 'Quotes', {
      responder: inlineFunction(stack, 'Responder'),
      replyQueuePrefix: 'quotes-replies-',
      replyQueueIdleTimeout: Duration.hours(4),
      reaperSchedule: events.Schedule.rate(Duration.minutes(5)),
      batchSize: 1,
      maxConcurrency: 20,
      maxReceiveCount: 2,
      encryptionKey: key,
    });
    expect(rr.replyQueuePrefix).toBe('quotes-replies-');
    expect(rr.encryptionKey).toBe(key);
    const t = template(stack);
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REPLY_QUEUE_IDLE_TIMEOUT_SECONDS: '14400' }) },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 1, ScalingConfig: { MaximumConcurrency: 20 } });
    t.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 2 }),
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  it('derives the reaper period from the idle timeout', () => {
    const stack = newStack();
    new RequestReply(stack, 'Quotes', { responder: inlineFunction(stack, 'Responder'), replyQueueIdleTimeout: Duration.minutes(10) });
    template(stack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
  });

  it('grants a requester least privilege on a customer managed key: kms:GenerateDataKey and kms:Decrypt only', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const rr = new RequestReply(stack, 'Quotes', { responder: inlineFunction(stack, 'Responder'), encryptionKey: key });
    rr.connectRequester(inlineFunction(stack, 'Requester'));
    const statements = statementsOf(stack, /^RequesterServiceRole/);
    const kmsActions = statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:'));
    expect(kmsActions.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      }),
    );
  });

  it('warns that an imported responder must be told the prefix', () => {
    const stack = newStack();
    const fn = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
      functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:responder',
      role: new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
    });
    new RequestReply(stack, 'Quotes', { responder: fn, responderTimeout: Duration.seconds(10) });
    expect(warnings(stack)).toEqual([
      expect.stringMatching(/was imported, so the kit could not set its environment: set REPLY_QUEUE_PREFIX yourself/),
    ]);
  });

  it("applies overrides of the reaper schedule's alarm to it, and the request queue's to the request side", () => {
    const stack = newStack();
    const rr = new RequestReply(stack, 'Quotes', {
      responder: inlineFunction(stack, 'Responder'),
      alarms: { overrides: { ReaperScheduleDeadLetterQueueNotEmpty: { threshold: 5 }, OldestMessageTooOld: { enabled: false } } },
    });
    expect(rr.alarms.map((a) => a.node.id).sort()).toEqual(['DeadLetterQueueNotEmpty', 'ReaperScheduleDeadLetterQueueNotEmpty']);
    template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(rr.reaperScheduleDeadLetterQueue.queueName) }],
      Threshold: 5,
    });
    const off = newStack();
    const quiet = new RequestReply(off, 'Quotes', {
      responder: inlineFunction(off, 'Responder'),
      alarms: { overrides: { ReaperScheduleDeadLetterQueueNotEmpty: { enabled: false } } },
    });
    expect(quiet.alarms.map((a) => a.node.id).sort()).toEqual(['DeadLetterQueueNotEmpty', 'OldestMessageTooOld']);
  });

  describe('validation', () => {
    const build = (props: Partial<ConstructorParameters<typeof RequestReply>[2]>) => () => {
      const stack = newStack();
      new RequestReply(stack, 'Quotes', { responder: inlineFunction(stack, 'Responder'), ...props });
    };

    it('fails if the request queue is FIFO', () => {
      expect(build({ queueProps: { fifo: true } })).toThrow(/queueProps.fifo must not be true.*\(given true\)/);
    });

    it.each([0, 11])('fails if batchSize is %p', (n) => {
      expect(build({ batchSize: n })).toThrow(new RegExp(`batchSize must be an integer between 1 and 10 \\(given ${n}\\)`));
    });

    it('fails if alarms.overrides names an alarm it does not create, listing its alarms', () => {
      let error: unknown;
      try {
        build({ alarms: { overrides: { Nope: { threshold: 1 } } } })();
      } catch (e) {
        error = e;
      }
      expect((error as MessagingPatternsError).codes).toEqual(['alarms.overrides:unknown']);
      expect((error as Error).message).toMatch(
        /given 'Nope'; its alarms: DeadLetterQueueNotEmpty, OldestMessageTooOld, ReaperScheduleDeadLetterQueueNotEmpty/,
      );
    });

    it('fails if the reaper schedule alarm override is out of range', () => {
      expect(build({ alarms: { overrides: { ReaperScheduleDeadLetterQueueNotEmpty: { evaluationPeriods: 0 } } } })).toThrow(
        /alarms.overrides.ReaperScheduleDeadLetterQueueNotEmpty.evaluationPeriods must be an integer between 1 and 100 \(given 0\)/,
      );
    });

    it('fails if maxConcurrency is 1', () => {
      expect(build({ maxConcurrency: 1 })).toThrow(/maxConcurrency must be an integer between 2 and 1000 \(given 1\)/);
    });

    it.each([Duration.minutes(4), Duration.days(8)])('fails if the idle timeout is %s', (d) => {
      expect(build({ replyQueueIdleTimeout: d })).toThrow(
        new RegExp(`replyQueueIdleTimeout must be between 300 seconds and 604800 seconds \\(given ${d.toSeconds()} seconds\\)`),
      );
    });

    it.each(['short', 'has space-reply-', 'x'.repeat(61)])('fails if the prefix is %p', (prefix) => {
      expect(build({ replyQueuePrefix: prefix })).toThrow(
        /replyQueuePrefix must be 8-60 letters, digits, - or _, so that <prefix>\* names only reply queues \(given '/,
      );
    });

    it('fails if the prefix starts the request queue name', () => {
      expect(build({ replyQueuePrefix: 'quotes-queue', queueProps: { queueName: 'quotes-queue-requests' } })).toThrow(
        /replyQueuePrefix must not start the request queue's name.*\(given 'quotes-queue' and queue 'quotes-queue-requests'\)/,
      );
    });

    it("reports the request queue's problems (an imported responder without timeout) with its own, in one error under its path", () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:111122223333:function:responder');
      let error: unknown;
      try {
        new RequestReply(stack, 'Quotes', { responder: fn, replyQueuePrefix: 'bad', maxConcurrency: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).constructPath).toBe('TestStack/Quotes');
      expect((error as MessagingPatternsError).problems).toEqual([
        expect.stringMatching(/^replyQueuePrefix must be 8-60/),
        'maxConcurrency must be an integer between 2 and 1000 (given 1)',
        expect.stringMatching(/^consumerTimeout is required when consumer is an imported function/),
      ]);
    });

    it('reports shared queue problems and its own together', () => {
      let error: unknown;
      try {
        build({ queueProps: { fifo: true, enforceSSL: false }, batchSize: 20, replyQueuePrefix: 'bad' })();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingPatternsError);
      expect((error as MessagingPatternsError).problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/queueProps.enforceSSL must not be false/),
          expect.stringMatching(/queueProps.fifo must not be true/),
          expect.stringMatching(/batchSize must be an integer between 1 and 10 \(given 20\)/),
          expect.stringMatching(/replyQueuePrefix must be 8-60/),
        ]),
      );
      expect((error as Error).message).toMatch(/^\[TestStack\/Quotes\]\n/);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const responder = new KitFunction(stack, 'Responder', { handler: 'request-reply/responder' });
        const rr = new RequestReply(stack, 'Quotes', { responder });
        const requester = new KitFunction(stack, 'Requester', {
          handler: 'work-queue/consumer',
          synchronousOnlyReason: 'Invoked directly by its callers.',
        });
        rr.connectRequester(requester);
        const orders = new RequestReply(stack, 'Orders', {
          responder,
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
          replyQueuePrefix: 'orders-replies-',
        });
        orders.connectRequester(requester);
        // The reply-queue wildcard is the grantee's to acknowledge (see grantRequest).
        for (const pattern of [rr, orders]) {
          acknowledgeWildcardResource(
            requester.role!,
            pattern.replyQueueArnPattern,
            'Reply queues are created at run time under the prefix.',
          );
        }
      });
      // The requester's policy holds what grantRequest gives it on both instances, the keyed one included.
      expect(findings.filter((f) => /\/(Quotes|Orders)\/|^Gate\/Requester/.test(f.path))).toEqual([]);
    });
  });
});
