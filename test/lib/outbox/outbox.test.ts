import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EventRouter, MessagingPatternsError, OutboxTarget, OutboxTargetKind, TransactionalOutbox } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';
import { joinedJson } from './template';

const relayConfig = (stack: Stack): Record<string, unknown> => {
  const fns = template(stack).findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('Outbox relay') },
  });
  return joinedJson(Object.values(fns)[0].Properties.Environment.Variables.OUTBOX_RELAY_CONFIG);
};

const codesOf = (build: () => void): readonly string[] => {
  try {
    build();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error.codes;
    throw error;
  }
  throw new Error('no error thrown');
};

describe('TransactionalOutbox', () => {
  describe('defaults', () => {
    let stack: Stack;
    let outbox: TransactionalOutbox;
    beforeEach(() => {
      stack = newStack();
      outbox = new TransactionalOutbox(stack, 'Orders');
    });

    it('creates the outbox table: pk/sk strings, on-demand, NEW_IMAGE stream, TTL on expiresAt, PITR, encrypted, RETAIN', () => {
      const t = template(stack);
      t.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      expect(outbox.encryptionKey).toBeUndefined();
    });

    it('creates an EventRouter as the default target, with the construct id as event source', () => {
      expect(outbox.eventRouter).toBeInstanceOf(EventRouter);
      expect(outbox.target.kind).toBe(OutboxTargetKind.EVENT_BUS);
      expect(outbox.eventSource).toBe('Orders');
      template(stack).resourceCountIs('AWS::Events::EventBus', 1);
      expect(relayConfig(stack)).toMatchObject({
        target: { kind: 'eventbridge', eventBusName: expect.stringMatching(/^\$\{OrdersRouterBus/) },
        source: 'Orders',
        maxDeliveryAttempts: 3,
        publishedRetentionSeconds: 604800,
        tableName: expect.stringMatching(/^\$\{Orders[A-F0-9]{8}\}$/),
        deadLetterQueueUrl: expect.stringMatching(/^\$\{OrdersOnFailureQueue/),
      });
    });

    it('maps the stream to the relay: outbox inserts only, parallelization 1, bisect, partial responses, 3 retries, 12-hour record age, on-failure queue', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Orders'), 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 43200,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'Arn'] } } },
        FilterCriteria: {
          Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { recordType: { S: ['outbox'] } } } }) }],
        },
      });
    });

    it('runs the kit relay on nodejs24.x, arm64, 256 MB, 1-minute timeout, tracing, one-month logs', () => {
      template(stack).hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('Outbox relay of TestStack/Orders'),
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 60,
        TracingConfig: { Mode: 'Active' },
      });
      template(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('grants the relay the stream, its marks, the bus and the on-failure queue, before the mapping exists', () => {
      const t = template(stack);
      const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
      expect(actions).toEqual(
        expect.arrayContaining([
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:ListStreams',
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:UpdateItem',
          'events:PutEvents',
          'sqs:SendMessage',
        ]),
      );
      const esm = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/RelayRoleDefaultPolicy/), expect.stringMatching(/ListStreamsPolicy/)]),
      );
    });

    it('creates the on-failure queue encrypted, TLS-only, with 14-day retention', () => {
      template(stack).hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
      expect(outbox.onFailureQueue).toBeDefined();
    });

    it('creates the iterator-age alarm at 6 hours for 3 minutes and the on-failure alarm on the first message', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Threshold: 21_600_000,
        EvaluationPeriods: 3,
        Statistic: 'Maximum',
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'QueueName'] } }],
      });
      // The router's routes bring their own; the outbox has two.
      expect(
        outbox.node
          .findChild('Alarms')
          .node.children.map((c) => c.node.id)
          .sort(),
      ).toEqual(['IteratorAgeTooHigh', 'OnFailureDestinationNotEmpty']);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });

    it('exposes metrics', () => {
      expect(outbox.metricIteratorAge().metricName).toBe('IteratorAge');
      expect(outbox.metricOnFailureMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(outbox.metricRelayErrors().statistic).toBe('Sum');
      expect(outbox.dashboardMetrics).toHaveLength(3);
    });
  });

  it('connectProducer grants the writes and sets OUTBOX_TABLE_NAME and the command retention', () => {
    const stack = newStack();
    const outbox = new TransactionalOutbox(stack, 'Orders', { commandRetention: Duration.days(1) });
    const producer = inlineFunction(stack, 'Producer');
    outbox.connectProducer(producer);
    const t = template(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: { OUTBOX_TABLE_NAME: { Ref: Match.anyValue() }, OUTBOX_COMMAND_RETENTION_SECONDS: '86400' } },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProducerServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem'], Effect: 'Allow' }),
        ]),
      },
    });
  });

  it('grants key actions on a customer managed key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const outbox = new TransactionalOutbox(stack, 'Orders', { encryptionKey: key });
    outbox.connectProducer(inlineFunction(stack, 'Producer'));
    const t = template(stack);
    t.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS' } });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProducerServiceRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] })]) },
    });
    expect(outbox.encryptionKey).toBe(key);
  });

  it('publishes to an SNS FIFO topic with least privilege', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Events', { fifo: true, masterKey: key, enforceSSL: true });
    const outbox = new TransactionalOutbox(stack, 'Orders', { target: OutboxTarget.snsTopic(topic) });
    expect(outbox.eventRouter).toBeUndefined();
    expect(outbox.target.topic).toBe(topic);
    expect(relayConfig(stack).target).toEqual({ kind: 'sns', topicArn: expect.stringMatching(/^\$\{Events/) });
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('Events') } }),
          Match.objectLike({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
        ]),
      },
    });
    expect(warnings(stack)).toEqual([]);
  });

  it('warns when the SNS topic is a standard one (no order per aggregate)', () => {
    const stack = newStack();
    new TransactionalOutbox(stack, 'Orders', { target: OutboxTarget.snsTopic(new sns.Topic(stack, 'Events')) });
    expect(warnings(stack).join('\n')).toMatch(/standard SNS topic/);
  });

  it('publishes to a Kinesis stream with PutRecords and GenerateDataKey only', () => {
    const stack = newStack();
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.KMS });
    new TransactionalOutbox(stack, 'Orders', { target: OutboxTarget.kinesisStream(stream) });
    expect(relayConfig(stack).target).toMatchObject({ kind: 'kinesis' });
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['kinesis:PutRecords', 'kinesis:PutRecord', 'kinesis:ListShards'] }),
          Match.objectLike({ Action: 'kms:GenerateDataKey' }),
        ]),
      },
    });
  });

  it('publishes to an EventRouter or any bus given', () => {
    const stack = newStack();
    const router = new EventRouter(stack, 'Router');
    const a = new TransactionalOutbox(stack, 'A', { target: OutboxTarget.eventRouter(router), eventSource: 'shop.orders' });
    const b = new TransactionalOutbox(stack, 'B', {
      target: OutboxTarget.eventBus(events.EventBus.fromEventBusName(stack, 'Bus', 'shared')),
    });
    expect(a.target.router).toBe(router);
    expect(a.eventSource).toBe('shop.orders');
    expect(b.target.bus?.eventBusName).toBe('shared');
  });

  it('uses an existing table with a stream as it is', () => {
    const stack = newStack();
    const table = new dynamodb.Table(stack, 'Single', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const outbox = new TransactionalOutbox(stack, 'Orders', { existingTable: table });
    expect(outbox.table).toBe(table);
    template(stack).resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  it('honours the mapping and relay settings', () => {
    const stack = newStack();
    new TransactionalOutbox(stack, 'Orders', {
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(2),
      retryAttempts: 10,
      maxRecordAge: Duration.hours(2),
      maxDeliveryAttempts: 5,
      publishedRecordRetention: Duration.days(1),
      relayTimeout: Duration.minutes(3),
      enabled: false,
      alarms: { overrides: { IteratorAgeTooHigh: { threshold: 60_000 }, OnFailureDestinationNotEmpty: { enabled: false } } },
    });
    const t = template(stack);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 2,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 7200,
      Enabled: false,
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('Outbox relay'), Timeout: 180 });
    expect(relayConfig(stack)).toMatchObject({ maxDeliveryAttempts: 5, publishedRetentionSeconds: 86400 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000 });
    t.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: Match.arrayWith([
          Match.objectLike({ Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersOnFailureQueue'), 'QueueName'] } }),
        ]),
      },
      0,
    );
  });

  it('warns about a producer imported without its role: what to grant and what to set', () => {
    const stack = newStack();
    const outbox = new TransactionalOutbox(stack, 'Orders');
    const grant = outbox.connectProducer(
      lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:x'),
    );
    expect(grant.success).toBe(false);
    const all = warnings(stack).join('\n');
    expect(all).toMatch(/could not grant it dynamodb:PutItem/);
    expect(all).toMatch(/set OUTBOX_TABLE_NAME, OUTBOX_COMMAND_RETENTION_SECONDS yourself/);
  });

  describe('validation', () => {
    it('fails if existingTable comes with table props', () => {
      const stack = newStack();
      const table = dynamodb.Table.fromTableAttributes(stack, 'T', {
        tableName: 't',
        tableStreamArn: 'arn:aws:dynamodb:us-east-1:1:table/t/stream/x',
      });
      expect(
        codesOf(() => new TransactionalOutbox(stack, 'O', { existingTable: table, tableName: 'orders', pointInTimeRecovery: false })),
      ).toEqual(['tableName:conflict', 'pointInTimeRecovery:conflict']);
    });

    it('fails if the existing table has no stream, or a stream without new images', () => {
      const stack = newStack();
      const noStream = dynamodb.Table.fromTableName(stack, 'T', 't');
      expect(codesOf(() => new TransactionalOutbox(stack, 'A', { existingTable: noStream }))).toEqual(['existingTable:required']);
      const keysOnly = new dynamodb.Table(stack, 'K', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        stream: dynamodb.StreamViewType.KEYS_ONLY,
      });
      expect(codesOf(() => new TransactionalOutbox(stack, 'B', { existingTable: keysOnly }))).toEqual(['existingTable:unsupported']);
    });

    it('fails if the mapping settings are out of range', () => {
      const stack = newStack();
      expect(
        codesOf(
          () =>
            new TransactionalOutbox(stack, 'O', {
              batchSize: 0,
              maxBatchingWindow: Duration.minutes(6),
              retryAttempts: -1,
              maxRecordAge: Duration.hours(25),
            }),
        ),
      ).toEqual(['batchSize:range', 'maxBatchingWindow:range', 'retryAttempts:range', 'maxRecordAge:range']);
    });

    it('fails if maxDeliveryAttempts exceeds the attempts Lambda makes', () => {
      const stack = newStack();
      expect(codesOf(() => new TransactionalOutbox(stack, 'O', { retryAttempts: 1, maxDeliveryAttempts: 3 }))).toEqual([
        'maxDeliveryAttempts:range',
      ]);
    });

    it('fails if the retentions and timeout are out of range', () => {
      const stack = newStack();
      expect(
        codesOf(
          () =>
            new TransactionalOutbox(stack, 'O', {
              publishedRecordRetention: Duration.seconds(10),
              commandRetention: Duration.days(400),
              relayTimeout: Duration.minutes(16),
            }),
        ),
      ).toEqual(['publishedRecordRetention:range', 'commandRetention:range', 'relayTimeout:range']);
    });

    it("fails if the event source is reserved by AWS ('aws.')", () => {
      expect(codesOf(() => new TransactionalOutbox(newStack(), 'O', { eventSource: 'aws.orders' }))).toEqual(['eventSource:format']);
    });

    it('fails if encryptionKey comes without CUSTOMER_MANAGED encryption', () => {
      const stack = newStack();
      expect(
        codesOf(
          () =>
            new TransactionalOutbox(stack, 'O', {
              encryption: dynamodb.TableEncryption.AWS_MANAGED,
              encryptionKey: new kms.Key(stack, 'K'),
            }),
        ),
      ).toEqual(['encryptionKey:conflict']);
    });

    it('fails if the on-failure queue is unencrypted, without TLS or FIFO', () => {
      expect(
        codesOf(
          () =>
            new TransactionalOutbox(newStack(), 'O', {
              onFailureQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED, enforceSSL: false, fifo: true },
            }),
        ),
      ).toEqual([
        'onFailureQueueProps.encryption:insecure',
        'onFailureQueueProps.enforceSSL:insecure',
        'onFailureQueueProps.fifo:unsupported',
      ]);
    });

    it('fails if an alarm override names an unknown alarm, or the iterator-age threshold is past maxRecordAge', () => {
      expect(
        codesOf(
          () =>
            new TransactionalOutbox(newStack(), 'O', {
              maxRecordAge: Duration.hours(1),
              alarms: { overrides: { Nope: {}, IteratorAgeTooHigh: { threshold: 3_600_000 } } },
            }),
        ),
      ).toEqual(['alarms.overrides.IteratorAgeTooHigh.threshold:range', 'alarms.overrides:unknown']);
    });

    it('fails with the kit error type and the construct path', () => {
      expect(() => new TransactionalOutbox(newStack(), 'O', { batchSize: 0 })).toThrow(
        /\[TestStack\/O\] batchSize must be an integer between 1 and 10000 \(given 0\) \[batchSize:range\]/,
      );
    });
  });

  describe('cdk-nag', () => {
    it('passes AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        new TransactionalOutbox(stack, 'Bus');
        const topic = new sns.Topic(stack, 'Topic', {
          fifo: true,
          enforceSSL: true,
          masterKey: new kms.Key(stack, 'K', { enableKeyRotation: true }),
        });
        new TransactionalOutbox(stack, 'Fifo', {
          target: OutboxTarget.snsTopic(topic),
          encryptionKey: new kms.Key(stack, 'TableKey', { enableKeyRotation: true }),
        });
        const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.KMS });
        new TransactionalOutbox(stack, 'Kinesis', { target: OutboxTarget.kinesisStream(stream) });
      });
      expect(findings.filter((f) => /\/(Bus|Fifo|Kinesis)\//.test(f.path))).toEqual([]);
    });
  });
});
