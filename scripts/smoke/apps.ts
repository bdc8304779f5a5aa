/**
 * The consumer apps of the smoke tests, as a user would write them: they import the installed
 * package (`cdk-messaging-patterns`), never the sources, so they are kept as text here and
 * type-checked against the packed kit in the smoke apps.
 */

/**
 * The constructs {@link ALL_CONSTRUCTS_APP} creates. The smoke test checks this against the
 * constructs in the kit's jsii assembly: a new construct must be added to the app (and here).
 */
export const ALL_CONSTRUCTS_COVERED = [
  'BrokerConsumer',
  'ClaimCheck',
  'DeadLetterQueueRedrive',
  'DelayQueue',
  'EventRouter',
  'EventStore',
  'FailureReasonStore',
  'FanOut',
  'FanOutLambdaSubscription',
  'FanOutSubscription',
  'IdempotencyTable',
  'KafkaConsumer',
  'PriorityQueue',
  'Projection',
  'RequestReply',
  'Saga',
  'SequentialConvoy',
  'StreamPipeline',
  'TransactionalOutbox',
  'WorkQueue',
];

/** Stack name of {@link ALL_CONSTRUCTS_APP}. */
export const ALL_CONSTRUCTS_STACK = 'AllConstructs';

/**
 * Every public construct of the kit, with the options that reach the most of aws-cdk-lib: a customer
 * managed key, both priority modes, a scheduled redrive, every `connectX`, the `grantX` calls, the
 * metrics (on a dashboard), `addAlarm`, alarm overrides and actions, and a rejected prop.
 */
