/**
 * The reliability ledger: effectively-once processing proven by fault injection, against the
 * project's LocalStack (consumers running inside it, DynamoDB from moto).
 *
 * One stack: an IdempotencyTable, a payments effects table, the two example consumers
 * (idempotency/payments in transactional mode, idempotency/notifier in lock mode) behind four work
 * queues. A seeded generator (LEDGER_SEEDS seeds, default 3, from LEDGER_SEED, default 1) plans
 * five scenarios per seed, all driven at once, LEDGER_WAVE seeds (default 3) at a time:
 *
 * - duplicates: 30 % of the payments delivered twice: in the same batch, later, or to two
 *   concurrent direct invocations racing the queue's own delivery;
 * - crashes: the process exits (or the handler throws) right after the commit, or fails before it;
 * - poison: malformed JSON and schema-invalid payments among healthy ones;
 * - fifo: per-account (message group) order under failures, crashes and duplicates;
 * - lock: lock mode with an SQS publish as the effect: duplicates, failures before the publish,
 *   a crash after the completion record, poison.
 *
 * For every message sent: its effect applied exactly once (a counter per payment, a notification
 * per order: a double application shows), or the message in a dead-letter queue after exactly
 * maxReceiveCount receives with its failure reason. Balances and per-account order are checked too.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IdempotencyTable, WorkQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { REGION, clientConfig } from '../harness/env';
import { Ledger, type LedgerTotals } from '../harness/ledger';
import { type LoggedFailure, loggedFailures } from '../harness/logs';
import { queueDepth, sendAll, sqsClient } from '../harness/sqs';
import { waitFor } from '../harness/wait';
import { type PlannedMessage, type Scenario, plan, seeds } from './generator';
import { QueueTally, clearTable, injectedFaults, scanPayments } from './observe';

const SCENARIOS: Scenario[] = ['duplicates', 'crashes', 'poison', 'fifo', 'lock'];
/**
 * The work queue each scenario uses, its maxReceiveCount and batch size. A process exit fails the
 * whole batch, so every healthy message in it spends a receive too, and the members of a failed batch
 * become visible together and tend to be received together again: a batch holding k crashing
 * messages (each crashes on its first delivery only) fails k times in a row. That is real Lambda
 * behaviour; the kit's default maxReceiveCount of 5 is there for it. Queues with injected crashes
 * therefore keep 5 receives and take batches of 3, so crashes alone can never dead-letter a healthy
 * message (with 3 receives and batches of 10, a CI run once dead-lettered a healthy message caught in
 * several crashed batches).
 */
const QUEUES = {
  payments: { maxReceiveCount: 3, batchSize: 10, scenarios: ['duplicates', 'poison'] },
  crashes: { maxReceiveCount: 5, batchSize: 3, scenarios: ['crashes'] },
  fifo: { maxReceiveCount: 5, batchSize: 10, scenarios: ['fifo'] },
  orders: { maxReceiveCount: 5, batchSize: 3, scenarios: ['lock'] },
} as const;
type QueueName = keyof typeof QUEUES;
const queueOf = (s: Scenario): QueueName =>
  (Object.keys(QUEUES) as QueueName[]).find((q) => (QUEUES[q].scenarios as readonly string[]).includes(s))!;
/**
 * The consumers' timeout (the queues' visibility timeout is 6 x this: the redelivery delay). 2 s
 * was too short on this shared 2-core machine: with several suites loading the emulator, batches of
 * 10 transactions took up to 2 s and timed out, and a healthy message whose batches timed out
 * maxReceiveCount times was dead-lettered.
 */
const CONSUMER_TIMEOUT = Duration.seconds(4);
/**
 * Seeds are driven in waves of LEDGER_WAVE (default 3) seeds, one wave after the other, with the
 * tables emptied in between: 3 seeds at once settle in about 150 s on this shared 2-core machine,
 * while 10 seeds at once overloaded the emulator (batches timed out until healthy messages ran out
 * of receives and were dead-lettered; nothing was lost or applied twice, but the run could not
 * settle). Waves alone were not enough: the third wave timed out on the tables' size (see clearTable).
 */
