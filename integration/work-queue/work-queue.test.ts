/**
 * WorkQueue end to end: the real construct with the real bundled consumer, running inside LocalStack.
 * 100 tasks, some poison; every healthy task is processed exactly once, every poison task ends in
 * the DLQ after exactly maxReceiveCount receives with its failure reason, nothing else is lost.
 */
import { type SQSClient } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { WorkQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { Ledger } from '../harness/ledger';
import { loggedFailures } from '../harness/logs';
import { drain, queueDepth, sendAll, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const MAX_RECEIVE_COUNT = 5;

describe('WorkQueue end to end', () => {
  let stack: DeployedStack;
  let client: SQSClient;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('work-queue', (s) => {
      const results = new sqs.Queue(s, 'Results', { enforceSSL: true });
      const consumer = new KitFunction(s, 'Consumer', {
        handler: 'work-queue/consumer',
        functionProps: { timeout: Duration.seconds(2), environment: { RESULTS_QUEUE_URL: results.queueUrl } },
      });
      results.grantSendMessages(consumer);
      const tasks = new WorkQueue(s, 'Tasks', { consumer, maxConcurrency: 5, maxReceiveCount: MAX_RECEIVE_COUNT });
      new CfnOutput(s, 'QueueUrl', { value: tasks.queue.queueUrl });
      new CfnOutput(s, 'DlqUrl', { value: tasks.deadLetterQueue!.queueUrl });
      new CfnOutput(s, 'ResultsUrl', { value: results.queueUrl });
      new CfnOutput(s, 'ConsumerName', { value: consumer.functionName });
      new CfnOutput(s, 'VisibilityTimeout', { value: String(tasks.visibilityTimeout!.toSeconds()) });
    });
    client = sqsClient();
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  it('deploys the queue with the computed visibility timeout', () => {
    expect(stack.outputs.VisibilityTimeout).toBe('12');
  });

  it('processes every healthy task once and dead-letters every poison task after maxReceiveCount receives', async () => {
    const ledger = new Ledger();
    const entries: Array<{ Id: string; MessageBody: string }> = [];
    for (let i = 0; i < 100; i++) {
      const taskId = `task-${i}`;
      let body: string;
      if (i % 10 === 3) {
        body = JSON.stringify({ taskId, kind: 'poison' });
        ledger.sent(taskId, 'dead-letter');
      } else if (i % 20 === 7) {
        body = `{"taskId": "${taskId}", "kind": `; // malformed JSON
        ledger.sent(taskId, 'dead-letter');
      } else if (i % 10 === 5) {
        body = JSON.stringify({ taskId, kind: 'flaky', input: i });
        ledger.sent(taskId, 'process');
      } else {
        body = JSON.stringify({ taskId, kind: 'hash', input: i });
        ledger.sent(taskId, 'process');
      }
      entries.push({ Id: taskId, MessageBody: body });
    }
    const messageIds = await sendAll(client, stack.outputs.QueueUrl, entries);
    const taskOfMessage = new Map([...messageIds].map(([taskId, messageId]) => [messageId, taskId]));

    const dlqMessages = new Map<string, number>(); // taskId -> ApproximateReceiveCount seen in the DLQ
    const collect = async () => {
      for (const m of await drain(client, stack.outputs.ResultsUrl)) {
        ledger.appliedEffect((JSON.parse(m.Body!) as { taskId: string }).taskId);
      }
      for (const m of await drain(client, stack.outputs.DlqUrl)) {
        const taskId = taskOfMessage.get(m.MessageId!) ?? `unknown:${m.MessageId}`;
        dlqMessages.set(taskId, Number(m.Attributes?.ApproximateReceiveCount));
        ledger.inDeadLetterQueue(taskId);
      }
    };
    await waitFor(
      'every task to be processed or dead-lettered',
      async () => {
        await collect();
        return ledger.settled ? true : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 2_000, describe: () => ledger.report('work-queue') },
    );

    // Quiet period: two visibility timeouts with the source queue empty, so a late duplicate would show.
    await sleep(2 * Number(stack.outputs.VisibilityTimeout) * 1000 + 2_000);
    await collect();
    const depth = await queueDepth(client, stack.outputs.QueueUrl);

    // Failure reasons, as the batch helper logged them.
    const reasons = await loggedFailures([stack.outputs.ConsumerName]);
    for (const [messageId, taskId] of taskOfMessage) {
      if (dlqMessages.has(taskId)) ledger.inDeadLetterQueue(taskId, reasons.get(messageId)?.at(-1)?.errorName ?? 'no reason logged');
    }

    console.log(ledger.report('work-queue'));
    expect(ledger.problems()).toEqual([]);
    expect(ledger.totals()).toEqual({ sent: 100, appliedOnce: 85, inDlq: 15, lost: 0, appliedTwice: 0, unexpected: 0 });
    expect(depth).toEqual({ visible: 0, inFlight: 0, delayed: 0 });

    // Exactly maxReceiveCount failed receives per poison message, each with its reason.
    for (const [messageId, taskId] of taskOfMessage) {
      if (!dlqMessages.has(taskId)) continue;
      const attempts = reasons.get(messageId) ?? [];
      expect({ taskId, receives: attempts.map((a) => a.receiveCount) }).toEqual({
        taskId,
        receives: Array.from({ length: MAX_RECEIVE_COUNT }, (_, i) => i + 1),
      });
      expect(attempts[0].errorName).toMatch(/^(InvalidTaskError|MalformedMessageError)$/);
    }
    // Flaky tasks failed once, then succeeded on their second delivery.
    for (const [messageId, taskId] of taskOfMessage) {
      if (Number(taskId.split('-')[1]) % 10 === 5) expect((reasons.get(messageId) ?? []).map((a) => a.receiveCount)).toEqual([1]);
    }
  }, 420_000);
});
