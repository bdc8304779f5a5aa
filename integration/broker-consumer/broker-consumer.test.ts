/**
 * BrokerConsumer end to end: the real construct, deployed with cdklocal into LocalStack, consuming
 * the real brokers of `scripts/brokers.sh` — a RabbitMQ broker the construct creates (private, in a
 * VPC, with credentials generated into Secrets Manager: LocalStack's `mq:local` creates that user on
 * the local RabbitMQ) and an existing ActiveMQ broker (`AWS::AmazonMQ::Broker` in the same stack) —
 * with the bundled example consumer (`processBrokerBatch` + `TransactionalIdempotency`).
 *
 * The ledger: every message sent is applied exactly once (`applied` in the ledger table), or is a
 * poison message in the broker's dead-letter queue (ActiveMQ: `ActiveMQ.DLQ` after Lambda's 6
 * redeliveries; RabbitMQ: the queue's dead-letter exchange, here a quorum queue with
 * `x-delivery-limit`, which the test declares since the construct cannot configure the broker's
 * queues) with its reason recorded by the consumer. A crash right after the effect makes the broker
 * redeliver the batch; the idempotency library absorbs it. A poison message sharing a batch with
 * healthy ones takes them to the dead-letter queue too (MQ mappings have no partial batch
 * response): they were applied once, and the ledger says so.
 */
import * as net from 'node:net';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, LambdaClient } from '@aws-sdk/client-lambda';
import * as amqplib from 'amqplib';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { create_container } from 'rhea';
import { BrokerConsumer, BrokerEngine, IdempotencyTable } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { sleep, waitFor } from '../harness/wait';

const RABBITMQ = process.env.CMP_RABBITMQ_AMQP ?? 'amqp://127.0.0.1:5672';
const ACTIVEMQ_AMQP = process.env.CMP_ACTIVEMQ_AMQP ?? 'amqp://127.0.0.1:5673';
const ACTIVEMQ_STOMP = process.env.CMP_ACTIVEMQ_STOMP ?? 'stomp://127.0.0.1:61613';
const USER = process.env.CMP_BROKERS_USER ?? 'cmp';
const PASSWORD = process.env.CMP_BROKERS_PASSWORD ?? 'cmp-secret';
const RUN = Date.now().toString(36);
const RABBIT_QUEUE = `it-orders-${RUN}`;
const RABBIT_DLQ = `it-orders-dead-${RUN}`;
const ACTIVE_QUEUE = `it-payments-${RUN}`;
/** RabbitMQ: a message returned this many times is dead-lettered on the next return. */
const DELIVERY_LIMIT = 3;

type Fault = 'poison' | 'crash-after-effect';
interface Sent {
  readonly id: string;
  readonly fault?: Fault;
  /** Sent in a batch with a poison message: expected in the dead-letter queue too, applied once. */
  readonly collateral?: boolean;
}

const hostPort = (url: string) => {
  const [host, port] = url.split('://').at(-1)!.split(':');
  return { host, port: Number(port) };
};

async function reachable(url: string): Promise<boolean> {
  const { host, port } = hostPort(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * Sends JSON messages to an ActiveMQ queue over STOMP (a few lines of the protocol), persistent
 * (ActiveMQ drops non-persistent dead letters). Not over AMQP 1.0: ActiveMQ's AMQP transport keeps
 * such messages native (`JMS_AMQP_NATIVE`), so a JMS or STOMP consumer — the mapping's poller —
 * receives the whole AMQP encoding as the body instead of the JSON.
 */
async function sendActiveMq(queue: string, messages: ReadonlyArray<{ id: string; fault?: Fault }>): Promise<void> {
  const { host, port } = hostPort(ACTIVEMQ_STOMP);
  const socket = net.connect({ host, port });
  const frame = (command: string, headers: Record<string, string>, body = '') =>
    `${command}\n${Object.entries(headers)
      .map(([k, v]) => `${k}:${v}`)
      .join('\n')}\n\n${body}\0`;
  let received = '';
  const waitFor = (command: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (received.includes(`${command}\n`)) {
          socket.off('data', onData);
          resolve();
        } else if (received.includes('ERROR\n')) reject(new Error(`STOMP error: ${received}`));
      };
      const onData = (d: Buffer) => {
        received += d.toString('utf8');
        check();
      };
      socket.on('data', onData);
      check();
    });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost', login: USER, passcode: PASSWORD }));
  await waitFor('CONNECTED');
  for (const m of messages) {
    socket.write(
      frame('SEND', { destination: `/queue/${queue}`, persistent: 'true', 'content-type': 'application/json' }, JSON.stringify(m)),
    );
  }
  socket.write(frame('DISCONNECT', { receipt: 'done' }));
  await waitFor('RECEIPT');
  socket.destroy();
}

