import { Annotations, Duration, Names, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MessagingPatternProps, createAlarm, validateAlarms } from '../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  KAFKA_BATCH_SIZE,
  KAFKA_MAXIMUM_POLLERS,
  KAFKA_MINIMUM_POLLERS,
  KAFKA_OFFSET_LAG_ALARM_THRESHOLD,
  KAFKA_OFFSET_LAG_EVALUATION_PERIODS,
  KAFKA_RETRY_ATTEMPTS,
  KAFKA_STARTING_POSITION,
} from '../core/defaults';
import { combineGrants, grantSendOnly } from '../core/grants';
import {
  KAFKA_CONSUMER_GROUP_ID_MAX_LENGTH,
  KAFKA_MAX_BATCH_SIZE,
  KAFKA_MAX_BATCHING_WINDOW,
  KAFKA_MAX_MINIMUM_POLLERS,
  KAFKA_MAX_POLLERS,
  KAFKA_MAX_RECORD_AGE,
  KAFKA_MAX_RETRY_ATTEMPTS,
  KAFKA_MIN_RECORD_AGE,
  KAFKA_TOPIC_MAX_LENGTH,
  MSK_CLUSTER_NAME_MAX_LENGTH,
  NO_DURATION,
} from '../core/limits';
import { metricOptions, queueMetric } from '../core/metrics';
import { acknowledgeDeadLetterQueue } from '../core/nag';
import { MessagingPattern } from '../core/pattern';
import { buildQueue } from '../core/queue-builder';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { OnFailureQueueDestination } from '../stream-pipeline/private/grants';
import { buildServerlessCluster } from './private/cluster';
import { grantMskConsumer, grantSecretValue, grantVpcAccess } from './private/permissions';

/** Alarm ids of a Kafka consumer. */
const OFFSET_LAG_ALARM = 'OffsetLagTooHigh';
const ON_FAILURE_DESTINATION_ALARM = 'OnFailureDestinationNotEmpty';
const KAFKA_CONSUMER_ALARMS = [OFFSET_LAG_ALARM, ON_FAILURE_DESTINATION_ALARM];

const CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9-]+\/[A-Za-z0-9-]+$/;
const BOOTSTRAP_SERVER = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const TOPIC = new RegExp(`^[A-Za-z0-9._-]{1,${KAFKA_TOPIC_MAX_LENGTH}}$`);
const CONSUMER_GROUP_ID = new RegExp(`^[a-zA-Z0-9-/*:_+=.@]{1,${KAFKA_CONSUMER_GROUP_ID_MAX_LENGTH}}$`);
const CLUSTER_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,${MSK_CLUSTER_NAME_MAX_LENGTH - 1}}$`);

/** How the event source mapping authenticates to the Kafka brokers. */
export enum KafkaAuthentication {
  /**
   * IAM access control (MSK only): the consumer's execution role connects, reads the topic and
   * commits the group's offsets; no secret. The only choice for MSK Serverless.
   */
  IAM = 'IAM',
  /** SASL/SCRAM-SHA-512, with `secret` holding `{ "username", "password" }` (MSK, self-managed). */
  SASL_SCRAM_512 = 'SASL_SCRAM_512_AUTH',
  /** SASL/SCRAM-SHA-256, with `secret` (self-managed only: MSK offers SCRAM-SHA-512). */
  SASL_SCRAM_256 = 'SASL_SCRAM_256_AUTH',
  /** SASL/PLAIN, with `secret` (self-managed only). */
  BASIC = 'BASIC_AUTH',
  /** Mutual TLS, with `secret` holding the client certificate chain and private key (MSK, self-managed). */
  MUTUAL_TLS = 'CLIENT_CERTIFICATE_TLS_AUTH',
}

/** An MSK Serverless cluster for {@link KafkaConsumer} to create. */
export interface KafkaServerlessClusterProps {
  /** The VPC of the cluster. */
  readonly vpc: ec2.IVpc;

  /**
   * The cluster's subnets (2 to 5, in different Availability Zones). Lambda's event pollers run
   * there too: they need a route to Lambda and STS (a NAT gateway, or VPC endpoints).
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the cluster (and of Lambda's event pollers, which use the cluster's).
   *
   * @default - a new group letting its own members reach the brokers on 9098
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The cluster's name (1-64 characters: a letter, then letters, digits and hyphens).
   *
   * @default - a name derived from the construct path
   */
  readonly clusterName?: string;
}

/** Props of {@link KafkaConsumer}. */
export interface KafkaConsumerProps extends MessagingPatternProps {
  /**
   * The function that processes the topic's records, in order per partition. It should return
   * partial batch responses (`{ batchItemFailures: [{ itemIdentifier: { partition, offset } }] }`,
   * the first failed record of each failed partition): `processKafkaBatch` from
   * `cdk-messaging-patterns/runtime/kafka` does that.
   */
  readonly consumer: lambda.IFunction;

  /** The topic to consume. */
  readonly topic: string;

  /**
   * An existing MSK cluster (provisioned or serverless) to consume, by ARN. Give exactly one of
   * `existingClusterArn`, `serverlessClusterProps` and `bootstrapServers`.
   *
   * @default - none
   */
  readonly existingClusterArn?: string;

  /**
   * Create an MSK Serverless cluster (IAM access control, TLS, encrypted at rest) and consume it.
   *
   * @default - none
   */
  readonly serverlessClusterProps?: KafkaServerlessClusterProps;

  /**
   * A self-managed Kafka cluster to consume: its bootstrap servers (`host:port`).
   *
   * @default - none
   */
  readonly bootstrapServers?: string[];

  /**
   * How the mapping authenticates to the brokers.
   *
   * @default KafkaAuthentication.IAM for MSK (no secret to rotate, least privilege per topic and group); SASL_SCRAM_512 for a self-managed cluster
   */
  readonly authentication?: KafkaAuthentication;

  /**
   * The Secrets Manager secret of the SASL or mutual TLS credentials: `{ "username", "password" }`
   * for SASL, the certificate chain and private key for mutual TLS. MSK requires its SCRAM secrets
   * to be encrypted with a customer managed key and named `AmazonMSK_…`.
   *
   * @default - none; required with every authentication but IAM
   */
  readonly secret?: secretsmanager.ISecret;

  /**
   * Self-managed clusters whose brokers use certificates of a private CA: the secret holding the
   * root CA certificate.
   *
   * @default - the brokers' certificates are checked against public CAs
   */
  readonly rootCaCertificate?: secretsmanager.ISecret;

  /**
   * Self-managed clusters reachable only in a VPC: the VPC the mapping's pollers connect from.
   *
   * @default - the brokers are reached over the internet (then authentication is required)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * With `vpc`: the subnets the pollers connect from.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * With `vpc`: the security group of the pollers (it must reach the brokers).
   *
   * @default - none; required with `vpc`
   */
  readonly securityGroup?: ec2.ISecurityGroup;

  /**
   * The consumer group the mapping joins (1-200 characters of `a-zA-Z0-9-/*:_+=.@`). It cannot be
   * changed once the mapping exists: a new id is a new mapping, which starts at `startingPosition`.
   *
   * @default - an id derived from the construct path: stable across deployments, so IAM access control can name the group
   */
  readonly consumerGroupId?: string;

  /**
   * Records per batch (1-10,000), from one or several partitions.
   *
   * @default 100 - Lambda's default for Kafka
   */
  readonly batchSize?: number;

  /**
   * How long the mapping gathers records before invoking the consumer (0-5 minutes).
   *
   * @default - Lambda's default for Kafka, 500 milliseconds
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Where a consumer group without committed offsets starts reading.
   *
   * @default lambda.StartingPosition.TRIM_HORIZON - the oldest record of the topic: nothing written before the mapping existed is skipped
   */
  readonly startingPosition?: lambda.StartingPosition;

  /**
   * With `startingPosition: AT_TIMESTAMP`: the time to start reading from, in Unix seconds.
   *
   * @default - none; required with AT_TIMESTAMP
   */
  readonly startingPositionTimestamp?: number;

  /**
   * Event filters (Lambda's filter criteria, on `value`), e.g.
   * `[lambda.FilterCriteria.filter({ value: { type: lambda.FilterRule.isEqual('order') } })]`.
   * Records that match no filter are skipped and committed.
   *
   * @default - every record
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- aws-cdk-lib's own type (lambda.FilterCriteria.filter returns it)
  readonly filters?: Array<{ [key: string]: any }>;

  /**
   * A customer managed key encrypting the filter criteria.
   *
   * @default - Lambda's AWS managed key
   */
  readonly filterEncryption?: kms.IKey;

  /**
   * How many times a failing batch is retried (0-10,000) before its records go to the on-failure
   * queue and the partition moves on. Always bounded: Lambda's default, retrying until the records
   * expire, blocks the partition. Keep it above log2(batchSize): bisection may spend one attempt
   * per split isolating a poison record (the kit warns below that).
   *
   * @default 10 - Lambda's own cap with an on-failure destination
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are sent to the on-failure queue without being processed (1 minute-7
   * days).
   *
   * @default - no limit: a lagging consumer processes every record the topic still holds (the offset-lag alarm watches the lag)
   */
  readonly maxRecordAge?: Duration;

  /**
   * The mapping's provisioned pollers. Provisioned mode is always on: it is what makes Lambda
   * honour bounded retries, bisection, partial batch responses and the maximum record age.
   *
   * @default - minimumPollers 1, maximumPollers 200, no poller group
   */
  readonly provisionedPollerConfig?: lambda.ProvisionedPollerConfig;

  /**
   * A schema registry (AWS Glue or Confluent) the mapping validates and decodes records with.
   *
   * @default - records arrive as the producer wrote them (decode them with `cdk-messaging-patterns/runtime/kafka`)
   */
  readonly schemaRegistryConfig?: lambda.ISchemaRegistry;

  /**
   * Props for the on-failure queue, merged over the kit's defaults. It receives one metadata
   * document per discarded batch (the partitions and offset ranges, the reason), **not the
   * records**. The kit keeps it encrypted, TLS-only and a standard queue whatever is given here.
   *
   * @default - SSE-SQS encryption, TLS-only policy, 14-day retention
   */
  readonly onFailureQueueProps?: sqs.QueueProps;

  /**
   * Whether the mapping starts enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/** What the constructor derives from a Kafka consumer's props. */
