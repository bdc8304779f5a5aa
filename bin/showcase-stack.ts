import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  ClaimCheck,
  DeadLetterQueueRedrive,
  DelayQueue,
  FailureReasonStore,
  IdempotencyTable,
  PriorityQueue,
  RequestReply,
  SequentialConvoy,
  WorkQueue,
} from '../lib';
// The showcase deploys the kit's example handlers, which are internal to the kit: an app of your
// own writes its handlers and passes its functions in.
import { deadLetterQueueAlarm } from '../lib/core/alarms';
import { KitFunction, type KitFunctionProps } from '../lib/core/kit-function';
import { acknowledgeWildcardResource } from '../lib/core/nag';
import { buildQueue } from '../lib/core/queue-builder';

const SYNC_ONLY = "Invoked only by an SQS event source mapping (synchronously): failed messages go to the queue's dead-letter queue.";

/** An example handler of the kit, invoked by an event source mapping. */
function exampleConsumer(scope: Construct, id: string, handler: string, props: KitFunctionProps['functionProps'] = {}): KitFunction {
  return new KitFunction(scope, id, {
    handler,
    functionProps: { timeout: Duration.seconds(10), ...props },
    synchronousOnlyReason: SYNC_ONLY,
  });
}

/** An example application table: on-demand, encrypted, point-in-time recovery, destroyed with the stack. */
function exampleTable(scope: Construct, id: string, partitionKey: string): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/**
 * The showcase: every pattern of the kit with its example handler, deployable as is (`cdk deploy`)
 * and driven by the demo (`npm start`). Example consumers report what they processed to one results
 * queue, which the demo reads.
 */
