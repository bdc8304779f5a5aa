/**
 * Publish bench: the run-time publishers (`lambda/runtime/publish`) against the emulator, side by
 * side with the usual alternatives, in one run. For each of SNS, EventBridge and Kinesis:
 *
 *   calls and throughput:  ours (batched, `publish`) vs one call per entry (Publish, PutEvents of
 *                          one entry, PutRecord), sequential, nothing failing;
 *   loss under faults:     10 % of entries failed by an SDK middleware (the entry is taken out of the
 *                          request, so the emulator never sees it, and reported failed in the response
 *                          with a retryable code), ours vs a naive relay that ignores per-entry
 *                          failures: one PutEvents per record ignoring FailedEntryCount (EventBridge),
 *                          PublishBatch ignoring Failed (SNS), PutRecords ignoring FailedRecordCount
 *                          (Kinesis).
 *
 * What arrived is read back from the destination (an SQS queue subscribed to the topic or targeted
 * by a rule; the stream's shard), so "lost" means neither delivered nor reported failed.
 *
 * Run by the bench runner: `await benchPublish()` (endpoint from AWS_ENDPOINT_URL, as the idempotency
 * bench; BENCH_MESSAGES entries per service and variant, 200 by default; BENCH_REPEATS runs of each
 * clean variant, 3 by default, the median time kept).
 */
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EventBridgePublisher } from '../../lambda/runtime/publish/eventbridge';
import { KinesisPublisher } from '../../lambda/runtime/publish/kinesis';
import type { PublishResult } from '../../lambda/runtime/publish/result';
import { SnsPublisher } from '../../lambda/runtime/publish/sns';

type Service = 'SNS' | 'EventBridge' | 'Kinesis';

/** One variant's figures. */
export interface PublishBenchRow {
  readonly service: Service;
  readonly variant: string;
  /** Rows of one group are compared with the one-by-one row of their group. */
  readonly group: string;
  readonly faults: boolean;
  readonly entries: number;
  readonly calls: number;
  /** Wall time of the send (the median of the repeats for clean runs). */
  readonly ms: number;
  /** Entries read back from the destination (distinct ids); undefined where nothing is read back. */
  readonly delivered?: number;
  /** Entries the variant reported as not published (ours only; the naive relays report nothing). */
  readonly reportedFailed: number;
  /** Neither delivered nor reported failed; undefined where nothing is read back. */
  readonly lost?: number;
  /** Deliveries beyond the first of an id. */
  readonly duplicates?: number;
}

/** Options of {@link benchPublish}. */
export interface PublishBenchOptions {
  /** @default - AWS_ENDPOINT_URL, else LOCALSTACK_ENDPOINT, else http://127.0.0.1:4566 */
  readonly endpoint?: string;
  /** Entries per service and variant. @default - BENCH_MESSAGES, else 200 */
  readonly entries?: number;
  /** Share of entries the fault middleware fails. @default 0.1 */
  readonly failureShare?: number;
  /** Runs of each clean variant; the median time is kept. @default - BENCH_REPEATS, else 3 */
  readonly repeats?: number;
  /** Services to bench. @default all three */
  readonly services?: readonly Service[];
  /** Print the table. @default true */
  readonly print?: boolean;
}

/** A seeded PRNG (mulberry32): the same faults on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the counting and fault middlewares share with the bench. */
interface Instrument {
  calls: number;
  /** Share of entries to fail; 0 turns faults off. */
  failureShare: number;
  random: () => number;
}

/**
 * Counts the calls the code makes, and fails a share of the entries of batch calls: a failed entry
 * is taken out of the request (the service never sees it) and put back into the response as failed
 * with a retryable code, as AWS reports throttled entries.
 */
