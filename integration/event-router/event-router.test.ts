/**
 * EventRouter end to end: the real construct deployed into LocalStack (bus, archive, routes with
 * dead-letter queues), real events through PutEvents. Routing by hierarchy and by content; a failing
 * target's events reach the route's DLQ after the retry policy, with EventBridge's error attributes;
 * archive and replay re-deliver a time window to the chosen route only.
 */
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EventRouter, ReplayedEvents, RouteTarget } from '../../lib';
import { replay } from '../../lambda/runtime/event-router/replay';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { drain, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

interface Received {
  readonly id: string;
  readonly replayed: boolean;
}

describe('EventRouter end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  let eventBridge: EventBridgeClient;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('event-router', (s) => {
      const queue = (id: string) => new sqs.Queue(s, id, { enforceSSL: true });
      const eu = queue('Eu');
      const big = queue('Big');
      const history = queue('History');
      const broken = queue('Broken');
      // Short retries in the test only: the kit's defaults are EventBridge's (185 attempts, 24 hours).
      const router = new EventRouter(s, 'Router', { retryAttempts: 2, maxEventAge: Duration.minutes(1) });
      router.addRoute('EuOrders', { eventPattern: { detailType: events.Match.prefix('orders.eu.') }, targets: [RouteTarget.queue(eu)] });
      router.addRoute('BigOrders', {
        eventPattern: { source: ['shop.orders'], detail: { amount: events.Match.greaterThan(100) } },
        targets: [RouteTarget.queue(big, { input: events.RuleTargetInput.fromEventPath('$.detail') })],
      });
      router.addRoute('History', {
        eventPattern: { source: ['shop.orders'] },
        targets: [RouteTarget.queue(history)],
        replayedEvents: ReplayedEvents.ACCEPT,
      });
      router.addRoute('Broken', { eventPattern: { source: ['shop.broken'] }, targets: [RouteTarget.queue(broken)] });
      new CfnOutput(s, 'BusName', { value: router.eventBus.eventBusName });
      new CfnOutput(s, 'ReplayConfig', { value: router.replayConfig });
      new CfnOutput(s, 'ArchiveName', { value: router.archive!.archiveName });
      for (const [name, q] of Object.entries({ eu, big, history, broken })) new CfnOutput(s, `${name}Url`, { value: q.queueUrl });
      new CfnOutput(s, 'BrokenDlqUrl', { value: router.route('Broken').deadLetterQueue.queueUrl });
    });
    client = sqsClient();
    eventBridge = new EventBridgeClient(clientConfig());
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  const put = async (entries: PutEventsRequestEntry[]) => {
    for (let i = 0; i < entries.length; i += 10) {
      const res = await eventBridge.send(
        new PutEventsCommand({ Entries: entries.slice(i, i + 10).map((e) => ({ EventBusName: stack.outputs.BusName, ...e })) }),
      );
      expect(res.FailedEntryCount ?? 0).toBe(0);
    }
  };
  const order = (id: string, region: string, amount: number): PutEventsRequestEntry => ({
    Source: 'shop.orders',
    DetailType: `orders.${region}.created`,
    Detail: JSON.stringify({ orderId: id, amount }),
  });
  /** Drains a queue of enveloped events into (orderId, replayed) pairs. */
  const receivedEvents = async (url: string): Promise<Received[]> =>
    (await drain(client, url)).map((m) => {
      const e = JSON.parse(m.Body!) as { detail: { orderId: string }; 'replay-name'?: string };
      return { id: e.detail.orderId, replayed: e['replay-name'] !== undefined };
    });
  const collectUntil = async (url: string, count: number, what: string, parse = receivedEvents) => {
    const got: Received[] = [];
    await waitFor(
      what,
      async () => {
        got.push(...(await parse(url)));
        return got.length >= count ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, describe: () => JSON.stringify(got) },
    );
    await sleep(2_000); // a duplicate would arrive within this
    got.push(...(await parse(url)));
    return got;
  };

  let windowStart: Date;
  let windowEnd: Date;

  it('routes by hierarchy (detail-type prefix) and by content (numeric), each event once, to its routes only', async () => {
    windowStart = new Date(Date.now() - 1000);
    const orders = [order('o1', 'eu', 50), order('o2', 'us', 500), order('o3', 'eu', 250), order('o4', 'apac', 10)];
    await put(orders);
    windowEnd = new Date(Date.now() + 1000);

    const eu = await collectUntil(stack.outputs.euUrl, 2, 'EU orders');
    expect(eu.map((r) => r.id).sort()).toEqual(['o1', 'o3']);
    // The input transformer sent only the detail.
    const big = await collectUntil(stack.outputs.bigUrl, 2, 'big orders', async (url) =>
      (await drain(client, url)).map((m) => ({ id: (JSON.parse(m.Body!) as { orderId: string }).orderId, replayed: false })),
    );
    expect(big.map((r) => r.id).sort()).toEqual(['o2', 'o3']);
    const history = await collectUntil(stack.outputs.historyUrl, 4, 'history');
    expect(history.map((r) => r.id).sort()).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(history.every((r) => !r.replayed)).toBe(true);
  }, 120_000);

  it("sends a failing target's events to the route's dead-letter queue after the retry policy, with EventBridge's error attributes", async () => {
    await client.send(new DeleteQueueCommand({ QueueUrl: stack.outputs.brokenUrl }));
    await put([{ Source: 'shop.broken', DetailType: 'broken', Detail: JSON.stringify({ orderId: 'b1' }) }]);
    const dead: Array<{ id: string; attributes: Record<string, string | undefined> }> = [];
    await waitFor(
      'the undeliverable event in the route DLQ',
      async () => {
        for (const m of await drain(client, stack.outputs.BrokenDlqUrl)) {
          dead.push({
            id: (JSON.parse(m.Body!) as { detail: { orderId: string } }).detail.orderId,
            attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])),
          });
        }
        return dead.length > 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    expect(dead.map((d) => d.id)).toEqual(['b1']);
    expect(dead[0].attributes).toMatchObject({ RULE_ARN: expect.stringContaining('rule/'), TARGET_ARN: expect.stringContaining('Broken') });
    expect(dead[0].attributes.ERROR_CODE).toBeTruthy();
  }, 120_000);

  it('replays the archived window to the chosen route only: History gets the replayed copies, EuOrders none', async () => {
    const progress: string[] = [];
    const result = await replay({
      from: windowStart,
      to: windowEnd,
      routes: ['History'],
      config: stack.outputs.ReplayConfig,
      client: eventBridge,
      pollIntervalMs: 500,
      onProgress: (p) => progress.push(p.state),
      logger: null,
    });
    expect(result.state).toBe('COMPLETED');
    expect(progress.at(-1)).toBe('COMPLETED');
    const history = await collectUntil(stack.outputs.historyUrl, 4, 'replayed history');
    expect(history.map((r) => r.id).sort()).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(history.every((r) => r.replayed)).toBe(true);
    // Not chosen (and it ignores replayed events besides): nothing more arrives.
    expect(await receivedEvents(stack.outputs.euUrl)).toEqual([]);
    expect(await receivedEvents(stack.outputs.bigUrl)).toEqual([]);
  }, 120_000);
});