const WAVE_SIZE = Number(process.env.LEDGER_WAVE ?? '3');
const waves = (): number[][] => {
  const all = seeds();
  return Array.from({ length: Math.ceil(all.length / WAVE_SIZE) }, (_, i) => all.slice(i * WAVE_SIZE, (i + 1) * WAVE_SIZE));
};
/** How long one wave's traffic may take to settle. */
const SETTLE_TIMEOUT_MS = 180_000 + 60_000 * Math.min(WAVE_SIZE, seeds().length);
const POISON_ERRORS = /^(MalformedMessageError|InvalidPaymentError|InvalidOrderEventError)$/;

interface RunResult {
  readonly plans: Map<string, PlannedMessage[]>; // `${scenario}/${seed}`
  readonly ledgers: Map<string, Ledger>;
  readonly accounts: Awaited<ReturnType<typeof scanPayments>>['accounts'];
  readonly dlqReceiveCounts: Map<string, number[]>; // logical id -> ApproximateReceiveCount as read from the DLQ
  readonly reasons: Map<string, LoggedFailure[]>; // logical id -> failures logged
  readonly faults: Map<string, string[]>; // logical id -> injected faults that fired (from the logs)
  readonly directInvokeProblems: string[];
  readonly unknownDeadLetters: string[];
  readonly seconds: number;
}

