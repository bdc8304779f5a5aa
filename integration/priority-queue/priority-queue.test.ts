/**
 * PriorityQueue end to end in LocalStack: both modes of the real construct, with the real bundled
 * consumer (and, in strict mode, the real dispatcher started by the real schedule).
 *
 * A backlog of mixed priorities (60 high, 20 normal, 20 low) is sent with the producer helper, all
 * with the same 5-second delay so it becomes visible at once, whether or not consumption is already
 * running. The consumer records each task with a timestamp in a results queue; the processing order
 * is measured from those timestamps. Every task must be processed exactly once (ledger).
 *
 * Strict mode asserts the measured order (median completion position of high before normal and
 * low) and the starvation guard (some low tasks finish while high tasks are still waiting). Weighted
 * mode is measured and reported but its order is not asserted: LocalStack 4.13.1 runs each event
 * source mapping as one sequential poller and ignores ScalingConfig.MaximumConcurrency, so the
 * weights that make the difference on AWS do not exist in the emulator (see the report).
 */
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, type Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PriorityMode, PriorityQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { type PriorityQueueConfig, PriorityQueueProducer } from '../../lambda/runtime/priority-queue';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { Ledger } from '../harness/ledger';
import { drain, queueDepth, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const BACKLOG: Record<string, number> = { high: 60, normal: 20, low: 20 };
const TOTAL = Object.values(BACKLOG).reduce((s, n) => s + n, 0);
const BATCH_SIZE = 5;

interface Result {
  taskId: string;
  level: string;
  processedAt: number;
  receiveCount: number;
}

/** Median of a list of numbers. */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Completion positions (1 = first processed) per level, and timing, from the results. */
function orderStats(results: Result[]) {
  const sorted = [...results].sort((a, b) => a.processedAt - b.processedAt);
  const positions: Record<string, number[]> = {};
  sorted.forEach((r, i) => (positions[r.level] ??= []).push(i + 1));
  const summary = Object.fromEntries(
    Object.entries(positions).map(([level, ps]) => [level, { median: median(ps), first: Math.min(...ps), last: Math.max(...ps) }]),
  );
  return { positions, summary, durationMs: sorted.at(-1)!.processedAt - sorted[0].processedAt };
}

function consumerFor(s: Stack, id: string, results: sqs.Queue): KitFunction {
  const fn = new KitFunction(s, id, {
    handler: 'priority-queue/example-consumer',
    functionProps: { timeout: Duration.seconds(5), environment: { RESULTS_QUEUE_URL: results.queueUrl, WORK_MS: '20' } },
  });
  results.grantSendMessages(fn);
  return fn;
}

describe('PriorityQueue end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('priority-queue', (s) => {
      const weightedResults = new sqs.Queue(s, 'WeightedResults', { enforceSSL: true });
      const strictResults = new sqs.Queue(s, 'StrictResults', { enforceSSL: true });
      const weighted = new PriorityQueue(s, 'Weighted', {
        consumer: consumerFor(s, 'WeightedConsumer', weightedResults),
        batchSize: BATCH_SIZE,
      });
      const strict = new PriorityQueue(s, 'Strict', {
        consumer: consumerFor(s, 'StrictConsumer', strictResults),
        mode: PriorityMode.STRICT,
        batchSize: BATCH_SIZE,
        lowestLevelShare: 0.1,
      });
      new CfnOutput(s, 'WeightedConfig', { value: weighted.producerConfig });
      new CfnOutput(s, 'StrictConfig', { value: strict.producerConfig });
      new CfnOutput(s, 'WeightedResultsUrl', { value: weightedResults.queueUrl });
      new CfnOutput(s, 'StrictResultsUrl', { value: strictResults.queueUrl });
      new CfnOutput(s, 'WeightedConcurrency', { value: weighted.levels.map((l) => l.maxConcurrency).join(',') });
      new CfnOutput(s, 'StrictVisibility', { value: String(strict.visibilityTimeout.toSeconds()) });
    });
    client = sqsClient();
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  /** Sends the backlog through the producer helper; returns the ledger and the results. */
  async function runBacklog(
    mode: string,
    configJson: string,
    resultsUrl: string,
  ): Promise<{ ledger: Ledger; results: Result[]; sendMs: number }> {
    const producer = new PriorityQueueProducer({ config: JSON.parse(configJson) as PriorityQueueConfig, client });
    const ledger = new Ledger();
    const entries = [];
    // Interleaved, lowest first: a FIFO consumer would do low first.
    for (let i = 0; i < Math.max(...Object.values(BACKLOG)); i++) {
      for (const level of ['low', 'normal', 'high']) {
        if (i >= BACKLOG[level]) continue;
        const taskId = `${mode}-${level}-${i}`;
        ledger.sent(taskId, 'process');
        entries.push({ id: taskId, body: JSON.stringify({ taskId }), priority: level, delaySeconds: 5 });
      }
    }
    const started = Date.now();
    const sent = await producer.sendBatch(entries);
    const sendMs = Date.now() - started;
    expect(sent.failed).toEqual([]);

    const results = new Map<string, Result>();
    await waitFor(
      `${mode}: every task to be processed`,
      async () => {
        for (const m of await drain(client, resultsUrl)) {
          const r = JSON.parse(m.Body!) as Result;
          ledger.appliedEffect(r.taskId);
          if (!results.has(r.taskId)) results.set(r.taskId, r);
        }
        return ledger.settled ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1_000, describe: () => ledger.report(mode) },
    );
    // A short quiet period: a duplicate processing would show up as a second result.
    await sleep(5_000);
    for (const m of await drain(client, resultsUrl)) ledger.appliedEffect((JSON.parse(m.Body!) as Result).taskId);
    return { ledger, results: [...results.values()], sendMs };
  }

  it('deploys weighted concurrency 11/6/3 and a strict-mode visibility timeout of 6 x the consumer timeout', () => {
    expect(stack.outputs.WeightedConcurrency).toBe('11,6,3');
    expect(stack.outputs.StrictVisibility).toBe('30');
  });

  it('strict mode: processes high before normal and low, keeps the starvation guard, and loses nothing', async () => {
    const { ledger, results, sendMs } = await runBacklog('strict', stack.outputs.StrictConfig, stack.outputs.StrictResultsUrl);
    const stats = orderStats(results);
    console.log(
      `priority-queue strict: sent ${TOTAL} in ${sendMs} ms; processed in ${stats.durationMs} ms; ${JSON.stringify(stats.summary)}; ${ledger.report('strict')}`,
    );

    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toMatchObject({ sent: TOTAL, appliedOnce: TOTAL, lost: 0, appliedTwice: 0 });
    expect(results.every((r) => r.receiveCount === 1)).toBe(true);
    const { high, normal, low } = stats.summary;
    expect(high.median).toBeLessThan(normal.median);
    expect(high.median).toBeLessThan(low.median);
    // At least 40 of the 60 high tasks are among the first 60 processed (chance alone gives 36).
    expect(stats.positions.high.filter((p) => p <= BACKLOG.high).length).toBeGreaterThanOrEqual(BACKLOG.high - 4 * BATCH_SIZE);
    // Starvation guard: low tasks finished while high tasks were still waiting.
    expect(low.first).toBeLessThan(high.last);
    for (const level of ['high', 'normal', 'low']) {
      const url = (JSON.parse(stack.outputs.StrictConfig) as PriorityQueueConfig).levels.find((l) => l.name === level)!.queueUrl;
      expect(await queueDepth(client, url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    }
  }, 240_000);

  it('weighted mode: processes every level completely and loses nothing (order measured, not asserted in the emulator)', async () => {
    const { ledger, results, sendMs } = await runBacklog('weighted', stack.outputs.WeightedConfig, stack.outputs.WeightedResultsUrl);
    const stats = orderStats(results);
    console.log(
      `priority-queue weighted: sent ${TOTAL} in ${sendMs} ms; processed in ${stats.durationMs} ms; ${JSON.stringify(stats.summary)}; ${ledger.report('weighted')}`,
    );

    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toMatchObject({ sent: TOTAL, appliedOnce: TOTAL, lost: 0, appliedTwice: 0 });
    expect(results.map((r) => r.level).sort()).toEqual([
      ...Array(BACKLOG.high).fill('high'),
      ...Array(BACKLOG.low).fill('low'),
      ...Array(BACKLOG.normal).fill('normal'),
    ]);
  }, 240_000);
});