export interface KafkaConsumerDerived {
  readonly kind: 'msk' | 'serverless' | 'self-managed';
  readonly authentication: KafkaAuthentication;
  readonly retryAttempts: number;
}

/**
 * A Lambda function consuming a Kafka topic: an existing Amazon MSK cluster (provisioned or
 * serverless), an MSK Serverless cluster the construct creates in your VPC, or a self-managed
 * cluster.
 *
 * The event source mapping authenticates with IAM access control by default (SASL/SCRAM, SASL/PLAIN
 * or mutual TLS with a secret), runs in provisioned mode (at least one poller) so that Lambda
 * honours its error handling: partial batch responses, bisection of a failing batch, 10 retries,
 * then the batch's metadata (partitions and offsets, not the records) to an encrypted, TLS-only
 * on-failure queue, and the partition moves on. The consumer's permissions (cluster, topic and
 * group under IAM access control, the secret, network interfaces, the on-failure queue) exist
 * before the mapping is created.
 *
 * Alarms (ids for `alarms.overrides`): `OffsetLagTooHigh` (`AWS/Lambda` `OffsetLag` of the consumer,
 * `FunctionName`, Maximum, at or above 10,000 records for 5 minutes) and
 * `OnFailureDestinationNotEmpty` (any message in the on-failure queue).
 *
 * @example
 * const orders = new KafkaConsumer(this, 'Orders', {
 *   consumer: fn,
 *   existingClusterArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/shop/1a2b3c4d-…-1',
 *   topic: 'orders',
 * });
 */
