import { Annotations, Duration, Token, Validations } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { MessagingPatternProps, createAlarm, validateAlarms } from '../core/alarms';
import {
  ACTIVEMQ_ENGINE_VERSION,
  BROKER_BATCH_SIZE,
  BROKER_INSTANCE_TYPE,
  BROKER_USERNAME,
  CONSUMER_ERRORS_ALARM_THRESHOLD,
  RABBITMQ_ENGINE_VERSION,
} from '../core/defaults';
import { combineGrants } from '../core/grants';
import {
  MQ_BROKER_NAME_MAX_LENGTH,
  MQ_MAX_BATCH_SIZE,
  MQ_MAX_BATCHING_WINDOW,
  MQ_QUEUE_NAME_MAX_LENGTH,
  MQ_USERNAME_MAX_LENGTH,
  NO_DURATION,
} from '../core/limits';
import { metricOptions } from '../core/metrics';
import { MessagingPattern } from '../core/pattern';
import { PropsValidator, describeValue } from '../core/validation';
import { grantSecretValue, grantVpcAccess } from '../kafka-consumer/private/permissions';
import { buildBroker } from './private/broker';

/** Alarm ids of a broker consumer. */
const CONSUMER_ERRORS_ALARM = 'ConsumerErrors';
const BROKER_CONSUMER_ALARMS = [CONSUMER_ERRORS_ALARM];

const BROKER_ARN = /^arn:aws[a-z-]*:mq:[a-z0-9-]+:\d{12}:broker:[A-Za-z0-9_-]+:b-[0-9a-f-]+$/;
const BROKER_NAME = new RegExp(`^[A-Za-z0-9_-]{1,${MQ_BROKER_NAME_MAX_LENGTH}}$`);
const USERNAME = new RegExp(`^[A-Za-z0-9._~-]{2,${MQ_USERNAME_MAX_LENGTH}}$`);

/** The message broker engine of Amazon MQ. */
export enum BrokerEngine {
  /** RabbitMQ (AMQP 0-9-1): queues in virtual hosts; dead-lettering is the queue's configuration. */
  RABBITMQ = 'RABBITMQ',
  /** ActiveMQ Classic (OpenWire, AMQP 1.0, STOMP, MQTT): Lambda redelivers a failed batch 6 times, then the broker's `ActiveMQ.DLQ`. */
  ACTIVEMQ = 'ACTIVEMQ',
}

/** How a broker the kit creates is deployed. */
export enum BrokerDeploymentMode {
  /** One broker instance in one Availability Zone. */
  SINGLE_INSTANCE = 'SINGLE_INSTANCE',
  /** RabbitMQ only: a cluster of three nodes in three Availability Zones. */
  CLUSTER_MULTI_AZ = 'CLUSTER_MULTI_AZ',
  /** ActiveMQ only: an active and a standby broker in two Availability Zones, sharing storage. */
  ACTIVE_STANDBY_MULTI_AZ = 'ACTIVE_STANDBY_MULTI_AZ',
}

/** An Amazon MQ broker for {@link BrokerConsumer} to create. */
export interface BrokerProps {
  /** The VPC of the broker (it is never publicly accessible). */
  readonly vpc: ec2.IVpc;

  /**
   * The broker's subnets: the first one for a single instance, the first two for ActiveMQ active
   * and standby, all of them for a RabbitMQ cluster. Lambda's event pollers run there too: they
   * need a route to Lambda, STS and Secrets Manager (a NAT gateway, or VPC endpoints).
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the broker (and of Lambda's event pollers, which use the broker's).
   *
   * @default - a new group letting its own members reach the broker's TLS port (5671 for RabbitMQ, 61617 for ActiveMQ)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The broker's name (1-50 letters, digits, `-` or `_`).
   *
   * @default - a name derived from the construct path
   */
  readonly brokerName?: string;

  /**
   * The engine version, as `major.minor`.
   *
   * @default - '3.13' for RabbitMQ, '5.18' for ActiveMQ: the newest Amazon MQ offers, patched automatically
   */
  readonly engineVersion?: string;

