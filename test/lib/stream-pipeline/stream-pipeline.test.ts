import { App, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MessagingPatternsError, StreamPipeline, type StreamPipelineProps } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every statement of the policies attached to the role whose logical id matches `role`. */
function statementsOf(stack: Stack, role: RegExp): Statement[] {
  const policies = template(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => role.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

/** The problem codes a construction fails with ([] when it does not fail). */
function codesOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error.codes;
    throw error;
  }
  return [];
}

const READ_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:SubscribeToShard',
];

describe('StreamPipeline', () => {
  describe('defaults', () => {
    let stack: Stack;
    let pipeline: StreamPipeline;
    beforeEach(() => {
      stack = newStack();
      pipeline = new StreamPipeline(stack, 'Clicks', { consumer: inlineFunction(stack) });
    });

    it('creates an on-demand stream with 24-hour retention, encrypted with a new customer managed key', () => {
      template(stack).resourceCountIs('AWS::Kinesis::Stream', 1);
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', {
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        ShardCount: Match.absent(),
        RetentionPeriodHours: 24,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClicksKey'), 'Arn'] } },
      });
      expect(pipeline.stream.node.path).toBe('TestStack/Clicks/Resource');
      expect(pipeline.encryptionKey).toBeDefined();
      expect(pipeline.retentionPeriod?.toHours()).toBe(24);
    });

    it('gives the key rotation, and keeps stream and key on stack deletion (the key goes with the stream)', () => {
      template(stack).resourceCountIs('AWS::KMS::Key', 1);
      template(stack).hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
      template(stack).hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Retain' });
    });

    it('maps the stream to the consumer: TRIM_HORIZON, 100 records, bisect, partial batch responses, 3 retries, 12-hour record age, on-failure queue', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('^Consumer') },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clicks'), 'Arn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 43200,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClicksOnFailureQueue'), 'Arn'] } } },
        ParallelizationFactor: Match.absent(),
        TumblingWindowInSeconds: Match.absent(),
        MaximumBatchingWindowInSeconds: Match.absent(),
        Enabled: Match.absent(),
      });
      expect(pipeline.maxRecordAge.toHours()).toBe(12);
      expect(pipeline.retryAttempts).toBe(3);
    });

    it('creates one on-failure queue: SSE-SQS, 14-day retention, TLS only, no redrive policy of its own', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      t.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
        RedrivePolicy: Match.absent(),
        FifoQueue: Match.absent(),
      });
      const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(1);
      expect(policies[0].Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('grants the consumer least-privilege reads, kms:Decrypt and sending to the on-failure queue', () => {
      const statements = statementsOf(stack, /^ConsumerServiceRole/);
      expect(actionsOf(statements)).toEqual(
        [
          ...READ_ACTIONS,
          'kms:Decrypt',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
          // from the function's basic execution role: none (CloudWatch Logs is a managed policy)
        ].sort(),
      );
      expect(statements.find((s) => s.Action === 'kms:Decrypt')?.Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^ClicksKey/), 'Arn'],
      });
    });

    it('creates the mapping after the consumer policy', () => {
      const esm = Object.values(template(stack).findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ConsumerServiceRoleDefaultPolicy/)]));
    });

    it('creates an iterator-age alarm on the stream at half the record age, and an on-failure alarm at 1 message', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Kinesis',
        MetricName: 'GetRecords.IteratorAgeMilliseconds',
        Dimensions: [{ Name: 'StreamName', Value: { Ref: Match.stringLikeRegexp('^Clicks') } }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 21_600_000,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp('6 hours or more behind the stream'),
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClicksOnFailureQueue'), 'QueueName'] } }],
        Threshold: 1,
        EvaluationPeriods: 1,
        AlarmDescription: Match.stringLikeRegexp('not the records'),
      });
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      expect(pipeline.alarms.map((a) => a.node.id).sort()).toEqual(['IteratorAgeTooHigh', 'OnFailureDestinationNotEmpty']);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes metrics with the kit period and statistics', () => {
      const age = pipeline.metricIteratorAge();
      expect([age.namespace, age.metricName, age.statistic, age.period.toSeconds()]).toEqual([
        'AWS/Kinesis',
        'GetRecords.IteratorAgeMilliseconds',
        'Maximum',
        60,
      ]);
      expect(Object.keys(age.dimensions ?? {})).toEqual(['StreamName']);
      expect([pipeline.metricIncomingRecords().metricName, pipeline.metricIncomingRecords().statistic]).toEqual(['IncomingRecords', 'Sum']);
      expect(pipeline.metricIncomingBytes().metricName).toBe('IncomingBytes');
      expect(pipeline.metricReadThrottles().metricName).toBe('ReadProvisionedThroughputExceeded');
      expect(pipeline.metricWriteThrottles().metricName).toBe('WriteProvisionedThroughputExceeded');
      expect([pipeline.metricOnFailureMessages().metricName, pipeline.metricOnFailureMessages().statistic]).toEqual([
        'ApproximateNumberOfMessagesVisible',
        'Maximum',
      ]);
      expect(pipeline.metricIncomingRecords({ period: Duration.minutes(5) }).period.toSeconds()).toBe(300);
    });
  });

  describe('the stream', () => {
    it('is provisioned with the given shards when shardCount is given', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), streamProps: { shardCount: 4 } });
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
    });

    it('keeps an explicit PROVISIONED mode (1 shard, CDK default)', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), streamProps: { streamMode: kinesis.StreamMode.PROVISIONED } });
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 1, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
    });

    it('uses the AWS managed alias/aws/kinesis key with encryption MANAGED: no key, no KMS grant', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        streamProps: { encryption: kinesis.StreamEncryption.MANAGED },
      });
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', {
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      });
      template(stack).resourceCountIs('AWS::KMS::Key', 0);
      expect(p.encryptionKey).toBeUndefined();
      expect(actionsOf(statementsOf(stack, /^ConsumerServiceRole/)).filter((a) => a.startsWith('kms:'))).toEqual([]);
    });

    it('uses a given key', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Mine', { enableKeyRotation: true });
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), streamProps: { encryptionKey: key } });
      template(stack).resourceCountIs('AWS::KMS::Key', 1);
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', {
        StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Mine'), 'Arn'] } },
      });
      expect(p.encryptionKey).toBe(key);
    });

    it('removes the key with the stream when the stream is destroyed', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), streamProps: { removalPolicy: RemovalPolicy.DESTROY } });
      template(stack).hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
      template(stack).hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
    });

    it('passes other stream props through (name, shard-level metrics)', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        streamProps: { streamName: 'clicks', shardLevelMetrics: [kinesis.ShardLevelMetrics.ITERATOR_AGE_MILLISECONDS] },
      });
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', {
        Name: 'clicks',
        DesiredShardLevelMetrics: ['IteratorAgeMilliseconds'],
      });
    });

    it.each([
      [48, 86_400, 43_200_000],
      [8760, 604_800, 302_400_000],
      [25, 45_000, 22_500_000],
    ])('derives record age and alarm threshold from a %p-hour retention', (hours, ageSeconds, thresholdMs) => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        streamProps: { retentionPeriod: Duration.hours(hours) },
      });
      template(stack).hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: hours });
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRecordAgeInSeconds: ageSeconds });
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'GetRecords.IteratorAgeMilliseconds',
        Threshold: thresholdMs,
      });
      expect(p.maxRecordAge.toSeconds()).toBe(ageSeconds);
    });
  });

  describe('the event source mapping', () => {
    it('takes every mapping option', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        batchSize: 500,
        maxBatchingWindow: Duration.seconds(5),
        startingPosition: lambda.StartingPosition.LATEST,
        retryAttempts: 0,
        maxRecordAge: Duration.hours(1),
        parallelizationFactor: 10,
        tumblingWindow: Duration.minutes(15),
        enabled: false,
      });
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 5,
        StartingPosition: 'LATEST',
        MaximumRetryAttempts: 0,
        MaximumRecordAgeInSeconds: 3600,
        ParallelizationFactor: 10,
        TumblingWindowInSeconds: 900,
        Enabled: false,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      // The alarm follows the record age: half of it.
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'GetRecords.IteratorAgeMilliseconds',
        Threshold: 1_800_000,
      });
    });

    it('starts at a timestamp', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
        startingPositionTimestamp: 1_700_000_000,
      });
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        StartingPosition: 'AT_TIMESTAMP',
        StartingPositionTimestamp: 1_700_000_000,
      });
    });

    it('encrypts the on-failure queue with a key when asked, and grants the consumer only what sending needs', () => {
      const stack = newStack();
      new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        streamProps: { encryption: kinesis.StreamEncryption.MANAGED },
        onFailureQueueProps: { encryption: sqs.QueueEncryption.KMS, retentionPeriod: Duration.days(4) },
      });
      template(stack).resourceCountIs('AWS::KMS::Key', 1);
      template(stack).hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template(stack).hasResourceProperties('AWS::SQS::Queue', {
        MessageRetentionPeriod: 345600,
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueueKey'), 'Arn'] },
      });
      expect(actionsOf(statementsOf(stack, /^ConsumerServiceRole/)).filter((a) => a.startsWith('kms:'))).toEqual([
        'kms:Decrypt',
        'kms:GenerateDataKey',
      ]);
    });

    it('warns, and grants nothing, for a consumer imported without its role', () => {
      const stack = newStack();
      const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:111122223333:function:reader');
      new StreamPipeline(stack, 'P', { consumer: fn });
      expect(warnings(stack).join('\n')).toMatch(/imported without its role.*read access to the stream \(kms:Decrypt on its key\)/);
      template(stack).resourceCountIs('AWS::IAM::Policy', 0);
      template(stack).resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    });
  });

  describe('enhanced fan-out', () => {
    let stack: Stack;
    let pipeline: StreamPipeline;
    beforeEach(() => {
      stack = newStack();
      pipeline = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), enhancedFanOut: true, consumerName: 'reader' });
    });

    it('registers a stream consumer and maps it, not the stream, to the function', () => {
      template(stack).hasResourceProperties('AWS::Kinesis::StreamConsumer', {
        ConsumerName: 'reader',
        StreamARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^P'), 'Arn'] },
      });
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PConsumer'), 'ConsumerARN'] },
      });
      expect(pipeline.streamConsumer).toBeDefined();
    });

    it('grants the function the stream reads and the consumer subscription, before the mapping', () => {
      const statements = statementsOf(stack, /^ConsumerServiceRole/);
      const onConsumer = statements.find((s) => JSON.stringify(s.Resource).includes('ConsumerARN'));
      expect(onConsumer?.Action).toEqual(['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard']);
      expect(actionsOf(statements)).toEqual(expect.arrayContaining(READ_ACTIONS));
      const esm = Object.values(template(stack).findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ConsumerServiceRoleDefaultPolicy/)]));
    });

    it("alarms on the consumer's MillisBehindLatest", () => {
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'SubscribeToShardEvent.MillisBehindLatest',
        Dimensions: Match.arrayWith([
          { Name: 'ConsumerName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PConsumer'), 'ConsumerName'] } },
          { Name: 'StreamName', Value: { Ref: Match.stringLikeRegexp('^P') } },
        ]),
        Threshold: 21_600_000,
      });
    });

    it('derives a consumer name when none is given', () => {
      const s = newStack();
      new StreamPipeline(s, 'Orders', { consumer: inlineFunction(s), enhancedFanOut: true });
      const consumer = Object.values(template(s).findResources('AWS::Kinesis::StreamConsumer'))[0];
      expect(consumer.Properties.ConsumerName).toMatch(/^[a-zA-Z0-9_.-]{1,128}$/);
      expect(consumer.Properties.ConsumerName).toMatch(/Orders/);
    });
  });

  describe('an existing stream', () => {
    it('is used as it is, with its retention and key read from the kinesis.Stream', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const mine = new kinesis.Stream(stack, 'Mine', { retentionPeriod: Duration.hours(72), encryptionKey: key });
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), existingStream: mine });
      expect(p.stream).toBe(mine);
      expect(p.encryptionKey).toBe(key);
      expect(p.retentionPeriod?.toHours()).toBe(72);
      expect(p.maxRecordAge.toHours()).toBe(36);
      template(stack).resourceCountIs('AWS::Kinesis::Stream', 1);
      template(stack).resourceCountIs('AWS::KMS::Key', 1);
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Mine'), 'Arn'] },
        MaximumRecordAgeInSeconds: 129_600,
      });
      expect(warnings(stack)).toEqual([]);
    });

    it("assumes Kinesis's minimum retention (24 hours) for an imported stream", () => {
      const stack = newStack();
      const imported = kinesis.Stream.fromStreamArn(stack, 'Imported', 'arn:aws:kinesis:eu-west-1:111122223333:stream/clicks');
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), existingStream: imported });
      expect(p.retentionPeriod).toBeUndefined();
      expect(p.maxRecordAge.toHours()).toBe(12);
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/clicks',
      });
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Dimensions: [{ Name: 'StreamName', Value: 'clicks' }] });
    });

    it('grants the key of an imported stream when it is given', () => {
      const stack = newStack();
      const key = kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
      const imported = kinesis.Stream.fromStreamAttributes(stack, 'Imported', {
        streamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/clicks',
        encryptionKey: key,
      });
      new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), existingStream: imported });
      expect(statementsOf(stack, /^ConsumerServiceRole/).find((s) => s.Action === 'kms:Decrypt')?.Resource).toBe(key.keyArn);
    });

    it('warns when the existing stream is not encrypted', () => {
      const stack = newStack();
      const plain = new kinesis.Stream(stack, 'Plain', { encryption: kinesis.StreamEncryption.UNENCRYPTED });
      new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), existingStream: plain });
      expect(warnings(stack).join('\n')).toMatch(/existingStream TestStack\/Plain is not encrypted at rest/);
    });
  });

  describe('grants and wiring', () => {
    it('grantWrite grants putting records and only kms:GenerateDataKey on the key', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack) });
      const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const grant = p.grantWrite(role);
      expect(grant.success).toBe(true);
      expect(actionsOf(statementsOf(stack, /^Producer/))).toEqual([
        'kinesis:ListShards',
        'kinesis:PutRecord',
        'kinesis:PutRecords',
        'kms:GenerateDataKey',
      ]);
    });

    it('grantWrite on a stream with the AWS managed key grants the stream only', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        streamProps: { encryption: kinesis.StreamEncryption.MANAGED },
      });
      const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      p.grantWrite(role);
      expect(actionsOf(statementsOf(stack, /^Producer/))).toEqual(['kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords']);
    });

    it('grantRead grants the stream reads and only kms:Decrypt', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack) });
      const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      p.grantRead(role);
      expect(actionsOf(statementsOf(stack, /^Operator/))).toEqual([...READ_ACTIONS, 'kms:Decrypt'].sort());
    });

    it('grantConsumeOnFailureMessages lets an operator read and delete the on-failure queue', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack) });
      const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      p.grantConsumeOnFailureMessages(role);
      expect(actionsOf(statementsOf(stack, /^Operator/))).toEqual(
        expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
      );
    });

    it("connectProducer grants writing and sets STREAM_NAME and STREAM_ARN in the producer's environment", () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack) });
      const producer = inlineFunction(stack, 'Producer');
      p.connectProducer(producer);
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            STREAM_NAME: { Ref: Match.stringLikeRegexp('^P') },
            STREAM_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^P'), 'Arn'] },
          },
        },
      });
      expect(actionsOf(statementsOf(stack, /^ProducerServiceRole/))).toEqual([
        'kinesis:ListShards',
        'kinesis:PutRecord',
        'kinesis:PutRecords',
        'kms:GenerateDataKey',
      ]);
    });

    it('connectProducer warns for an imported function, naming the variables', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack) });
      const role = new iam.Role(stack, 'ProducerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const imported = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
        functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:producer',
        role,
      });
      expect(p.connectProducer(imported).success).toBe(true);
      expect(warnings(stack).join('\n')).toMatch(/set STREAM_NAME, STREAM_ARN yourself/);
      expect(actionsOf(statementsOf(stack, /^ProducerRole/))).toContain('kinesis:PutRecords');
    });

    it('connectProducer warns, and grants nothing, for a function imported without its role', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack) });
      const grant = p.connectProducer(
        lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:111122223333:function:producer'),
      );
      expect(grant.success).toBe(false);
      expect(warnings(stack).join('\n')).toMatch(/producer TestStack\/Imported was imported without its role.*kinesis:PutRecord/);
    });
  });

  describe('alarms', () => {
    it('wires both alarms to the topic, for ALARM and OK', () => {
      const stack = newStack();
      const topic = new sns.Topic(stack, 'Ops');
      new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), alarms: { alarmTopic: topic } });
      const alarms = Object.values(template(stack).findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(2);
      for (const a of alarms) {
        expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
        expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
      }
    });

    it('takes overrides by alarm id, and turns alarms off', () => {
      const stack = newStack();
      const p = new StreamPipeline(stack, 'P', {
        consumer: inlineFunction(stack),
        alarms: {
          overrides: { IteratorAgeTooHigh: { threshold: 60_000, evaluationPeriods: 5 }, OnFailureDestinationNotEmpty: { enabled: false } },
        },
      });
      template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 1);
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'GetRecords.IteratorAgeMilliseconds',
        Threshold: 60_000,
        EvaluationPeriods: 5,
        AlarmDescription: Match.stringLikeRegexp('1 minute or more behind'),
      });
      expect(p.alarms.map((a) => a.node.id)).toEqual(['IteratorAgeTooHigh']);
    });

    it('adds alarms of your own to the same scope', () => {
      const stack = newStack();
      const consumer = inlineFunction(stack);
      const p = new StreamPipeline(stack, 'P', { consumer });
      const own = p.addAlarm('ConsumerErrors', { metric: consumer.metricErrors(), threshold: 1, evaluationPeriods: 1 });
      expect(own.node.path).toBe('TestStack/P/Alarms/ConsumerErrors');
      expect(p.alarms).toHaveLength(3);
    });
  });

  it('skips checks on token values instead of failing', () => {
    const stack = newStack();
    const n = Token.asNumber({ Ref: 'Size' });
    expect(
      codesOf(
        () =>
          new StreamPipeline(stack, 'P', {
            consumer: inlineFunction(stack),
            batchSize: n,
            retryAttempts: n,
            parallelizationFactor: n,
            streamProps: { retentionPeriod: Duration.hours(n), shardCount: n },
          }),
      ),
    ).toEqual([]);
  });

  describe('validation', () => {
    const build = (props: Partial<StreamPipelineProps>) => {
      const stack = newStack();
      return () => new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), ...props });
    };

    it('fails if existingStream and streamProps are both given', () => {
      const stack = newStack();
      const mine = new kinesis.Stream(stack, 'Mine');
      expect(
        codesOf(() => new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), existingStream: mine, streamProps: {} })),
      ).toEqual(['existingStream|streamProps:exclusive']);
    });

    it('fails if the stream would be unencrypted', () => {
      expect(codesOf(build({ streamProps: { encryption: kinesis.StreamEncryption.UNENCRYPTED } }))).toEqual([
        'streamProps.encryption:insecure',
      ]);
      expect(build({ streamProps: { encryption: kinesis.StreamEncryption.UNENCRYPTED } })).toThrow(
        /streamProps.encryption must not be UNENCRYPTED: the kit encrypts every stream at rest/,
      );
    });

    it('fails if a key is given with the AWS managed key', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'K');
      expect(
        codesOf(
          () =>
            new StreamPipeline(stack, 'P', {
              consumer: inlineFunction(stack),
              streamProps: { encryption: kinesis.StreamEncryption.MANAGED, encryptionKey: key },
            }),
        ),
      ).toEqual(['streamProps.encryptionKey:conflict']);
    });

    it('fails if shards are given for an on-demand stream', () => {
      expect(codesOf(build({ streamProps: { streamMode: kinesis.StreamMode.ON_DEMAND, shardCount: 2 } }))).toEqual([
        'streamProps.shardCount:conflict',
      ]);
    });

    it.each([0, 1.5])('fails if shardCount is %p', (n) => {
      expect(build({ streamProps: { shardCount: n } })).toThrow(
        new RegExp(`streamProps.shardCount must be an integer of at least 1 \\(given ${n}\\) \\[streamProps.shardCount:range\\]`),
      );
    });

    it.each([
      [Duration.hours(12), '43200 seconds'],
      [Duration.hours(8761), '31539600 seconds'],
      [Duration.minutes(24 * 60 + 30), '88200 seconds'],
    ])('fails if the retention is %p', (retentionPeriod, given) => {
      expect(build({ streamProps: { retentionPeriod } })).toThrow(
        new RegExp(
          `retentionPeriod must be a whole number of hours between 24 and 8760 \\(given ${given}\\) \\[streamProps.retentionPeriod:range\\]`,
        ),
      );
    });

    it.each([0, 10_001, 2.5])('fails if batchSize is %p', (n) => {
      expect(build({ batchSize: n })).toThrow(
        new RegExp(`batchSize must be an integer between 1 and 10000 \\(given ${n}\\) \\[batchSize:range\\]`),
      );
    });

    it('fails if the batching window is above 5 minutes', () => {
      expect(codesOf(build({ maxBatchingWindow: Duration.seconds(301) }))).toEqual(['maxBatchingWindow:range']);
    });

    it.each([0, 11])('fails if parallelizationFactor is %p', (n) => {
      expect(build({ parallelizationFactor: n })).toThrow(
        new RegExp(`parallelizationFactor must be an integer between 1 and 10 \\(given ${n}\\) \\[parallelizationFactor:range\\]`),
      );
    });

    it('fails if the tumbling window is above 15 minutes', () => {
      expect(build({ tumblingWindow: Duration.minutes(16) })).toThrow(
        /tumblingWindow must be between 0 seconds and 900 seconds \(given 960 seconds\) \[tumblingWindow:range\]/,
      );
    });

    it.each([-1, 10_001, 1.5])('fails if retryAttempts is %p: never infinite', (n) => {
      expect(build({ retryAttempts: n })).toThrow(
        new RegExp(
          `retryAttempts must be an integer between 0 and 10000: the kit never retries until records expire \\(given ${n}\\) \\[retryAttempts:range\\]`,
        ),
      );
    });

    it.each([Duration.seconds(59), Duration.days(8)])('fails if maxRecordAge is %p', (maxRecordAge) => {
      expect(build({ maxRecordAge })).toThrow(/maxRecordAge must be between 60 seconds and 604800 seconds .*\[maxRecordAge:range\]/);
    });

    it("fails if maxRecordAge exceeds the stream's retention", () => {
      expect(build({ maxRecordAge: Duration.hours(25) })).toThrow(
        /maxRecordAge must not exceed the stream's retention: records expire first \(given 90000 seconds, retention 86400 seconds\) \[maxRecordAge:range\]/,
      );
      // An existing kinesis.Stream's retention counts too.
      const stack = newStack();
      const mine = new kinesis.Stream(stack, 'Mine', { retentionPeriod: Duration.hours(48) });
      expect(
        codesOf(
          () => new StreamPipeline(stack, 'P', { consumer: inlineFunction(stack), existingStream: mine, maxRecordAge: Duration.hours(49) }),
        ),
      ).toEqual(['maxRecordAge:range']);
    });

    it('fails if AT_TIMESTAMP has no timestamp, or a timestamp has no AT_TIMESTAMP, or it is not a time', () => {
      expect(codesOf(build({ startingPosition: lambda.StartingPosition.AT_TIMESTAMP }))).toEqual(['startingPositionTimestamp:required']);
      expect(codesOf(build({ startingPositionTimestamp: 1_700_000_000 }))).toEqual(['startingPositionTimestamp:conflict']);
      expect(codesOf(build({ startingPosition: lambda.StartingPosition.AT_TIMESTAMP, startingPositionTimestamp: -5 }))).toEqual([
        'startingPositionTimestamp:range',
      ]);
    });

    it('fails if consumerName is given without enhanced fan-out, or is not a valid name', () => {
      expect(codesOf(build({ consumerName: 'reader' }))).toEqual(['consumerName:conflict']);
      expect(build({ enhancedFanOut: true, consumerName: 'has space' })).toThrow(
        /consumerName must be 1 to 128 characters .* \(given 'has space'\) \[consumerName:format\]/,
      );
      expect(codesOf(build({ enhancedFanOut: true, consumerName: 'x'.repeat(129) }))).toEqual(['consumerName:format']);
    });

    it('fails if the on-failure queue would be unencrypted, without TLS, or FIFO', () => {
      expect(codesOf(build({ onFailureQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } }))).toEqual([
        'onFailureQueueProps.encryption:insecure',
      ]);
      expect(codesOf(build({ onFailureQueueProps: { enforceSSL: false } }))).toEqual(['onFailureQueueProps.enforceSSL:insecure']);
      expect(codesOf(build({ onFailureQueueProps: { fifo: true } }))).toEqual(['onFailureQueueProps.fifo:unsupported']);
    });

    it('fails if the on-failure queue has a key without KMS encryption', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'K');
      expect(
        codesOf(
          () =>
            new StreamPipeline(stack, 'P', {
              consumer: inlineFunction(stack),
              onFailureQueueProps: { encryption: sqs.QueueEncryption.SQS_MANAGED, encryptionMasterKey: key },
            }),
        ),
      ).toEqual(['onFailureQueueProps.encryptionMasterKey:conflict']);
    });

    it('fails if an alarm override names an alarm the pipeline does not create', () => {
      expect(build({ alarms: { overrides: { DeadLetterQueueNotEmpty: { enabled: false } } } })).toThrow(
        /its alarms: IteratorAgeTooHigh, OnFailureDestinationNotEmpty\) \[alarms.overrides:unknown\]/,
      );
    });

    it('fails if the iterator-age threshold is at or above maxRecordAge', () => {
      expect(build({ maxRecordAge: Duration.hours(1), alarms: { overrides: { IteratorAgeTooHigh: { threshold: 3_600_000 } } } })).toThrow(
        /threshold must be below maxRecordAge, or records are skipped before it fires \(given 3600000 milliseconds, maxRecordAge 3600000 milliseconds\) \[alarms.overrides.IteratorAgeTooHigh.threshold:range\]/,
      );
    });

    it('reports every problem together in one error naming the construct', () => {
      let error: unknown;
      try {
        build({
          batchSize: 0,
          retryAttempts: -1,
          parallelizationFactor: 20,
          consumerName: 'x',
          streamProps: { encryption: kinesis.StreamEncryption.UNENCRYPTED },
        })();
      } catch (e) {
        error = e;
      }
      expect(MessagingPatternsError.isMessagingPatternsError(error)).toBe(true);
      expect((error as MessagingPatternsError).codes).toEqual([
        'streamProps.encryption:insecure',
        'batchSize:range',
        'parallelizationFactor:range',
        'retryAttempts:range',
        'consumerName:conflict',
      ]);
      expect((error as Error).message).toMatch(/^\[TestStack\/P\]\n {2}- /);
    });
  });

  describe('security gate', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        new StreamPipeline(stack, 'Clicks', { consumer });
        new StreamPipeline(stack, 'Orders', { consumer, enhancedFanOut: true, streamProps: { shardCount: 2 } });
        new StreamPipeline(stack, 'Logs', {
          consumer,
          streamProps: { encryption: kinesis.StreamEncryption.MANAGED },
          onFailureQueueProps: { encryption: sqs.QueueEncryption.KMS },
        });
        const producer = inlineFunction(stack, 'Producer');
        new StreamPipeline(stack, 'Events', {
          consumer,
          existingStream: new kinesis.Stream(stack, 'Existing', { encryption: kinesis.StreamEncryption.MANAGED }),
        }).connectProducer(producer);
      });
      expect(findings.filter((f) => /\/(Clicks|Orders|Logs|Events)\//.test(f.path))).toEqual([]);
    });
  });
});