export class ShowcaseStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Where alarms go. Subscribe an email or a chat integration after deploying.
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'cdk-messaging-patterns showcase alarms',
      masterKey: new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Encrypts the showcase alarm topic' }),
      enforceSSL: true,
    });
    // CloudWatch alarms publish to the encrypted topic.
    alarmTopic.masterKey?.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const alarms = { alarmTopic };

    // What the example consumers processed (read by the demo).
    // The kit's queue defaults (SSE-SQS, TLS-only, a dead-letter queue), same ids as before, and
    // an alarm on its dead letters like every other queue here.
    const { queue: results, deadLetterQueue: resultsDeadLetters } = buildQueue(this, {
      queueProps: { retentionPeriod: Duration.days(1) },
      ids: { queue: 'Results', deadLetterQueue: 'ResultsDeadLetters' },
      deadLetterQueueOf: 'the results queue',
    });
    deadLetterQueueAlarm(this, alarms, resultsDeadLetters, 'Showcase results queue', 'ResultsDeadLetterQueueNotEmpty');
    const reporting = (fn: lambda.Function) => {
      fn.addEnvironment('RESULTS_QUEUE_URL', results.queueUrl);
      results.grantSendMessages(fn);
    };

    // Work queue with competing consumers, and its dead letters' operator side.
    const taskWorker = exampleConsumer(this, 'TaskWorker', 'work-queue/consumer', { description: 'Example work-queue consumer' });
    reporting(taskWorker);
    const tasks = new WorkQueue(this, 'Tasks', { consumer: taskWorker, maxConcurrency: 10, alarms });
    const tasksRedrive = new DeadLetterQueueRedrive(this, 'TasksRedrive', { sourceQueue: tasks.queue });
    const reasons = new FailureReasonStore(this, 'FailureReasons');
    const jobWorker = exampleConsumer(this, 'JobWorker', 'dead-letter-queue/consumer', {
      description: 'Example consumer recording failure reasons',
    });
    reporting(jobWorker);
    reasons.connectRecorder(jobWorker);
    const jobs = new WorkQueue(this, 'Jobs', { consumer: jobWorker, maxReceiveCount: 5, alarms });
    reasons.addDeadLetterQueue(jobs.deadLetterQueue!);
    new DeadLetterQueueRedrive(this, 'JobsRedrive', { sourceQueue: jobs.queue });

    // Priority queue.
    const prioritized = exampleConsumer(this, 'PrioritizedWorker', 'priority-queue/example-consumer', {
      description: 'Example priority-queue consumer',
    });
    reporting(prioritized);
    const priorities = new PriorityQueue(this, 'Priorities', { consumer: prioritized, maxConcurrency: 10, alarms });

    // Delay queue, in front of a work queue.
    const reminderWorker = exampleConsumer(this, 'ReminderWorker', 'work-queue/consumer', { description: 'Consumes delayed reminders' });
    reporting(reminderWorker);
    const reminders = new WorkQueue(this, 'Reminders', { consumer: reminderWorker, alarms });
    const later = new DelayQueue(this, 'Later', { existingQueue: reminders.queue, alarms });
    const scheduler = new KitFunction(this, 'ReminderScheduler', {
      handler: 'delay-queue/example-producer',
      functionProps: { description: 'Example delay-queue producer: schedules and cancels reminders' },
      synchronousOnlyReason: 'Invoked directly (RequestResponse) by its callers, which see its errors.',
    });
    later.connectProducer(scheduler);

    // Sequential convoy: order events projected per order, in order.
    const projections = exampleTable(this, 'OrderProjections', 'entityId');
    const projector = exampleConsumer(this, 'OrderProjector', 'sequential-convoy/consumer', {
      description: 'Example convoy consumer: projects order events in order',
      environment: { TABLE_NAME: projections.tableName },
    });
    projections.grantReadWriteData(projector);
    const orderEvents = new SequentialConvoy(this, 'OrderEvents', { consumer: projector, alarms });

    // Claim check: large reports through a queue.
    const claims = new ClaimCheck(this, 'Claims');
    const reportReader = exampleConsumer(this, 'ReportReader', 'claim-check/consumer', {
      description: 'Example claim-check consumer',
      environment: { ...claims.environment },
    });
    reporting(reportReader);
    claims.grantCheckOut(reportReader);
    const reports = new WorkQueue(this, 'Reports', { consumer: reportReader, alarms });

    // Request-reply.
    const responder = exampleConsumer(this, 'Calculator', 'request-reply/responder', { description: 'Example responder' });
    const quotes = new RequestReply(this, 'Calculations', { responder, alarms });

    // Idempotent consumer: each payment applied once, its record and effect in one transaction.
    const ledger = exampleTable(this, 'PaymentsLedger', 'pk');
    const paymentsWorker = exampleConsumer(this, 'PaymentsWorker', 'idempotency/payments', {
      description: 'Example idempotent consumer (transactional mode)',
      environment: { PAYMENTS_TABLE_NAME: ledger.tableName },
    });
    ledger.grantReadWriteData(paymentsWorker);
    const idempotencyTable = new IdempotencyTable(this, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
    const payments = new WorkQueue(this, 'Payments', { consumer: paymentsWorker, idempotencyTable, alarms });

    // Wildcards the patterns need on the example functions' roles (keys and queue names made at run time).
    acknowledgeWildcardResource(
      jobWorker.role!,
      reasons.bucket.arnForObjects(`${reasons.prefix}*`),
      'Failure reasons are stored under one key per message id, which is only known at run time.',
    );
    acknowledgeWildcardResource(
      reportReader.role!,
      claims.bucket.arnForObjects(`${claims.keyPrefix}*`),
      'Claims are stored under random keys made at run time: the consumer may read any claim under the prefix.',
    );
    acknowledgeWildcardResource(
      responder.role!,
      quotes.replyQueueArnPattern,
      'Reply queues are created at run time, one per requester, under this construct-owned prefix.',
    );

    const outputs: Record<string, string> = {
      ResultsUrl: results.queueUrl,
      TasksUrl: tasks.queue.queueUrl,
      TasksDlqUrl: tasks.deadLetterQueue!.queueUrl,
      TasksRedriveFunction: tasksRedrive.function.functionName,
      JobsUrl: jobs.queue.queueUrl,
      JobsDlqUrl: jobs.deadLetterQueue!.queueUrl,
      PriorityQueueConfig: priorities.producerConfig,
      ReminderSchedulerFunction: scheduler.functionName,
      RemindersUrl: reminders.queue.queueUrl,
      OrderEventsUrl: orderEvents.queue.queueUrl,
      OrderProjectionsTable: projections.tableName,
      ClaimsBucket: claims.bucket.bucketName,
      ReportsUrl: reports.queue.queueUrl,
      CalculationsUrl: quotes.requestQueue.queueUrl,
      CalculationsArn: quotes.requestQueue.queueArn,
      CalculationsReplyPrefix: quotes.replyQueuePrefix,
      PaymentsUrl: payments.queue.queueUrl,
      PaymentsLedgerTable: ledger.tableName,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
