import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BrokerConsumer, type BrokerConsumerProps, BrokerDeploymentMode, BrokerEngine, MessagingPatternsError } from '../../../lib';
import { inlineFunction, nagErrors, newStack, template, warnings } from '../../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const BROKER = 'arn:aws:mq:eu-west-1:111122223333:broker:shop:b-9bcfa592-423a-4942-879d-eb284b418fc8';

function statementsOf(stack: Stack, role: RegExp): Statement[] {
  const policies = template(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => role.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

function codesOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error.codes;
    throw error;
  }
  return [];
}

describe('BrokerConsumer', () => {
  describe('defaults (a broker the kit creates)', () => {
    let stack: Stack;
    let consumer: BrokerConsumer;
    beforeEach(() => {
      stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
      consumer = new BrokerConsumer(stack, 'Orders', { consumer: inlineFunction(stack), queueName: 'orders', brokerProps: { vpc } });
    });

    it('creates a private RabbitMQ 3.13 single-instance broker: mq.m5.large, AWS owned key, general logs, automatic minor upgrades, one private subnet', () => {
      template(stack).hasResourceProperties('AWS::AmazonMQ::Broker', {
        BrokerName: Match.stringLikeRegexp('^TestStack-Orders-'),
        EngineType: 'RABBITMQ',
        EngineVersion: '3.13',
        HostInstanceType: 'mq.m5.large',
        DeploymentMode: 'SINGLE_INSTANCE',
        PubliclyAccessible: false,
        AutoMinorVersionUpgrade: true,
        EncryptionOptions: { UseAwsOwnedKey: true },
        Logs: { General: true },
        SubnetIds: [{ Ref: Match.stringLikeRegexp('PrivateSubnet1') }],
        SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersBrokerSecurityGroup'), 'GroupId'] }],
      });
      expect(consumer.engine).toBe(BrokerEngine.RABBITMQ);
      expect(consumer.broker).toBeDefined();
    });

    it('generates the credentials into Secrets Manager and gives the broker the password as a dynamic reference only', () => {
      const t = template(stack);
      t.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ username: 'lambda-consumer' }),
          GenerateStringKey: 'password',
          PasswordLength: 32,
          ExcludePunctuation: true,
        },
      });
      const broker = Object.values(t.findResources('AWS::AmazonMQ::Broker'))[0];
      expect(broker.Properties.Users).toEqual([
        {
          Username: 'lambda-consumer',
          Password: {
            'Fn::Join': [
              '',
              ['{{resolve:secretsmanager:', { Ref: expect.stringMatching(/^OrdersCredentials/) }, ':SecretString:password::}}'],
            ],
          },
        },
      ]);
    });

    it('lets the members of its security group reach AMQPS (5671): the pollers, and producers given the group', () => {
      template(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: 5671,
        ToPort: 5671,
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersBrokerSecurityGroup'), 'GroupId'] },
      });
      expect(consumer.connections?.defaultPort?.toString()).toBe('5671');
    });

    it('maps the queue to the consumer with the credentials: 10 messages per batch, no on-failure destination (there is none for MQ)', () => {
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersBroker'), 'Arn'] },
        Queues: ['orders'],
        BatchSize: 10,
        SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: { Ref: Match.stringLikeRegexp('^OrdersCredentials') } }],
        DestinationConfig: Match.absent(),
        FunctionResponseTypes: Match.absent(),
        MaximumBatchingWindowInSeconds: Match.absent(),
      });
      expect(consumer.eventSourceMapping.node.path).toBe('TestStack/Orders/Resource');
    });

    it('grants mq:DescribeBroker on the broker, only GetSecretValue on the credentials and the network interfaces, before the mapping', () => {
      const statements = statementsOf(stack, /^ConsumerServiceRole/);
      expect(actionsOf(statements)).toEqual(
        [
          'mq:DescribeBroker',
          'secretsmanager:GetSecretValue',
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcs',
        ].sort(),
      );
      expect(statements.find((s) => s.Action === 'mq:DescribeBroker')?.Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^OrdersBroker/), 'Arn'],
      });
      const esm = Object.values(template(stack).findResources('AWS::Lambda::EventSourceMapping'))[0];
      expect(esm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ConsumerServiceRoleDefaultPolicy/)]));
    });

    it('creates the consumer-errors alarm (Errors, FunctionName, Sum, 1 in a minute)', () => {
      template(stack).resourceCountIs('AWS::CloudWatch::Alarm', 1);
      template(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Consumer') } }],
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        EvaluationPeriods: 1,
        AlarmDescription: Match.stringLikeRegexp("redelivers the whole batch.*the queue's dead-letter exchange"),
      });
      expect(consumer.alarms.map((a) => a.node.id)).toEqual(['ConsumerErrors']);
      const errors = consumer.metricConsumerErrors();
      expect([errors.metricName, errors.statistic, errors.period.toSeconds()]).toEqual(['Errors', 'Sum', 60]);
    });

    it('adds no warnings', () => {
      expect(warnings(stack)).toEqual([]);
    });
  });

  describe('options', () => {
    it('creates an ActiveMQ broker: 5.18, general and audit logs, the logs resource policy, OpenWire over TLS (61617)', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
      const key = new kms.Key(stack, 'BrokerKey');
      new BrokerConsumer(stack, 'Orders', {
        consumer: inlineFunction(stack),
        queueName: 'orders',
        engine: BrokerEngine.ACTIVEMQ,
        brokerProps: {
          vpc,
          deploymentMode: BrokerDeploymentMode.ACTIVE_STANDBY_MULTI_AZ,
          encryptionKey: key,
          username: 'orders-app',
          brokerName: 'orders',
        },
      });
      const t = template(stack);
      t.hasResourceProperties('AWS::AmazonMQ::Broker', {
        BrokerName: 'orders',
        EngineType: 'ACTIVEMQ',
        EngineVersion: '5.18',
        DeploymentMode: 'ACTIVE_STANDBY_MULTI_AZ',
        EncryptionOptions: { UseAwsOwnedKey: false, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BrokerKey'), 'Arn'] } },
        Logs: { General: true, Audit: true },
        SubnetIds: [{ Ref: Match.stringLikeRegexp('PrivateSubnet1') }, { Ref: Match.stringLikeRegexp('PrivateSubnet2') }],
        Users: [Match.objectLike({ Username: 'orders-app', ConsoleAccess: false })],
      });
      expect(JSON.stringify(t.findResources('AWS::Logs::ResourcePolicy'))).toContain('mq.amazonaws.com');
      t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 61617 });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('ActiveMQ.DLQ') });
    });

    it('consumes an existing broker with the given credentials, in a virtual host, with batching, filters and enabled passed through', () => {
      const stack = newStack();
      const credentials = new secretsmanager.Secret(stack, 'Creds');
      const c = new BrokerConsumer(stack, 'Orders', {
        consumer: inlineFunction(stack),
        queueName: 'orders',
        virtualHost: 'shop',
        existingBrokerArn: BROKER,
        credentials,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(2),
        filters: [lambda.FilterCriteria.filter({ data: { type: lambda.FilterRule.isEqual('order') } })],
        enabled: false,
      });
      template(stack).resourceCountIs('AWS::AmazonMQ::Broker', 0);
      template(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: BROKER,
        Queues: ['orders'],
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 2,
        Enabled: false,
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ data: { type: ['order'] } }) }] },
        SourceAccessConfigurations: [
          { Type: 'BASIC_AUTH', URI: { Ref: Match.stringLikeRegexp('^Creds') } },
          { Type: 'VIRTUAL_HOST', URI: 'shop' },
        ],
      });
      expect(c.brokerArn).toBe(BROKER);
      expect(c.credentials).toBe(credentials);
      expect(c.connections).toBeUndefined();
    });

    it('grants reading the credentials to a producer or an operator', () => {
      const stack = newStack();
      const c = new BrokerConsumer(stack, 'Orders', {
        consumer: inlineFunction(stack),
        queueName: 'orders',
        existingBrokerArn: BROKER,
        credentials: new secretsmanager.Secret(stack, 'Creds'),
      });
      c.grantReadCredentials(inlineFunction(stack, 'Producer'));
      expect(actionsOf(statementsOf(stack, /^ProducerServiceRole/))).toEqual(['secretsmanager:GetSecretValue']);
    });

    it('warns, and grants nothing, for a consumer imported without its role', () => {
      const stack = newStack();
      new BrokerConsumer(stack, 'Orders', {
        consumer: lambda.Function.fromFunctionName(stack, 'Imported', 'orders-consumer'),
        queueName: 'orders',
        existingBrokerArn: BROKER,
        credentials: new secretsmanager.Secret(stack, 'Creds'),
      });
      expect(warnings(stack).join('\n')).toMatch(/imported without its role.*consumerWithoutRole/);
      template(stack).resourceCountIs('AWS::IAM::Policy', 0);
    });
  });

  describe('validation', () => {
    let n = 0;
    const fails = (props: Partial<BrokerConsumerProps>, given?: Stack) => {
      const stack = given ?? newStack();
      n += 1;
      return codesOf(
        () =>
          new BrokerConsumer(stack, `B${n}`, {
            consumer: inlineFunction(stack, `Consumer${n}`),
            queueName: 'orders',
            ...props,
          } as BrokerConsumerProps),
      );
    };
    const withSecret = (build: (stack: Stack, credentials: secretsmanager.ISecret, vpc: ec2.IVpc) => Partial<BrokerConsumerProps>) => {
      const stack = newStack();
      const props = build(stack, new secretsmanager.Secret(stack, 'Creds'), new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }));
      return fails(props, stack);
    };

    it('fails if no broker, or both, are given', () => {
      expect(fails({})).toEqual(['existingBrokerArn|brokerProps:required']);
      expect(withSecret((_s, credentials, vpc) => ({ existingBrokerArn: BROKER, credentials, brokerProps: { vpc } }))).toEqual(
        expect.arrayContaining(['existingBrokerArn|brokerProps:exclusive', 'credentials:conflict']),
      );
    });

    it('fails if an existing broker is given without credentials, or with a bad ARN', () => {
      expect(fails({ existingBrokerArn: BROKER })).toEqual(['credentials:required']);
      expect(
        withSecret((_s, credentials) => ({ existingBrokerArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/x/y', credentials })),
      ).toEqual(['existingBrokerArn:format']);
    });

    it('fails if a virtual host is given for ActiveMQ', () => {
      expect(
        withSecret((_s, credentials) => ({ existingBrokerArn: BROKER, credentials, engine: BrokerEngine.ACTIVEMQ, virtualHost: 'x' })),
      ).toEqual(['virtualHost:unsupported']);
    });

    it('fails if the deployment mode or the key does not fit the engine', () => {
      expect(withSecret((_s, _c, vpc) => ({ brokerProps: { vpc, deploymentMode: BrokerDeploymentMode.ACTIVE_STANDBY_MULTI_AZ } }))).toEqual(
        ['brokerProps.deploymentMode:unsupported'],
      );
      expect(
        withSecret((_s, _c, vpc) => ({
          engine: BrokerEngine.ACTIVEMQ,
          brokerProps: { vpc, deploymentMode: BrokerDeploymentMode.CLUSTER_MULTI_AZ },
        })),
      ).toEqual(['brokerProps.deploymentMode:unsupported']);
      expect(withSecret((s, _c, vpc) => ({ brokerProps: { vpc, encryptionKey: new kms.Key(s, 'K') } }))).toEqual([
        'brokerProps.encryptionKey:unsupported',
      ]);
    });

    it('fails if active/standby has fewer than 2 subnets', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
      expect(
        fails({ engine: BrokerEngine.ACTIVEMQ, brokerProps: { vpc, deploymentMode: BrokerDeploymentMode.ACTIVE_STANDBY_MULTI_AZ } }, stack),
      ).toEqual(['brokerProps.vpcSubnets:range']);
    });

    it.each([
      ['brokerProps.brokerName:format', { brokerName: 'with space' }],
      ['brokerProps.username:format', { username: 'a' }],
      ['brokerProps.engineVersion:format', { engineVersion: 'latest' }],
    ])('fails with %s', (code, extra) => {
      expect(withSecret((_s, _c, vpc) => ({ brokerProps: { vpc, ...extra } }))).toEqual([code]);
    });

    it.each([
      ['queueName:format', { queueName: 'two words' }],
      ['batchSize:range', { batchSize: 0 }],
      ['maxBatchingWindow:range', { maxBatchingWindow: Duration.minutes(6) }],
      ['alarms.overrides:unknown', { alarms: { overrides: { DeadLetterQueueNotEmpty: { threshold: 1 } } } }],
    ])('fails with %s', (code, extra) => {
      expect(withSecret((_s, credentials) => ({ existingBrokerArn: BROKER, credentials, ...extra }))).toEqual([code]);
    });

    it('fails with filterEncryption but no filters', () => {
      expect(withSecret((s, credentials) => ({ existingBrokerArn: BROKER, credentials, filterEncryption: new kms.Key(s, 'K') }))).toEqual([
        'filterEncryption:conflict',
      ]);
    });
  });

  describe('cdk-nag', () => {
    it('passes cdk-nag AwsSolutions and Serverless on every resource the kit creates', () => {
      const findings = nagErrors((app: App) => {
        const stack = new Stack(app, 'Gate');
        const consumer = inlineFunction(stack);
        const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
        new BrokerConsumer(stack, 'Rabbit', { consumer, queueName: 'orders', brokerProps: { vpc } });
        new BrokerConsumer(stack, 'Active', { consumer, queueName: 'orders', engine: BrokerEngine.ACTIVEMQ, brokerProps: { vpc } });
        new BrokerConsumer(stack, 'Existing', {
          consumer,
          queueName: 'orders',
          existingBrokerArn: BROKER,
          credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'orders-consumer'),
        });
      });
      expect(findings.filter((f) => /\/(Rabbit|Active|Existing)\//.test(f.path))).toEqual([]);
    });
  });
});
