/**
 * SequentialConvoy end to end: the real construct with the real bundled projector, running inside
 * LocalStack. 20 entities x 10 events, sent interleaved by the real ConvoyProducer; some events fail
 * on their first delivery. Every entity's events are applied exactly once each, in order (the
 * projector appends each applied sequence number to the entity's item), nothing is lost, and a
 * producer retry with the same deduplication ids adds nothing.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { SequentialConvoy } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { ConvoyProducer } from '../../lambda/runtime/sequential-convoy/producer';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { logMessages } from '../harness/logs';
import { drain, queueDepth, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const ENTITIES = 20;
const EVENTS_PER_ENTITY = 10;

interface EntityEvent {
  entityId: string;
  seq: number;
  eventId: string;
  failDeliveries?: number;
}

/**
 * Injected failures, as [seq, failed deliveries]: entities 1, 5, 9, 13, 17 fail one event on its
 * first delivery; entities 3, 7, 11, 15, 19 fail event 3 on its first two deliveries.
 */
function failure(entity: number): { seq: number; deliveries: number } | undefined {
  if (entity % 4 === 1) return { seq: (entity % EVENTS_PER_ENTITY) + 1, deliveries: 1 };
  if (entity % 4 === 3) return { seq: 3, deliveries: 2 };
  return undefined;
}

