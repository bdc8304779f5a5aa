/**
 * The pattern stacks of the gates: one stack per public construct of the kit, each a small app of
 * that construct with its main options, wired as a user would (a consumer, a producer, a grant),
 * with nothing else in it that the gates would have to excuse. The gates (`gates.gate.ts`) run
 * cfn-lint, cdk-nag and the secure-defaults checks over every one of them.
 *
 * The constructs are found in what `lib/index.ts` exports: a construct without an entry in
 * {@link PATTERN_STACKS} fails the gate, naming itself. When you add a construct, add its stack here.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as kit from '../../lib';
import { deadLetterQueueAlarm } from '../../lib/core/alarms';
import { DEAD_LETTER_RETENTION } from '../../lib/core/defaults';
import { KitFunction } from '../../lib/core/kit-function';
import { acknowledgeDeadLetterQueue, acknowledgeWildcardResource } from '../../lib/core/nag';
import { buildQueue } from '../../lib/core/queue-builder';

/** Builds the stack of one construct: `stack` is empty, in an app of its own stacks' siblings. */
export type PatternStackBuilder = (stack: Stack) => void;

const SYNC_ONLY = "Invoked only by an event source mapping (synchronously): failed records go to the source's dead-letter queue.";

/** A kit handler fed by an event source mapping (SQS or a stream). */
function consumer(scope: Construct, id: string, handler = 'work-queue/consumer', timeout = Duration.seconds(10)): KitFunction {
  return new KitFunction(scope, id, { handler, functionProps: { timeout }, synchronousOnlyReason: SYNC_ONLY });
}

/** A kit handler a caller invokes directly (RequestResponse), seeing its errors. */
function caller(scope: Construct, id: string, handler = 'work-queue/consumer'): KitFunction {
  return new KitFunction(scope, id, {
    handler,
    synchronousOnlyReason: 'Invoked directly (RequestResponse) by its callers, which see its errors.',
  });
}

/**
 * A kit handler invoked asynchronously (by EventBridge or SNS): failed invocations go to a
 * dead-letter queue of its own, with an alarm, as the secure defaults ask.
 */
function asynchronous(scope: Construct, id: string, handler: string): KitFunction {
  const deadLetterQueue = buildQueue(scope, {
    deployDeadLetterQueue: false,
    queueProps: { retentionPeriod: DEAD_LETTER_RETENTION },
    ids: { queue: `${id}DeadLetterQueue` },
  }).queue;
  acknowledgeDeadLetterQueue(deadLetterQueue, `the asynchronous invocations of ${id}`);
  deadLetterQueueAlarm(scope, {}, deadLetterQueue, `Function ${id}`, `${id}DeadLetterQueueNotEmpty`);
  return new KitFunction(scope, id, { handler, functionProps: { deadLetterQueue } });
}

/** A customer managed key with rotation, as a user passes one. */
function key(scope: Construct, id = 'Key'): kms.Key {
  return new kms.Key(scope, id, { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
}

/** A VPC of the user's, imported (its own resources are not the kit's to gate). */
function vpc(scope: Construct): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60712', 'subnet-0a1b2c3d4e5f60713'],
  });
}

/**
 * One builder per public construct, by its exported name. Each uses the construct's main options:
 * the defaults, then the variants that change what is deployed (FIFO, a customer managed key, the
 * other mode, a schedule, the connect methods).
 */