  /**
   * The broker's instance type.
   *
   * @default 'mq.m5.large' - the smallest type both engines support in every deployment mode
   */
  readonly instanceType?: string;

  /**
   * How the broker is deployed.
   *
   * @default BrokerDeploymentMode.SINGLE_INSTANCE - the cheapest; choose CLUSTER_MULTI_AZ (RabbitMQ) or ACTIVE_STANDBY_MULTI_AZ (ActiveMQ) for production
   */
  readonly deploymentMode?: BrokerDeploymentMode;

  /**
   * The username of the broker user the kit creates; its password is generated into the
   * `credentials` secret (2-100 letters, digits, `-`, `.`, `_` or `~`).
   *
   * @default 'lambda-consumer'
   */
  readonly username?: string;

  /**
   * ActiveMQ only: a customer managed key encrypting the broker's data at rest (the principal that
   * deploys needs `kms:CreateGrant` on it). RabbitMQ brokers are always encrypted with an AWS owned
   * key.
   *
   * @default - an AWS owned key
   */
  readonly encryptionKey?: kms.IKey;
}

/** Props of {@link BrokerConsumer}. */
export interface BrokerConsumerProps extends MessagingPatternProps {
  /**
   * The function that processes the queue's messages, a batch at a time. Amazon MQ mappings have
   * no partial batch response: a batch succeeds or fails as a whole (`processBrokerBatch` from
   * `cdk-messaging-patterns/runtime/broker` processes every message, then fails the batch if one
   * failed; make the handler idempotent, since the broker redelivers the whole batch).
   */
  readonly consumer: lambda.IFunction;

  /** The queue to consume (created on the broker by your producers or its configuration, not by the kit). */
  readonly queueName: string;

  /**
   * The broker's engine.
   *
   * @default BrokerEngine.RABBITMQ
   */
  readonly engine?: BrokerEngine;

  /**
   * RabbitMQ only: the virtual host of the queue.
   *
   * @default '/' - Lambda's default
   */
  readonly virtualHost?: string;

  /**
   * An existing Amazon MQ broker, by ARN. Give exactly one of `existingBrokerArn` and `brokerProps`.
   *
   * @default - none
   */
  readonly existingBrokerArn?: string;

  /**
   * With `existingBrokerArn`: the secret holding the credentials of a broker user the mapping
   * consumes as (`{ "username", "password" }`).
   *
   * @default - none; required with existingBrokerArn (a broker the kit creates gets generated credentials)
   */
  readonly credentials?: secretsmanager.ISecret;

  /**
   * Create an Amazon MQ broker (private, encrypted, logging on, generated credentials) and consume it.
   *
   * @default - none
   */
  readonly brokerProps?: BrokerProps;

  /**
   * Messages per batch (1-10,000). A failing message fails its whole batch.
   *
   * @default 10 - bounds how many healthy messages share a poison message's redeliveries and dead-letter queue
   */
  readonly batchSize?: number;

