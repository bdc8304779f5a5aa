import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { KafkaAuthentication, KafkaConsumer, type KafkaConsumerProps, MessagingPatternsError } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const CLUSTER = 'arn:aws:kafka:eu-west-1:111122223333:cluster/shop/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-2';

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

function consumerOf(props: Partial<KafkaConsumerProps> = {}, stack = newStack()): { stack: Stack; kafka: KafkaConsumer } {
  const kafka = new KafkaConsumer(stack, 'Orders', {
    consumer: inlineFunction(stack),
    topic: 'orders',
    existingClusterArn: CLUSTER,
    ...props,
  });
  return { stack, kafka };
}

describe('KafkaConsumer', () => {
  describe('defaults (an existing MSK cluster)', () => {
    let stack: Stack;
    let kafka: KafkaConsumer;
    beforeEach(() => ({ stack, kafka } = consumerOf()));

    it('maps the topic to the consumer: TRIM_HORIZON, 100 records, bisect, partial batch responses, 10 retries, on-failure queue, provisioned pollers, a consumer group', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: Match.stringLikeRegexp('^Consumer') },
        EventSourceArn: CLUSTER,
        Topics: ['orders'],
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: Match.absent(),
        MaximumBatchingWindowInSeconds: Match.absent(),
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersOnFailureQueue'), 'Arn'] } } },
        ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 200 },
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: kafka.consumerGroupId },
        SourceAccessConfigurations: Match.absent(),
        Enabled: Match.absent(),
      });
      expect(kafka.consumerGroupId).toMatch(/^TestStack-Orders-[0-9A-F]{8}$/);
      expect(kafka.eventSourceMapping.node.path).toBe('TestStack/Orders/Resource');
      expect(kafka.retryAttempts).toBe(10);
      expect(kafka.authentication).toBe(KafkaAuthentication.IAM);
      expect(kafka.clusterArn).toBe(CLUSTER);
    });

    it('keeps the consumer group id stable across syntheses (IAM policies and offsets depend on it)', () => {
      expect(consumerOf().kafka.consumerGroupId).toBe(kafka.consumerGroupId);
    });

    it('grants IAM access control least privilege: cluster, topic and group ARNs, no managed policy', () => {
      const statements = statementsOf(stack, /^ConsumerServiceRole/);
      const on = (resource: unknown) => actionsOf(statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource)));
      expect(on(CLUSTER)).toEqual(
        [
          'kafka-cluster:Connect',
          'kafka-cluster:DescribeClusterDynamicConfiguration',
          'kafka:DescribeCluster',
          'kafka:DescribeClusterV2',
          'kafka:GetBootstrapBrokers',
        ].sort(),
      );
      expect(on(CLUSTER.replace(':cluster/', ':topic/') + '/orders')).toEqual(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']);
      expect(on(`${CLUSTER.replace(':cluster/', ':group/')}/${kafka.consumerGroupId}`)).toEqual([
        'kafka-cluster:AlterGroup',
        'kafka-cluster:DescribeGroup',
      ]);
      expect(on('*')).toEqual([
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ]);
      expect(actionsOf(statements)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
      expect(actionsOf(statements).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
      const roles = template(stack).findResources('AWS::IAM::Role');
      expect(JSON.stringify(roles)).not.toContain('AWSLambdaMSKExecutionRole');
    });

    it('creates the mapping after the consumer policy', () => {
      const esm = Object.values(template(stack).findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ConsumerServiceRoleDefaultPolicy/)]));
    });

    it('creates one on-failure queue: SSE-SQS, 14-day retention, TLS only, standard', () => {
      const t = template(stack);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      t.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
        RedrivePolicy: Match.absent(),
        FifoQueue: Match.absent(),
      });
      const policy = Object.values(t.findResources('AWS::SQS::QueuePolicy'))[0];
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('creates the offset-lag alarm (OffsetLag, FunctionName, 10,000 records for 5 minutes) and the on-failure alarm', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'OffsetLag',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Consumer') } }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 10000,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp('10000 or more records behind the topic'),
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersOnFailureQueue'), 'QueueName'] } }],
        Threshold: 1,
        AlarmDescription: Match.stringLikeRegexp('partitions and offsets, not the records'),
      });
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      expect(kafka.alarms.map((a) => a.node.id).sort()).toEqual(['OffsetLagTooHigh', 'OnFailureDestinationNotEmpty']);
    });

    it('exposes metrics with the kit period and statistic', () => {
      const lag = kafka.metricOffsetLag();
      expect([lag.namespace, lag.metricName, lag.statistic, lag.period.toSeconds(), Object.keys(lag.dimensions ?? {})]).toEqual([
        'AWS/Lambda',
        'OffsetLag',
        'Maximum',
        60,
        ['FunctionName'],
      ]);
      expect(kafka.metricOnFailureMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(kafka.metricOffsetLag({ period: Duration.minutes(5) }).period.toSeconds()).toBe(300);
      expect(kafka.dashboardMetrics).toHaveLength(1);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });
  });

  describe('options', () => {
    it('passes batching, starting position, record age, pollers, filters and enabled through', () => {
      const stack = newStack();
      const key = new kms.Key(stack, 'FilterKey');
      consumerOf(
        {
          batchSize: 500,
          maxBatchingWindow: Duration.seconds(5),
          startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
          startingPositionTimestamp: 1_700_000_000,
          maxRecordAge: Duration.hours(6),
          retryAttempts: 12,
          provisionedPollerConfig: { minimumPollers: 2, maximumPollers: 8, pollerGroupName: 'shared' },
          filters: [lambda.FilterCriteria.filter({ value: { type: lambda.FilterRule.isEqual('order') } })],
          filterEncryption: key,
          consumerGroupId: 'orders-projector',
          enabled: false,
        },
        stack,
      );
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 5,
        StartingPosition: 'AT_TIMESTAMP',
        StartingPositionTimestamp: 1_700_000_000,
        MaximumRecordAgeInSeconds: 21600,
        MaximumRetryAttempts: 12,
        ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 8, PollerGroupName: 'shared' },
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ value: { type: ['order'] } }) }] },
        KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FilterKey'), 'Arn'] },
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'orders-projector' },
        Enabled: false,
      });
    });

    it('uses SASL/SCRAM-512 with a secret on MSK: the secret, kafka:ListScramSecrets, no kafka-cluster actions', () => {
      const stack = newStack();
      const secret = new secretsmanager.Secret(stack, 'Scram', {
        secretName: 'AmazonMSK_orders',
        encryptionKey: new kms.Key(stack, 'SecretKey'),
      });
      consumerOf({ authentication: KafkaAuthentication.SASL_SCRAM_512, secret }, stack);
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: { Ref: Match.stringLikeRegexp('^Scram') } }],
      });
      const actions = actionsOf(statementsOf(stack, /^ConsumerServiceRole/));
      expect(actions).toEqual(expect.arrayContaining(['kafka:ListScramSecrets', 'secretsmanager:GetSecretValue', 'kms:Decrypt']));
      expect(actions.filter((a) => a.startsWith('kafka-cluster:'))).toEqual([]);
      expect(actions).not.toContain('secretsmanager:DescribeSecret');
    });

    it('uses mutual TLS with the client certificate secret', () => {
      const stack = newStack();
      consumerOf({ authentication: KafkaAuthentication.MUTUAL_TLS, secret: new secretsmanager.Secret(stack, 'Cert') }, stack);
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        SourceAccessConfigurations: [{ Type: 'CLIENT_CERTIFICATE_TLS_AUTH', URI: Match.anyValue() }],
      });
    });

    it('creates an MSK Serverless cluster with IAM access control in the VPC, with a security group admitting its members on 9098', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
      const kafka = new KafkaConsumer(stack, 'Orders', {
        consumer: inlineFunction(stack),
        topic: 'orders',
        serverlessClusterProps: { vpc },
      });
      const t = template(stack);
      t.hasResourceProperties('AWS::MSK::ServerlessCluster', {
        ClusterName: Match.stringLikeRegexp('^TestStack-Orders-'),
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
        VpcConfigs: [
          {
            SubnetIds: [{ Ref: Match.stringLikeRegexp('PrivateSubnet1') }, { Ref: Match.stringLikeRegexp('PrivateSubnet2') }],
            SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersClusterSecurityGroup'), 'GroupId'] }],
          },
        ],
      });
      t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        IpProtocol: 'tcp',
        FromPort: 9098,
        ToPort: 9098,
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersClusterSecurityGroup'), 'GroupId'] },
      });
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersCluster'), 'Arn'] },
      });
      const esm = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^OrdersClusterSecurityGroup[0-9A-F]{8}$/),
          expect.stringMatching(/^OrdersClusterSecurityGroupfrom/),
        ]),
      );
      expect(kafka.serverlessCluster).toBeDefined();
      expect(kafka.clusterSecurityGroups).toHaveLength(1);
      // The topic ARN is derived from the cluster's ARN token.
      const topicStatement = statementsOf(stack, /^ConsumerServiceRole/).find((s) => JSON.stringify(s.Action).includes('ReadData'));
      expect(JSON.stringify(topicStatement?.Resource)).toContain(':topic/');
    });

    it('consumes a self-managed cluster over SASL/SCRAM by default, in a VPC with subnets and a security group', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
      const securityGroup = new ec2.SecurityGroup(stack, 'Pollers', { vpc });
      const secret = new secretsmanager.Secret(stack, 'Scram');
      const rootCaCertificate = new secretsmanager.Secret(stack, 'RootCa');
      const kafka = new KafkaConsumer(stack, 'Orders', {
        consumer: inlineFunction(stack),
        topic: 'orders',
        bootstrapServers: ['b-1.kafka.internal:9096', 'b-2.kafka.internal:9096'],
        secret,
        rootCaCertificate,
        vpc,
        securityGroup,
      });
      expect(kafka.authentication).toBe(KafkaAuthentication.SASL_SCRAM_512);
      expect(kafka.clusterArn).toBeUndefined();
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: Match.absent(),
        SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['b-1.kafka.internal:9096', 'b-2.kafka.internal:9096'] } },
        SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: kafka.consumerGroupId },
        SourceAccessConfigurations: [
          { Type: 'SASL_SCRAM_512_AUTH', URI: { Ref: Match.stringLikeRegexp('^Scram') } },
          { Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: { Ref: Match.stringLikeRegexp('^RootCa') } },
          { Type: 'VPC_SUBNET', URI: { 'Fn::Join': ['', ['subnet:', { Ref: Match.stringLikeRegexp('PrivateSubnet1') }]] } },
          { Type: 'VPC_SUBNET', URI: { 'Fn::Join': ['', ['subnet:', { Ref: Match.stringLikeRegexp('PrivateSubnet2') }]] } },
          {
            Type: 'VPC_SECURITY_GROUP',
            URI: { 'Fn::Join': ['', ['security_group:', { 'Fn::GetAtt': [Match.stringLikeRegexp('^Pollers'), 'GroupId'] }]] },
          },
        ],
      });
      const actions = actionsOf(statementsOf(stack, /^ConsumerServiceRole/));
      expect(actions).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'secretsmanager:GetSecretValue', 'sqs:SendMessage']));
      expect(actions.filter((a) => a.startsWith('kafka'))).toEqual([]);
    });

    it('warns when the retries may run out before bisection isolates a record', () => {
      const { stack } = consumerOf({ retryAttempts: 3, batchSize: 100 });
      expect(warnings(stack).join('\n')).toMatch(
        /retryAttempts 3 may run out before bisection isolates a poison record in a batch of 100.*kafkaRetriesBelowBisection/,
      );
      expect(warnings(consumerOf({ retryAttempts: 3, batchSize: 4 }).stack)).toEqual([]);
    });

    it('sends the alarms to the topic and applies overrides', () => {
      const stack = newStack();
      const alarmTopic = new sns.Topic(stack, 'Ops');
      consumerOf(
        { alarms: { alarmTopic, overrides: { OffsetLagTooHigh: { threshold: 500 }, OnFailureDestinationNotEmpty: { enabled: false } } } },
        stack,
      );
      template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 1);
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'OffsetLag',
        Threshold: 500,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Ops') }],
      });
    });

    it('keeps the on-failure queue encrypted and standard whatever is given, with the user props merged', () => {
      const stack = newStack();
      consumerOf({ onFailureQueueProps: { retentionPeriod: Duration.days(7), encryption: sqs.QueueEncryption.KMS } }, stack);
      template(stack).hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 604800, KmsMasterKeyId: Match.anyValue() });
    });

    it('warns, and grants nothing, for a consumer imported without its role', () => {
      const stack = newStack();
      const imported = lambda.Function.fromFunctionName(stack, 'Imported', 'orders-consumer');
      new KafkaConsumer(stack, 'Orders', { consumer: imported, topic: 'orders', existingClusterArn: CLUSTER });
      expect(warnings(stack).join('\n')).toMatch(/imported without its role.*consumerWithoutRole/);
      template(stack).resourceCountIs('AWS::IAM::Policy', 0);
    });
  });

  describe('validation', () => {
    let n = 0;
    const fails = (props: Partial<KafkaConsumerProps>, given?: Stack) => {
      const stack = given ?? newStack();
      n += 1;
      return codesOf(
        () =>
          new KafkaConsumer(stack, `K${n}`, {
            consumer: inlineFunction(stack, `Consumer${n}`),
            topic: 'orders',
            ...props,
          } as KafkaConsumerProps),
      );
    };

    it('fails if no cluster is given', () => {
      expect(fails({})).toEqual(['existingClusterArn|serverlessClusterProps|bootstrapServers:required']);
    });

    it('fails if several clusters are given', () => {
      expect(fails({ existingClusterArn: CLUSTER, bootstrapServers: ['b:9092'] })).toContain(
        'existingClusterArn|serverlessClusterProps|bootstrapServers:exclusive',
      );
    });

    it.each([
      ['existingClusterArn:format', { existingClusterArn: 'arn:aws:sqs:eu-west-1:111122223333:queue' }],
      ['bootstrapServers:format', { bootstrapServers: ['no-port'] }],
      ['bootstrapServers:required', { bootstrapServers: [] }],
      ['topic:format', { existingClusterArn: CLUSTER, topic: 'bad topic' }],
      ['consumerGroupId:format', { existingClusterArn: CLUSTER, consumerGroupId: 'with space' }],
      ['batchSize:range', { existingClusterArn: CLUSTER, batchSize: 10_001 }],
      ['maxBatchingWindow:range', { existingClusterArn: CLUSTER, maxBatchingWindow: Duration.minutes(6) }],
      ['retryAttempts:range', { existingClusterArn: CLUSTER, retryAttempts: -1 }],
      ['maxRecordAge:range', { existingClusterArn: CLUSTER, maxRecordAge: Duration.seconds(30) }],
      ['startingPositionTimestamp:required', { existingClusterArn: CLUSTER, startingPosition: lambda.StartingPosition.AT_TIMESTAMP }],
      ['startingPositionTimestamp:conflict', { existingClusterArn: CLUSTER, startingPositionTimestamp: 1_700_000_000 }],
      ['provisionedPollerConfig.minimumPollers:range', { existingClusterArn: CLUSTER, provisionedPollerConfig: { minimumPollers: 0 } }],
      ['provisionedPollerConfig.maximumPollers:range', { existingClusterArn: CLUSTER, provisionedPollerConfig: { maximumPollers: 2001 } }],
      ['provisionedPollerConfig:range', { existingClusterArn: CLUSTER, provisionedPollerConfig: { minimumPollers: 5, maximumPollers: 2 } }],
      [
        'onFailureQueueProps.encryption:insecure',
        { existingClusterArn: CLUSTER, onFailureQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } },
      ],
      ['onFailureQueueProps.enforceSSL:insecure', { existingClusterArn: CLUSTER, onFailureQueueProps: { enforceSSL: false } }],
      ['onFailureQueueProps.fifo:unsupported', { existingClusterArn: CLUSTER, onFailureQueueProps: { fifo: true } }],
      ['alarms.overrides:unknown', { existingClusterArn: CLUSTER, alarms: { overrides: { IteratorAgeTooHigh: { threshold: 1 } } } }],
    ])('fails with %s', (code, props) => {
      expect(fails(props as Partial<KafkaConsumerProps>)).toContain(code);
    });

    it('fails if the authentication is not offered by the cluster', () => {
      const stack = newStack();
      const secret = new secretsmanager.Secret(stack, 'S');
      expect(fails({ existingClusterArn: CLUSTER, authentication: KafkaAuthentication.BASIC, secret }, stack)).toEqual([
        'authentication:unsupported',
      ]);
      expect(fails({ existingClusterArn: CLUSTER, authentication: KafkaAuthentication.SASL_SCRAM_256, secret }, stack)).toEqual([
        'authentication:unsupported',
      ]);
      expect(fails({ bootstrapServers: ['b:9092'], authentication: KafkaAuthentication.IAM })).toEqual(['authentication:unsupported']);
      const vpc = new ec2.Vpc(stack, 'Vpc');
      expect(fails({ serverlessClusterProps: { vpc }, authentication: KafkaAuthentication.SASL_SCRAM_512, secret }, stack)).toEqual([
        'authentication:unsupported',
      ]);
    });

    it('fails if a secret is missing, or given with IAM', () => {
      expect(fails({ bootstrapServers: ['b:9092'] })).toEqual(['secret:required']);
      expect(fails({ existingClusterArn: CLUSTER, authentication: KafkaAuthentication.MUTUAL_TLS })).toEqual(['secret:required']);
      const stack = newStack();
      expect(fails({ existingClusterArn: CLUSTER, secret: new secretsmanager.Secret(stack, 'S') }, stack)).toEqual(['secret:conflict']);
    });

    it('fails if network props are given for MSK, or a VPC without a security group for a self-managed cluster', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      const secret = new secretsmanager.Secret(stack, 'S');
      expect(fails({ existingClusterArn: CLUSTER, vpc }, stack)).toEqual(['vpc:conflict']);
      expect(fails({ bootstrapServers: ['b:9092'], secret, vpc }, stack)).toEqual(['securityGroup:required']);
      expect(fails({ existingClusterArn: CLUSTER, rootCaCertificate: secret }, stack)).toEqual(['rootCaCertificate:conflict']);
    });

    it('fails if the serverless cluster has fewer than 2 subnets, or a bad name', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
      expect(fails({ serverlessClusterProps: { vpc } }, stack)).toEqual(['serverlessClusterProps.vpcSubnets:range']);
      const vpc2 = new ec2.Vpc(stack, 'Vpc2', { maxAzs: 2 });
      expect(fails({ serverlessClusterProps: { vpc: vpc2, clusterName: '1-starts-with-digit' } }, stack)).toEqual([
        'serverlessClusterProps.clusterName:format',
      ]);
    });

    it('fails with filterEncryption but no filters', () => {
      const stack = newStack();
      expect(fails({ existingClusterArn: CLUSTER, filterEncryption: new kms.Key(stack, 'K') }, stack)).toEqual([
        'filterEncryption:conflict',
      ]);
    });

    it('reports every problem together, each with its code, in one MessagingPatternsError', () => {
      const stack = newStack();
      expect(
        () =>
          new KafkaConsumer(stack, 'K', { consumer: inlineFunction(stack), topic: 'bad topic', existingClusterArn: CLUSTER, batchSize: 0 }),
      ).toThrow(
        /\[TestStack\/K\]\n {2}- topic must be a Kafka topic name.*\[topic:format\]\n {2}- batchSize must be an integer between 1 and 10000 \(given 0\) \[batchSize:range\]/,
      );
    });
  });

  describe('cdk-nag', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
        new KafkaConsumer(stack, 'Msk', { consumer, topic: 'orders', existingClusterArn: CLUSTER });
        new KafkaConsumer(stack, 'Serverless', { consumer, topic: 'orders', serverlessClusterProps: { vpc } });
        const secret = new secretsmanager.Secret(stack, 'Scram');
        new KafkaConsumer(stack, 'SelfManaged', {
          consumer,
          topic: 'orders',
          bootstrapServers: ['b:9096'],
          secret,
          vpc,
          securityGroup: new ec2.SecurityGroup(stack, 'Pollers', { vpc }),
          onFailureQueueProps: { encryption: sqs.QueueEncryption.KMS },
        });
      });
      expect(findings.filter((f) => /\/(Msk|Serverless|SelfManaged)\//.test(f.path))).toEqual([]);
    });
  });
});
