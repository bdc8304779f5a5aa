import { ArnFormat, Names, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BROKER_PASSWORD_LENGTH } from '../../core/defaults';
import { MQ_BROKER_NAME_MAX_LENGTH } from '../../core/limits';

/** The TLS port each engine's clients (and Lambda's pollers) connect to: AMQPS for RabbitMQ, OpenWire over TLS for ActiveMQ. */
export const BROKER_PORT: Record<'RABBITMQ' | 'ACTIVEMQ', number> = { RABBITMQ: 5671, ACTIVEMQ: 61617 };

/** What {@link buildBroker} needs. */
export interface BrokerInputs {
  readonly engine: 'RABBITMQ' | 'ACTIVEMQ';
  readonly engineVersion: string;
  readonly instanceType: string;
  readonly deploymentMode: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SelectedSubnets;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly brokerName?: string;
  readonly username: string;
  readonly encryptionKey?: kms.IKey;
}

/** What {@link buildBroker} returns. */
export interface BuiltBroker {
  readonly broker: amazonmq.CfnBroker;
  readonly credentials: secretsmanager.Secret;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly connections: ec2.Connections;
  readonly brokerName: string;
}

/**
 * An Amazon MQ broker in the VPC, private, with the kit's settings:
 * - credentials generated into Secrets Manager (`Credentials`: `{ "username", "password" }`, 32
 *   letters and digits), passed to the broker as a dynamic reference: the password is in no
 *   template and no source;
 * - not publicly accessible; in the first subnet (single instance), the first two (ActiveMQ active
 *   and standby) or all the selected ones (RabbitMQ cluster);
 * - a security group (unless given) letting its own members reach the broker's TLS port: Lambda's
 *   pollers run in the broker's subnets with its security groups;
 * - encryption at rest: an AWS owned key for RabbitMQ (the only option Amazon MQ offers it), the
 *   given customer managed key or an AWS owned key for ActiveMQ; TLS in transit (Amazon MQ's
 *   endpoints are TLS only);
 * - logs to CloudWatch Logs: general logs, and audit logs for ActiveMQ (RabbitMQ has none), with
 *   the CloudWatch Logs resource policy ActiveMQ needs to publish them;
 * - automatic minor version upgrades (required by `major.minor` engine versions).
 */
export function buildBroker(scope: Construct, inputs: BrokerInputs): BuiltBroker {
  const port = ec2.Port.tcp(BROKER_PORT[inputs.engine]);
  let securityGroups = inputs.securityGroups;
  if (!securityGroups || securityGroups.length === 0) {
    const group = new ec2.SecurityGroup(scope, 'BrokerSecurityGroup', {
      vpc: inputs.vpc,
      description: `Amazon MQ broker of ${scope.node.path}: the broker, Lambda event pollers and producers`,
      allowAllOutbound: true,
    });
    group.addIngressRule(group, port, 'TLS connections from members of this group (Lambda event pollers, producers)');
    securityGroups = [group];
  }
  const connections = new ec2.Connections({ securityGroups, defaultPort: port });

  const credentials = new secretsmanager.Secret(scope, 'Credentials', {
    description: `Credentials of the consumer user of the Amazon MQ broker of ${scope.node.path}`,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: inputs.username }),
      generateStringKey: 'password',
      passwordLength: BROKER_PASSWORD_LENGTH,
      excludePunctuation: true,
    },
  });

  const brokerName = inputs.brokerName ?? Names.uniqueResourceName(scope, { maxLength: MQ_BROKER_NAME_MAX_LENGTH, separator: '-' });
  const subnetIds =
    inputs.deploymentMode === 'SINGLE_INSTANCE'
      ? inputs.subnets.subnetIds.slice(0, 1)
      : inputs.deploymentMode === 'ACTIVE_STANDBY_MULTI_AZ'
        ? inputs.subnets.subnetIds.slice(0, 2)
        : inputs.subnets.subnetIds;
  const activeMq = inputs.engine === 'ACTIVEMQ';
  const broker = new amazonmq.CfnBroker(scope, 'Broker', {
    brokerName,
    engineType: inputs.engine,
    engineVersion: inputs.engineVersion,
    hostInstanceType: inputs.instanceType,
    deploymentMode: inputs.deploymentMode,
    publiclyAccessible: false,
    autoMinorVersionUpgrade: true,
    subnetIds,
    securityGroups: securityGroups.map((g) => g.securityGroupId),
    users: [
      {
        username: inputs.username,
        password: credentials.secretValueFromJson('password').unsafeUnwrap(),
        ...(activeMq ? { consoleAccess: false } : {}),
      },
    ],
    encryptionOptions: inputs.encryptionKey ? { useAwsOwnedKey: false, kmsKeyId: inputs.encryptionKey.keyArn } : { useAwsOwnedKey: true },
    logs: activeMq ? { general: true, audit: true } : { general: true },
  });

  if (activeMq) {
    // Amazon MQ for ActiveMQ publishes its logs through a CloudWatch Logs resource policy (AWS:
    // "Configuring Amazon MQ for ActiveMQ logs"); RabbitMQ brokers use the service-linked role.
    const stack = Stack.of(scope);
    const policy = new logs.ResourcePolicy(scope, 'BrokerLogsPolicy', {
      resourcePolicyName: Names.uniqueResourceName(scope, { maxLength: 255, separator: '-' }),
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('mq.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [
            stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '/aws/amazonmq/*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      ],
    });
    broker.node.addDependency(policy);
  }
  return { broker, credentials, securityGroups, connections, brokerName };
}