  /**
   * How long the mapping gathers messages before invoking the consumer (0-5 minutes).
   *
   * @default - Lambda's default for Amazon MQ, 500 milliseconds
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Event filters (Lambda's filter criteria, on `data`). Messages that match no filter are acknowledged and dropped.
   *
   * @default - every message
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
   * Whether the mapping starts enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * A Lambda function consuming a queue of an Amazon MQ broker: an existing broker (RabbitMQ or
 * ActiveMQ), or one the construct creates in your VPC — RabbitMQ by default, private, encrypted at
 * rest, TLS only, general (and, for ActiveMQ, audit) logs to CloudWatch Logs, with the consumer's
 * credentials generated into Secrets Manager.
 *
 * The event source mapping reads the queue (in its virtual host, for RabbitMQ) with the
 * credentials' secret. Amazon MQ mappings have no on-failure destination and no partial batch
 * response: a failed batch is redelivered by the broker (`redelivered: true`) and dead-lettered by
 * it — ActiveMQ after Lambda's 6 redeliveries, to `ActiveMQ.DLQ`; RabbitMQ by the queue's own
 * dead-letter configuration (a quorum queue's `x-delivery-limit` and `x-dead-letter-exchange`, which
 * the kit cannot set: without one, a poison message is redelivered forever).
 *
 * Alarm (id for `alarms.overrides`): `ConsumerErrors` (the consumer's `Errors`, `FunctionName`, Sum,
 * at or above 1 in a minute: each is a batch the broker redelivers).
 *
 * @example
 * const orders = new BrokerConsumer(this, 'Orders', {
 *   consumer: fn,
 *   queueName: 'orders',
 *   brokerProps: { vpc },
 * });
 */
export class BrokerConsumer extends MessagingPattern {
  /** The event source mapping feeding the consumer. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The broker consumed. */
  public readonly brokerArn: string;
  /** The broker, when the construct created it. */
  public readonly broker?: amazonmq.CfnBroker;
  /** The secret of the credentials the mapping consumes with (generated for a broker the construct created). */
  public readonly credentials: secretsmanager.ISecret;
  /** The broker's engine. */
  public readonly engine: BrokerEngine;
  /** The queue consumed. */
  public readonly queueName: string;
  /** The queue's virtual host (RabbitMQ). */
  public readonly virtualHost?: string;
  /**
   * The created broker's security groups, with its TLS port as default port: let producers in with
   * `connections.allowDefaultPortFrom(producer)`.
   */
  public readonly connections?: ec2.Connections;

  private readonly consumer: lambda.IFunction;

  constructor(scope: Construct, id: string, props: BrokerConsumerProps) {
    super(scope, id, props);

    const v = new PropsValidator(this);
    const engine = validateBrokerConsumerProps(v, props);
    const brokerSubnets = props.brokerProps
      ? props.brokerProps.vpc.selectSubnets(props.brokerProps.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS })
      : undefined;
    const mode = props.brokerProps?.deploymentMode ?? BrokerDeploymentMode.SINGLE_INSTANCE;
    if (brokerSubnets && !Token.isUnresolved(brokerSubnets.subnetIds)) {
      const needed = mode === BrokerDeploymentMode.ACTIVE_STANDBY_MULTI_AZ ? 2 : 1;
      v.check(
        'brokerProps.vpcSubnets:range',
        brokerSubnets.subnetIds.length >= needed,
        `brokerProps.vpcSubnets must select at least ${needed} subnet${needed > 1 ? 's in different Availability Zones' : ''} for deployment mode ${mode} (given ${brokerSubnets.subnetIds.length})`,
      );
    }
    v.throwIfInvalid();

    this.consumer = props.consumer;
    this.engine = engine;
    this.queueName = props.queueName;
    this.virtualHost = props.virtualHost;