export class KafkaConsumer extends MessagingPattern {
  /** The event source mapping feeding the consumer. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The on-failure destination: metadata of every batch the mapping discarded. */
  public readonly onFailureQueue: sqs.IQueue;
  /** The topic consumed. */
  public readonly topic: string;
  /** The consumer group the mapping joins. */
  public readonly consumerGroupId: string;
  /** How the mapping authenticates. */
  public readonly authentication: KafkaAuthentication;
  /** The mapping's retry attempts. */
  public readonly retryAttempts: number;
  /** The MSK cluster consumed (existing or created); none for a self-managed cluster. */
  public readonly clusterArn?: string;
  /** The MSK Serverless cluster, when the construct created it. */
  public readonly serverlessCluster?: msk.CfnServerlessCluster;
  /** The created cluster's security groups (Lambda's pollers use them; give them to producers too). */
  public readonly clusterSecurityGroups?: ec2.ISecurityGroup[];

  private readonly consumer: lambda.IFunction;

  constructor(scope: Construct, id: string, props: KafkaConsumerProps) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    const derived = validateKafkaConsumerProps(v, props);
    const serverlessSubnets = props.serverlessClusterProps
      ? props.serverlessClusterProps.vpc.selectSubnets(
          props.serverlessClusterProps.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        )
      : undefined;
    if (serverlessSubnets && !Token.isUnresolved(serverlessSubnets.subnetIds)) {
      v.check(
        'serverlessClusterProps.vpcSubnets:range',
        serverlessSubnets.subnetIds.length >= 2 && serverlessSubnets.subnetIds.length <= 5,
        `serverlessClusterProps.vpcSubnets must select 2 to 5 subnets, in different Availability Zones (given ${serverlessSubnets.subnetIds.length})`,
      );
    }
    v.throwIfInvalid();
    const batchSize = props.batchSize ?? KAFKA_BATCH_SIZE;
    if (!isUnresolved(batchSize) && !isUnresolved(derived.retryAttempts) && derived.retryAttempts < Math.ceil(Math.log2(batchSize)) + 1) {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:kafkaRetriesBelowBisection',
        `retryAttempts ${derived.retryAttempts} may run out before bisection isolates a poison record in a batch of ${batchSize} (up to ${Math.ceil(Math.log2(batchSize)) + 1} attempts when splits count as retries): healthy records that share its half of the batch would go to the on-failure queue with it.`,
      );
    }

    this.consumer = props.consumer;
    this.topic = props.topic;
    this.authentication = derived.authentication;
    this.retryAttempts = derived.retryAttempts;
    this.consumerGroupId =
      props.consumerGroupId ?? Names.uniqueResourceName(this, { maxLength: KAFKA_CONSUMER_GROUP_ID_MAX_LENGTH, separator: '-' });

    if (props.serverlessClusterProps && serverlessSubnets) {
      const built = buildServerlessCluster(this, {
        vpc: props.serverlessClusterProps.vpc,
        subnets: serverlessSubnets,
        securityGroups: props.serverlessClusterProps.securityGroups,
        clusterName: props.serverlessClusterProps.clusterName,
      });
      this.serverlessCluster = built.cluster;
      this.clusterSecurityGroups = built.securityGroups;
      this.clusterArn = built.cluster.attrArn;
    } else {
      this.clusterArn = props.existingClusterArn;
    }

    // The on-failure destination is this consumer's dead-letter queue: it needs none of its own.
    const onFailure = buildQueue(this, {
      queueProps: { retentionPeriod: DEAD_LETTER_RETENTION, ...props.onFailureQueueProps, fifo: undefined },
      deployDeadLetterQueue: false,
      ids: { queue: 'OnFailureQueue', key: 'OnFailureQueueKey' },
    });
    this.onFailureQueue = onFailure.queue;
    acknowledgeDeadLetterQueue(this.onFailureQueue, `the event source mapping of ${this.node.path} (its on-failure destination)`);

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'Resource', {
      target: props.consumer,
      eventSourceArn: this.clusterArn,
      kafkaBootstrapServers: props.bootstrapServers,
      kafkaTopic: props.topic,
      kafkaConsumerGroupId: this.consumerGroupId,
      sourceAccessConfigurations: this.sourceAccessConfigurations(props),
      startingPosition: props.startingPosition ?? KAFKA_STARTING_POSITION,
      startingPositionTimestamp: props.startingPositionTimestamp,
      batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: this.retryAttempts,
      maxRecordAge: props.maxRecordAge,
      onFailure: new OnFailureQueueDestination(this.onFailureQueue),
      provisionedPollerConfig: {
        minimumPollers: props.provisionedPollerConfig?.minimumPollers ?? KAFKA_MINIMUM_POLLERS,
        maximumPollers: props.provisionedPollerConfig?.maximumPollers ?? KAFKA_MAXIMUM_POLLERS,
        pollerGroupName: props.provisionedPollerConfig?.pollerGroupName,
      },
      filters: props.filters,
      filterEncryption: props.filterEncryption,
      schemaRegistryConfig: props.schemaRegistryConfig,
      enabled: props.enabled,
    });
    // The pollers reach a cluster the kit creates through its security group: its self-referencing
    // ingress rule (a resource of its own) exists before the mapping starts polling.
    if (this.serverlessCluster) for (const group of this.clusterSecurityGroups ?? []) this.eventSourceMapping.node.addDependency(group);

    // Lambda checks the consumer's permissions when it creates the mapping: create the policy first.
    if (props.consumer.role) {
      this.grantConsume(props, derived).applyBefore(this.eventSourceMapping);
      grantSendOnly(this.onFailureQueue, props.consumer).applyBefore(this.eventSourceMapping);
    } else {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:consumerWithoutRole',
        `consumer ${props.consumer.node.path} was imported without its role, so the kit could not grant it what the event source mapping needs (${derived.kind === 'self-managed' ? 'the secret' : 'the cluster, topic and consumer group'}, network interfaces) nor sqs:SendMessage on the on-failure queue: grant them to its role.`,
      );
    }

    const what = `Kafka consumer ${this.node.path} (topic ${props.topic})`;
    createAlarm(this, props.alarms, {
      id: OFFSET_LAG_ALARM,
      metric: this.metricOffsetLag(),
      threshold: KAFKA_OFFSET_LAG_ALARM_THRESHOLD,
      evaluationPeriods: KAFKA_OFFSET_LAG_EVALUATION_PERIODS,
      description: (n) =>
        `${what}: the consumer is ${n} or more records behind the topic (OffsetLag) for ${KAFKA_OFFSET_LAG_EVALUATION_PERIODS} minutes. ` +
        "It is failing or too slow; records it has not processed are deleted at the end of the topic's retention.",
    });
    createAlarm(this, props.alarms, {
      id: ON_FAILURE_DESTINATION_ALARM,
      metric: this.metricOnFailureMessages(),
      threshold: DEAD_LETTER_ALARM_THRESHOLD,
      description: (n) =>
        `${what}: ${n === 1 ? 'a batch was' : `${n} or more batches were`} discarded (retries exhausted or records too old). ` +
        'The on-failure queue holds their partitions and offsets, not the records: read them back from the topic before its retention ends.',
    });
    this._showOnDashboard(this.metricOffsetLag());
  }

  /** Grants `grantee` permission to read and delete the on-failure queue's messages (operators). */
  public grantConsumeOnFailureMessages(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(grantee, [this.onFailureQueue.grantConsumeMessages(grantee)], 'the consumer has no on-failure queue');
  }

  /**
   * How many records the consumer's group is behind the topic (Maximum over 1 minute): Lambda's
   * `OffsetLag` in `AWS/Lambda`, dimension `FunctionName`. A function fed by several Kafka mappings
   * reports them under that one dimension.
   */
  public metricOffsetLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metric('OffsetLag', metricOptions(cloudwatch.Stats.MAXIMUM, props));
  }

  /** Discarded batches waiting in the on-failure queue (Maximum over 1 minute). */
  public metricOnFailureMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueMetric(this.onFailureQueue, 'ApproximateNumberOfMessagesVisible', props);
  }

  private sourceAccessConfigurations(props: KafkaConsumerProps): lambda.SourceAccessConfiguration[] | undefined {
    const out: lambda.SourceAccessConfiguration[] = [];
    if (props.secret && this.authentication !== KafkaAuthentication.IAM) {
      out.push({ type: lambda.SourceAccessConfigurationType.of(this.authentication), uri: props.secret.secretArn });
    }
    if (props.rootCaCertificate) {
      out.push({ type: lambda.SourceAccessConfigurationType.SERVER_ROOT_CA_CERTIFICATE, uri: props.rootCaCertificate.secretArn });
    }
    if (props.vpc && props.bootstrapServers) {
      const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      for (const subnetId of subnets.subnetIds)
        out.push({ type: lambda.SourceAccessConfigurationType.VPC_SUBNET, uri: `subnet:${subnetId}` });
      if (props.securityGroup) {
        out.push({
          type: lambda.SourceAccessConfigurationType.VPC_SECURITY_GROUP,
          uri: `security_group:${props.securityGroup.securityGroupId}`,
        });
      }
    }
    return out.length > 0 ? out : undefined;
  }

  private grantConsume(props: KafkaConsumerProps, derived: KafkaConsumerDerived): iam.Grant {
    const fn = props.consumer;
    const extra = [props.rootCaCertificate ? grantSecretValue(props.rootCaCertificate, fn) : undefined];
    if (this.clusterArn) {
      return combineGrants(
        fn,
        [
          grantMskConsumer(this, fn, {
            clusterArn: this.clusterArn,
            topic: props.topic,
            consumerGroupId: this.consumerGroupId,
            iamAuthentication: derived.authentication === KafkaAuthentication.IAM,
            scram: derived.authentication === KafkaAuthentication.SASL_SCRAM_512,
            secret: derived.authentication === KafkaAuthentication.IAM ? undefined : props.secret,
          }),
          ...extra,
        ],
        'nothing to grant',
      );
    }
    return combineGrants(
      fn,
      [props.secret ? grantSecretValue(props.secret, fn) : undefined, props.vpc ? grantVpcAccess(this, fn) : undefined, ...extra],
      'the self-managed cluster needs no permissions',
    );
  }
}

