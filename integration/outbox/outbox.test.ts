/**
 * TransactionalOutbox end to end: the real construct (table, stream, the kit's relay running inside
 * LocalStack, its mapping with FilterCriteria and the on-failure queue), real writes through
 * `Outbox`, real deliveries read back from the targets, an idempotent consumer (the idempotency
 * library against an IdempotencyTable) and a ledger.
 *
 * - Outbox `Bus`: the default EventRouter, a route to a queue the test consumes. The relay runs
 *   with FAULT_INJECTION=on (its `faults.ts`): a crash after publishing, a 300 KB event EventBridge
 *   refuses (EntryTooLarge).
 * - Outbox `Fifo`: an SNS FIFO topic with a FIFO queue subscribed (raw delivery), for order per
 *   aggregate under injected publish failures.
 *
 * Every event written is delivered and applied once (duplicates absorbed by the consumer), or is in
 * the on-failure queue with its reason, as expected.
 */
import { DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IdempotencyTable, OutboxTarget, RouteTarget, TransactionalOutbox } from '../../lib';
import { TransactionalIdempotency } from '../../lambda/runtime/idempotency';
import { Outbox, OutboxConditionError, outboxEnvelope, outboxEventId } from '../../lambda/runtime/outbox';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { logMessages } from '../harness/logs';
import { drain, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

interface Delivered {
  readonly eventId: string;
  readonly aggregateId: string;
  readonly sequence: number;
  readonly type: string;
}

describe('TransactionalOutbox end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  let ddb: DynamoDBClient;
  let bus: Outbox;
  let fifo: Outbox;
  let idempotency: TransactionalIdempotency;
  const run = `r${Date.now().toString(36)}`;
  const agg = (name: string) => `${run}-${name}`;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('outbox', (s) => {
      const idempotencyTable = new IdempotencyTable(s, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
      const effects = new dynamodb.Table(s, 'Effects', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const orders = new dynamodb.Table(s, 'Orders', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });

      const busOutbox = new TransactionalOutbox(s, 'Bus', {
        removalPolicy: RemovalPolicy.DESTROY,
        eventSource: 'shop.orders',
        batchSize: 20,
      });
      const delivered = new sqs.Queue(s, 'Delivered', { enforceSSL: true });
      busOutbox.eventRouter!.addRoute('All', { eventPattern: { source: ['shop.orders'] }, targets: [RouteTarget.queue(delivered)] });
      busOutbox.relayFunction.addEnvironment('FAULT_INJECTION', 'on');

      const topic = new sns.Topic(s, 'Topic', { fifo: true, enforceSSL: true });
      const ordered = new sqs.Queue(s, 'Ordered', { fifo: true, enforceSSL: true, contentBasedDeduplication: true });
      topic.addSubscription(new subscriptions.SqsSubscription(ordered, { rawMessageDelivery: true }));
      const fifoOutbox = new TransactionalOutbox(s, 'Fifo', {
        removalPolicy: RemovalPolicy.DESTROY,
        target: OutboxTarget.snsTopic(topic),
        batchSize: 20,
        relayTimeout: Duration.seconds(30),
      });
      fifoOutbox.relayFunction.addEnvironment('FAULT_INJECTION', 'on');

      new CfnOutput(s, 'BusTable', { value: busOutbox.tableName });
      new CfnOutput(s, 'BusOnFailure', { value: busOutbox.onFailureQueue.queueUrl });
      new CfnOutput(s, 'DeliveredUrl', { value: delivered.queueUrl });
      new CfnOutput(s, 'FifoTable', { value: fifoOutbox.tableName });
      new CfnOutput(s, 'FifoOnFailure', { value: fifoOutbox.onFailureQueue.queueUrl });
      new CfnOutput(s, 'FifoRelay', { value: fifoOutbox.relayFunction.functionName });
      new CfnOutput(s, 'BusRelay', { value: busOutbox.relayFunction.functionName });
      new CfnOutput(s, 'OrderedUrl', { value: ordered.queueUrl });
      new CfnOutput(s, 'IdempotencyTable', { value: idempotencyTable.tableName });
      new CfnOutput(s, 'EffectsTable', { value: effects.tableName });
      new CfnOutput(s, 'OrdersTable', { value: orders.tableName });
    });
    client = sqsClient();
    ddb = new DynamoDBClient(clientConfig());
    bus = new Outbox({ tableName: stack.outputs.BusTable, client: ddb });
    fifo = new Outbox({ tableName: stack.outputs.FifoTable, client: ddb });
    idempotency = new TransactionalIdempotency({
      tableName: stack.outputs.IdempotencyTable,
      client: new DynamoDBClient(clientConfig()),
      keyPrefix: run,
      keySelector: outboxEventId,
    });
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  /** What the consumer of the route's queue saw, in arrival order (duplicates included). */
  const busDeliveries: Delivered[] = [];
  /** Consumes the route's queue idempotently: each event's effect (a counter) applied once per event id. */
  async function consumeBus(): Promise<void> {
    for (const m of await drain(client, stack.outputs.DeliveredUrl)) {
      const record = {
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        eventSource: 'aws:sqs',
      } as unknown as SQSRecord;
      const envelope = outboxEnvelope<unknown>(record)!;
      busDeliveries.push({
        eventId: envelope.eventId,
        aggregateId: envelope.aggregateId,
        sequence: Number(envelope.sequence),
        type: envelope.type,
      });
      await idempotency.applyOnce(record, {
        items: [
          {
            Update: {
              TableName: stack.outputs.EffectsTable,
              Key: { pk: envelope.eventId },
              UpdateExpression: 'ADD applications :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ],
      });
    }
  }
  const applications = async (eventId: string): Promise<number> => {
    const res = await ddb.send(
      new GetItemCommand({ TableName: stack.outputs.EffectsTable, Key: marshall({ pk: eventId }), ConsistentRead: true }),
    );
    return res.Item ? Number(unmarshall(res.Item).applications) : 0;
  };
  const onFailure = async (url: string) =>
    (await drain(client, url)).map(
      (m) =>
        JSON.parse(m.Body!) as {
          source?: string;
          reason?: { errorCode: string; errorMessage: string; heldBackBehind?: string };
          record?: Record<string, unknown>;
          requestContext?: unknown;
        },
    );

  it('deploys the relay mapping: outbox inserts only, bisect, partial batch responses, bounded retries, the on-failure queue', async () => {
    const { LambdaClient, ListEventSourceMappingsCommand } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient(clientConfig());
    const mappings = (await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings ?? [];
    const mine = mappings.filter((m) => m.EventSourceArn?.includes(stack.outputs.BusTable));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 3,
      ParallelizationFactor: 1,
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { recordType: { S: ['outbox'] } } } }) }],
      },
    });
  });

  it('writes business items and events atomically: a failed business condition writes and publishes nothing', async () => {
    const placed = await bus.write(
      [
        {
          Put: {
            TableName: stack.outputs.OrdersTable,
            Item: { pk: agg('order-1'), total: 10 },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      [{ aggregateId: agg('order-1'), type: 'OrderPlaced', data: { total: 10 }, sequence: 1 }],
    );
    const rejected = await bus
      .write(
        [
          {
            Put: {
              TableName: stack.outputs.OrdersTable,
              Item: { pk: agg('order-1'), total: 99 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
        [{ aggregateId: agg('order-1'), type: 'OrderPlacedTwice', data: { total: 99 }, sequence: 2, eventId: `${run}-never` }],
      )
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(OutboxConditionError);

    await waitFor(
      'the first order event to be delivered',
      async () => {
        await consumeBus();
        return busDeliveries.some((d) => d.eventId === placed.eventIds[0]) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    await sleep(3000);
    await consumeBus();
    expect(busDeliveries.filter((d) => d.eventId === `${run}-never`)).toEqual([]);
    const records = await ddb.send(
      new QueryCommand({
        TableName: stack.outputs.BusTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': `outbox#${agg('order-1')}` }),
        ConsistentRead: true,
      }),
    );
    expect((records.Items ?? []).map((i) => unmarshall(i).type)).toEqual(['OrderPlaced']);
    // The relay marked it published: the TTL now runs.
    await waitFor(
      'the record to be marked published',
      async () => {
        const item = (
          await ddb.send(
            new GetItemCommand({
              TableName: stack.outputs.BusTable,
              Key: marshall({ pk: `outbox#${agg('order-1')}`, sk: '00000000000000000001' }),
              ConsistentRead: true,
            }),
          )
        ).Item;
        const r = item ? unmarshall(item) : {};
        return typeof r.publishedAt === 'number' && Number(r.expiresAt) > Date.now() / 1000 ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
  }, 150_000);

  it('re-publishes a batch after the relay crashed between publishing and answering, and the idempotent consumer absorbs it (ledger)', async () => {
    const ledger = new Ledger();
    const written: string[] = [];
    for (let a = 0; a < 5; a++) {
      const events = [1, 2, 3].map((sequence) => ({
        aggregateId: agg(`crash-${a}`),
        type: 'Happened',
        data: { a, sequence },
        sequence,
        ...(a === 2 && sequence === 2 ? { metadata: { fault: 'crash-after-publish' } } : {}),
      }));
      const { eventIds } = await bus.write([], events);
      written.push(...eventIds);
    }
    for (const id of written) ledger.sent(id, 'process');

    await waitFor(
      'every event to be applied',
      async () => {
        await consumeBus();
        for (const id of written) if ((await applications(id)) === 0) return undefined;
        return true;
      },
      {
        timeoutMs: 150_000,
        intervalMs: 2000,
        describe: () => `${busDeliveries.filter((d) => written.includes(d.eventId)).length} deliveries`,
      },
    );
    await sleep(3000);
    await consumeBus();

    for (const id of written) for (let n = await applications(id); n > 0; n--) ledger.appliedEffect(id);
    const deliveries = busDeliveries.filter((d) => written.includes(d.eventId));
    console.log(`${ledger.report('outbox crash')}; ${deliveries.length} deliveries of ${written.length} events`);
    expect(ledger.totals()).toMatchObject({ sent: 15, appliedOnce: 15, lost: 0, appliedTwice: 0, unexpected: 0 });
    expect(deliveries.length).toBeGreaterThan(written.length); // the crashed batch went out twice
  }, 200_000);

  it('keeps the order of every aggregate under injected publish failures (SNS FIFO)', async () => {
    const aggregates = 6;
    const perAggregate = 5;
    const expected = new Map<string, number[]>();
    for (let a = 0; a < aggregates; a++) {
      const events = Array.from({ length: perAggregate }, (_, i) => ({
        aggregateId: agg(`fifo-${a}`),
        type: 'Moved',
        data: { a, step: i + 1 },
        sequence: i + 1,
        // Fails 7 times: more than one invocation's publisher retries (5), so Lambda retries from the checkpoint.
        ...((a + i) % 4 === 1 ? { metadata: { fault: 'publish-fail', failures: 7 } } : {}),
      }));
      await fifo.write([], events);
      expected.set(
        agg(`fifo-${a}`),
        events.map((e) => e.sequence),
      );
    }
    const seen = new Map<string, number[]>();
    const count = () => [...seen.values()].reduce((n, s) => n + new Set(s).size, 0);
    await waitFor(
      'every FIFO event to arrive',
      async () => {
        for (const m of await drain(client, stack.outputs.OrderedUrl)) {
          const e = outboxEnvelope({ body: m.Body! })!;
          seen.set(e.aggregateId, [...(seen.get(e.aggregateId) ?? []), Number(e.sequence)]);
        }
        return count() >= aggregates * perAggregate ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 2000, describe: () => `${count()} of ${aggregates * perAggregate}` },
    );

    for (const [aggregateId, sequences] of expected) {
      const got = seen.get(aggregateId) ?? [];
      // In order, each once: SNS FIFO drops the relay's re-publications (deduplication id = event id).
      expect({ aggregateId, got }).toEqual({ aggregateId, got: sequences });
    }
    expect(await onFailure(stack.outputs.FifoOnFailure)).toEqual([]);
    // The faults fired: some invocations answered with a checkpoint, and Lambda retried from it.
    const retries = await waitFor(
      'the relay to log its checkpoints',
      async () => {
        const lines = (await logMessages([stack.outputs.FifoRelay])).filter(
          (l) => l.includes('outbox records not published') && l.includes('retryFrom'),
        );
        return lines.length > 0 ? lines : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 2000 },
    );
    expect(retries.some((l) => l.includes('InternalError'))).toBe(true);
  }, 200_000);

  it('sends an undeliverable event to the on-failure queue with its reason, holds its aggregate back, lets the others through', async () => {
    const big = await bus.write(
      [],
      [
        { aggregateId: agg('big'), type: 'Huge', data: { blob: 'x'.repeat(300_000) }, sequence: 1 },
        { aggregateId: agg('big'), type: 'After', data: {}, sequence: 2 },
      ],
    );
    const other = await bus.write([], [{ aggregateId: agg('small'), type: 'Fine', data: {}, sequence: 1 }]);

    const messages: Awaited<ReturnType<typeof onFailure>> = [];
    await waitFor(
      'the dead letters',
      async () => {
        messages.push(...(await onFailure(stack.outputs.BusOnFailure)));
        return messages.filter((m) => m.record?.aggregateId === agg('big')).length >= 2 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    await waitFor(
      'the other aggregate to be delivered',
      async () => {
        await consumeBus();
        return busDeliveries.some((d) => d.eventId === other.eventIds[0]) ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );

    const mine = messages.filter((m) => m.record?.aggregateId === agg('big'));
    expect(mine.map((m) => [m.source, m.record?.eventId, m.reason?.errorCode])).toEqual([
      ['cdk-messaging-patterns.outbox-relay', big.eventIds[0], 'EntryTooLarge'],
      ['cdk-messaging-patterns.outbox-relay', big.eventIds[1], 'HeldBack'],
    ]);
    expect(mine[0].reason?.errorMessage).toMatch(/bytes, more than the 262144 bytes EventBridge accepts/);
    expect(mine[1].reason?.heldBackBehind).toBe(big.eventIds[0]);
    expect(busDeliveries.filter((d) => d.aggregateId === agg('big'))).toEqual([]);
    const pending = await bus.pending(agg('big'));
    expect(pending.map((p) => p.failureCode)).toEqual(['EntryTooLarge', 'HeldBack']);
    const markers = await ddb.send(
      new ScanCommand({
        TableName: stack.outputs.BusTable,
        FilterExpression: 'sk = :b',
        ExpressionAttributeValues: marshall({ ':b': '!blocked' }),
        ConsistentRead: true,
      }),
    );
    expect((markers.Items ?? []).map((i) => unmarshall(i).blockedBy)).toContain(big.eventIds[0]);
  }, 150_000);
});