    if (props.brokerProps && brokerSubnets) {
      const built = buildBroker(this, {
        engine,
        engineVersion:
          props.brokerProps.engineVersion ?? (engine === BrokerEngine.RABBITMQ ? RABBITMQ_ENGINE_VERSION : ACTIVEMQ_ENGINE_VERSION),
        instanceType: props.brokerProps.instanceType ?? BROKER_INSTANCE_TYPE,
        deploymentMode: mode,
        vpc: props.brokerProps.vpc,
        subnets: brokerSubnets,
        securityGroups: props.brokerProps.securityGroups,
        brokerName: props.brokerProps.brokerName,
        username: props.brokerProps.username ?? BROKER_USERNAME,
        encryptionKey: props.brokerProps.encryptionKey,
      });
      this.broker = built.broker;
      this.brokerArn = built.broker.attrArn;
      this.credentials = built.credentials;
      this.connections = built.connections;
      Validations.of(built.credentials).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Amazon MQ offers no rotation function for broker users: a new password must be set on the broker (UpdateUser, then a reboot for ActiveMQ) and in the secret together. Rotate by redeploying with a new secret.',
      });
    } else {
      this.brokerArn = props.existingBrokerArn!;
      this.credentials = props.credentials!;
    }

    const access: lambda.SourceAccessConfiguration[] = [
      { type: lambda.SourceAccessConfigurationType.BASIC_AUTH, uri: this.credentials.secretArn },
    ];
    if (props.virtualHost !== undefined) access.push({ type: lambda.SourceAccessConfigurationType.VIRTUAL_HOST, uri: props.virtualHost });
    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'Resource', {
      target: props.consumer,
      eventSourceArn: this.brokerArn,
      sourceAccessConfigurations: access,
      batchSize: props.batchSize ?? BROKER_BATCH_SIZE,
      maxBatchingWindow: props.maxBatchingWindow,
      filters: props.filters,
      filterEncryption: props.filterEncryption,
      enabled: props.enabled,
    });
    (this.eventSourceMapping.node.defaultChild as lambda.CfnEventSourceMapping).queues = [props.queueName];
    Validations.of(this.eventSourceMapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: `Amazon MQ event source mappings support no on-failure destination: a failed batch is redelivered by the broker and dead-lettered by it (${engine === BrokerEngine.ACTIVEMQ ? "ActiveMQ.DLQ after Lambda's 6 redeliveries" : "the queue's dead-letter exchange"}); the ConsumerErrors alarm fires on the first failed batch.`,
    });

    // Lambda checks the consumer's permissions when it creates the mapping: create the policy first.
    if (props.consumer.role) {
      this.grantConsume(props.consumer).applyBefore(this.eventSourceMapping);
    } else {
      Annotations.of(this).addWarningV2(
        'cdk-messaging-patterns:consumerWithoutRole',
        `consumer ${props.consumer.node.path} was imported without its role, so the kit could not grant it mq:DescribeBroker on the broker, secretsmanager:GetSecretValue on the credentials and the network interface permissions of the mapping: grant them to its role.`,
      );
    }

    createAlarm(this, props.alarms, {
      id: CONSUMER_ERRORS_ALARM,
      metric: this.metricConsumerErrors(),
      threshold: CONSUMER_ERRORS_ALARM_THRESHOLD,
      description: (n) =>
        `Broker consumer ${this.node.path} (queue ${props.queueName}): ${n === 1 ? 'an invocation' : `${n} or more invocations`} failed in a minute. ` +
        `The broker redelivers the whole batch, and dead-letters it once the redeliveries are spent (${engine === BrokerEngine.ACTIVEMQ ? 'ActiveMQ.DLQ' : "the queue's dead-letter exchange, if it has one"}).`,
    });
    this._showOnDashboard(this.metricConsumerErrors());
  }

  /**
   * Grants `grantee` permission to read the credentials' secret (`secretsmanager:GetSecretValue`,
   * and `kms:Decrypt` on its key): for a producer or an operator connecting as the consumer user.
   */
  public grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    return grantSecretValue(this.credentials, grantee);
  }

  /** Failed invocations of the consumer (Sum over 1 minute): `AWS/Lambda` `Errors`, dimension `FunctionName`. */
  public metricConsumerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metricErrors(metricOptions(cloudwatch.Stats.SUM, props));
  }

  private grantConsume(fn: lambda.IFunction): iam.Grant {
    return combineGrants(
      fn,
      [
        iam.Grant.addToPrincipal({ grantee: fn, actions: ['mq:DescribeBroker'], resourceArns: [this.brokerArn] }),
        grantSecretValue(this.credentials, fn),
        grantVpcAccess(this, fn),
      ],
      'nothing to grant',
    );
  }
}

