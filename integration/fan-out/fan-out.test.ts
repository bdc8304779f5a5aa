/**
 * FanOut end to end: the real construct deployed into LocalStack, real messages through SNS
 * PublishBatch, the kit's example subscriber (`fan-out/subscriber`) consuming the subscription queues.
 *
 * A ledger per subscriber: each receives exactly the messages its filter matches (message attributes,
 * message body, or none), once; a subscriber whose consumer fails some messages keeps them (retries,
 * then its dead-letter queue) while the others process them; a subscription whose queue is gone gets
 * SNS's undeliverable messages in its subscription dead-letter queue. On a FIFO fan-out, each
 * subscriber processes each message group in order.
 *
 * What the emulator cannot show: LocalStack evaluates neither queue policies nor key policies, so the
 * `aws:SourceArn` scoping and the KMS statements are proven by the template tests only.
 */
import { PublishBatchCommand, type PublishBatchRequestEntry, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FanOut, type FanOutSubscription } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { drain, queueDepth, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

/** The consumers' timeout: the subscription queues' visibility timeout is 6 x this, the redelivery delay. */
const CONSUMER_TIMEOUT = Duration.seconds(2);
/** The failing subscriber gives up after two receives, to keep the run short. */
const AUDIT_MAX_RECEIVE_COUNT = 2;

/** The standard fan-out's subscribers, and what each should get of a message. */
interface OrderMessage {
  readonly id: string;
  readonly type: 'order' | 'refund' | 'ping';
  readonly region: 'eu' | 'us';
  readonly fail: boolean;
}
type Expect = 'process' | 'dead-letter' | undefined;
const SUBSCRIBERS: Record<string, (m: OrderMessage) => Expect> = {
  Refunds: (m) => (m.type === 'refund' ? 'process' : undefined), // attribute filter
  Europe: (m) => (m.region === 'eu' ? 'process' : undefined), // body filter
  All: () => 'process', // no filter, two competing consumers
  Audit: (m) => (m.fail ? 'dead-letter' : 'process'), // no filter, its consumer fails some messages
  Pings: (m) => (m.type === 'ping' ? 'dead-letter' : undefined), // its queue is deleted: SNS cannot deliver
};
const FIFO_SUBSCRIBERS = { FifoAll: () => true, FifoEurope: (region: string) => region === 'eu' } as const;

describe('FanOut end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;
  let snsClient: SNSClient;
  /** Subscriber name by its subscription queue's ARN (the `source` the example subscriber reports). */
  const subscriberOf = new Map<string, string>();

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('fan-out', (s) => {
      const results = new sqs.Queue(s, 'Results', { enforceSSL: true });
      const fifoResults = new sqs.Queue(s, 'FifoResults', { enforceSSL: true, fifo: true });
      const subscriber = (id: string, resultsQueue: sqs.Queue, environment: Record<string, string> = {}) => {
        const fn = new KitFunction(s, id, {
          handler: 'fan-out/subscriber',
          functionProps: { timeout: CONSUMER_TIMEOUT, environment: { RESULTS_QUEUE_URL: resultsQueue.queueUrl, ...environment } },
        });
        resultsQueue.grantSendMessages(fn);
        return fn;
      };
      const recorder = subscriber('Recorder', results);
      const auditor = subscriber('Auditor', results, { FAULT_INJECTION: 'on' });
      const fifoRecorder = subscriber('FifoRecorder', fifoResults);

      const orders = new FanOut(s, 'Orders');
      const subs: Record<string, FanOutSubscription> = {
        Refunds: orders.addQueueSubscription('Refunds', {
          consumer: recorder,
          filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['refund'] }) },
        }),
        Europe: orders.addQueueSubscription('Europe', {
          consumer: recorder,
          filterPolicyWithMessageBody: { region: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['eu'] })) },
        }),
        All: orders.addQueueSubscription('All', { consumer: recorder, maxConcurrency: 2 }),
        Audit: orders.addQueueSubscription('Audit', { consumer: auditor, maxReceiveCount: AUDIT_MAX_RECEIVE_COUNT }),
        Pings: orders.addQueueSubscription('Pings', {
          filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['ping'] }) },
        }),
      };
      const ledger = new FanOut(s, 'Ledger', { fifo: true });
      Object.assign(subs, {
        FifoAll: ledger.addQueueSubscription('All', { consumer: fifoRecorder }),
        FifoEurope: ledger.addQueueSubscription('Europe', {
          consumer: fifoRecorder,
          filterPolicyWithMessageBody: { region: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['eu'] })) },
        }),
      });
      for (const [name, sub] of Object.entries(subs)) {
        new CfnOutput(s, `${name}QueueArn`, { value: sub.queue.queueArn });
        new CfnOutput(s, `${name}QueueUrl`, { value: sub.queue.queueUrl });
        new CfnOutput(s, `${name}QueueName`, { value: sub.queue.queueName });
        new CfnOutput(s, `${name}DlqUrl`, { value: sub.deadLetterQueue!.queueUrl });
        new CfnOutput(s, `${name}SubscriptionDlqUrl`, { value: sub.subscriptionDeadLetterQueue!.queueUrl });
      }
      new CfnOutput(s, 'OrdersTopicArn', { value: orders.topic.topicArn });
      new CfnOutput(s, 'LedgerTopicArn', { value: ledger.topic.topicArn });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
      new CfnOutput(s, 'FifoResultsUrl', { value: fifoResults.queueUrl });
    });
    client = sqsClient();
    snsClient = new SNSClient(clientConfig());
    for (const name of [...Object.keys(SUBSCRIBERS), ...Object.keys(FIFO_SUBSCRIBERS)])
      subscriberOf.set(stack.outputs[`${name}QueueArn`], name);
  }, 600_000);

  afterAll(async () => {
    // The Pings queue was deleted on purpose: put it back so the stack deletes cleanly.
    if (stack) await client.send(new CreateQueueCommand({ QueueName: stack.outputs.PingsQueueName })).catch(() => undefined);
    await stack?.destroy();
  }, 300_000);

  const publish = async (topicArn: string, entries: PublishBatchRequestEntry[]) => {
    for (let i = 0; i < entries.length; i += 10) {
      const res = await snsClient.send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries.slice(i, i + 10) }),
      );
      expect(res.Failed ?? []).toEqual([]);
    }
  };
  const idOf = (m: Message): string => (JSON.parse(m.Body!) as { id: string }).id;

  it('delivers to each subscriber exactly what its filter matches, once; failures stay with their subscriber', async () => {
    // SNS cannot deliver to a queue that is gone: those messages must reach the subscription's DLQ.
    await client.send(new DeleteQueueCommand({ QueueUrl: stack.outputs.PingsQueueUrl }));

    const messages: OrderMessage[] = Array.from({ length: 40 }, (_, i) => ({
      id: `order-${i}`,
      type: (['order', 'refund', 'refund', 'ping'] as const)[i % 4],
      region: i % 4 === 0 || i % 4 === 2 ? 'eu' : 'us',
      fail: i % 10 === 7,
    }));
    const ledgers = new Map(Object.keys(SUBSCRIBERS).map((name) => [name, new Ledger()]));
    for (const m of messages) {
      for (const [name, expectation] of Object.entries(SUBSCRIBERS)) {
        const e = expectation(m);
        if (e) ledgers.get(name)!.sent(m.id, e);
      }
    }
    await publish(
      stack.outputs.OrdersTopicArn,
      messages.map((m, i) => ({
        Id: String(i),
        Message: JSON.stringify({ id: m.id, region: m.region, ...(m.fail ? { fail: true } : {}) }),
        MessageAttributes: { type: { DataType: 'String', StringValue: m.type } },
      })),
    );

    const unknownSources: string[] = [];
    const collect = async () => {
      for (const r of await drain(client, stack.outputs.ResultsUrl)) {
        const { id, source } = JSON.parse(r.Body!) as { id: string; source: string };
        const name = subscriberOf.get(source);
        if (name && ledgers.has(name)) ledgers.get(name)!.appliedEffect(id);
        else unknownSources.push(source);
      }
      for (const name of Object.keys(SUBSCRIBERS)) {
        for (const m of await drain(client, stack.outputs[`${name}DlqUrl`]))
          ledgers.get(name)!.inDeadLetterQueue(idOf(m), 'consumer failed');
        for (const m of await drain(client, stack.outputs[`${name}SubscriptionDlqUrl`])) {
          ledgers.get(name)!.inDeadLetterQueue(idOf(m), 'SNS could not deliver');
        }
      }
    };
    const report = () => [...ledgers].map(([name, l]) => l.report(name)).join('; ');
    await waitFor(
      'every subscriber to settle',
      async () => {
        await collect();
        return [...ledgers.values()].every((l) => l.settled) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2_000, describe: report },
    );
    // Quiet period of two visibility timeouts: a late duplicate or a late dead letter would show.
    await sleep(2 * 6 * CONSUMER_TIMEOUT.toSeconds() * 1000 + 2_000);
    await collect();
    console.log(report());

    expect(unknownSources).toEqual([]);
    for (const [name, ledger] of ledgers) expect({ name, problems: ledger.problems() }).toEqual({ name, problems: [] });
    expect(Object.fromEntries([...ledgers].map(([name, l]) => [name, l.totals()]))).toEqual({
      Refunds: { sent: 20, appliedOnce: 20, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 },
      Europe: { sent: 20, appliedOnce: 20, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 },
      All: { sent: 40, appliedOnce: 40, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 },
      Audit: { sent: 40, appliedOnce: 36, inDlq: 4, lost: 0, appliedTwice: 0, unexpected: 0 },
      Pings: { sent: 10, appliedOnce: 0, inDlq: 10, lost: 0, appliedTwice: 0, unexpected: 0 },
    });
    for (const name of ['Refunds', 'Europe', 'All', 'Audit']) {
      expect({ name, depth: await queueDepth(client, stack.outputs[`${name}QueueUrl`]) }).toEqual({
        name,
        depth: { visible: 0, inFlight: 0, delayed: 0 },
      });
    }
  }, 240_000);

  it('a FIFO fan-out delivers each message group in order to every subscriber, once', async () => {
    const groups = ['g0', 'g1', 'g2', 'g3'];
    const regionOf = (g: string) => (g === 'g0' || g === 'g2' ? 'eu' : 'us');
    const perGroup = 6;
    const entries: PublishBatchRequestEntry[] = [];
    for (let seq = 0; seq < perGroup; seq++) {
      for (const g of groups) {
        const id = `${g}-${seq}`;
        entries.push({
          Id: id,
          Message: JSON.stringify({ id, seq, region: regionOf(g) }),
          MessageGroupId: g,
          MessageDeduplicationId: id,
        });
      }
    }
    await publish(stack.outputs.LedgerTopicArn, entries);

    const expected = new Map<string, number>(); // `${subscriber}/${group}` -> messages expected
    for (const [name, matches] of Object.entries(FIFO_SUBSCRIBERS)) {
      for (const g of groups) if (matches(regionOf(g))) expected.set(`${name}/${g}`, perGroup);
    }
    const seen = new Map<string, number[]>(); // `${subscriber}/${group}` -> seq in processing order
    const collect = async () => {
      for (const r of await drain(client, stack.outputs.FifoResultsUrl)) {
        const { source, group, seq } = JSON.parse(r.Body!) as { source: string; group: string; seq: number };
        const key = `${subscriberOf.get(source) ?? source}/${group}`;
        seen.set(key, [...(seen.get(key) ?? []), seq]);
      }
    };
    await waitFor(
      'every FIFO subscriber to process its groups',
      async () => {
        await collect();
        return [...expected].every(([key, n]) => (seen.get(key)?.length ?? 0) >= n) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, describe: () => JSON.stringify(Object.fromEntries(seen)) },
    );
    await sleep(6 * CONSUMER_TIMEOUT.toSeconds() * 1000 + 2_000);
    await collect();

    const inOrder = Array.from({ length: perGroup }, (_, i) => i);
    expect(Object.fromEntries([...seen].sort())).toEqual(Object.fromEntries([...expected].sort().map(([key]) => [key, inOrder])));
    for (const name of Object.keys(FIFO_SUBSCRIBERS)) {
      expect(await drain(client, stack.outputs[`${name}DlqUrl`])).toEqual([]);
      expect(await drain(client, stack.outputs[`${name}SubscriptionDlqUrl`])).toEqual([]);
    }
  }, 180_000);
});