describe('SequentialConvoy end to end', () => {
  let stack: DeployedStack;
  let sqs: SQSClient;
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('sequential-convoy', (s) => {
      const table = new dynamodb.Table(s, 'Entities', {
        partitionKey: { name: 'entityId', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const consumer = new KitFunction(s, 'Projector', {
        handler: 'sequential-convoy/consumer',
        functionProps: { timeout: Duration.seconds(2), environment: { TABLE_NAME: table.tableName } },
      });
      table.grantReadWriteData(consumer);
      const convoy = new SequentialConvoy(s, 'Convoy', { consumer, maxConcurrency: 5 });
      new CfnOutput(s, 'QueueUrl', { value: convoy.queue.queueUrl });
      new CfnOutput(s, 'DlqUrl', { value: convoy.deadLetterQueue!.queueUrl });
      new CfnOutput(s, 'TableName', { value: table.tableName });
      new CfnOutput(s, 'ConsumerName', { value: consumer.functionName });
      new CfnOutput(s, 'VisibilityTimeout', { value: String(convoy.visibilityTimeout!.toSeconds()) });
    });
    sqs = sqsClient();
    ddb = new DynamoDBClient(clientConfig());
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  /** The queue's visibility timeout, as deployed (asserted below). */
  const visibilityTimeoutMs = () => Number(stack.outputs.VisibilityTimeout) * 1000;

  it('deploys a FIFO queue with the computed visibility timeout', () => {
    expect(stack.outputs.QueueUrl).toMatch(/\.fifo$/);
    expect(stack.outputs.DlqUrl).toMatch(/\.fifo$/);
    expect(stack.outputs.VisibilityTimeout).toBe('12');
  });

  it("applies every entity's events once each, in order, while failed entities wait for their retry", async () => {
    // Prepare: interleaved events (e0#1, e1#1, ..., e19#1, e0#2, ...), some failing on first delivery.
    const ledger = new Ledger();
    const events: EntityEvent[] = [];
    for (let seq = 1; seq <= EVENTS_PER_ENTITY; seq++) {
      for (let e = 0; e < ENTITIES; e++) {
        const entityId = `entity-${e}`;
        const event: EntityEvent = { entityId, seq, eventId: `${entityId}#${seq}` };
        if (failure(e)?.seq === seq) event.failDeliveries = failure(e)!.deliveries;
        events.push(event);
        ledger.sent(event.eventId, 'process');
      }
    }
    const producer = new ConvoyProducer<EntityEvent>({
      queueUrl: stack.outputs.QueueUrl,
      groupBy: 'entityId',
      deduplicationId: 'eventId',
      client: sqs,
    });

    // Act
    const started = Date.now();
    const sent = await producer.sendAll(events);
    // A producer retry of the first 20 events (same deduplication ids) within the 5-minute window.
    const retried = await producer.sendAll(events.slice(0, 20));
    const sendMs = Date.now() - started;

    const completedAt = new Map<string, number>();
    let applied = new Map<string, number[]>();
    await waitFor(
      'every entity to have all its events applied',
      async () => {
        applied = await appliedByEntity(ddb, stack.outputs.TableName);
        for (const [entityId, seqs] of applied) {
          if (seqs.length >= EVENTS_PER_ENTITY && !completedAt.has(entityId)) completedAt.set(entityId, Date.now() - started);
        }
        return completedAt.size === ENTITIES ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, describe: () => `${completedAt.size}/${ENTITIES} entities complete` },
    );
    const settleMs = Date.now() - started;

    // Quiet period: the queue drains, and one more visibility timeout shows any late redelivery.
    await waitFor(
      'the convoy queue to be empty',
      async () => {
        const d = await queueDepth(sqs, stack.outputs.QueueUrl);
        return d.visible + d.inFlight + d.delayed === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    await sleep(visibilityTimeoutMs() + 1_000);
    applied = await appliedByEntity(ddb, stack.outputs.TableName);
    for (const m of await drain(sqs, stack.outputs.DlqUrl))
      ledger.inDeadLetterQueue((JSON.parse(m.Body!) as EntityEvent).eventId, 'in DLQ');
    for (const [entityId, seqs] of applied) for (const seq of seqs) ledger.appliedEffect(`${entityId}#${seq}`);

    // Assess: SQS accepted every send, gave each group strictly increasing sequence numbers, and
    // deduplicated the retry (same message ids back, nothing new applied).
    expect(sent).toHaveLength(ENTITIES * EVENTS_PER_ENTITY);
    expect(retried.map((r) => r.messageId)).toEqual(sent.slice(0, 20).map((s) => s.messageId));
    for (let e = 0; e < ENTITIES; e++) {
      const numbers = sent.filter((s) => s.groupId === `entity-${e}`).map((s) => BigInt(s.sequenceNumber!));
      expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1])).toBe(true);
    }

    // Per entity: exactly 1..10, in that order (strictly increasing, complete, no repeats).
    const expectedOrder = Array.from({ length: EVENTS_PER_ENTITY }, (_, i) => i + 1);
    const orders = Object.fromEntries([...applied].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
    expect(orders).toEqual(Object.fromEntries(Array.from({ length: ENTITIES }, (_, e) => [`entity-${e}`, expectedOrder])));

    console.log(ledger.report('sequential-convoy'));
    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toEqual({ sent: 200, appliedOnce: 200, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 });

    // The injected failures happened, exactly as often as injected (each on a delivery that reached
    // the projector), and each failing entity finished only after its retries: one visibility
    // timeout (12 s) per failed delivery. Other entities went on meanwhile.
    const failures = await transientFailures(stack.outputs.ConsumerName);
    const expectedFailures: Record<string, number> = {};
    for (let e = 0; e < ENTITIES; e++) {
      const f = failure(e);
      if (!f) continue;
      expectedFailures[`entity-${e}#${f.seq}`] = f.deliveries;
      expect({ entity: e, completedAfterMs: completedAt.get(`entity-${e}`)! >= f.deliveries * visibilityTimeoutMs() - 1_000 }).toEqual({
        entity: e,
        completedAfterMs: true,
      });
    }
    const counted: Record<string, number> = {};
    for (const f of failures) counted[f] = (counted[f] ?? 0) + 1;
    expect(counted).toEqual(expectedFailures);
    const healthy = [...completedAt].filter(([id]) => !failure(Number(id.split('-')[1]))).map(([, ms]) => ms);
    const failing = [...completedAt].filter(([id]) => failure(Number(id.split('-')[1]))).map(([, ms]) => ms);
    expect(Math.min(...healthy)).toBeLessThan(Math.min(...failing));
    console.log(
      `sequential-convoy: sent 200 events + 20 retried in ${sendMs} ms; settled in ${settleMs} ms; ` +
        `healthy entities done after ${Math.min(...healthy)}-${Math.max(...healthy)} ms, failing ones after ${Math.min(...failing)}-${Math.max(...failing)} ms; ` +
        `${failures.length} injected failures triggered`,
    );
  }, 420_000);
});

/** The `applied` list of every entity item. */
async function appliedByEntity(ddb: DynamoDBClient, tableName: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const res = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of res.Items ?? []) {
      out.set(
        item.entityId.S!,
        (item.applied?.L ?? []).map((v) => Number(v.N)),
      );
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Events whose injected transient failure the projector logged (one entry per failed delivery). */
async function transientFailures(functionName: string): Promise<string[]> {
  const out: string[] = [];
  for (const message of await logMessages([functionName], '"transient failure"')) {
    const m = /event (entity-\d+#\d+): transient failure/.exec(message);
    if (m) out.push(m[1]);
  }
  return out;
}