export const PATTERN_STACKS: Record<string, PatternStackBuilder> = {
  WorkQueue: (stack) => {
    new kit.WorkQueue(stack, 'Standard', { consumer: consumer(stack, 'Consumer'), maxConcurrency: 10 });
    new kit.WorkQueue(stack, 'Fifo', { consumer: consumer(stack, 'FifoConsumer'), fifo: true, encryptionKey: key(stack) });
  },

  SequentialConvoy: (stack) => {
    const fn = consumer(stack, 'Consumer', 'sequential-convoy/consumer');
    new kit.SequentialConvoy(stack, 'Orders', { consumer: fn });
    new kit.SequentialConvoy(stack, 'Payments', {
      consumer: fn,
      highThroughput: true,
      contentBasedDeduplication: true,
      encryptionKey: key(stack),
    });
  },

  PriorityQueue: (stack) => {
    const fn = consumer(stack, 'Consumer', 'priority-queue/example-consumer');
    const weighted = new kit.PriorityQueue(stack, 'Weighted', { consumer: fn, maxConcurrency: 10 });
    new kit.PriorityQueue(stack, 'Strict', { consumer: fn, mode: kit.PriorityMode.STRICT, encryptionKey: key(stack) });
    weighted.connectProducer(caller(stack, 'Producer'));
  },

  DelayQueue: (stack) => {
    const reminders = new kit.WorkQueue(stack, 'Reminders', { consumer: consumer(stack, 'Consumer') });
    const later = new kit.DelayQueue(stack, 'Later', { existingQueue: reminders.queue });
    later.connectProducer(caller(stack, 'Producer', 'delay-queue/example-producer'));
    new kit.DelayQueue(stack, 'Own', { encryptionKey: key(stack) });
  },

  RequestReply: (stack) => {
    const responder = consumer(stack, 'Responder', 'request-reply/responder');
    const requester = caller(stack, 'Requester');
    for (const rr of [
      new kit.RequestReply(stack, 'Quotes', { responder }),
      new kit.RequestReply(stack, 'Orders', { responder, encryptionKey: key(stack), replyQueuePrefix: 'orders-replies-' }),
    ]) {
      rr.connectRequester(requester);
      acknowledgeWildcardResource(
        requester.role!,
        rr.replyQueueArnPattern,
        'Each requester creates its reply queue at run time under the construct-owned prefix: the name is not known at synth time.',
      );
      acknowledgeWildcardResource(
        responder.role!,
        rr.replyQueueArnPattern,
        'Reply queues are created at run time, one per requester, under this construct-owned prefix: their names are not known at synth time.',
      );
    }
  },

  DeadLetterQueueRedrive: (stack) => {
    const orders = new kit.WorkQueue(stack, 'Orders', { consumer: consumer(stack, 'Consumer') });
    new kit.DeadLetterQueueRedrive(stack, 'OrdersRedrive', {
      sourceQueue: orders.queue,
      schedule: events.Schedule.rate(Duration.hours(6)),
    });
    const jobs = new kit.WorkQueue(stack, 'Jobs', { consumer: consumer(stack, 'JobConsumer'), fifo: true, encryptionKey: key(stack) });
    new kit.DeadLetterQueueRedrive(stack, 'JobsRedrive', { sourceQueue: jobs.queue, maxMessagesPerSecond: 10 });
  },

  FailureReasonStore: (stack) => {
    const reasons = new kit.FailureReasonStore(stack, 'Reasons');
    const fn = consumer(stack, 'Consumer', 'dead-letter-queue/consumer');
    reasons.connectRecorder(fn);
    const jobs = new kit.WorkQueue(stack, 'Jobs', { consumer: fn });
    reasons.addDeadLetterQueue(jobs.deadLetterQueue!);
    acknowledgeWildcardResource(
      fn.role!,
      reasons.bucket.arnForObjects(`${reasons.prefix}*`),
      'Failure reasons are stored under one key per message id, which is only known at run time.',
    );
  },

  ClaimCheck: (stack) => {
    const claims = new kit.ClaimCheck(stack, 'Reports');
    new kit.ClaimCheck(stack, 'Invoices', { encryptionKey: key(stack) });
    const reader = consumer(stack, 'Consumer', 'claim-check/consumer');
    claims.connectConsumer(reader);
    new kit.WorkQueue(stack, 'Queue', { consumer: reader });
    const writer = caller(stack, 'Producer');
    claims.connectProducer(writer);
    for (const fn of [reader, writer]) {
      acknowledgeWildcardResource(
        fn.role!,
        claims.bucket.arnForObjects(`${claims.keyPrefix}*`),
        'Claims are stored under random keys made at run time: the function may use any claim under the prefix.',
      );
    }
  },

  IdempotencyTable: (stack) => {
    const table = new kit.IdempotencyTable(stack, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
    new kit.WorkQueue(stack, 'Payments', { consumer: consumer(stack, 'Consumer', 'idempotency/payments'), idempotencyTable: table });
    new kit.IdempotencyTable(stack, 'Encrypted', { encryptionKey: key(stack), removalPolicy: RemovalPolicy.DESTROY });
  },

  EventRouter: (stack) => {
    const router = new kit.EventRouter(stack, 'Router');
    const billing = new kit.WorkQueue(stack, 'Billing', { consumer: consumer(stack, 'Consumer') });
    const notify = new kit.FanOut(stack, 'Notify');
    router.addRoute('Orders', {
      eventPattern: { source: ['orders'] },
      targets: [kit.RouteTarget.queue(billing.queue), kit.RouteTarget.topic(notify.topic)],
    });
    router.addRoute('Audit', {
      eventPattern: { detailType: ['order.placed'] },
      targets: [kit.RouteTarget.lambdaFunction(asynchronous(stack, 'Auditor', 'work-queue/consumer'))],
      replayedEvents: kit.ReplayedEvents.ACCEPT,
    });
    router.connectPublisher(caller(stack, 'Publisher'));
    router.connectReplayer(caller(stack, 'Replayer'));
  },

  FanOut: (stack) => {
    const orders = new kit.FanOut(stack, 'Orders');
    orders.addQueueSubscription('Billing', { consumer: consumer(stack, 'Consumer') });
    orders.addQueueSubscription('Audit', { encryptionKey: key(stack), rawMessageDelivery: false });
    orders.addLambdaSubscription('Notify', asynchronous(stack, 'Subscriber', 'fan-out/subscriber'));
    const ledger = new kit.FanOut(stack, 'Ledger', { fifo: true });
    ledger.addQueueSubscription('Projector', { consumer: consumer(stack, 'Projector', 'sequential-convoy/consumer') });
    orders.connectPublisher(caller(stack, 'Publisher'));
  },

  FanOutSubscription: (stack) => {
    const topic = new kit.FanOut(stack, 'Orders').topic;
    new kit.FanOutSubscription(stack, 'Billing', { topic, consumer: consumer(stack, 'Consumer') });
  },

  FanOutLambdaSubscription: (stack) => {
    const topic = new kit.FanOut(stack, 'Orders').topic;
    new kit.FanOutLambdaSubscription(stack, 'Notify', { topic, fn: asynchronous(stack, 'Subscriber', 'fan-out/subscriber') });
  },

  StreamPipeline: (stack) => {
    const fn = consumer(stack, 'Consumer', 'stream-pipeline/example-consumer');
    new kit.StreamPipeline(stack, 'Clicks', { consumer: fn }).connectProducer(caller(stack, 'Producer'));
    new kit.StreamPipeline(stack, 'Orders', { consumer: fn, enhancedFanOut: true, streamProps: { shardCount: 2 } });
  },

  TransactionalOutbox: (stack) => {
    new kit.TransactionalOutbox(stack, 'Bus').connectProducer(caller(stack, 'Producer'));
    const topic = new kit.FanOut(stack, 'Orders', { fifo: true }).topic;
    new kit.TransactionalOutbox(stack, 'Fifo', { target: kit.OutboxTarget.snsTopic(topic), encryptionKey: key(stack) });
  },

  EventStore: (stack) => {
    const outbox = new kit.TransactionalOutbox(stack, 'Outbox');
    const store = new kit.EventStore(stack, 'Accounts', { outbox, encryptionKey: key(stack) });
    store.connectProducer(caller(stack, 'Handler'));
    new kit.EventStore(stack, 'Ledger');
  },

  Projection: (stack) => {
    const store = new kit.EventStore(stack, 'Accounts');
    new kit.Projection(stack, 'Summary', { eventStore: store, projector: consumer(stack, 'Projector', 'event-store/example-projector') });
  },

  KafkaConsumer: (stack) => {
    const network = vpc(stack);
    new kit.KafkaConsumer(stack, 'Orders', {
      consumer: consumer(stack, 'OrdersConsumer', 'kafka-consumer/example-consumer'),
      existingClusterArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/shop/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-2',
      topic: 'orders',
    });
    new kit.KafkaConsumer(stack, 'Telemetry', {
      consumer: consumer(stack, 'TelemetryConsumer', 'kafka-consumer/example-consumer'),
      topic: 'telemetry',
      serverlessClusterProps: { vpc: network },
    });
    new kit.KafkaConsumer(stack, 'Legacy', {
      consumer: consumer(stack, 'LegacyConsumer', 'kafka-consumer/example-consumer'),
      topic: 'legacy',
      bootstrapServers: ['kafka-1.internal:9096', 'kafka-2.internal:9096'],
      authentication: kit.KafkaAuthentication.SASL_SCRAM_512,
      secret: secretsmanager.Secret.fromSecretNameV2(stack, 'KafkaSecret', 'legacy-kafka'),
      vpc: network,
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'KafkaPollers', 'sg-0a1b2c3d4e5f60719'),
    });
  },

  BrokerConsumer: (stack) => {
    const network = vpc(stack);
    new kit.BrokerConsumer(stack, 'Invoices', {
      consumer: consumer(stack, 'InvoiceConsumer', 'broker-consumer/example-consumer'),
      queueName: 'invoices',
      brokerProps: { vpc: network, deploymentMode: kit.BrokerDeploymentMode.CLUSTER_MULTI_AZ },
    });
    new kit.BrokerConsumer(stack, 'Shipments', {
      consumer: consumer(stack, 'ShipmentConsumer', 'broker-consumer/example-consumer'),
      queueName: 'shipments',
      engine: kit.BrokerEngine.ACTIVEMQ,
      brokerProps: { vpc: network, encryptionKey: key(stack) },
    });
    new kit.BrokerConsumer(stack, 'Returns', {
      consumer: consumer(stack, 'ReturnConsumer', 'broker-consumer/example-consumer'),
      queueName: 'returns',
      existingBrokerArn: 'arn:aws:mq:eu-west-1:111122223333:broker:logistics:b-9bcfa592-423a-4942-879d-eb284b418fc8',
      credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'ReturnCredentials', 'returns-consumer'),
    });
  },

  Saga: (stack) => {
    const steps = new KitFunction(stack, 'Steps', {
      handler: 'saga/order-steps',
      synchronousOnlyReason: "Invoked synchronously by the saga's state machine, which retries it and compensates on its errors.",
    });
    const approvals = new kit.WorkQueue(stack, 'Approvals', { consumer: consumer(stack, 'Approver', 'saga/approval') });
    const saga = new kit.Saga(stack, 'Orders', {
      steps: [
        { name: 'reserve', action: kit.SagaTask.invoke(steps), compensation: kit.SagaTask.invoke(steps) },
        {
          name: 'approve',
          action: kit.SagaTask.callbackQueue(approvals.queue),
          timeout: Duration.hours(1),
          heartbeat: Duration.minutes(10),
        },
        { name: 'charge', action: kit.SagaTask.invoke(steps), compensation: kit.SagaTask.invoke(steps) },
      ],
    });
    saga.connectProducer(caller(stack, 'Producer'));
  },

  MessagingDashboard: (stack) => {
    const dashboard = new kit.MessagingDashboard(stack, 'Ops');
    new kit.WorkQueue(stack, 'Orders', { consumer: consumer(stack, 'Consumer'), dashboard });
  },
};