describe('Reliability ledger: effectively-once under duplicates, crashes, poison and concurrency', () => {
  let stack: DeployedStack;
  let run: Promise<RunResult>;
  const totals: Array<[string, LedgerTotals]> = [];

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('reliability', (s) => {
      const idempotencyTable = new IdempotencyTable(s, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
      const effects = new dynamodb.Table(s, 'Payments', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const notifications = new sqs.Queue(s, 'Notifications', { enforceSSL: true });
      const payments = new KitFunction(s, 'PaymentsConsumer', {
        handler: 'idempotency/payments',
        functionProps: { timeout: CONSUMER_TIMEOUT, environment: { PAYMENTS_TABLE_NAME: effects.tableName, FAULT_INJECTION: 'on' } },
      });
      effects.grantReadWriteData(payments);
      const notifier = new KitFunction(s, 'NotifierConsumer', {
        handler: 'idempotency/notifier',
        functionProps: { timeout: CONSUMER_TIMEOUT, environment: { OUTPUT_QUEUE_URL: notifications.queueUrl, FAULT_INJECTION: 'on' } },
      });
      notifications.grantSendMessages(notifier);
      const queues = {
        payments: new WorkQueue(s, 'PaymentsQueue', {
          consumer: payments,
          idempotencyTable,
          maxReceiveCount: QUEUES.payments.maxReceiveCount,
          batchSize: QUEUES.payments.batchSize,
        }),
        crashes: new WorkQueue(s, 'CrashesQueue', {
          consumer: payments,
          idempotencyTable,
          maxReceiveCount: QUEUES.crashes.maxReceiveCount,
          batchSize: QUEUES.crashes.batchSize,
        }),
        fifo: new WorkQueue(s, 'FifoQueue', {
          consumer: payments,
          idempotencyTable,
          fifo: true,
          maxReceiveCount: QUEUES.fifo.maxReceiveCount,
          batchSize: QUEUES.fifo.batchSize,
        }),
        orders: new WorkQueue(s, 'OrdersQueue', {
          consumer: notifier,
          idempotencyTable,
          maxReceiveCount: QUEUES.orders.maxReceiveCount,
          batchSize: QUEUES.orders.batchSize,
        }),
      };
      for (const [name, q] of Object.entries(queues)) {
        new CfnOutput(s, `${name}Url`, { value: q.queue.queueUrl });
        new CfnOutput(s, `${name}Arn`, { value: q.queue.queueArn });
        new CfnOutput(s, `${name}DlqUrl`, { value: q.deadLetterQueue!.queueUrl });
      }
      new CfnOutput(s, 'NotificationsUrl', { value: notifications.queueUrl });
      new CfnOutput(s, 'PaymentsTable', { value: effects.tableName });
      new CfnOutput(s, 'IdempotencyTable', { value: idempotencyTable.tableName });
      new CfnOutput(s, 'PaymentsFunction', { value: payments.functionName });
      new CfnOutput(s, 'NotifierFunction', { value: notifier.functionName });
    });
    run = driveWaves(stack.outputs);
    run.catch(() => undefined); // reported by the tests that await it
  }, 600_000);

  afterAll(async () => {
    if (totals.length > 0) {
      const sum = totals.reduce<LedgerTotals>(
        (acc, [, t]) => ({
          sent: acc.sent + t.sent,
          appliedOnce: acc.appliedOnce + t.appliedOnce,
          inDlq: acc.inDlq + t.inDlq,
          lost: acc.lost + t.lost,
          appliedTwice: acc.appliedTwice + t.appliedTwice,
          unexpected: acc.unexpected + t.unexpected,
        }),
        { sent: 0, appliedOnce: 0, inDlq: 0, lost: 0, appliedTwice: 0, unexpected: 0 },
      );
      const rows = [...totals, ['ALL', sum] as [string, LedgerTotals]].map(
        ([name, t]) =>
          `${name.padEnd(16)} ${[t.sent, t.appliedOnce, t.inDlq, t.lost, t.appliedTwice, t.unexpected].map((n) => String(n).padStart(8)).join('')}`,
      );
      const seconds = await run.then((r) => r.seconds).catch(() => NaN);
      console.log(
        [
          `ledger totals (seeds ${seeds().join(', ')} in ${waves().length} wave(s); traffic settled in ${seconds} s)`,
          `${'scenario/seed'.padEnd(16)}${['sent', 'once', 'in DLQ', 'lost', 'twice', 'unexp.'].map((h) => h.padStart(8)).join('')}`,
          ...rows,
        ].join('\n'),
      );
    }
    await stack?.destroy();
  }, 300_000);

  for (const scenario of SCENARIOS) {
    it(
      `${scenario}: every message applied exactly once or dead-lettered with its reason`,
      async () => {
        const r = await run;
        const { maxReceiveCount } = QUEUES[queueOf(scenario)];
        for (const seed of seeds()) {
          const key = `${scenario}/${seed}`;
          const messages = r.plans.get(key)!;
          const ledger = r.ledgers.get(key)!;
          totals.push([key, ledger.totals()]);
          console.log(ledger.report(key));
          const poison = messages.filter((m) => m.expectation === 'dead-letter');

          expect({ key, problems: ledger.problems() }).toEqual({ key, problems: [] });
          expect(ledger.totals()).toEqual({
            sent: messages.length,
            appliedOnce: messages.length - poison.length,
            inDlq: poison.length,
            lost: 0,
            appliedTwice: 0,
            unexpected: 0,
          });

          // Each poison message: in the DLQ after exactly maxReceiveCount receives (the DLQ read adds one), with its reason.
          for (const m of poison) {
            expect({ id: m.id, receiveCounts: r.dlqReceiveCounts.get(m.id) }).toEqual({ id: m.id, receiveCounts: [maxReceiveCount + 1] });
            const reasons = r.reasons.get(m.id) ?? [];
            expect({ id: m.id, reason: reasons.at(-1)?.errorName }).toEqual({ id: m.id, reason: expect.stringMatching(POISON_ERRORS) });
          }

          if (scenario === 'lock') continue;
          // Payments: balances add up, no payment is listed twice, each account lists exactly its applied payments.
          const applied = messages.filter((m) => m.expectation === 'process');
          for (const accountId of new Set(applied.map((m) => m.accountId!))) {
            const mine = applied.filter((m) => m.accountId === accountId);
            const account = r.accounts.get(accountId);
            expect({ accountId, ids: [...(account?.paymentIds ?? [])].sort() }).toEqual({ accountId, ids: mine.map((m) => m.id).sort() });
            expect({ accountId, balance: account?.balanceCents }).toEqual({
              accountId,
              balance: mine.reduce((n, m) => n + m.amountCents!, 0),
            });
            // FIFO: the order of the message group is the order of application.
            if (scenario === 'fifo') expect({ accountId, order: account?.paymentIds }).toEqual({ accountId, order: mine.map((m) => m.id) });
          }
        }
        // The faults really fired (a crash line before the exit, or an InjectedFaultError), else the ledger proves little.
        // A fault fires on a message's first receive only; when that receive was lost (another message's crash fails the
        // whole batch; on FIFO, a failure returns the rest of its group unprocessed), the message is never faulted itself.
        // So: at least a third of the planned faults (10 seeds: 53/70, 30/50, 27/40 fired), every kind at least once.
        const planned = seeds()
          .flatMap((seed) => r.plans.get(`${scenario}/${seed}`)!)
          .filter((m) => m.kind !== 'healthy' && m.expectation === 'process');
        const fired = planned.filter((m) => r.faults.get(m.id)?.includes(m.kind));
        if (planned.length > 0)
          console.log(
            `${scenario}: ${fired.length} of ${planned.length} planned faults fired (${[...new Set(planned.map((m) => m.kind))].map((k) => `${k} ${fired.filter((m) => m.kind === k).length}/${planned.filter((m) => m.kind === k).length}`).join(', ')})`,
          );
        expect(fired.length).toBeGreaterThanOrEqual(planned.length / 3);
        expect([...new Set(fired.map((m) => m.kind))].sort()).toEqual([...new Set(planned.map((m) => m.kind))].sort());
        if (scenario === 'duplicates') expect(r.directInvokeProblems).toEqual([]);
        expect(r.unknownDeadLetters).toEqual([]);
      },
      waves().length * (SETTLE_TIMEOUT_MS + 240_000),
    );
  }
});

