import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { EventRouter, type EventRouterProps, MessagingPatternsError, ReplayedEvents, RouteTarget } from '../../../lib';
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

const orders = { source: ['shop.orders'] };

describe('EventRouter', () => {
  describe('defaults', () => {
    let stack: Stack;
    let router: EventRouter;
    beforeEach(() => {
      stack = newStack();
      router = new EventRouter(stack, 'Router');
      router.addRoute('Billing', { eventPattern: orders, targets: [RouteTarget.queue(new sqs.Queue(stack, 'Billing'))] });
    });

    it('creates a custom bus and archives every event of it for 30 days', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::Events::EventBus', 1);
      t.hasResourceProperties('AWS::Events::Archive', {
        SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RouterBus'), 'Arn'] },
        EventPattern: { version: ['0'] },
        RetentionDays: 30,
      });
      expect(router.archive).toBeDefined();
    });

    it('routes on the bus with the pattern, ignoring replayed events by default', () => {
      template(stack).hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: Match.stringLikeRegexp('RouterBus') },
        EventPattern: { source: ['shop.orders'], 'replay-name': [{ exists: false }] },
        State: 'ENABLED',
      });
      expect(router.route('Billing').replayedEvents).toBe(ReplayedEvents.IGNORE);
    });

    it('gives every target the retry policy and the route dead-letter queue', () => {
      template(stack).hasResourceProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RoutesBillingDeadLetterQueue'), 'Arn'] } },
          }),
        ],
      });
    });

    it('lets EventBridge send to the dead-letter queue for this rule only, encrypted, TLS-only, kept 14 days', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: Match.stringLikeRegexp('RoutesBillingDeadLetterQueue') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('RoutesBillingRule'), 'Arn'] } } },
            }),
          ]),
        },
      });
    });

    it('alarms on the route dead-letter queue and on events lost on the way to it', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('RoutesBillingDeadLetterQueue'), 'QueueName'] } }],
        Threshold: 1,
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Events',
        MetricName: 'InvocationsFailedToBeSentToDlq',
        Statistic: 'Sum',
        Threshold: 1,
      });
      expect(router.alarms.map((a) => a.node.id).sort()).toEqual(['DeadLetterQueueNotEmpty', 'EventsLost']);
    });

    it('exposes metrics per route and warns about nothing', () => {
      expect(router.metricMatchedEvents('Billing').metricName).toBe('MatchedEvents');
      expect(router.metricFailedInvocations('Billing').metricName).toBe('FailedInvocations');
      expect(router.metricDeadLetterMessages('Billing')?.metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(() => router.metricMatchedEvents('Nope')).toThrow(/there is no route 'Nope' \(routes: Billing\) \[route:unknown\]/);
      expect(warnings(stack)).toEqual([]);
    });
  });

  it('routes by hierarchy and content: prefix, wildcard, anything-but, numeric, exists and $or', () => {
    const stack = newStack();
    const router = new EventRouter(stack, 'Router');
    const queue = new sqs.Queue(stack, 'Q');
    router.addRoute('BigEuOrders', {
      eventPattern: {
        detailType: events.Match.prefix('orders.eu.'),
        detail: { amount: events.Match.greaterThan(100), coupon: events.Match.doesNotExist(), status: events.Match.anythingBut('test') },
      },
      anyOf: [{ source: ['shop.web'] }, { source: events.Match.wildcard('shop.*.mobile') }],
      targets: [RouteTarget.queue(queue)],
      replayedEvents: ReplayedEvents.ACCEPT,
    });
    template(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'detail-type': [{ prefix: 'orders.eu.' }],
        detail: { amount: [{ numeric: ['>', 100] }], coupon: [{ exists: false }], status: [{ 'anything-but': ['test'] }] },
        $or: [{ source: ['shop.web'] }, { source: [{ wildcard: 'shop.*.mobile' }] }],
        'replay-name': Match.absent(),
      },
    });
  });

  it('routes to every kind of target, each with its input, dead-letter queue and retry policy', () => {
    const stack = newStack();
    const router = new EventRouter(stack, 'Router', { retryAttempts: 2, maxEventAge: Duration.minutes(5) });
    const machine = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')),
    });
    const own = new sqs.Queue(stack, 'OwnDlq');
    router.addRoute('All', {
      eventPattern: orders,
      targets: [
        RouteTarget.queue(new sqs.Queue(stack, 'Q', { fifo: true, contentBasedDeduplication: true }), { messageGroupId: 'orders' }),
        RouteTarget.topic(new sns.Topic(stack, 'T')),
        RouteTarget.lambdaFunction(inlineFunction(stack), { input: events.RuleTargetInput.fromEventPath('$.detail') }),
        RouteTarget.stateMachine(machine, { retryAttempts: 0 }),
        RouteTarget.stream(new kinesis.Stream(stack, 'S'), { partitionKeyPath: '$.detail.orderId', deadLetterQueue: own }),
        RouteTarget.eventBus(new events.EventBus(stack, 'Other')),
      ],
    });
    // Six targets: two rules with the same pattern, five targets and one.
    const rules = Object.values(template(stack).findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    expect(rules.map((r) => r.Properties.Targets.length).sort()).toEqual([1, 5]);
    for (const r of rules) expect(r.Properties.EventPattern.source).toEqual(['shop.orders']);
    const targets = rules.flatMap((r) => r.Properties.Targets);
    const byArn = (pattern: RegExp) => targets.find((t) => JSON.stringify(t.Arn).match(pattern));
    expect(byArn(/"Q[0-9A-F]{8}"/)).toMatchObject({
      SqsParameters: { MessageGroupId: 'orders' },
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
    });
    expect(byArn(/Consumer/)).toMatchObject({ InputPath: '$.detail' });
    expect(byArn(/Machine/)).toMatchObject({ RetryPolicy: { MaximumRetryAttempts: 0 } });
    expect(byArn(/"S[0-9A-F]{8}"/)).toMatchObject({
      KinesisParameters: { PartitionKeyPath: '$.detail.orderId' },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^OwnDlq/), 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 2 },
    });
    const bus = byArn(/Other/);
    expect(bus.RetryPolicy).toBeUndefined();
    expect(bus.DeadLetterConfig).toBeDefined();
    // An alarm on lost events for each rule; one DLQ alarm for the route.
    template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it('can use an existing bus, keep no archive, and configure the archive', () => {
    const stack = newStack();
    const bus = events.EventBus.fromEventBusName(stack, 'Default', 'default');
    new EventRouter(stack, 'Plain', { existingEventBus: bus, archive: false });
    const key = new kms.Key(stack, 'Key');
    new EventRouter(stack, 'Kept', { archiveRetention: Duration.days(365), archiveEncryptionKey: key, archiveEventPattern: orders });
    template(stack).resourceCountIs('AWS::Events::EventBus', 1);
    template(stack).resourceCountIs('AWS::Events::Archive', 1);
    template(stack).hasResourceProperties('AWS::Events::Archive', {
      RetentionDays: 365,
      EventPattern: orders,
      KmsKeyIdentifier: Match.anyValue(),
    });
  });

  it('lets other accounts or an organisation publish when asked', () => {
    const stack = newStack();
    new EventRouter(stack, 'Router', { crossAccountPublishers: { accounts: ['111122223333'], organizationId: 'o-abcdefghij' } });
    template(stack).hasResourceProperties('AWS::Events::EventBusPolicy', {
      StatementId: 'AllowAccountPublishers',
      Statement: Match.objectLike({
        Action: 'events:PutEvents',
        Principal: { AWS: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] }] },
      }),
    });
    template(stack).hasResourceProperties('AWS::Events::EventBusPolicy', {
      StatementId: 'AllowOrganizationPublishers',
      Statement: Match.objectLike({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }),
    });
  });

  describe('grants and wiring', () => {
    it('connectPublisher grants PutEvents on the bus and sets EVENT_BUS_NAME', () => {
      const stack = newStack();
      const router = new EventRouter(stack, 'Router');
      const fn = inlineFunction(stack, 'Publisher');
      expect(router.connectPublisher(fn).success).toBe(true);
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('RouterBus') } } },
      });
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            Match.objectLike({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('RouterBus'), 'Arn'] } }),
          ],
        },
      });
    });

    it('connectReplayer grants replays of the archive and sets the replay configuration with the routes', () => {
      const stack = newStack();
      const router = new EventRouter(stack, 'Router');
      const fn = inlineFunction(stack, 'Replayer');
      router.connectReplayer(fn);
      router.addRoute('History', {
        eventPattern: orders,
        targets: [RouteTarget.queue(new sqs.Queue(stack, 'Q'))],
        replayedEvents: ReplayedEvents.ACCEPT,
      });
      template(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['events:StartReplay', 'events:DescribeReplay']) })] },
      });
      const config = JSON.stringify(
        stack.resolve(
          Object.values(template(stack).findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables.EVENT_ROUTER_CONFIG,
        ),
      );
      expect(config).toMatch(/History/);
      expect(config).toMatch(/ACCEPT/);
      expect(config).toMatch(/ruleArns/);
    });

    it('grantReplay is a dropped grant without an archive', () => {
      const stack = newStack();
      const router = new EventRouter(stack, 'Router', { archive: false });
      expect(router.grantReplay(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() })).success).toBe(false);
    });
  });

  it('configures the route alarms through overrides, for every route', () => {
    const stack = newStack();
    const router = new EventRouter(stack, 'Router', {
      alarms: { overrides: { EventsLost: { enabled: false }, DeadLetterQueueNotEmpty: { threshold: 5 } } },
    });
    router.addRoute('A', { eventPattern: orders, targets: [RouteTarget.queue(new sqs.Queue(stack, 'Q'))] });
    template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 5 });
  });

  describe('validation', () => {
    const build = (props: EventRouterProps) => () => new EventRouter(newStack(), 'Router', props);

    it('fails if the bus is given two ways, or the archive is configured and off', () => {
      const stack = newStack();
      expect(
        codesOf(
          () => new EventRouter(stack, 'R', { existingEventBus: events.EventBus.fromEventBusName(stack, 'B', 'b'), eventBusProps: {} }),
        ),
      ).toEqual(['existingEventBus|eventBusProps:exclusive']);
      expect(codesOf(build({ archive: false, archiveRetention: Duration.days(1) }))).toEqual(['archiveRetention:conflict']);
    });

    it('fails on a retention that is not whole days, retries out of range, and bad publishers', () => {
      expect(
        codesOf(
          build({
            archiveRetention: Duration.hours(36),
            retryAttempts: 186,
            maxEventAge: Duration.seconds(30),
            crossAccountPublishers: { accounts: ['12345'], organizationId: 'org' },
          }),
        ),
      ).toEqual([
        'archiveRetention:format',
        'retryAttempts:range',
        'maxEventAge:range',
        'crossAccountPublishers.accounts:format',
        'crossAccountPublishers.organizationId:format',
      ]);
      expect(build({ crossAccountPublishers: {} })).toThrow(/crossAccountPublishers must name accounts or an organizationId/);
      expect(build({ retryAttempts: 186 })).toThrow(/retryAttempts must be an integer between 0 and 185 \(given 186\)/);
    });

    it('fails on an unknown alarm override', () => {
      expect(codesOf(build({ alarms: { overrides: { Nope: {} } } }))).toEqual(['alarms.overrides:unknown']);
    });

    it('fails on bad routes: name, duplicate, no pattern, no target, an empty alternative', () => {
      const stack = newStack();
      const router = new EventRouter(stack, 'Router');
      const q = RouteTarget.queue(new sqs.Queue(stack, 'Q'));
      router.addRoute('A', { eventPattern: orders, targets: [q] });
      expect(codesOf(() => router.addRoute('1bad name', { eventPattern: orders, targets: [q] }))).toEqual(['routeName:format']);
      expect(codesOf(() => router.addRoute('A', { eventPattern: orders, targets: [q] }))).toEqual(['routeName:conflict']);
      expect(codesOf(() => router.addRoute('B', { targets: [] }))).toEqual(['routes.B.eventPattern:required', 'routes.B.targets:required']);
      expect(codesOf(() => router.addRoute('C', { anyOf: [{}], targets: [q] }))).toEqual(['routes.C.anyOf:format']);
    });

    it('fails on a queue target EventBridge cannot use, naming it: the AWS managed key, or FIFO without a group', () => {
      const stack = newStack();
      const router = new EventRouter(stack, 'Router');
      const managed = new sqs.Queue(stack, 'Managed', { encryption: sqs.QueueEncryption.KMS_MANAGED });
      expect(() => router.addRoute('A', { eventPattern: orders, targets: [RouteTarget.queue(managed)] })).toThrow(
        /EventBridge cannot send to a queue encrypted with the AWS managed key aws\/sqs.*given TestStack\/Managed.*\[routes.A.targets.queue:unsupported\]/,
      );
      const fifo = new sqs.Queue(stack, 'Fifo', { fifo: true });
      expect(codesOf(() => router.addRoute('B', { eventPattern: orders, targets: [RouteTarget.queue(fifo)] }))).toEqual([
        'routes.B.targets.messageGroupId:required',
      ]);
      expect(
        codesOf(() =>
          router.addRoute('C', { eventPattern: orders, targets: [RouteTarget.queue(fifo, { messageGroupId: 'g', retryAttempts: -1 })] }),
        ),
      ).toEqual(['routes.C.targets.retryAttempts:range']);
    });
  });

  describe('cdk-nag', () => {
    it('passes AwsSolutions and Serverless with routes to every target kind, a replayer and a publisher', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Nag');
        const router = new EventRouter(stack, 'Router');
        const queue = new sqs.Queue(stack, 'Q', {
          enforceSSL: true,
          deadLetterQueue: { queue: new sqs.Queue(stack, 'QDlq', { enforceSSL: true }), maxReceiveCount: 5 },
        });
        router.addRoute('A', { eventPattern: orders, targets: [RouteTarget.queue(queue)] });
        router.connectPublisher(inlineFunction(stack, 'Publisher'));
        router.connectReplayer(inlineFunction(stack, 'Replayer'));
      });
      // The inline test functions are not the kit's: the router's resources and the policies its
      // grants wrote (the publisher's and replayer's DefaultPolicy) are judged here.
      expect(findings.filter((f) => f.path.includes('/Router/') || f.path.includes('DefaultPolicy'))).toEqual([]);
      expect(findings.length).toBeGreaterThan(0); // the filter is not vacuous: the inline functions have findings
    });
  });
});