function instrument<C extends SNSClient | EventBridgeClient | KinesisClient>(client: C, state: Instrument): C {
  type Args = { input: Record<string, unknown> };
  type Next = (args: Args) => Promise<{ output: Record<string, unknown>; response: unknown }>;
  const middleware = (next: Next, context: { commandName?: string }) => async (args: Args) => {
    state.calls += 1;
    const command = context.commandName ?? '';
    const list = { PublishBatchCommand: 'PublishBatchRequestEntries', PutEventsCommand: 'Entries', PutRecordsCommand: 'Records' }[command];
    if (!list || state.failureShare <= 0) return next(args);
    const entries = args.input[list] as Array<Record<string, unknown>>;
    const fail = entries.map(() => state.random() < state.failureShare);
    const kept = entries.filter((_, i) => !fail[i]);
    const output = kept.length > 0 ? (await next({ ...args, input: { ...args.input, [list]: kept } })).output : { $metadata: {} };
    if (command === 'PublishBatchCommand') {
      const failed = entries
        .filter((_, i) => fail[i])
        .map((e) => ({ Id: e.Id, Code: 'InternalError', Message: 'injected', SenderFault: false }));
      return { response: {}, output: { ...output, Failed: [...((output.Failed as unknown[]) ?? []), ...failed] } };
    }
    const results = (command === 'PutEventsCommand' ? output.Entries : output.Records) as unknown[] | undefined;
    const injected =
      command === 'PutEventsCommand'
        ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'injected' }
        : { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'injected' };
    let k = 0;
    const merged = entries.map((_, i) => (fail[i] ? injected : (results?.[k++] ?? {})));
    const failedCount = merged.filter((r) => 'ErrorCode' in (r as object) && (r as { ErrorCode?: unknown }).ErrorCode).length;
    return command === 'PutEventsCommand'
      ? { response: {}, output: { ...output, Entries: merged, FailedEntryCount: failedCount } }
      : { response: {}, output: { ...output, Records: merged, FailedRecordCount: failedCount } };
  };
  const stack = client.middlewareStack as unknown as { add(mw: typeof middleware, options: { step: 'initialize'; name: string }): void };
  stack.add(middleware, { step: 'initialize', name: 'benchCallsAndFaults' });
  return client;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads an SQS queue until it stays empty for `idleMs`; returns the run tags and ids of what arrived. */
async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  pick: (body: string) => { run: string; id: string } | undefined,
  idleMs = 2500,
) {
  const seen: Array<{ run: string; id: string }> = [];
  let idleSince = Date.now();
  while (Date.now() - idleSince < idleMs) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) continue;
    idleSince = Date.now();
    for (const m of Messages) {
      const tag = pick(m.Body ?? '');
      if (tag) seen.push(tag);
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return seen;
}

const parse = (text: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};
const tagOf = (value: unknown) => {
  const v = value as { run?: unknown; id?: unknown } | undefined;
  return typeof v?.run === 'string' && typeof v.id === 'string' ? { run: v.run, id: v.id } : undefined;
};

interface Run {
  readonly service: Service;
  readonly variant: string;
  readonly group?: string;
  readonly faults: boolean;
  /** Sends the entries `ids` tagged with `run`; returns what it reported failed. */
  readonly send: (run: string, ids: string[]) => Promise<string[]>;
}

/**
 * Runs the publish bench and prints a table of ratios (ours vs the baseline of the same run).
 * Returns the rows, for a caller that wants the figures.
 */
