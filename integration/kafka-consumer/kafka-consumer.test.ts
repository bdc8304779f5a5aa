/**
 * KafkaConsumer end to end: the real construct, deployed with cdklocal into LocalStack, consuming
 * the real Kafka of `scripts/brokers.sh` — an MSK cluster (`AWS::MSK::Cluster` in the same stack,
 * IAM access control: PLAINTEXT locally) and a self-managed cluster over SASL/SCRAM-SHA-512 — with
 * the bundled example consumer (`processKafkaBatch` + `TransactionalIdempotency`).
 *
 * The ledger: every message produced is applied exactly once (`applied` in the ledger table), or is
 * a poison message named by the on-failure queue's metadata (its partition and offset range) with
 * its reason recorded by the consumer; a crash right after the effect (the process exits, Lambda
 * retries the batch) and a replay of a partition (the consumer group's offsets reset to the start,
 * as a rebalance that lost its commits would do) deliver records again, and the idempotency
 * library absorbs every such redelivery.
 */
import * as net from 'node:net';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as lambdaCdk from 'aws-cdk-lib/aws-lambda';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Kafka, logLevel } from 'kafkajs';
import { IdempotencyTable, KafkaAuthentication, KafkaConsumer } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { drain, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const KAFKA = process.env.CMP_KAFKA_BOOTSTRAP ?? '127.0.0.1:9092';
const KAFKA_SCRAM = process.env.CMP_KAFKA_SASL_SCRAM_BOOTSTRAP ?? '127.0.0.1:9096';
const USER = process.env.CMP_BROKERS_USER ?? 'cmp';
const PASSWORD = process.env.CMP_BROKERS_PASSWORD ?? 'cmp-secret';
const RUN = Date.now().toString(36);
const MSK_TOPIC = `it-orders-${RUN}`;
const SCRAM_TOPIC = `it-payments-${RUN}`;
/**
 * Retries and batch size of the test's mappings: 4 retries are enough to isolate a record in a
 * batch of 8 (the kit warns below log2(batchSize) + 1), and keep the file within minutes (the
 * emulator backs off 1, 2, 4, 8 s between attempts; the default 10 retries would take 75 s per
 * poison record).
 */
const RETRY_ATTEMPTS = 4;
const BATCH_SIZE = 8;

/** The on-failure metadata Lambda sends for a discarded Kafka batch (no records). */
interface OnFailureDocument {
  readonly requestContext?: { readonly condition?: string; readonly approximateInvokeCount?: number };
  readonly responseContext?: { readonly functionError?: string };
  readonly KafkaBatchInfo?: {
    readonly batchSize: number;
    readonly recordsInfo: Record<string, { firstRecordOffset: string; lastRecordOffset: string }>;
  };
}

/** One message produced. */
interface Produced {
  readonly id: string;
  readonly topicPartition: string;
  readonly offset: number;
  readonly fault?: 'poison' | 'crash-after-effect';
}

async function reachable(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port), timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

describe('KafkaConsumer end to end', () => {
  let stack: DeployedStack;
  let sqs: SQSClient;
  const lambda = new LambdaClient(clientConfig());
  const ddb = new DynamoDBClient(clientConfig());
  const kafka = new Kafka({ clientId: 'it-kafka-consumer', brokers: [KAFKA], logLevel: logLevel.NOTHING });
  const produced = new Map<string, Produced[]>([
    [MSK_TOPIC, []],
    [SCRAM_TOPIC, []],
  ]);
  const onFailure = new Map<string, OnFailureDocument[]>([
    [MSK_TOPIC, []],
    [SCRAM_TOPIC, []],
  ]);

  /** The ledger table: `applied` and `deliveries` by message id, failure reasons by `failure#<id>`. */
  async function scanLedger(): Promise<Map<string, { applied: number; deliveries: number; reason?: string }>> {
    const out = new Map<string, { applied: number; deliveries: number; reason?: string }>();
    let start: Record<string, never> | undefined;
    do {
      const res = await ddb.send(new ScanCommand({ TableName: stack.outputs.LedgerTable, ExclusiveStartKey: start }));
      for (const item of res.Items ?? []) {
        const pk = item.pk.S!;
        if (pk.startsWith('failure#')) {
          const id = pk.slice('failure#'.length);
          out.set(id, { applied: 0, deliveries: 0, ...out.get(id), reason: item.reason?.S });
        } else {
          out.set(pk, { ...out.get(pk), applied: Number(item.applied?.N ?? 0), deliveries: Number(item.deliveries?.N ?? 0) });
        }
      }
      start = res.LastEvaluatedKey as typeof start;
    } while (start);
    return out;
  }

  async function produce(topic: string, messages: Array<{ id: string; partition: number; fault?: Produced['fault'] }>): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (const { partition, ...m } of messages) {
        const [meta] = await producer.send({ topic, messages: [{ key: m.id, value: JSON.stringify(m), partition }] });
        produced.get(topic)!.push({ ...m, topicPartition: `${topic}-${meta.partition}`, offset: Number(meta.baseOffset) });
      }
    } finally {
      await producer.disconnect();
    }
  }

  async function collectOnFailure(topic: string, url: string): Promise<void> {
    for (const m of await drain(sqs, url)) onFailure.get(topic)!.push(JSON.parse(m.Body!) as OnFailureDocument);
  }

  /** The ledger of one topic: what was produced, applied, and named by on-failure metadata. */
  async function ledgerOf(topic: string): Promise<Ledger> {
    const ledger = new Ledger();
    const rows = await scanLedger();
    for (const p of produced.get(topic)!) {
      ledger.sent(p.id, p.fault === 'poison' ? 'dead-letter' : 'process');
      for (let i = 0; i < (rows.get(p.id)?.applied ?? 0); i++) ledger.appliedEffect(p.id);
      for (const doc of onFailure.get(topic)!) {
        const range = doc.KafkaBatchInfo?.recordsInfo?.[p.topicPartition];
        if (range && p.offset >= Number(range.firstRecordOffset) && p.offset <= Number(range.lastRecordOffset)) {
          ledger.inDeadLetterQueue(
            p.id,
            `${doc.requestContext?.condition ?? 'unknown'}; ${rows.get(p.id)?.reason ?? 'no reason recorded'}`,
          );
        }
      }
    }
    return ledger;
  }

  async function settle(topic: string, url: string, what: string, timeoutMs: number): Promise<Ledger> {
    let ledger = new Ledger();
    await waitFor(
      what,
      async () => {
        await collectOnFailure(topic, url);
        ledger = await ledgerOf(topic);
        return ledger.settled ? true : undefined;
      },
      { timeoutMs, intervalMs: 2_000, describe: () => ledger.report(topic) },
    );
    return ledger;
  }

  beforeAll(async () => {
    requireHealthyEmulator();
    for (const address of [KAFKA, KAFKA_SCRAM]) {
      if (!(await reachable(address)))
        throw new Error(`Kafka is not reachable at ${address}: start the brokers (bash scripts/brokers.sh start)`);
    }
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: MSK_TOPIC, numPartitions: 3 },
        { topic: SCRAM_TOPIC, numPartitions: 2 },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();

    stack = await deployStack('kafka-consumer', (s) => {
      const ledger = new dynamodb.Table(s, 'Ledger', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const idempotency = new IdempotencyTable(s, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
      const consumer = new KitFunction(s, 'Consumer', {
        handler: 'kafka-consumer/example-consumer',
        functionProps: { timeout: Duration.seconds(20), environment: { TABLE_NAME: ledger.tableName, FAULT_INJECTION: 'on' } },
        synchronousOnlyReason: 'Invoked by event source mappings only.',
      });
      ledger.grantReadWriteData(consumer);
      idempotency.connectConsumer(consumer);

      // An existing MSK cluster with IAM access control (locally: the PLAINTEXT listener).
      const cluster = new msk.CfnCluster(s, 'Cluster', {
        clusterName: `it-${RUN}`,
        kafkaVersion: '3.6.0',
        numberOfBrokerNodes: 2,
        brokerNodeGroupInfo: { clientSubnets: ['subnet-1', 'subnet-2'], instanceType: 'kafka.t3.small' },
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
      });
      const orders = new KafkaConsumer(s, 'Orders', {
        consumer,
        existingClusterArn: cluster.attrArn,
        topic: MSK_TOPIC,
        retryAttempts: RETRY_ATTEMPTS,
        batchSize: BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
      });
      // A self-managed cluster over SASL/SCRAM-SHA-512, with a secret of the brokers' test user.
      const secret = new secretsmanager.Secret(s, 'KafkaCredentials', {
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ username: USER, password: PASSWORD })),
      });
      const payments = new KafkaConsumer(s, 'Payments', {
        consumer,
        bootstrapServers: [KAFKA_SCRAM],
        authentication: KafkaAuthentication.SASL_SCRAM_512,
        secret,
        topic: SCRAM_TOPIC,
        retryAttempts: RETRY_ATTEMPTS,
        batchSize: BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
      });
      // Emulator gap: LocalStack's CloudFormation provider of AWS::Lambda::EventSourceMapping passes
      // `SelfManagedEventSource.Endpoints.KafkaBootstrapServers` (the template's key, which the kit
      // writes, as on AWS) to CreateEventSourceMapping untranslated, where the API key is
      // `KAFKA_BOOTSTRAP_SERVERS`; the broker poller reads the API key. Test stack only.
      (payments.eventSourceMapping.node.defaultChild as lambdaCdk.CfnEventSourceMapping).addPropertyOverride(
        'SelfManagedEventSource.Endpoints',
        {
          KAFKA_BOOTSTRAP_SERVERS: [KAFKA_SCRAM],
        },
      );
      Validations.of(payments.eventSourceMapping).acknowledge({
        id: 'CloudFormation-Validate::F3002',
        reason: 'The emulator workaround above.',
      });
      new CfnOutput(s, 'LedgerTable', { value: ledger.tableName });
      new CfnOutput(s, 'ClusterArn', { value: cluster.attrArn });
      new CfnOutput(s, 'OrdersMapping', { value: orders.eventSourceMapping.eventSourceMappingId });
      new CfnOutput(s, 'OrdersGroup', { value: orders.consumerGroupId });
      new CfnOutput(s, 'OrdersOnFailureUrl', { value: orders.onFailureQueue.queueUrl });
      new CfnOutput(s, 'OrdersOnFailureArn', { value: orders.onFailureQueue.queueArn });
      new CfnOutput(s, 'PaymentsMapping', { value: payments.eventSourceMapping.eventSourceMappingId });
      new CfnOutput(s, 'PaymentsOnFailureUrl', { value: payments.onFailureQueue.queueUrl });
    });
    sqs = sqsClient();
  }, 300_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 180_000);

  it('deploys the mappings as AWS runs them: provisioned pollers, partial batch responses, bisect, bounded retries, on-failure queue, consumer group', async () => {
    const orders = await lambda.send(new GetEventSourceMappingCommand({ UUID: stack.outputs.OrdersMapping }));
    expect(orders).toMatchObject({
      EventSourceArn: stack.outputs.ClusterArn,
      Topics: [MSK_TOPIC],
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: RETRY_ATTEMPTS,
      BatchSize: BATCH_SIZE,
      DestinationConfig: { OnFailure: { Destination: stack.outputs.OrdersOnFailureArn } },
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: stack.outputs.OrdersGroup },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 200 },
    });
    const payments = await lambda.send(new GetEventSourceMappingCommand({ UUID: stack.outputs.PaymentsMapping }));
    expect(payments).toMatchObject({
      SourceAccessConfigurations: [expect.objectContaining({ Type: 'SASL_SCRAM_512_AUTH' })],
      Topics: [SCRAM_TOPIC],
    });
    for (const uuid of [stack.outputs.OrdersMapping, stack.outputs.PaymentsMapping]) {
      await waitFor('the mapping to be enabled', async () => {
        const state = (await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State;
        return state === 'Enabled' ? state : undefined;
      });
    }
  }, 60_000);

  it('MSK: every message is applied once, the poison messages are in the on-failure queue with their reason (ledger)', async () => {
    // The poison records in partitions 0 and 1; partition 2 stays clean for the replay below. (Two
    // poison records in one partition make the emulator's Kafka poller stop delivering some records
    // of the batch until the group's offsets are reset: an emulator defect, reported in the docs.)
    const messages = Array.from({ length: 30 }, (_, i) => ({
      id: `o-${i}`,
      partition: i % 3,
      ...(i === 7 || i === 18 ? { fault: 'poison' as const } : {}),
    }));
    await produce(MSK_TOPIC, messages);
    await settle(MSK_TOPIC, stack.outputs.OrdersOnFailureUrl, 'every MSK message to be applied or named by on-failure metadata', 150_000);
    await sleep(3_000); // a late duplicate or a late on-failure document would show
    await collectOnFailure(MSK_TOPIC, stack.outputs.OrdersOnFailureUrl);
    const final = await ledgerOf(MSK_TOPIC);
    console.log(final.report(`kafka MSK ${MSK_TOPIC}`), JSON.stringify(onFailure.get(MSK_TOPIC)));
    expect(final.problems()).toEqual([]);
    expect(final.totals()).toEqual({ sent: 30, appliedOnce: 28, inDlq: 2, lost: 0, appliedTwice: 0, unexpected: 0 });
    const rows = await scanLedger();
    expect(rows.get('o-7')?.reason).toMatch(/InvalidMessageError: message o-7: poison message/);
    expect(rows.get('o-18')?.reason).toMatch(/InvalidMessageError: message o-18: poison message/);
    // Bisection isolated each poison record: one on-failure document per poison, naming it alone.
    expect(onFailure.get(MSK_TOPIC)!.map((d) => [d.requestContext?.condition, d.KafkaBatchInfo?.batchSize])).toEqual([
      ['RetryAttemptsExhausted', 1],
      ['RetryAttemptsExhausted', 1],
    ]);
  }, 180_000);

  it('MSK: a crash right after the effect fails the invocation; the retried batch finds the effect applied (ledger)', async () => {
    const messages = [
      { id: 'c-0', partition: 0 },
      { id: 'c-1', partition: 0, fault: 'crash-after-effect' as const },
      { id: 'c-2', partition: 1 },
      { id: 'c-3', partition: 2, fault: 'crash-after-effect' as const },
      { id: 'c-4', partition: 2 },
    ];
    await produce(MSK_TOPIC, messages);
    await settle(MSK_TOPIC, stack.outputs.OrdersOnFailureUrl, 'the crashed messages to be applied', 90_000);
    const rows = await scanLedger();
    const final = await ledgerOf(MSK_TOPIC);
    console.log(
      final.report(`kafka MSK with crashes ${MSK_TOPIC}`),
      `deliveries c-1 ${rows.get('c-1')?.deliveries}, c-3 ${rows.get('c-3')?.deliveries}`,
    );
    expect(final.problems()).toEqual([]);
    expect(final.totals()).toEqual({ sent: 35, appliedOnce: 33, inDlq: 2, lost: 0, appliedTwice: 0, unexpected: 0 });
    for (const id of ['c-1', 'c-3']) {
      expect(rows.get(id)?.applied).toBe(1);
      expect(rows.get(id)?.deliveries).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);

  it('self-managed Kafka over SASL/SCRAM: every message applied once, the poison message in the on-failure queue (ledger)', async () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({
      id: `p-${i}`,
      partition: i % 2,
      ...(i === 5 ? { fault: 'poison' as const } : {}),
    }));
    await produce(SCRAM_TOPIC, messages);
    await settle(
      SCRAM_TOPIC,
      stack.outputs.PaymentsOnFailureUrl,
      'every SCRAM message to be applied or named by on-failure metadata',
      90_000,
    );
    const final = await ledgerOf(SCRAM_TOPIC);
    console.log(final.report(`kafka self-managed ${SCRAM_TOPIC}`));
    expect(final.problems()).toEqual([]);
    expect(final.totals()).toEqual({ sent: 10, appliedOnce: 9, inDlq: 1, lost: 0, appliedTwice: 0, unexpected: 0 });
    expect((await scanLedger()).get('p-5')?.reason).toMatch(/poison message/);
  }, 120_000);

  it('a replay of partitions (the group offsets reset, as a rebalance that lost its commits) redelivers every record; idempotency applies none twice', async () => {
    const before = await scanLedger();
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: stack.outputs.OrdersMapping, Enabled: false }));
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The group's members leave when the mapping stops; offsets can only be reset on an empty group.
      await waitFor(
        'the consumer group to be empty',
        async () => {
          const { groups } = await admin.describeGroups([stack.outputs.OrdersGroup]);
          return groups[0]?.members.length === 0 ? true : undefined;
        },
        { timeoutMs: 45_000, intervalMs: 1_000 },
      );
      // Partition 2 (partitions 0 and 1 hold the poison records, whose retries would only slow the test).
      await admin.setOffsets({ groupId: stack.outputs.OrdersGroup, topic: MSK_TOPIC, partitions: [{ partition: 2, offset: '0' }] });
    } finally {
      await admin.disconnect();
    }
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: stack.outputs.OrdersMapping, Enabled: true }));

    const healthy = produced.get(MSK_TOPIC)!.filter((p) => p.topicPartition.endsWith('-2'));
    let after = before;
    await waitFor(
      'every healthy record to be delivered again',
      async () => {
        after = await scanLedger();
        return healthy.every((p) => (after.get(p.id)?.deliveries ?? 0) > (before.get(p.id)?.deliveries ?? 0)) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    const redelivered = healthy.filter((p) => (after.get(p.id)?.deliveries ?? 0) > (before.get(p.id)?.deliveries ?? 0)).length;
    console.log(
      `kafka replay: ${redelivered} of ${healthy.length} healthy records delivered again, applied twice: ${healthy.filter((p) => (after.get(p.id)?.applied ?? 0) > 1).length}`,
    );
    for (const p of healthy) expect({ id: p.id, applied: after.get(p.id)?.applied }).toEqual({ id: p.id, applied: 1 });
  }, 180_000);
});