/** Drives the seeds wave after wave, and merges what each wave observed. */
async function driveWaves(outputs: Record<string, string>): Promise<RunResult> {
  const results: RunResult[] = [];
  const ddb = new DynamoDBClient(clientConfig());
  for (const wave of waves()) {
    results.push(await drive(outputs, wave));
    // Empty both tables before the next wave (see clearTable: the emulator's transactions slow down with table size).
    await clearTable(ddb, outputs.PaymentsTable, 'pk');
    await clearTable(ddb, outputs.IdempotencyTable, 'id');
  }
  const merge = <K, V>(maps: Array<Map<K, V>>) => new Map(maps.flatMap((m) => [...m]));
  return {
    plans: merge(results.map((r) => r.plans)),
    ledgers: merge(results.map((r) => r.ledgers)),
    accounts: merge(results.map((r) => r.accounts)),
    dlqReceiveCounts: merge(results.map((r) => r.dlqReceiveCounts)),
    reasons: merge(results.map((r) => r.reasons)),
    faults: merge(results.map((r) => r.faults)),
    directInvokeProblems: results.flatMap((r) => r.directInvokeProblems),
    unknownDeadLetters: results.flatMap((r) => r.unknownDeadLetters),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
  };
}

/** Sends every scenario's messages for `waveSeeds`, injects the duplicates, and waits until everything settled. */
async function drive(outputs: Record<string, string>, waveSeeds: number[]): Promise<RunResult> {
  const started = Date.now();
  const client = sqsClient();
  const ddb = new DynamoDBClient(clientConfig());
  const lambda = new LambdaClient(clientConfig());
  const plans = new Map<string, PlannedMessage[]>();
  for (const scenario of SCENARIOS) for (const seed of waveSeeds) plans.set(`${scenario}/${seed}`, plan(scenario, seed));
  const all = [...plans.values()].flat();
  const byId = new Map(all.map((m) => [m.id, m]));
  const logicalIdOf = new Map<string, string>(); // SQS message id -> logical id
  const directInvokeProblems: string[] = [];

  const entry = (m: PlannedMessage, suffix = ''): SendMessageBatchRequestEntry => ({
    Id: `${m.id}${suffix}`,
    MessageBody: m.body,
    MessageAttributes: { idempotencyKey: { DataType: 'String', StringValue: m.id } },
    ...(m.scenario === 'fifo' ? { MessageGroupId: m.accountId, MessageDeduplicationId: `${m.id}${suffix}` } : {}),
  });
  const send = async (scenario: Scenario, entries: SendMessageBatchRequestEntry[]) => {
    const ids = await sendAll(client, outputs[`${queueOf(scenario)}Url`], entries);
    for (const [entryId, messageId] of ids) logicalIdOf.set(messageId, entryId.replace(/_copy\d*$/, ''));
    return ids;
  };

  // 1. Originals, with same-batch copies right behind them; then the concurrent direct invocations.
  const invocations: Array<Promise<void>> = [];
  await Promise.all(
    [...plans.values()].map(async (messages) => {
      const scenario = messages[0].scenario;
      const entries = messages.flatMap((m) => [entry(m), ...(m.copies.includes('same-batch') ? [entry(m, '_copy')] : [])]);
      const ids = await send(scenario, entries);
      for (const m of messages.filter((x) => x.copies.includes('concurrent'))) {
        const event = { Records: [sqsRecordOf(m, ids.get(m.id)!, outputs[`${queueOf(scenario)}Arn`])] };
        for (let i = 0; i < 2; i++) invocations.push(invokeDirect(lambda, outputs.PaymentsFunction, event, m.id, directInvokeProblems));
      }
    }),
  );

  // 2. Poll the effects; send the "later" copies once their original applied; until all settled.
  const notifications = new QueueTally(client, outputs.NotificationsUrl, (m) => (JSON.parse(m.Body!) as { orderId: string }).orderId);
  const deadLetters = (Object.keys(QUEUES) as QueueName[]).map(
    (q) => new QueueTally(client, outputs[`${q}DlqUrl`], (m) => logicalIdOf.get(m.MessageId!) ?? `unknown:${m.MessageId}`),
  );
  const pendingLater = new Set(all.filter((m) => m.copies.includes('later')).map((m) => m.id));
  let snapshot = await scanPayments(ddb, outputs.PaymentsTable);
  const appliedCount = (m: PlannedMessage) =>
    m.scenario === 'lock' ? (notifications.counts.get(m.id) ?? 0) : (snapshot.payments.get(m.id)?.applications ?? 0);
  const observe = async () => {
    snapshot = await scanPayments(ddb, outputs.PaymentsTable);
    await notifications.collect();
    for (const d of deadLetters) await d.collect();
  };
  const buildLedgers = () => {
    const ledgers = new Map<string, Ledger>();
    for (const [key, messages] of plans) {
      const ledger = new Ledger();
      for (const m of messages) {
        ledger.sent(m.id, m.expectation);
        for (let i = 0; i < appliedCount(m); i++) ledger.appliedEffect(m.id);
        if (deadLetters.some((d) => d.counts.has(m.id))) ledger.inDeadLetterQueue(m.id);
      }
      ledgers.set(key, ledger);
    }
    return ledgers;
  };
  await waitFor(
    'every message applied or dead-lettered',
    async () => {
      await observe();
      const ready = [...pendingLater].map((id) => byId.get(id)!).filter((m) => appliedCount(m) > 0);
      for (const m of ready) pendingLater.delete(m.id);
      await Promise.all(
        SCENARIOS.map((s) => ready.filter((m) => m.scenario === s))
          .filter((l) => l.length > 0)
          .map((l) =>
            send(
              l[0].scenario,
              l.map((m) => entry(m, '_copy')),
            ),
          ),
      );
      return pendingLater.size === 0 && [...buildLedgers().values()].every((l) => l.settled) ? true : undefined;
    },
    {
      timeoutMs: SETTLE_TIMEOUT_MS,
      intervalMs: 2_000,
      describe: () =>
        [
          `after ${Math.round((Date.now() - started) / 1000)} s:`,
          ...[...buildLedgers()].map(([k, l]) => `${l.report(k)} ${l.problems().join('; ')}`),
        ].join('\n'),
    },
  );
  await Promise.all(invocations);

  // 3. Quiet: nothing left in any source queue (visible, in flight or delayed), so no late duplicate can still apply.
  await waitFor(
    'every source queue to be empty',
    async () => {
      const depths = await Promise.all((Object.keys(QUEUES) as QueueName[]).map((q) => queueDepth(client, outputs[`${q}Url`])));
      return depths.every((d) => d.visible + d.inFlight + d.delayed === 0) ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  await observe();
  const seconds = Math.round((Date.now() - started) / 1000);

  // 4. Failure reasons of the dead-lettered messages, as the consumers logged them.
  const deadLettered = new Set(deadLetters.flatMap((d) => [...d.counts.keys()]));
  const sqsIdsOf = (id: string) => [...logicalIdOf].filter(([, l]) => l === id).map(([sqsId]) => sqsId);
  let reasons = new Map<string, LoggedFailure[]>();
  const poisonIds = all.filter((m) => m.expectation === 'dead-letter').map((m) => m.id);
  // Logs arrive asynchronously: wait for the poison messages' reasons; anything else dead-lettered is a
  // ledger problem the assertions report, so a missing reason there must not stop the run.
  await waitFor(
    'the failure reasons of every poison message in the logs',
    async () => {
      const logged = await loggedFailures([outputs.PaymentsFunction, outputs.NotifierFunction]);
      reasons = new Map(
        [...deadLettered].map((id) => [
          id,
          sqsIdsOf(id)
            .flatMap((sqsId) => logged.get(sqsId) ?? [])
            .sort((a, b) => a.receiveCount - b.receiveCount),
        ]),
      );
      return poisonIds.every((id) => (reasons.get(id)?.length ?? 0) > 0) ? true : undefined;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 2_000,
      describe: () => `no reason yet for ${poisonIds.filter((id) => !(reasons.get(id)?.length ?? 0)).join(', ')}`,
    },
  ).catch((error: unknown) => console.warn(String(error)));

  const ledgers = buildLedgers();
  for (const [key, ledger] of ledgers) {
    for (const m of plans.get(key)!) {
      const r = reasons.get(m.id);
      if (r) ledger.inDeadLetterQueue(m.id, r.at(-1)?.errorName ?? 'no failure logged');
    }
  }
  // 5. Which injected faults fired, from the consumers' logs (the reasons above waited for the logs to arrive).
  const faults = await injectedFaults([outputs.PaymentsFunction, outputs.NotifierFunction]);

  const dlqReceiveCounts = new Map<string, number[]>();
  for (const d of deadLetters)
    for (const [id, counts] of d.receiveCounts) dlqReceiveCounts.set(id, [...(dlqReceiveCounts.get(id) ?? []), ...counts]);
  return {
    plans,
    ledgers,
    accounts: snapshot.accounts,
    dlqReceiveCounts,
    reasons,
    faults,
    directInvokeProblems,
    unknownDeadLetters: [...deadLettered].filter((id) => id.startsWith('unknown:')),
    seconds,
  };
}

/** The SQS record the event source mapping would deliver for this message. */
function sqsRecordOf(m: PlannedMessage, messageId: string, queueArn: string) {
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `direct-invoke-${messageId}`,
    body: m.body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: { idempotencyKey: { stringValue: m.id, dataType: 'String', stringListValues: [], binaryListValues: [] } },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}

/** Invokes the consumer directly with a record; records anything but a clean acknowledgement. */
async function invokeDirect(lambda: LambdaClient, functionName: string, event: unknown, id: string, problems: string[]): Promise<void> {
  const res = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
  const payload = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
  if (res.FunctionError) {
    problems.push(`${id}: direct invocation failed (${res.FunctionError}): ${payload.slice(0, 300)}`);
    return;
  }
  const failures = (JSON.parse(payload) as { batchItemFailures?: unknown[] }).batchItemFailures ?? [];
  if (failures.length > 0) problems.push(`${id}: direct invocation reported ${JSON.stringify(failures)}`);
}