export const ALL_CONSTRUCTS_APP = `
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  type AlarmsProps,
  BrokerConsumer,
  BrokerDeploymentMode,
  BrokerEngine,
  ClaimCheck,
  DeadLetterQueueRedrive,
  DelayQueue,
  EventRouter,
  EventStore,
  FailureReasonStore,
  FanOut,
  IdempotencyTable,
  KafkaAuthentication,
  KafkaConsumer,
  MessagingDashboard,
  type MessagingPattern,
  MessagingPatternsError,
  OutboxTarget,
  PriorityMode,
  PriorityQueue,
  ReplayedEvents,
  RequestReply,
  RouteTarget,
  Saga,
  SagaTask,
  SequentialConvoy,
  StreamPipeline,
  TransactionalOutbox,
  WorkQueue,
} from 'cdk-messaging-patterns';

// The output folder comes from CDK_OUTDIR, as under \`cdk synth\`.
const app = new App();
const stack = new Stack(app, '${ALL_CONSTRUCTS_STACK}');

const fn = (id: string, seconds = 15): lambda.Function =>
  new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] })'),
    timeout: Duration.seconds(seconds),
  });

const key = new kms.Key(stack, 'AppKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
const alarmTopic = new sns.Topic(stack, 'AlarmTopic');
const alarms: AlarmsProps = {
  alarmTopic,
  overrides: {
    OldestMessageTooOld: {
      threshold: 600,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      period: Duration.minutes(2),
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    },
  },
};
const producer = fn('Producer');
const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

// IdempotencyTable, encrypted with the customer managed key.
const idempotency = new IdempotencyTable(stack, 'Idempotency', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
idempotency.connectConsumer(producer);

// WorkQueue: the key, large batches, a concurrency cap, the idempotency table, alarm overrides.
const ordersConsumer = fn('OrdersConsumer');
const orders = new WorkQueue(stack, 'Orders', {
  consumer: ordersConsumer,
  maxConcurrency: 5,
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(5),
  encryptionKey: key,
  maxReceiveCount: 4,
  idempotencyTable: idempotency,
  queueProps: { retentionPeriod: Duration.days(4) },
  alarms,
});
orders.connectProducer(producer);
orders.grantConsumeDeadLetters(operator);
const ownAlarm = orders.addAlarm('ConsumerErrors', { metric: ordersConsumer.metricErrors(), threshold: 1, evaluationPeriods: 1 });

// SequentialConvoy in high-throughput mode.
const convoy = new SequentialConvoy(stack, 'OrderEvents', { consumer: fn('Projector'), highThroughput: true, maxConcurrency: 10 });
convoy.connectProducer(producer);
convoy.grantConsumeDeadLetters(operator);

// PriorityQueue, weighted.
const jobs = new PriorityQueue(stack, 'Jobs', {
  consumer: fn('JobsConsumer'),
  maxConcurrency: 30,
  weights: [4, 2, 1],
  lowestLevelShare: 0.1,
  alarms: { alarmTopic },
});
jobs.connectProducer(producer);
jobs.grantConsumeDeadLetters(operator);

// PriorityQueue, strict, on queues with a key the kit creates.
const urgent = new PriorityQueue(stack, 'Urgent', {
  consumer: fn('UrgentConsumer', 30),
  mode: PriorityMode.STRICT,
  levels: ['critical', 'routine'],
  batchSize: 5,
  queueProps: { encryption: sqs.QueueEncryption.KMS },
});
urgent.connectProducer(producer, { environmentVariable: 'URGENT_PRIORITY_QUEUE_CONFIG' });

// DelayQueue: a role producer (managed policy) and a user producer (inline statements).
const reminders = new DelayQueue(stack, 'Reminders', {
  scheduleRetryAttempts: 10,
  scheduleMaxEventAge: Duration.hours(2),
  encryptionKey: key,
  alarms,
});
reminders.connectProducer(producer);
reminders.grantSend(new iam.User(stack, 'ReminderUser'));
reminders.grantConsumeDeadLetters(operator);

// ClaimCheck with the key.
const claims = new ClaimCheck(stack, 'Reports', { encryptionKey: key, thresholdBytes: 131072, expiration: Duration.days(20) });
claims.connectProducer(producer);
claims.connectConsumer(ordersConsumer);
claims.grantRelease(ordersConsumer);

// RequestReply.
const quotes = new RequestReply(stack, 'Quotes', {
  responder: fn('QuoteResponder', 10),
  replyQueueIdleTimeout: Duration.minutes(30),
  maxConcurrency: 4,
});
quotes.connectRequester(producer);

// FailureReasonStore, tagged onto the work queue's dead-letter queue.
const reasons = new FailureReasonStore(stack, 'FailureReasons', { retention: Duration.days(15) });
reasons.connectRecorder(ordersConsumer);
reasons.addDeadLetterQueue(orders.deadLetterQueue!);
reasons.grantRead(operator);

// DeadLetterQueueRedrive on a schedule.
const redrive = new DeadLetterQueueRedrive(stack, 'OrdersRedrive', {
  sourceQueue: orders.queue,
  schedule: events.Schedule.rate(Duration.hours(6)),
  maxMessagesPerSecond: 50,
});
redrive.grantInvoke(operator);

// EventRouter: archive on the key, cross-account publishers, a route with every kind of target (7:
// split over two rules) and alternatives, a replay-accepting route, publisher and replayer.
const saga = new sfn.StateMachine(stack, 'Saga', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Step')) });
const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
const router = new EventRouter(stack, 'Router', {
  archiveEncryptionKey: key,
  archiveRetention: Duration.days(7),
  crossAccountPublishers: { accounts: ['111122223333'], organizationId: 'o-abcdefghij' },
  retryAttempts: 20,
  maxEventAge: Duration.hours(2),
  alarms: { alarmTopic },
});
router.addRoute('EuOrders', {
  eventPattern: { source: ['shop.orders'], detailType: events.Match.prefix('orders.eu.') },
  anyOf: [{ detail: { amount: events.Match.greaterThan(100) } }, { detail: { priority: ['high'] } }],
  targets: [
    RouteTarget.queue(orders.queue),
    RouteTarget.queue(convoy.queue, { messageGroupId: 'orders' }),
    RouteTarget.topic(alarmTopic),
    RouteTarget.lambdaFunction(producer, { retryAttempts: 2, maxEventAge: Duration.minutes(5) }),
    RouteTarget.stateMachine(saga, { input: events.RuleTargetInput.fromEventPath('$.detail') }),
    RouteTarget.stream(stream, { partitionKeyPath: '$.detail.orderId' }),
    RouteTarget.eventBus(new events.EventBus(stack, 'OtherBus')),
  ],
});
router.addRoute('Projection', {
  eventPattern: { source: ['shop.orders'] },
  targets: [RouteTarget.queue(jobs.level('low').queue)],
  replayedEvents: ReplayedEvents.ACCEPT,
});
router.connectPublisher(producer);
router.connectReplayer(producer);
router.grantReplay(operator);

// FanOut (standard and FIFO, queue and Lambda subscriptions) and StreamPipeline (enhanced fan-out,
// tumbling windows), both on the kit's dashboard.
const ops = new MessagingDashboard(stack, 'Ops', { dashboardName: 'smoke-ops' });
const fanOut = new FanOut(stack, 'Notifications', { encryptionKey: key, alarms: { alarmTopic }, dashboard: ops });
const billing = fanOut.addQueueSubscription('Billing', {
  consumer: fn('BillingConsumer'),
  maxConcurrency: 3,
  rawMessageDelivery: true,
  filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['invoice'] }) },
});
billing.grantConsumeDeadLetters(operator);
fanOut.addLambdaSubscription('Audit', fn('Auditor'), {
  filterPolicyWithMessageBody: { kind: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['audit'] })) },
});
fanOut.connectPublisher(producer);
new FanOut(stack, 'Ledger', { fifo: true }).addQueueSubscription('Books');
const clicks = new StreamPipeline(stack, 'Clicks', {
  consumer: fn('ClickConsumer'),
  batchSize: 500,
  maxBatchingWindow: Duration.seconds(5),
  parallelizationFactor: 4,
  enhancedFanOut: true,
  tumblingWindow: Duration.minutes(1),
});
clicks.connectProducer(producer);
clicks.grantConsumeOnFailureMessages(operator);
ops.addPattern(clicks);

// Saga: actions and compensations (a function, a queue message), a callback with timeout and heartbeat, a
// parallel step, a forEach step; Standard, logged and traced.
const sagaSteps = fn('SagaSteps');
const approvals = new sqs.Queue(stack, 'Approvals', { enforceSSL: true });
const orderSaga = new Saga(stack, 'OrderSaga', {
  steps: [
    { name: 'reserve', action: SagaTask.invoke(sagaSteps), compensation: SagaTask.invoke(sagaSteps) },
    {
      name: 'approve',
      action: SagaTask.callbackQueue(approvals),
      timeout: Duration.days(2),
      heartbeat: Duration.hours(6),
      condition: sfn.Condition.numberGreaterThan('$.input.amount', 1000),
    },
    { name: 'charge', action: SagaTask.invoke(sagaSteps), compensation: SagaTask.sendMessage(approvals), retry: { maxAttempts: 5 } },
  ],
  dashboard: ops,
});
orderSaga.connectProducer(producer);
orderSaga.connectConsumer(ordersConsumer);
orderSaga.grantResume(operator);
ops.addPattern(orders);

// TransactionalOutbox onto its own EventRouter bus (the default, encrypted with the key) and onto a FIFO
// topic; an EventStore distributing its events through the outbox, with a projection.
const outbox = new TransactionalOutbox(stack, 'OrderOutbox', { encryptionKey: key, retryAttempts: 5, maxDeliveryAttempts: 5, alarms: { alarmTopic } });
outbox.connectProducer(producer);
outbox.grantRedrive(operator);
outbox.grantConsumeOnFailureMessages(operator);
new TransactionalOutbox(stack, 'LedgerOutbox', {
  target: OutboxTarget.snsTopic(new FanOut(stack, 'LedgerEvents', { fifo: true }).topic),
  publishedRecordRetention: Duration.days(1),
});
const accounts = new EventStore(stack, 'Accounts', { outbox, snapshotEvery: 50, encryptionKey: key });
accounts.connectProducer(producer);
accounts.connectConsumer(ordersConsumer);
const summary = accounts.addProjection('Summary', { projector: fn('SummaryProjector'), batchSize: 50 });
summary.connectConsumer(ordersConsumer);
summary.connectReplayer(producer);

// KafkaConsumer on an existing MSK cluster (IAM), on an MSK Serverless cluster it creates, and on a
// self-managed cluster over SASL/SCRAM in a VPC; BrokerConsumer creating a RabbitMQ cluster and on an
// existing ActiveMQ broker.
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 3, natGateways: 1 });
const orderEvents = new KafkaConsumer(stack, 'OrderStream', {
  consumer: fn('OrderStreamConsumer'),
  existingClusterArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/shop/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-2',
  topic: 'orders',
  batchSize: 200,
  maxBatchingWindow: Duration.seconds(1),
  provisionedPollerConfig: { minimumPollers: 1, maximumPollers: 4 },
  filters: [lambda.FilterCriteria.filter({ value: { type: lambda.FilterRule.isEqual('order') } })],
  alarms: { alarmTopic, overrides: { OffsetLagTooHigh: { threshold: 5000 } } },
});
orderEvents.grantConsumeOnFailureMessages(operator);
new KafkaConsumer(stack, 'Telemetry', { consumer: fn('TelemetryConsumer'), topic: 'telemetry', serverlessClusterProps: { vpc } });
const kafkaSecret = new secretsmanager.Secret(stack, 'KafkaSecret');
new KafkaConsumer(stack, 'Legacy', {
  consumer: fn('LegacyConsumer'),
  topic: 'legacy',
  bootstrapServers: ['kafka-1.internal:9096'],
  authentication: KafkaAuthentication.SASL_SCRAM_256,
  secret: kafkaSecret,
  vpc,
  securityGroup: new ec2.SecurityGroup(stack, 'KafkaPollers', { vpc }),
});
const rabbit = new BrokerConsumer(stack, 'Invoices', {
  consumer: fn('InvoiceConsumer'),
  queueName: 'invoices',
  virtualHost: 'billing',
  brokerProps: { vpc, deploymentMode: BrokerDeploymentMode.CLUSTER_MULTI_AZ },
});
rabbit.grantReadCredentials(producer);
rabbit.connections!.allowDefaultPortFrom(ec2.Peer.ipv4(vpc.vpcCidrBlock));
new BrokerConsumer(stack, 'Shipments', {
  consumer: fn('ShipmentConsumer'),
  queueName: 'shipments',
  engine: BrokerEngine.ACTIVEMQ,
  existingBrokerArn: 'arn:aws:mq:eu-west-1:111122223333:broker:logistics:b-9bcfa592-423a-4942-879d-eb284b418fc8',
  credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'ShipmentCredentials', 'shipments-consumer'),
  batchSize: 5,
});

// Every construct's metrics, on a dashboard.
const metrics: cloudwatch.IMetric[] = [
  orders.metricVisibleMessages(),
  orders.metricInFlightMessages(),
  orders.metricOldestMessageAge({ period: Duration.minutes(5) }),
  orders.metricDeadLetterMessages()!,
  convoy.metricOldestMessageAge(),
  jobs.metricVisibleMessages('high'),
  jobs.metricOldestMessageAge('low'),
  reminders.metricDelayedMessages(),
  reminders.metricScheduleAttempts(),
  reminders.metricScheduleDeadLetters(),
  claims.metricStoredBytes(),
  claims.metricStoredObjects(),
  quotes.metricWaitingRequests(),
  quotes.metricOldestRequestAge(),
  idempotency.metricConsumedWriteCapacityUnits(),
  idempotency.metricThrottledRequests(),
  redrive.metricErrors(),
  router.metricMatchedEvents('EuOrders'),
  router.metricFailedInvocations('EuOrders'),
  router.metricDeadLetterMessages('Projection')!,
  outbox.metricIteratorAge(),
  outbox.metricOnFailureMessages(),
  outbox.metricRelayErrors(),
  accounts.metricTransactionConflicts(),
  summary.metricIteratorAge(),
  orderEvents.metricOffsetLag(),
  orderEvents.metricOnFailureMessages(),
  rabbit.metricConsumerErrors(),
];
new cloudwatch.Dashboard(stack, 'Dashboard', { widgets: [[new cloudwatch.GraphWidget({ title: 'kit', left: metrics })]] });

const patterns: MessagingPattern[] = [idempotency, orders, convoy, jobs, urgent, reminders, claims, quotes, reasons, redrive, router, fanOut, clicks, orderSaga, outbox, accounts, summary, orderEvents, rabbit];
if (ops.patternsShown.length !== 4) throw new Error('dashboard');
if (!orders.alarms.includes(ownAlarm) || patterns.some((p) => !Array.isArray(p.alarms))) throw new Error('alarms');

// A rejected prop, in an app of its own: the kit's error, with its problem codes.
try {
  const rejected = new Stack(new App(), 'Rejected');
  new WorkQueue(rejected, 'Queue', { consumer: lambda.Function.fromFunctionName(rejected, 'Imported', 'imported'), batchSize: 0 });
  throw new Error('expected a MessagingPatternsError');
} catch (e) {
  if (!MessagingPatternsError.isMessagingPatternsError(e) || !e.codes.includes('batchSize:range')) throw e;
}

app.synth();
`;

/** Stack name of {@link WORK_QUEUE_APP} and of its Python twin, `work_queue_app.py`. */
export const WORK_QUEUE_STACK = 'SmokeStack';

/** One WorkQueue, the app the Python binding test synthesizes in both languages. */
export const WORK_QUEUE_APP = `
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { WorkQueue } from 'cdk-messaging-patterns';

const app = new App();
const stack = new Stack(app, '${WORK_QUEUE_STACK}');
const consumer = new lambda.Function(stack, 'Consumer', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] })'),
  timeout: Duration.seconds(15),
});
const queue = new WorkQueue(stack, 'Jobs', { consumer, maxConcurrency: 5 });
queue.grantSend(consumer);
app.synth();
`;