/** The authentication methods each kind of cluster offers. */
const AUTHENTICATION_OF: Record<KafkaConsumerDerived['kind'], readonly KafkaAuthentication[]> = {
  msk: [KafkaAuthentication.IAM, KafkaAuthentication.SASL_SCRAM_512, KafkaAuthentication.MUTUAL_TLS],
  serverless: [KafkaAuthentication.IAM],
  'self-managed': [
    KafkaAuthentication.SASL_SCRAM_512,
    KafkaAuthentication.SASL_SCRAM_256,
    KafkaAuthentication.BASIC,
    KafkaAuthentication.MUTUAL_TLS,
  ],
};

const KIND_NAME: Record<KafkaConsumerDerived['kind'], string> = {
  msk: 'an MSK cluster',
  serverless: 'an MSK Serverless cluster the kit creates',
  'self-managed': 'a self-managed cluster',
};

/**
 * Checks a Kafka consumer's props into `v`, and returns what the constructor derives from them: the
 * kind of cluster, the authentication and the retry attempts.
 */
export function validateKafkaConsumerProps(v: PropsValidator, props: KafkaConsumerProps): KafkaConsumerDerived {
  const sources = {
    existingClusterArn: props.existingClusterArn,
    serverlessClusterProps: props.serverlessClusterProps,
    bootstrapServers: props.bootstrapServers,
  };
  v.mutuallyExclusive(sources);
  v.check(
    'existingClusterArn|serverlessClusterProps|bootstrapServers:required',
    Object.values(sources).some((s) => s !== undefined),
    'give the cluster to consume: existingClusterArn (MSK), serverlessClusterProps (an MSK Serverless cluster the kit creates) or bootstrapServers (self-managed)',
  );
  const kind: KafkaConsumerDerived['kind'] = props.serverlessClusterProps ? 'serverless' : props.bootstrapServers ? 'self-managed' : 'msk';

  v.matches(
    'existingClusterArn',
    props.existingClusterArn,
    CLUSTER_ARN,
    'an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>)',
  );
  if (props.bootstrapServers !== undefined && !isUnresolved(props.bootstrapServers)) {
    v.check('bootstrapServers:required', props.bootstrapServers.length > 0, 'bootstrapServers must name at least one broker (given [])');
    const bad = props.bootstrapServers.filter((s) => !isUnresolved(s) && !BOOTSTRAP_SERVER.test(s));
    v.check('bootstrapServers:format', bad.length === 0, `bootstrapServers must be host:port pairs (given ${describeValue(bad)})`);
  }
  v.matches('topic', props.topic, TOPIC, `a Kafka topic name: 1 to ${KAFKA_TOPIC_MAX_LENGTH} characters a-z, A-Z, 0-9, '.', '_' or '-'`);
  v.matches(
    'consumerGroupId',
    props.consumerGroupId,
    CONSUMER_GROUP_ID,
    `1 to ${KAFKA_CONSUMER_GROUP_ID_MAX_LENGTH} characters a-z, A-Z, 0-9 or -/*:_+=.@`,
  );
  v.matches(
    'serverlessClusterProps.clusterName',
    props.serverlessClusterProps?.clusterName,
    CLUSTER_NAME,
    `an MSK cluster name: a letter, then up to ${MSK_CLUSTER_NAME_MAX_LENGTH - 1} letters, digits or hyphens`,
  );

  // Authentication.
  const authentication = props.authentication ?? (kind === 'self-managed' ? KafkaAuthentication.SASL_SCRAM_512 : KafkaAuthentication.IAM);
  v.check(
    'authentication:unsupported',
    AUTHENTICATION_OF[kind].includes(authentication),
    `authentication ${authentication} is not offered by ${KIND_NAME[kind]} (use ${AUTHENTICATION_OF[kind].join(', ')})`,
  );
  if (authentication === KafkaAuthentication.IAM) {
    v.check(
      'secret:conflict',
      props.secret === undefined,
      "secret cannot be used with IAM authentication: the mapping connects with the consumer's execution role (choose a SASL or mutual TLS authentication to use the secret)",
    );
  } else {
    v.check(
      'secret:required',
      props.secret !== undefined,
      `secret is required with authentication ${authentication}: it holds the credentials the mapping presents`,
    );
  }

  // Network (self-managed clusters).
  for (const [name, value] of Object.entries({ vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroup: props.securityGroup })) {
    v.check(
      `${name}:conflict`,
      value === undefined || kind === 'self-managed',
      `${name} is for a self-managed cluster reachable in a VPC: an MSK mapping uses the cluster's own subnets and security groups`,
    );
  }
  if (kind === 'self-managed') {
    v.check(
      'securityGroup:required',
      props.vpc === undefined || props.securityGroup !== undefined,
      'securityGroup is required with vpc: the pollers use it to reach the brokers',
    );
    v.check('vpcSubnets:conflict', props.vpcSubnets === undefined || props.vpc !== undefined, 'vpcSubnets needs vpc');
    v.check('securityGroup:conflict', props.securityGroup === undefined || props.vpc !== undefined, 'securityGroup needs vpc');
  }
  v.check(
    'rootCaCertificate:conflict',
    props.rootCaCertificate === undefined || kind === 'self-managed',
    'rootCaCertificate is for self-managed brokers with certificates of a private CA: MSK brokers use public certificates',
  );

  // Event source mapping.
  v.integerInRange('batchSize', props.batchSize, 1, KAFKA_MAX_BATCH_SIZE);
  v.durationInRange('maxBatchingWindow', props.maxBatchingWindow, NO_DURATION, KAFKA_MAX_BATCHING_WINDOW);
  if (props.retryAttempts !== undefined && !isUnresolved(props.retryAttempts)) {
    v.check(
      'retryAttempts:range',
      Number.isInteger(props.retryAttempts) && props.retryAttempts >= 0 && props.retryAttempts <= KAFKA_MAX_RETRY_ATTEMPTS,
      `retryAttempts must be an integer between 0 and ${KAFKA_MAX_RETRY_ATTEMPTS}: the kit never retries until records expire (given ${props.retryAttempts})`,
    );
  }
  v.durationInRange('maxRecordAge', props.maxRecordAge, KAFKA_MIN_RECORD_AGE, KAFKA_MAX_RECORD_AGE);
  validateStartingPosition(v, props);
  const pollers = props.provisionedPollerConfig;
  v.integerInRange('provisionedPollerConfig.minimumPollers', pollers?.minimumPollers, 1, KAFKA_MAX_MINIMUM_POLLERS);
  v.integerInRange('provisionedPollerConfig.maximumPollers', pollers?.maximumPollers, 1, KAFKA_MAX_POLLERS);
  const min = pollers?.minimumPollers ?? KAFKA_MINIMUM_POLLERS;
  const max = pollers?.maximumPollers ?? KAFKA_MAXIMUM_POLLERS;
  if (!isUnresolved(min) && !isUnresolved(max)) {
    v.check(
      'provisionedPollerConfig:range',
      min <= max,
      `provisionedPollerConfig.minimumPollers must not exceed maximumPollers (given ${min} and ${max})`,
    );
  }
  v.check(
    'filterEncryption:conflict',
    props.filterEncryption === undefined || (props.filters?.length ?? 0) > 0,
    'filterEncryption encrypts the filters: it needs filters',
  );
  validateOnFailureQueueProps(v, props.onFailureQueueProps);
  validateAlarms(v, props.alarms, KAFKA_CONSUMER_ALARMS);

  return { kind, authentication, retryAttempts: props.retryAttempts ?? KAFKA_RETRY_ATTEMPTS };
}

