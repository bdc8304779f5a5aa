import { Names } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { MSK_CLUSTER_NAME_MAX_LENGTH } from '../../core/limits';

/** The port of MSK Serverless: IAM access control over TLS. */
export const MSK_SERVERLESS_PORT = 9098;

/** What {@link buildServerlessCluster} returns. */
export interface BuiltServerlessCluster {
  readonly cluster: msk.CfnServerlessCluster;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly clusterName: string;
}

/** What {@link buildServerlessCluster} needs. */
export interface ServerlessClusterInputs {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SelectedSubnets;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly clusterName?: string;
}

/**
 * An MSK Serverless cluster in the given subnets: IAM access control (the only client
 * authentication MSK Serverless offers), TLS in transit and encryption at rest (always on for
 * serverless clusters, with an AWS managed key). Without security groups, one is created that lets
 * its own members reach the brokers on 9098: Lambda's event pollers run in the cluster's subnets
 * with the cluster's security groups, so the rule admits them, and producers given that group.
 */
export function buildServerlessCluster(scope: Construct, inputs: ServerlessClusterInputs): BuiltServerlessCluster {
  let securityGroups = inputs.securityGroups;
  if (!securityGroups || securityGroups.length === 0) {
    const group = new ec2.SecurityGroup(scope, 'ClusterSecurityGroup', {
      vpc: inputs.vpc,
      description: `MSK Serverless cluster of ${scope.node.path}: brokers, Lambda event pollers and producers`,
      allowAllOutbound: true,
    });
    group.addIngressRule(group, ec2.Port.tcp(MSK_SERVERLESS_PORT), 'Kafka over TLS with IAM access control, from members of this group');
    securityGroups = [group];
  }
  const clusterName = inputs.clusterName ?? Names.uniqueResourceName(scope, { maxLength: MSK_CLUSTER_NAME_MAX_LENGTH, separator: '-' });
  const cluster = new msk.CfnServerlessCluster(scope, 'Cluster', {
    clusterName,
    clientAuthentication: { sasl: { iam: { enabled: true } } },
    vpcConfigs: [{ subnetIds: inputs.subnets.subnetIds, securityGroups: securityGroups.map((g) => g.securityGroupId) }],
  });
  return { cluster, securityGroups, clusterName };
}