/** The ids of the JSON messages currently in an ActiveMQ queue (read and removed). */
async function drainActiveMq(queue: string, forMs = 3_000): Promise<Array<{ id?: string; body: string }>> {
  const container = create_container();
  const { host, port } = hostPort(ACTIVEMQ_AMQP);
  const connection = container.connect({ host, port, username: USER, password: PASSWORD, reconnect: false });
  const out: Array<{ id?: string; body: string }> = [];
  connection.open_receiver({ source: { address: queue }, autoaccept: true }).on('message', (ctx) => {
    const body =
      typeof ctx.message?.body === 'string'
        ? ctx.message.body
        : Buffer.from(ctx.message?.body?.content ?? ctx.message?.body ?? '').toString('utf8');
    let id: string | undefined;
    try {
      id = (JSON.parse(body) as { id?: string }).id;
    } catch {
      id = undefined;
    }
    out.push({ id, body });
  });
  await sleep(forMs);
  connection.close();
  return out;
}

describe('BrokerConsumer end to end', () => {
  let stack: DeployedStack;
  let rabbit: amqplib.ChannelModel;
  let channel: amqplib.Channel;
  const lambda = new LambdaClient(clientConfig());
  const ddb = new DynamoDBClient(clientConfig());
  const sent = new Map<string, Sent[]>([
    ['rabbitmq', []],
    ['activemq', []],
  ]);
  const deadLettered = new Map<string, Set<string>>([
    ['rabbitmq', new Set()],
    ['activemq', new Set()],
  ]);

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

  async function sendRabbit(messages: Sent[]): Promise<void> {
    for (const m of messages) {
      channel.sendToQueue(RABBIT_QUEUE, Buffer.from(JSON.stringify({ id: m.id, ...(m.fault ? { fault: m.fault } : {}) })), {
        messageId: m.id,
        persistent: true,
        contentType: 'application/json',
      });
      sent.get('rabbitmq')!.push(m);
    }
  }

  async function sendActive(messages: Sent[]): Promise<void> {
    await sendActiveMq(
      ACTIVE_QUEUE,
      messages.map((m) => ({ id: m.id, ...(m.fault ? { fault: m.fault } : {}) })),
    );
    sent.get('activemq')!.push(...messages);
  }

  async function collectDeadLetters(engine: 'rabbitmq' | 'activemq'): Promise<void> {
    if (engine === 'rabbitmq') {
      for (;;) {
        const m = await channel.get(RABBIT_DLQ, { noAck: true });
        if (!m) break;
        deadLettered.get(engine)!.add((JSON.parse(m.content.toString('utf8')) as { id: string }).id);
      }
      return;
    }
    const ours = new Set(sent.get(engine)!.map((s) => s.id));
    for (const m of await drainActiveMq('ActiveMQ.DLQ', 2_000)) if (m.id && ours.has(m.id)) deadLettered.get(engine)!.add(m.id);
  }

  /** The ledger of one engine. Collateral messages are expected applied once; their dead-letter copies are reported apart. */
  async function ledgerOf(engine: 'rabbitmq' | 'activemq'): Promise<{ ledger: Ledger; collateralDeadLettered: string[] }> {
    const ledger = new Ledger();
    const rows = await scanLedger();
    const collateralDeadLettered: string[] = [];
    for (const m of sent.get(engine)!) {
      ledger.sent(m.id, m.fault === 'poison' ? 'dead-letter' : 'process');
      for (let i = 0; i < (rows.get(m.id)?.applied ?? 0); i++) ledger.appliedEffect(m.id);
      if (!deadLettered.get(engine)!.has(m.id)) continue;
      if (m.fault === 'poison') ledger.inDeadLetterQueue(m.id, rows.get(m.id)?.reason ?? 'no reason recorded');
      else if (m.collateral) collateralDeadLettered.push(m.id);
      else ledger.inDeadLetterQueue(m.id, 'dead-lettered although healthy');
    }
    return { ledger, collateralDeadLettered };
  }

  async function settle(engine: 'rabbitmq' | 'activemq', what: string, timeoutMs: number, until?: () => boolean): Promise<Ledger> {
    let ledger = new Ledger();
    await waitFor(
      what,
      async () => {
        await collectDeadLetters(engine);
        ledger = (await ledgerOf(engine)).ledger;
        return ledger.settled && (until?.() ?? true) ? true : undefined;
      },
      { timeoutMs, intervalMs: 2_000, describe: () => ledger.report(engine) },
    );
    return ledger;
  }

  beforeAll(async () => {
    requireHealthyEmulator();
    for (const url of [RABBITMQ, ACTIVEMQ_AMQP, ACTIVEMQ_STOMP]) {
      if (!(await reachable(url))) throw new Error(`${url} is not reachable: start the brokers (bash scripts/brokers.sh start)`);
    }
    const { host, port } = hostPort(RABBITMQ);
    rabbit = await amqplib.connect({ hostname: host, port, username: USER, password: PASSWORD, vhost: '/' });
    channel = await rabbit.createChannel();
    // The queue's dead-lettering is the broker's configuration, which the construct cannot set.
    await channel.assertQueue(RABBIT_DLQ, { durable: true });
    await channel.assertQueue(RABBIT_QUEUE, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': RABBIT_DLQ,
      },
    });

    stack = await deployStack('broker-consumer', (s) => {
      const ledger = new dynamodb.Table(s, 'Ledger', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const idempotency = new IdempotencyTable(s, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
      const consumer = new KitFunction(s, 'Consumer', {
        handler: 'broker-consumer/example-consumer',
        functionProps: { timeout: Duration.seconds(20), environment: { TABLE_NAME: ledger.tableName, FAULT_INJECTION: 'on' } },
        synchronousOnlyReason: 'Invoked by event source mappings only.',
      });
      ledger.grantReadWriteData(consumer);
      idempotency.connectConsumer(consumer);

      // A RabbitMQ broker the construct creates, in a VPC (EC2 on moto), with generated credentials.
      const vpc = new ec2.Vpc(s, 'Vpc', {
        availabilityZones: ['us-east-1a'],
        natGateways: 0,
        restrictDefaultSecurityGroup: false,
        subnetConfiguration: [{ name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      });
      const orders = new BrokerConsumer(s, 'Orders', {
        consumer,
        queueName: RABBIT_QUEUE,
        // A security group of the test's: the construct's own adds a self-referencing rule, an
        // AWS::EC2::SecurityGroupIngress, which LocalStack 4.13.1 community does not deploy (the
        // rule is checked by the unit tests).
        brokerProps: {
          vpc,
          vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          securityGroups: [new ec2.SecurityGroup(s, 'BrokerGroup', { vpc, allowAllOutbound: true })],
        },
        maxBatchingWindow: Duration.seconds(2),
      });

      // An existing ActiveMQ broker with a user of its own (mq:local creates it on the local ActiveMQ).
      const appUser = { username: `app-${RUN}`, password: `pw-${RUN}-${RUN}` };
      const active = new amazonmq.CfnBroker(s, 'ActiveBroker', {
        brokerName: `it-active-${RUN}`,
        engineType: 'ACTIVEMQ',
        engineVersion: '5.18',
        hostInstanceType: 'mq.t3.micro',
        deploymentMode: 'SINGLE_INSTANCE',
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        users: [appUser],
      });
      Validations.of(active).acknowledge({
        id: 'CloudFormation-Validate::W2501',
        reason: "The test broker's user, in the test stack only.",
      });
      const credentials = new secretsmanager.Secret(s, 'ActiveCredentials', {
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify(appUser)),
      });
      const payments = new BrokerConsumer(s, 'Payments', {
        consumer,
        engine: BrokerEngine.ACTIVEMQ,
        queueName: ACTIVE_QUEUE,
        existingBrokerArn: active.attrArn,
        credentials,
        maxBatchingWindow: Duration.seconds(2),
      });
      new CfnOutput(s, 'LedgerTable', { value: ledger.tableName });
      new CfnOutput(s, 'OrdersMapping', { value: orders.eventSourceMapping.eventSourceMappingId });
      new CfnOutput(s, 'OrdersBrokerArn', { value: orders.brokerArn });
      new CfnOutput(s, 'OrdersCredentials', { value: orders.credentials.secretArn });
      new CfnOutput(s, 'PaymentsMapping', { value: payments.eventSourceMapping.eventSourceMappingId });
    });
  }, 300_000);

  afterAll(async () => {
    await rabbit?.close().catch(() => undefined);
    await stack?.destroy();
  }, 180_000);

  it('deploys the mappings: the created broker with its generated credentials, the existing one with the given secret, one queue each, batches of 10', async () => {
    const orders = await lambda.send(new GetEventSourceMappingCommand({ UUID: stack.outputs.OrdersMapping }));
    expect(orders).toMatchObject({
      EventSourceArn: stack.outputs.OrdersBrokerArn,
      Queues: [RABBIT_QUEUE],
      BatchSize: 10,
      SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: stack.outputs.OrdersCredentials }],
    });
    expect(orders.DestinationConfig?.OnFailure?.Destination).toBeUndefined();
    const payments = await lambda.send(new GetEventSourceMappingCommand({ UUID: stack.outputs.PaymentsMapping }));
    expect(payments).toMatchObject({ Queues: [ACTIVE_QUEUE], BatchSize: 10 });
    for (const uuid of [stack.outputs.OrdersMapping, stack.outputs.PaymentsMapping]) {
      await waitFor('the mapping to be enabled', async () => {
        const state = (await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State;
        return state === 'Enabled' ? state : undefined;
      });
    }
  }, 60_000);

  describe.each([
    ['rabbitmq', 'RabbitMQ (created broker, quorum queue dead-lettering)'],
    ['activemq', 'ActiveMQ (existing broker, ActiveMQ.DLQ)'],
  ] as const)('%s', (engine, title) => {
    const prefix = engine === 'rabbitmq' ? 'r' : 'a';
    const send = (messages: Sent[]) => (engine === 'rabbitmq' ? sendRabbit(messages) : sendActive(messages));

    it(`${title}: every message is applied once; a crash after the effect is redelivered and absorbed (ledger)`, async () => {
      const messages: Sent[] = Array.from({ length: 20 }, (_, i) => ({
        id: `${prefix}-${i}`,
        ...(i === 6 || i === 15 ? { fault: 'crash-after-effect' as const } : {}),
      }));
      await send(messages);
      await settle(engine, `every ${engine} message to be applied`, 90_000);
      const rows = await scanLedger();
      const { ledger } = await ledgerOf(engine);
      console.log(
        ledger.report(`${engine} healthy and crashes`),
        `deliveries of the crashed: ${rows.get(`${prefix}-6`)?.deliveries}, ${rows.get(`${prefix}-15`)?.deliveries}`,
      );
      expect(ledger.problems()).toEqual([]);
      expect(ledger.totals()).toEqual({ sent: 20, appliedOnce: 20, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 });
      for (const id of [`${prefix}-6`, `${prefix}-15`]) expect(rows.get(id)?.deliveries).toBeGreaterThanOrEqual(2);
    }, 120_000);

    it(`${title}: a poison message is redelivered, then dead-lettered by the broker, with its reason recorded (ledger)`, async () => {
      await send([{ id: `${prefix}-poison-1`, fault: 'poison' }]);
      await settle(engine, `the ${engine} poison message to be dead-lettered`, 60_000);
      const rows = await scanLedger();
      const { ledger } = await ledgerOf(engine);
      console.log(
        ledger.report(`${engine} with a poison message`),
        `deliveries of the poison: ${rows.get(`${prefix}-poison-1`)?.deliveries}`,
      );
      expect(ledger.problems()).toEqual([]);
      expect(ledger.totals()).toEqual({ sent: 21, appliedOnce: 20, inDlq: 1, lost: 0, appliedTwice: 0, unexpected: 0 });
      expect(rows.get(`${prefix}-poison-1`)?.reason).toMatch(/InvalidMessageError: message .*poison message/);
      // ActiveMQ: the first delivery and Lambda's 6 redeliveries; RabbitMQ: until the queue's delivery limit.
      expect(rows.get(`${prefix}-poison-1`)?.deliveries).toBe(engine === 'activemq' ? 7 : DELIVERY_LIMIT + 1);
    }, 90_000);

    it(`${title}: healthy messages in the poison message's batch are applied once, and dead-lettered with it (no partial batch response)`, async () => {
      const batch: Sent[] = [
        { id: `${prefix}-mixed-0`, collateral: true },
        { id: `${prefix}-poison-2`, fault: 'poison' },
        { id: `${prefix}-mixed-1`, collateral: true },
      ];
      await send(batch);
      await settle(engine, `the ${engine} mixed batch to be dead-lettered`, 60_000, () =>
        deadLettered.get(engine)!.has(`${prefix}-poison-2`),
      );
      await sleep(2_000);
      await collectDeadLetters(engine);
      const { ledger, collateralDeadLettered } = await ledgerOf(engine);
      console.log(
        ledger.report(`${engine} with a mixed batch`),
        `collateral dead letters (applied once): ${collateralDeadLettered.join(', ') || 'none'}`,
      );
      expect(ledger.problems()).toEqual([]);
      expect(ledger.totals()).toMatchObject({ sent: 24, appliedOnce: 22, inDlq: 2, lost: 0, appliedTwice: 0, unexpected: 0 });
      // Those that shared the poison message's batch are in the dead-letter queue too, and were applied once.
      const rows = await scanLedger();
      for (const id of collateralDeadLettered) expect(rows.get(id)?.applied).toBe(1);
    }, 90_000);
  });
});