/**
 * Exported classes that are not constructs a user deploys: the abstract base class of every
 * pattern.
 */
const NOT_DEPLOYABLE: ReadonlyArray<unknown> = [kit.MessagingPattern];

/** The names of the public constructs: every class `lib/index.ts` exports that is a `Construct`. */
export function publicConstructs(): string[] {
  return Object.entries(kit)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Construct && !NOT_DEPLOYABLE.includes(value))
    .map(([name]) => name)
    .sort();
}

/** The stack name of a construct's pattern stack. */
export const patternStackName = (construct: string): string => `Gate${construct}`;

/**
 * Adds one stack per construct that has a builder to `app`. Returns the constructs without one, and
 * those whose builder threw (their stack is left out, so the others still synthesize).
 */
export function addPatternStacks(app: App): { built: string[]; missing: string[]; failed: Record<string, string> } {
  const built: string[] = [];
  const missing: string[] = [];
  const failed: Record<string, string> = {};
  for (const name of publicConstructs()) {
    const build = PATTERN_STACKS[name];
    if (!build) {
      missing.push(name);
      continue;
    }
    try {
      build(new Stack(app, patternStackName(name)));
      built.push(name);
    } catch (error) {
      app.node.tryRemoveChild(patternStackName(name));
      failed[name] = error instanceof Error ? error.message : String(error);
    }
  }
  return { built, missing, failed };
}

/** Builders for names that are not exported (any more): stale entries of {@link PATTERN_STACKS}. */
export function staleStackBuilders(): string[] {
  const constructs = new Set(publicConstructs());
  return Object.keys(PATTERN_STACKS).filter((name) => !constructs.has(name));
}