function validateStartingPosition(v: PropsValidator, props: KafkaConsumerProps): void {
  const atTimestamp = props.startingPosition === lambda.StartingPosition.AT_TIMESTAMP;
  v.check(
    'startingPositionTimestamp:required',
    !atTimestamp || props.startingPositionTimestamp !== undefined,
    'startingPositionTimestamp is required with startingPosition AT_TIMESTAMP',
  );
  v.check(
    'startingPositionTimestamp:conflict',
    atTimestamp || props.startingPositionTimestamp === undefined,
    `startingPositionTimestamp can only be used with startingPosition AT_TIMESTAMP (given startingPosition ${props.startingPosition ?? 'TRIM_HORIZON'})`,
  );
  const t = props.startingPositionTimestamp;
  if (t !== undefined && !isUnresolved(t)) {
    v.check(
      'startingPositionTimestamp:range',
      Number.isFinite(t) && t > 0,
      `startingPositionTimestamp must be a time in Unix seconds (given ${t})`,
    );
  }
}

function validateOnFailureQueueProps(v: PropsValidator, q: sqs.QueueProps | undefined): void {
  if (!q) return;
  v.check(
    'onFailureQueueProps.encryption:insecure',
    q.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    'onFailureQueueProps.encryption must not be UNENCRYPTED: the kit encrypts every queue at rest',
  );
  v.check(
    'onFailureQueueProps.enforceSSL:insecure',
    q.enforceSSL !== false,
    'onFailureQueueProps.enforceSSL must not be false: the kit denies requests that do not use TLS (given false)',
  );
  v.check(
    'onFailureQueueProps.fifo:unsupported',
    q.fifo !== true,
    'onFailureQueueProps.fifo must not be true: Lambda sends on-failure records to standard queues only (given true)',
  );
}