/** Checks a broker consumer's props into `v`; returns the engine. */
export function validateBrokerConsumerProps(v: PropsValidator, props: BrokerConsumerProps): BrokerEngine {
  const engine = props.engine ?? BrokerEngine.RABBITMQ;
  v.mutuallyExclusive({ existingBrokerArn: props.existingBrokerArn, brokerProps: props.brokerProps });
  v.check(
    'existingBrokerArn|brokerProps:required',
    props.existingBrokerArn !== undefined || props.brokerProps !== undefined,
    'give the broker to consume: existingBrokerArn, or brokerProps for a broker the kit creates',
  );
  v.matches(
    'existingBrokerArn',
    props.existingBrokerArn,
    BROKER_ARN,
    'an Amazon MQ broker ARN (arn:<partition>:mq:<region>:<account>:broker:<name>:<id>)',
  );
  if (props.existingBrokerArn !== undefined) {
    v.check(
      'credentials:required',
      props.credentials !== undefined,
      'credentials is required with existingBrokerArn: the secret of the broker user the mapping consumes as',
    );
  }
  if (props.brokerProps !== undefined) {
    v.check(
      'credentials:conflict',
      props.credentials === undefined,
      'credentials cannot be used with brokerProps: the kit generates the credentials of the broker it creates (set brokerProps.username to name the user)',
    );
  }
  v.check(
    'virtualHost:unsupported',
    props.virtualHost === undefined || engine === BrokerEngine.RABBITMQ,
    `virtualHost is a RabbitMQ setting: ActiveMQ has no virtual hosts (given ${describeValue(props.virtualHost)})`,
  );
  v.check(
    'queueName:format',
    props.queueName === undefined ||
      Token.isUnresolved(props.queueName) ||
      (props.queueName.length >= 1 && props.queueName.length <= MQ_QUEUE_NAME_MAX_LENGTH && !/\s/.test(props.queueName)),
    `queueName must be 1 to ${MQ_QUEUE_NAME_MAX_LENGTH} characters without whitespace (given ${describeValue(props.queueName)})`,
  );

  const b = props.brokerProps;
  if (b) {
    const mode = b.deploymentMode ?? BrokerDeploymentMode.SINGLE_INSTANCE;
    v.check(
      'brokerProps.deploymentMode:unsupported',
      !(mode === BrokerDeploymentMode.CLUSTER_MULTI_AZ && engine === BrokerEngine.ACTIVEMQ) &&
        !(mode === BrokerDeploymentMode.ACTIVE_STANDBY_MULTI_AZ && engine === BrokerEngine.RABBITMQ),
      `brokerProps.deploymentMode ${mode} is not offered for ${engine} (use SINGLE_INSTANCE or ${engine === BrokerEngine.RABBITMQ ? 'CLUSTER_MULTI_AZ' : 'ACTIVE_STANDBY_MULTI_AZ'})`,
    );
    v.check(
      'brokerProps.encryptionKey:unsupported',
      b.encryptionKey === undefined || engine === BrokerEngine.ACTIVEMQ,
      'brokerProps.encryptionKey is not supported for RabbitMQ: Amazon MQ encrypts RabbitMQ brokers with an AWS owned key',
    );
    v.matches(
      'brokerProps.brokerName',
      b.brokerName,
      BROKER_NAME,
      `1 to ${MQ_BROKER_NAME_MAX_LENGTH} characters a-z, A-Z, 0-9, '-' or '_'`,
    );
    v.matches(
      'brokerProps.username',
      b.username,
      USERNAME,
      `2 to ${MQ_USERNAME_MAX_LENGTH} characters a-z, A-Z, 0-9, '-', '.', '_' or '~'`,
    );
    v.matches('brokerProps.engineVersion', b.engineVersion, /^\d+\.\d+(\.\d+)?$/, "an engine version such as '3.13'");
  }

  v.integerInRange('batchSize', props.batchSize, 1, MQ_MAX_BATCH_SIZE);
  v.durationInRange('maxBatchingWindow', props.maxBatchingWindow, NO_DURATION, MQ_MAX_BATCHING_WINDOW);
  v.check(
    'filterEncryption:conflict',
    props.filterEncryption === undefined || (props.filters?.length ?? 0) > 0,
    'filterEncryption encrypts the filters: it needs filters',
  );
  validateAlarms(v, props.alarms, BROKER_CONSUMER_ALARMS);
  return engine;
}
