// The gates' own checks (unit project): each catches what it is for, on a template that has it and
// one that does not, so a gate that passes means something. The gates themselves run in the
// `gates` project (gates.gate.ts).
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { WorkQueue } from '../../lib';
import { deadLetterQueueAlarm } from '../../lib/core/alarms';
import { inlineFunction, newStack } from '../helpers/cdk';
import { reasonProblem } from './allowlists';
import type { CfnTemplate } from './assembly';
import { type CheckContext, type Finding, checkSecureDefaults, refsIn } from './secure-defaults';

const checksOn = (stack: Stack, context?: CheckContext): Array<Pick<Finding, 'check' | 'resourceType'>> =>
  checkSecureDefaults(Template.fromStack(stack).toJSON() as CfnTemplate, context).map(({ check, resourceType }) => ({
    check,
    resourceType,
  }));
const checkIds = (stack: Stack, context?: CheckContext) => [...new Set(checksOn(stack, context).map((f) => f.check))].sort();

describe('secure-defaults checks', () => {
  it('find nothing on a kit work queue (encrypted, TLS-only, DLQ with its alarm)', () => {
    const stack = newStack();
    new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack) });
    expect(checksOn(stack)).toEqual([]);
  });

  it('flag a bare queue: no explicit encryption, no TLS-only policy, no redrive policy', () => {
    const stack = newStack();
    new sqs.Queue(stack, 'Bare');
    expect(checkIds(stack)).toEqual(['encryption', 'redrive', 'tls-only']);
  });

  it('take the target of a redrive policy for a DLQ, and ask for an alarm on it', () => {
    const build = (alarm: boolean) => {
      const stack = newStack();
      const dlq = new sqs.Queue(stack, 'Dlq', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
      new sqs.Queue(stack, 'Main', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
      });
      if (alarm) deadLetterQueueAlarm(stack, {}, dlq, 'test');
      return stack;
    };
    expect(checksOn(build(false))).toEqual([{ check: 'dlq-alarm', resourceType: 'AWS::SQS::Queue' }]);
    expect(checksOn(build(true))).toEqual([]);
  });

  it('take a queue with an acknowledged Serverless-SQSRedrivePolicy for a DLQ named at run time', () => {
    const stack = newStack();
    new sqs.Queue(stack, 'Schedules', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    const paths = new Map([
      [stack.getLogicalId(stack.node.findChild('Schedules').node.defaultChild as sqs.CfnQueue), 'TestStack/Schedules/Resource'],
    ]);
    expect(checkIds(stack, { paths })).toEqual(['redrive']);
    const acknowledgements = [
      { path: 'TestStack/Schedules', id: 'Annotation::Serverless-SQSRedrivePolicy', reason: 'the DLQ of runtime schedules' },
    ];
    expect(checkIds(stack, { paths, acknowledgements })).toEqual(['dlq-alarm']);
  });

  it('flag topics, buckets and streams without encryption or a TLS-only policy', () => {
    const stack = newStack();
    new sns.Topic(stack, 'Topic');
    new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.UNENCRYPTED });
    new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.UNENCRYPTED });
    expect(checksOn(stack)).toEqual(
      expect.arrayContaining([
        { check: 'encryption', resourceType: 'AWS::SNS::Topic' },
        { check: 'tls-only', resourceType: 'AWS::SNS::Topic' },
        { check: 'tls-only', resourceType: 'AWS::S3::Bucket' },
        { check: 'encryption', resourceType: 'AWS::Kinesis::Stream' },
      ]),
    );
    const ok = newStack();
    new sns.Topic(ok, 'Topic', { masterKey: new kms.Key(ok, 'Key'), enforceSSL: true });
    new s3.Bucket(ok, 'Bucket', { encryption: s3.BucketEncryption.S3_MANAGED, enforceSSL: true });
    new kinesis.Stream(ok, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    expect(checksOn(ok).filter((f) => f.check !== 'wildcard-action')).toEqual([]);
  });

  it('flag a rule target without a DeadLetterConfig, scheduled rules included', () => {
    const stack = newStack();
    const fn = inlineFunction(stack);
    new events.Rule(stack, 'Tick', { schedule: events.Schedule.rate(Duration.minutes(5)), targets: [new targets.LambdaFunction(fn)] });
    const findings = checkSecureDefaults(Template.fromStack(stack).toJSON() as CfnTemplate);
    expect(findings.find((f) => f.check === 'rule-target-dlq')?.message).toMatch(/scheduled rule \(rate\(5 minutes\)\)/);
    // The function is invoked asynchronously and has neither a DLQ nor a documented reason.
    expect(findings.map((f) => f.check)).toContain('async-failures');
  });

  it('accept an asynchronously invoked function with a DLQ, or with Serverless-LambdaDLQ acknowledged', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'FnDlq', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    deadLetterQueueAlarm(stack, {}, dlq, 'test');
    const withDlq = new lambda.Function(stack, 'WithDlq', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('x'),
      deadLetterQueue: dlq,
    });
    const documented = inlineFunction(stack, 'Documented');
    const tickDlq = new sqs.Queue(stack, 'TickDlq', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    deadLetterQueueAlarm(stack, {}, tickDlq, 'test', 'Tick');
    new events.Rule(stack, 'Tick', {
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(withDlq, { deadLetterQueue: tickDlq }),
        new targets.LambdaFunction(documented, { deadLetterQueue: tickDlq }),
      ],
    });
    const paths = new Map([[stack.getLogicalId(documented.node.defaultChild as lambda.CfnFunction), 'TestStack/Documented/Resource']]);
    expect(checkIds(stack, { paths })).toEqual(['async-failures']);
    const acknowledgements = [{ path: 'TestStack/Documented', id: 'Serverless-LambdaDLQ', reason: 'a lost tick loses nothing' }];
    expect(checkIds(stack, { paths, acknowledgements })).toEqual([]);
  });

  it('flag a stream event source mapping without an on-failure destination and with unbounded retries', () => {
    const stack = newStack();
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    inlineFunction(stack).addEventSource(new KinesisEventSource(stream, { startingPosition: lambda.StartingPosition.LATEST }));
    const messages = checkSecureDefaults(Template.fromStack(stack).toJSON() as CfnTemplate)
      .filter((f) => f.check === 'stream-failures')
      .map((f) => f.message);
    expect(messages).toEqual([expect.stringMatching(/without an on-failure destination/), expect.stringMatching(/unbounded retries/)]);
  });

  it('flag an SNS subscription without a RedrivePolicy', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic', { masterKey: new kms.Key(stack, 'Key'), enforceSSL: true });
    topic.addSubscription(new subs.LambdaSubscription(inlineFunction(stack)));
    expect(checkIds(stack)).toEqual(expect.arrayContaining(['async-failures', 'subscription-redrive']));
  });

  it('flag Allow statements with * or service:* actions, or NotAction, but not Deny statements or prefixed wildcards', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:*'], resources: ['*'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }));
    role.addToPolicy(new iam.PolicyStatement({ notActions: ['iam:*'], resources: ['*'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey*'], resources: ['*'] }));
    role.addToPolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: ['*'] }));
    const messages = checkSecureDefaults(Template.fromStack(stack).toJSON() as CfnTemplate).map((f) => f.message);
    expect(messages.sort()).toEqual(['Allow *', 'Allow sqs:*', 'Allow statement with NotAction "iam:*"']);
  });

  it("name the account's root principal of a default KMS key policy", () => {
    const stack = newStack();
    new kms.Key(stack, 'Key');
    expect(checkSecureDefaults(Template.fromStack(stack).toJSON() as CfnTemplate).map((f) => f.message)).toEqual([
      "Allow kms:* to the account's root principal",
    ]);
  });

  it('read references from Ref, Fn::GetAtt and Fn::Sub, leaving pseudo parameters out', () => {
    expect([
      ...refsIn({
        a: { Ref: 'A' },
        b: { 'Fn::GetAtt': ['B', 'Arn'] },
        c: { 'Fn::Sub': 'arn:${AWS::Partition}:${C.Arn}/${D}' },
        d: { Ref: 'AWS::Region' },
      }),
    ]).toEqual(['A', 'B', 'C', 'D']);
  });
});

describe('acknowledgement reasons', () => {
  it.each(['', 'suppressed', 'N/A', 'test', 'False positive.', 'needed'])('rejects %p', (reason) => {
    expect(reasonProblem(reason)).toBeDefined();
  });

  it('accepts a reason that says what the rule asks and why this resource need not', () => {
    expect(reasonProblem('This queue is the dead-letter queue of the work queue: a DLQ needs no DLQ of its own.')).toBeUndefined();
  });
});
