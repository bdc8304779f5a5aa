import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EventStore, MessagingPatternsError, Projection, TransactionalOutbox } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';
import { joinedJson } from '../outbox/template';

const codesOf = (build: () => void): readonly string[] => {
  try {
    build();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error.codes;
    throw error;
  }
  throw new Error('no error thrown');
};

const envOf = (stack: Stack, fnId: string): Record<string, unknown> => {
  const fns = template(stack).findResources('AWS::Lambda::Function');
  const [, fn] = Object.entries(fns).find(([id]) => id.startsWith(fnId))!;
  return fn.Properties.Environment.Variables as Record<string, unknown>;
};

describe('EventStore', () => {
  describe('defaults', () => {
    let stack: Stack;
    let store: EventStore;
    beforeEach(() => {
      stack = newStack();
      store = new EventStore(stack, 'Accounts');
    });

    it('creates the event table: pk string, sk number, NEW_IMAGE stream, TTL (command records), PITR, encrypted, RETAIN', () => {
      template(stack).hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'N' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        DeletionPolicy: 'Retain',
      });
      expect(store.snapshotEvery).toBe(100);
      expect(store.payloadThresholdBytes).toBe(350_000);
    });

    it('creates a payload bucket (versioned, encrypted, TLS only, public access blocked, access logs, retained)', () => {
      const t = template(stack);
      t.hasResource('AWS::S3::Bucket', {
        Properties: {
          VersioningConfiguration: { Status: 'Enabled' },
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          LoggingConfiguration: {
            DestinationBucketName: { Ref: Match.stringLikeRegexp('AccessLogsBucket') },
            LogFilePrefix: 'TestStack-Accounts/',
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        },
        DeletionPolicy: 'Retain',
      });
      t.resourceCountIs('AWS::S3::Bucket', 2);
      expect(store.payloadBucket).toBeDefined();
    });

    it('creates no alarm of its own and adds no warnings', () => {
      template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
      expect(warnings(stack)).toEqual([]);
      expect(store.dashboardMetrics.map((m) => (m as unknown as { metricName: string }).metricName)).toEqual([
        'ConsumedWriteCapacityUnits',
        'TransactionConflict',
      ]);
    });
  });

  it('connectProducer grants appends and reads, and sets EVENT_STORE_CONFIG', () => {
    const stack = newStack();
    const store = new EventStore(stack, 'Accounts', {
      snapshotEvery: 50,
      commandRetention: Duration.days(2),
      payloadThresholdBytes: 100_000,
    });
    store.connectProducer(inlineFunction(stack, 'Handler'));
    const config = joinedJson(envOf(stack, 'Handler').EVENT_STORE_CONFIG);
    expect(config).toEqual({
      tableName: expect.stringMatching(/^\$\{Accounts/),
      bucketName: expect.stringMatching(/^\$\{AccountsPayloadBucket/),
      snapshotEvery: 50,
      payloadThresholdBytes: 100000,
      commandRetentionSeconds: 172800,
    });
    const statements = Object.values(template(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('HandlerServiceRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:ConditionCheckItem',
        's3:GetObject',
        's3:PutObject',
      ]),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:DeleteItem');
  });

  it('connectConsumer grants reads only', () => {
    const stack = newStack();
    new EventStore(stack, 'Accounts').connectConsumer(inlineFunction(stack, 'Reader'));
    const statements = Object.values(template(stack).findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('ReaderServiceRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 's3:GetObject']);
  });

  it('distributes through an outbox: its table in the config, its writes granted', () => {
    const stack = newStack();
    const outbox = new TransactionalOutbox(stack, 'Outbox');
    const store = new EventStore(stack, 'Accounts', { outbox });
    store.connectProducer(inlineFunction(stack, 'Handler'));
    expect(joinedJson(envOf(stack, 'Handler').EVENT_STORE_CONFIG).outboxTableName).toMatch(/^\$\{Outbox/);
    expect(store.outbox).toBe(outbox);
  });

  it('uses a bucket given, or none with largePayloads: false', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Mine', { enforceSSL: true });
    expect(new EventStore(stack, 'A', { payloadBucket: bucket }).payloadBucket).toBe(bucket);
    const none = new EventStore(stack, 'B', { largePayloads: false });
    expect(none.payloadBucket).toBeUndefined();
    none.connectProducer(inlineFunction(stack, 'Handler'));
    expect(joinedJson(envOf(stack, 'Handler').EVENT_STORE_CONFIG).bucketName).toBeUndefined();
    template(stack).resourceCountIs('AWS::S3::Bucket', 1);
  });

  it('encrypts the table with a customer managed key and grants its use', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const store = new EventStore(stack, 'Accounts', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
    store.connectProducer(inlineFunction(stack, 'Handler'));
    template(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: { SSESpecification: { SSEEnabled: true, SSEType: 'KMS' } },
      DeletionPolicy: 'Delete',
    });
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:Encrypt', 'kms:GenerateDataKey'] })]) },
    });
  });

  it('warns about a producer imported without its role', () => {
    const stack = newStack();
    const grant = new EventStore(stack, 'Accounts').connectProducer(
      lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:x'),
    );
    expect(grant.success).toBe(false);
    expect(warnings(stack).join('\n')).toMatch(/EVENT_STORE_CONFIG yourself/);
  });

  describe('validation', () => {
    it('fails if snapshotEvery, payloadThresholdBytes or commandRetention are out of range', () => {
      expect(
        codesOf(
          () =>
            new EventStore(newStack(), 'S', { snapshotEvery: 0, payloadThresholdBytes: 400_000, commandRetention: Duration.seconds(5) }),
        ),
      ).toEqual(['snapshotEvery:range', 'payloadThresholdBytes:range', 'commandRetention:range']);
    });

    it('fails if a payload bucket comes with largePayloads: false', () => {
      const stack = newStack();
      expect(codesOf(() => new EventStore(stack, 'S', { largePayloads: false, payloadBucket: new s3.Bucket(stack, 'B') }))).toEqual([
        'payloadBucket:conflict',
      ]);
    });

    it('fails if the table name or encryption is wrong', () => {
      const stack = newStack();
      expect(
        codesOf(
          () =>
            new EventStore(stack, 'S', {
              tableName: 'x',
              encryption: dynamodb.TableEncryption.AWS_MANAGED,
              encryptionKey: new kms.Key(stack, 'K'),
            }),
        ),
      ).toEqual(['encryptionKey:conflict', 'tableName:format']);
    });

    it('fails if an alarm override names an alarm (the event store has none)', () => {
      expect(codesOf(() => new EventStore(newStack(), 'S', { alarms: { overrides: { Anything: {} } } }))).toEqual([
        'alarms.overrides:unknown',
      ]);
    });
  });
});

describe('Projection', () => {
  describe('defaults', () => {
    let stack: Stack;
    let store: EventStore;
    let projection: Projection;
    let projector: lambda.Function;
    beforeEach(() => {
      stack = newStack();
      store = new EventStore(stack, 'Accounts');
      projector = inlineFunction(stack, 'Projector');
      projection = store.addProjection('Summary', { projector });
    });

    it('creates the read-model table: pk string, no stream, on-demand, PITR, encrypted, RETAIN', () => {
      template(stack).hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          StreamSpecification: Match.absent(),
          TimeToLiveSpecification: Match.absent(),
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        DeletionPolicy: 'Retain',
      });
      expect(projection.projectionName).toBe('Summary');
      expect(store.projections).toEqual([projection]);
    });

    it("maps the event table's stream to the projector: event inserts only, with the kit's stream settings", () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('Projector') },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Accounts'), 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 43200,
        BatchSize: 100,
        FilterCriteria: {
          Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { recordType: { S: ['event'] } } } }) }],
        },
      });
    });

    it('configures the projector: EVENT_STORE_CONFIG, READ_MODEL_TABLE_NAME, PROJECTION_NAME', () => {
      const env = envOf(stack, 'Projector');
      expect(env.READ_MODEL_TABLE_NAME).toEqual({ Ref: expect.stringMatching(/AccountsSummaryReadModel/) });
      expect(env.PROJECTION_NAME).toBe('Summary');
      expect(joinedJson(env.EVENT_STORE_CONFIG).tableName).toMatch(/^\$\{Accounts/);
    });

    it('grants the projector the read models, the event table reads, the stream and the on-failure queue, before the mapping', () => {
      const t = template(stack);
      const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
      expect(actions).toEqual(
        expect.arrayContaining([
          'dynamodb:PutItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:GetRecords',
          'dynamodb:ListStreams',
          'sqs:SendMessage',
          's3:GetObject',
        ]),
      );
      const esm = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/ProjectorServiceRoleDefaultPolicy/)]));
    });

    it('creates the iterator-age and on-failure alarms', () => {
      const ids = projection.node
        .findChild('Alarms')
        .node.children.map((c) => c.node.id)
        .sort();
      expect(ids).toEqual(['IteratorAgeTooHigh', 'OnFailureDestinationNotEmpty']);
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('Projector') } }],
        Threshold: 21_600_000,
      });
    });

    it('connectConsumer grants reads of the read models and sets their table', () => {
      projection.connectConsumer(inlineFunction(stack, 'Api'));
      const env = envOf(stack, 'Api');
      expect(env).toMatchObject({ READ_MODEL_TABLE_NAME: { Ref: expect.stringMatching(/ReadModel/) }, PROJECTION_NAME: 'Summary' });
      expect(env.EVENT_STORE_CONFIG).toBeUndefined();
    });

    it('connectReplayer grants the scan of the event table and the read models writes', () => {
      projection.connectReplayer(inlineFunction(stack, 'Rebuild'));
      const statements = Object.values(template(stack).findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes('RebuildServiceRole'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:Scan', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:GetItem']));
      expect(joinedJson(envOf(stack, 'Rebuild').EVENT_STORE_CONFIG).tableName).toMatch(/^\$\{Accounts/);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });
  });

  it('honours the projection settings', () => {
    const stack = newStack();
    const store = new EventStore(stack, 'Accounts');
    new Projection(stack, 'Standalone', {
      eventStore: store,
      projector: inlineFunction(stack, 'Projector'),
      projectionName: 'account-summary',
      batchSize: 10,
      retryAttempts: 5,
      maxRecordAge: Duration.hours(1),
      startingPosition: lambda.StartingPosition.LATEST,
      enabled: false,
    });
    template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 3600,
      StartingPosition: 'LATEST',
      Enabled: false,
    });
    expect(envOf(stack, 'Projector').PROJECTION_NAME).toBe('account-summary');
  });

  describe('validation', () => {
    it('fails if the projection name or the stream settings are wrong', () => {
      const stack = newStack();
      const store = new EventStore(stack, 'Accounts');
      expect(
        codesOf(() =>
          store.addProjection('P', {
            projector: inlineFunction(stack, 'F'),
            projectionName: 'bad name',
            batchSize: 0,
            maxRecordAge: Duration.days(2),
          }),
        ),
      ).toEqual(['projectionName:format', 'batchSize:range', 'maxRecordAge:range']);
    });

    it('fails if an alarm override names an unknown alarm', () => {
      const stack = newStack();
      const store = new EventStore(stack, 'Accounts');
      expect(
        codesOf(() => store.addProjection('P', { projector: inlineFunction(stack, 'F'), alarms: { overrides: { Nope: {} } } })),
      ).toEqual(['alarms.overrides:unknown']);
    });
  });

  describe('cdk-nag', () => {
    it('passes AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const outbox = new TransactionalOutbox(stack, 'Outbox');
        const store = new EventStore(stack, 'Accounts', { outbox, encryptionKey: new kms.Key(stack, 'K', { enableKeyRotation: true }) });
        store.addProjection('Summary', { projector: inlineFunction(stack, 'Projector') });
        store.connectProducer(inlineFunction(stack, 'Handler'));
      });
      expect(findings.filter((f) => /\/(Accounts|Outbox)\//.test(f.path))).toEqual([]);
      // The grants on the functions' roles leave no wildcard finding behind (the payload prefixes are acknowledged one by one).
      expect(findings.filter((f) => f.ruleId.startsWith('AwsSolutions-IAM5'))).toEqual([]);
    });
  });
});