export async function benchPublish(options: PublishBenchOptions = {}): Promise<PublishBenchRow[]> {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? process.env.LOCALSTACK_ENDPOINT ?? 'http://127.0.0.1:4566';
  const n = options.entries ?? Number(process.env.BENCH_MESSAGES ?? '200');
  const failureShare = options.failureShare ?? 0.1;
  const repeats = options.repeats ?? Number(process.env.BENCH_REPEATS ?? '3');
  const services = options.services ?? ['SNS', 'EventBridge', 'Kinesis'];
  const config = {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
    // The publishers retry entries and calls themselves; keep the SDK's own retries out of the counts.
    maxAttempts: 1,
  };
  const state: Instrument = { calls: 0, failureShare: 0, random: prng(42) };
  const sns = instrument(new SNSClient(config), state);
  const events = instrument(new EventBridgeClient(config), state);
  // KinesisClient speaks HTTP/2 by default (for SubscribeToShard); the emulator's GOAWAY then surfaces as an
  // uncaught session error. PutRecords needs none of it: HTTP/1.1, as the other clients.
  const kinesisConfig = { ...config, requestHandler: new NodeHttpHandler() };
  const kinesis = instrument(new KinesisClient(kinesisConfig), state);
  const admin = {
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    events: new EventBridgeClient(config),
    kinesis: new KinesisClient(kinesisConfig),
  };
  const suffix = Date.now().toString(36);
  const cleanup: Array<() => Promise<unknown>> = [];
  const rows: PublishBenchRow[] = [];
  const publisherOptions = { logger: null, baseDelayMs: 20, maxDelayMs: 500, maxAttempts: 6 } as const;

  const queue = async (name: string) => {
    const { QueueUrl } = await admin.sqs.send(new CreateQueueCommand({ QueueName: `${name}-${suffix}` }));
    cleanup.push(() => admin.sqs.send(new DeleteQueueCommand({ QueueUrl })));
    const { Attributes } = await admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  };
  const warmedUp = new Set<string>();
  const measure = async (run: Run, delivered?: () => Promise<Array<{ run: string; id: string }>>) => {
    // One unmeasured send per service first: connections, and the emulator's first-call costs.
    if (!warmedUp.has(run.service)) {
      warmedUp.add(run.service);
      await run.send(`${run.service}:warm-up`, [`${run.service}:warm-up#0`]);
    }
    const name = `${run.service}:${run.variant}:${run.group ?? ''}:${run.faults ? 'faults' : 'clean'}`;
    console.error(`[bench] ${name}`);
    // Timings on a shared machine are noisy: clean runs are repeated and their median kept; the last repeat is checked.
    const times: number[] = [];
    let tag = name;
    let ids: string[] = [];
    let reported: string[] = [];
    let calls = 0;
    for (let r = 0; r < (run.faults ? 1 : repeats); r++) {
      tag = `${name}~${r}`;
      ids = Array.from({ length: n }, (_, i) => `${tag}#${i}`);
      state.calls = 0;
      state.failureShare = run.faults ? failureShare : 0;
      state.random = prng(42);
      const started = performance.now();
      reported = await run.send(tag, ids);
      times.push(performance.now() - started);
      calls = state.calls;
      state.failureShare = 0;
    }
    const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    const common = {
      service: run.service,
      variant: run.variant,
      group: run.group ?? '',
      faults: run.faults,
      entries: n,
      calls,
      ms,
      reportedFailed: reported.length,
    };
    if (!delivered) {
      rows.push(common);
      return;
    }
    const arrived = (await delivered()).filter((d) => d.run === tag).map((d) => d.id);
    const distinct = new Set(arrived);
    const accounted = new Set([...distinct, ...reported]);
    rows.push({
      ...common,
      delivered: distinct.size,
      lost: ids.filter((id) => !accounted.has(id)).length,
      duplicates: arrived.length - distinct.size,
    });
  };
  const failedIds = (result: PublishResult) => result.failed.map((f) => f.id);

  try {
    if (services.includes('SNS')) {
      const { TopicArn } = await admin.sns.send(new CreateTopicCommand({ Name: `bench-publish-${suffix}` }));
      cleanup.push(() => admin.sns.send(new DeleteTopicCommand({ TopicArn })));
      const q = await queue('bench-publish-sns');
      await admin.sns.send(
        new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn, Attributes: { RawMessageDelivery: 'true' } }),
      );
      const delivered = () => drainQueue(admin.sqs, q.url, (body) => tagOf(parse(body)));
      const ours = new SnsPublisher({ topicArn: TopicArn!, client: sns, ...publisherOptions });
      const body = (run: string, id: string) => JSON.stringify({ run, id });
      const runs: Run[] = [
        {
          service: 'SNS',
          variant: 'ours',
          faults: false,
          send: async (run, ids) => failedIds(await ours.publish(ids.map((id) => ({ id, message: body(run, id) })))),
        },
        {
          service: 'SNS',
          variant: 'one-by-one',
          faults: false,
          send: async (run, ids) => {
            for (const id of ids) await sns.send(new PublishCommand({ TopicArn, Message: body(run, id) }));
            return [];
          },
        },
        {
          service: 'SNS',
          variant: 'ours',
          faults: true,
          send: async (run, ids) => failedIds(await ours.publish(ids.map((id) => ({ id, message: body(run, id) })))),
        },
        {
          service: 'SNS',
          variant: 'naive',
          faults: true,
          send: async (run, ids) => {
            for (let i = 0; i < ids.length; i += 10) {
              const batch = ids.slice(i, i + 10).map((id, j) => ({ Id: String(j), Message: body(run, id) }));
              await sns.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: batch })); // Failed ignored
            }
            return [];
          },
        },
      ];
      for (const run of runs) await measure(run, delivered);
    }

    if (services.includes('EventBridge')) {
      // Two buses: one with a rule that sends every event to a queue (read back to count losses), and one
      // without targets for throughput: the emulator delivers to targets inside the PutEvents call (~12 ms
      // per matched entry here), so with a target it measures its own delivery, not the publish call.
      const bus = `bench-publish-${suffix}`;
      const bareBus = `bench-publish-bare-${suffix}`;
      const rule = `bench-${suffix}`;
      await admin.events.send(new CreateEventBusCommand({ Name: bus }));
      await admin.events.send(new CreateEventBusCommand({ Name: bareBus }));
      const q = await queue('bench-publish-events');
      await admin.events.send(
        new PutRuleCommand({ Name: rule, EventBusName: bus, EventPattern: JSON.stringify({ source: ['bench.publish'] }) }),
      );
      await admin.events.send(new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: 'queue', Arn: q.arn }] }));
      cleanup.push(async () => {
        await admin.events.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ['queue'] }));
        await admin.events.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus }));
        await admin.events.send(new DeleteEventBusCommand({ Name: bus }));
        await admin.events.send(new DeleteEventBusCommand({ Name: bareBus }));
      });
      const delivered = () => drainQueue(admin.sqs, q.url, (b) => tagOf(parse(b)?.detail));
      const ours = (eventBusName: string) => {
        const publisher = new EventBridgePublisher({ eventBusName, client: events, ...publisherOptions });
        return async (run: string, ids: string[]) =>
          failedIds(
            await publisher.publish(ids.map((id) => ({ id, source: 'bench.publish', detailType: 'BenchEvent', detail: { run, id } }))),
          );
      };
      const oneByOne = (eventBusName: string) => async (run: string, ids: string[]) => {
        for (const id of ids) {
          const entry = {
            Source: 'bench.publish',
            DetailType: 'BenchEvent',
            Detail: JSON.stringify({ run, id }),
            EventBusName: eventBusName,
          };
          await events.send(new PutEventsCommand({ Entries: [entry] })); // FailedEntryCount ignored
        }
        return [];
      };
      const bare = 'bus without targets';
      const targeted = 'rule -> SQS, delivered in the call';
      await measure({ service: 'EventBridge', variant: 'ours', group: bare, faults: false, send: ours(bareBus) });
      await measure({ service: 'EventBridge', variant: 'one-by-one', group: bare, faults: false, send: oneByOne(bareBus) });
      await measure({ service: 'EventBridge', variant: 'ours', group: targeted, faults: false, send: ours(bus) }, delivered);
      await measure({ service: 'EventBridge', variant: 'one-by-one', group: targeted, faults: false, send: oneByOne(bus) }, delivered);
      await measure({ service: 'EventBridge', variant: 'ours', faults: true, send: ours(bus) }, delivered);
      await measure({ service: 'EventBridge', variant: 'naive', faults: true, send: oneByOne(bus) }, delivered);
    }

    if (services.includes('Kinesis')) {
      const StreamName = `bench-publish-${suffix}`;
      await admin.kinesis.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
      cleanup.push(() => admin.kinesis.send(new DeleteStreamCommand({ StreamName, EnforceConsumerDeletion: true })));
      let shardId = '';
      for (let i = 0; i < 60 && !shardId; i++) {
        const { StreamDescription } = await admin.kinesis.send(new DescribeStreamCommand({ StreamName }));
        if (StreamDescription?.StreamStatus === 'ACTIVE') shardId = StreamDescription.Shards?.[0]?.ShardId ?? '';
        else await sleep(500);
      }
      if (!shardId) throw new Error(`Kinesis stream ${StreamName} did not become ACTIVE`);
      let iterator = (
        await admin.kinesis.send(new GetShardIteratorCommand({ StreamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))
      ).ShardIterator;
      const delivered = async () => {
        const seen: Array<{ run: string; id: string }> = [];
        for (let empty = 0; empty < 2 && iterator;) {
          const page = await admin.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          iterator = page.NextShardIterator;
          const records = page.Records ?? [];
          empty = records.length === 0 ? empty + 1 : 0;
          for (const r of records) {
            const tag = tagOf(parse(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8')));
            if (tag) seen.push(tag);
          }
        }
        return seen;
      };
      const data = (run: string, id: string) => JSON.stringify({ run, id });
      // Each entry its own partition key (an event per entity): strict order costs nothing.
      const ours = new KinesisPublisher({ streamName: StreamName, client: kinesis, ...publisherOptions });
      const oursSend = async (run: string, ids: string[]) =>
        failedIds(await ours.publish(ids.map((id) => ({ id, partitionKey: id, data: data(run, id) }))));
      // 20 busy keys: strict puts one record of a key per call; batched fills the call.
      const keyed = (ordering: 'strict' | 'batched') => {
        const publisher = new KinesisPublisher({ streamName: StreamName, client: kinesis, ordering, ...publisherOptions });
        return async (run: string, ids: string[]) =>
          failedIds(await publisher.publish(ids.map((id, i) => ({ id, partitionKey: `device-${i % 20}`, data: data(run, id) }))));
      };
      const runs: Run[] = [
        { service: 'Kinesis', variant: 'ours', faults: false, send: oursSend },
        { service: 'Kinesis', variant: 'ours, 20 keys, strict', faults: false, send: keyed('strict') },
        { service: 'Kinesis', variant: 'ours, 20 keys, batched', faults: false, send: keyed('batched') },
        {
          service: 'Kinesis',
          variant: 'one-by-one',
          faults: false,
          send: async (run, ids) => {
            for (const id of ids)
              await kinesis.send(new PutRecordCommand({ StreamName, PartitionKey: id, Data: Buffer.from(data(run, id)) }));
            return [];
          },
        },
        { service: 'Kinesis', variant: 'ours', faults: true, send: oursSend },
        {
          service: 'Kinesis',
          variant: 'naive',
          faults: true,
          send: async (run, ids) => {
            for (let i = 0; i < ids.length; i += 500) {
              const records = ids.slice(i, i + 500).map((id) => ({ PartitionKey: id, Data: Buffer.from(data(run, id)) }));
              await kinesis.send(new PutRecordsCommand({ StreamName, Records: records })); // FailedRecordCount ignored
            }
            return [];
          },
        },
      ];
      for (const run of runs) await measure(run, delivered);
    }
  } finally {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
  }

  if (options.print ?? true) console.log(formatReport(rows, { endpoint, n, failureShare }));
  return rows;
}

/** The table: calls and throughput ratios against one-by-one, loss against the naive relay. */
export function formatReport(rows: readonly PublishBenchRow[], run: { endpoint: string; n: number; failureShare: number }): string {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const opt = (x: number | undefined) => (x === undefined ? 'n/a' : String(x));
  const goal = { SNS: Math.ceil(run.n / 10), EventBridge: Math.ceil(run.n / 10), Kinesis: Math.ceil(run.n / 500) };
  const lines = [`Publish bench: ${run.n} entries per service and variant, one variant after the other, against ${run.endpoint}`, ''];
  lines.push(
    'Calls and throughput, nothing failing (median of the repeats). x: ratio to one-by-one of the same service and setup in this run.',
  );
  lines.push('Goals: calls = ceil(n/10) for SNS and EventBridge, ceil(n/500) for Kinesis; throughput >= 5x one-by-one.');
  const variantWidth = Math.max(...rows.map((r) => (r.group ? `${r.variant} (${r.group})` : r.variant).length), 10) + 2;
  lines.push(
    `  ${'service'.padEnd(12)}${'variant'.padEnd(variantWidth)}${'calls'.padStart(6)}${'goal'.padStart(6)}${'calls x'.padStart(9)}${'entries/s'.padStart(11)}${'thru x'.padStart(8)}${'delivered'.padStart(11)}${'lost'.padStart(6)}`,
  );
  for (const service of ['SNS', 'EventBridge', 'Kinesis'] as const) {
    for (const r of rows.filter((x) => x.service === service && !x.faults)) {
      const base = rows.find((b) => b.service === service && b.group === r.group && b.variant === 'one-by-one' && !b.faults);
      const rate = (r.entries / r.ms) * 1000;
      const baseRate = base ? (base.entries / base.ms) * 1000 : NaN;
      const name = r.group ? `${r.variant} (${r.group})` : r.variant;
      const ours = r.variant !== 'one-by-one';
      lines.push(
        `  ${service.padEnd(12)}${name.padEnd(variantWidth)}${String(r.calls).padStart(6)}${(ours ? String(goal[service]) : '').padStart(6)}${(base ? f(r.calls / base.calls, 3) : '-').padStart(9)}${f(rate, 0).padStart(11)}${f(rate / baseRate).padStart(8)}${(r.delivered === undefined ? 'n/a' : `${r.delivered}/${r.entries}`).padStart(11)}${opt(r.lost).padStart(6)}`,
      );
    }
  }
  lines.push('');
  lines.push(
    `Under ${Math.round(run.failureShare * 100)} % injected entry failures (SDK middleware: the entry is taken out of the request and reported failed with a retryable code)`,
  );
  const naive = {
    SNS: 'naive: PublishBatch, Failed ignored',
    EventBridge: 'naive: PutEvents per record, FailedEntryCount ignored',
    Kinesis: 'naive: PutRecords, FailedRecordCount ignored',
  };
  const width = Math.max(...Object.values(naive).map((v) => v.length)) + 2;
  lines.push(
    `  ${'service'.padEnd(12)}${'variant'.padEnd(width)}${'calls'.padStart(6)}${'delivered'.padStart(11)}${'reported'.padStart(10)}${'lost'.padStart(6)}${'dup'.padStart(5)}`,
  );
  for (const r of rows.filter((x) => x.faults)) {
    const variant = r.variant === 'naive' ? naive[r.service] : 'ours';
    lines.push(
      `  ${r.service.padEnd(12)}${variant.padEnd(width)}${String(r.calls).padStart(6)}${`${opt(r.delivered)}/${r.entries}`.padStart(11)}${String(r.reportedFailed).padStart(10)}${opt(r.lost).padStart(6)}${opt(r.duplicates).padStart(5)}`,
    );
  }
  lines.push('');
  lines.push(
    '  calls: calls the code made (counted by an SDK middleware before the fault injection; SDK retries off). entries/s: sequential,',
  );
  lines.push('  in the emulator on this machine, not an AWS figure. lost: neither read back from the destination nor reported failed.');
  lines.push(
    '  reported: entries the publisher returned in `failed` (the naive relays report nothing). Ours: maxAttempts 6, backoff 20-500 ms.',
  );
  return lines.join('\n');
}
