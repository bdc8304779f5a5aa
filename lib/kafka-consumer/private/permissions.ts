import { Fn, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { combineGrants } from '../../core/grants';
import { acknowledgeWildcardResource } from '../../core/nag';

/**
 * What an event source mapping in a VPC needs: the network interfaces Lambda's pollers use in the
 * cluster's (or the brokers') subnets. EC2 supports no resource-level permissions for the describe
 * actions, and the interfaces do not exist before the mapping creates them, hence `*`.
 */
export const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
];

/** What a mapping on an MSK cluster reads about the cluster (AWS: with-msk-permissions). */
export const MSK_CLUSTER_ACTIONS = ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'];

/** IAM access control of MSK: connecting, on the cluster. */
export const MSK_IAM_CLUSTER_ACTIONS = ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'];
/** IAM access control of MSK: reading the topic. */
export const MSK_IAM_TOPIC_ACTIONS = ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'];
/** IAM access control of MSK: committing the consumer group's offsets. */
export const MSK_IAM_GROUP_ACTIONS = ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'];

/**
 * The ARN of a topic or a group of the MSK cluster `clusterArn`
 * (`arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>` ->
 * `arn:…:topic/<name>/<uuid>/<topic>`, IAM access control's resource format); tokens allowed.
 */
export function clusterResourceArn(clusterArn: string, kind: 'topic' | 'group', name: string): string {
  if (!Token.isUnresolved(clusterArn)) return `${clusterArn.replace(':cluster/', `:${kind}/`)}/${name}`;
  return Fn.join('', [
    Fn.select(0, Fn.split(':cluster/', clusterArn)),
    `:${kind}/`,
    Fn.select(1, Fn.split(':cluster/', clusterArn)),
    `/${name}`,
  ]);
}

/** Grants a statement of `actions` on `resources` to `grantee`. */
function statement(grantee: iam.IGrantable, actions: string[], resources: string[]): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: resources });
}

/** Reading a secret of the mapping: `secretsmanager:GetSecretValue` (and `kms:Decrypt` on its key), nothing else. */
export function grantSecretValue(secret: secretsmanager.ISecret, grantee: iam.IGrantable): iam.Grant {
  return combineGrants(
    grantee,
    [statement(grantee, ['secretsmanager:GetSecretValue'], [secret.secretArn]), secret.encryptionKey?.grantDecrypt(grantee)],
    'nothing to grant',
  );
}

/** What {@link grantMskConsumer} needs. */
export interface MskConsumerAccess {
  readonly clusterArn: string;
  readonly topic: string;
  readonly consumerGroupId: string;
  /** IAM access control (no secret). */
  readonly iamAuthentication: boolean;
  /** SASL/SCRAM: the mapping lists the cluster's SCRAM secrets. */
  readonly scram: boolean;
  readonly secret?: secretsmanager.ISecret;
}

/**
 * The permissions of a mapping on an MSK cluster: the cluster's description and bootstrap brokers,
 * the network interfaces in its VPC, and, with IAM access control, connecting, reading the topic and
 * committing the group's offsets, each on its own resource (AWS: with-msk-permissions; the AWS
 * managed policy AWSLambdaMSKExecutionRole grants the first two on every cluster).
 */
export function grantMskConsumer(scope: IConstruct, grantee: iam.IGrantable, access: MskConsumerAccess): iam.Grant {
  const grants: Array<iam.Grant | undefined> = [
    statement(grantee, access.scram ? [...MSK_CLUSTER_ACTIONS, 'kafka:ListScramSecrets'] : MSK_CLUSTER_ACTIONS, [access.clusterArn]),
    grantVpcAccess(scope, grantee),
  ];
  if (access.iamAuthentication) {
    grants.push(
      statement(grantee, MSK_IAM_CLUSTER_ACTIONS, [access.clusterArn]),
      statement(grantee, MSK_IAM_TOPIC_ACTIONS, [clusterResourceArn(access.clusterArn, 'topic', access.topic)]),
      statement(grantee, MSK_IAM_GROUP_ACTIONS, [clusterResourceArn(access.clusterArn, 'group', access.consumerGroupId)]),
    );
  }
  if (access.secret) grants.push(grantSecretValue(access.secret, grantee));
  return combineGrants(grantee, grants, 'nothing to grant');
}

/** The network-interface permissions of a mapping in a VPC, with the one cdk-nag finding they raise acknowledged. */
export function grantVpcAccess(scope: IConstruct, grantee: iam.IGrantable): iam.Grant {
  const grant = statement(grantee, VPC_ACCESS_ACTIONS, ['*']);
  const policy = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : undefined;
  if (policy) {
    acknowledgeWildcardResource(
      policy,
      '*',
      `The event source mapping of ${scope.node.path} reaches the brokers through network interfaces in their VPC: ec2:CreateNetworkInterface and the ec2:Describe* actions support no resource-level permissions, and the interfaces do not exist before the mapping creates them.`,
    );
  }
  return grant;
}
