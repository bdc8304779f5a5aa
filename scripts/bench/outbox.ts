/**
 * `npm run bench` (BENCH_ONLY=outbox): the outbox relay and the event store against the emulator,
 * each next to its baseline in the same run.
 *
 *   relay calls:      PutEvents calls to relay n outbox records (ours: batches of 10, one event per
 *                     aggregate per call) against one PutEvents per record (the AWS sample relay);
 *   relay throughput: records per second through `OutboxRelay.process` (publish, hold-marker read,
 *                     published marks) against one PutEvents per record, sequential, nothing marked;
 *   load:             events read (and Query requests) to load an aggregate of 10,000 events with
 *                     snapshots every 100, against a full replay (a reducer version with no snapshot);
 *   append:           DynamoDB requests and write units per appended event (one append per event,
 *                     with a command id), against a bare PutItem per event;
 *   projection:       requests and write units per projected event, ours (one conditional PutItem per
 *                     aggregate per batch, a checkpoint per batch) against a naive projector (GetItem +
 *                     PutItem per event), for batches of 100 events over 100 and over 10 aggregates.
 *
 * Requests are counted by an SDK middleware. Write units as AWS charges them, computed from the item
 * sizes (1 per KB for a write, 2 per KB for each transaction item, a failed condition costs its
 * write): moto reports none for transactions. BENCH_MESSAGES (default 200) sets n;
 * BENCH_HISTORY (default 10000) the aggregate's length.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, DeleteEventBusCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { accountReducer, accountSummary } from '../../lambda/event-store/example-projector/account';
import { snapshotKey } from '../../lambda/runtime/event-store/layout';
import { Projector } from '../../lambda/runtime/event-store/projection';
import { EventStore } from '../../lambda/runtime/event-store/store';
import { Outbox } from '../../lambda/runtime/outbox/outbox';
import { OutboxRelay } from '../../lambda/runtime/outbox/relay';

interface Counter {
  requests: number;
  wcu: number;
  byOperation: Record<string, number>;
}
const counter = (): Counter => ({ requests: 0, wcu: 0, byOperation: {} });

const kb = (item: unknown) => Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(item)) / 1024));

/** Counts a client's requests (and the write units AWS would charge) into `current()`. */
function counted<C extends { middlewareStack: unknown }>(client: C, current: () => Counter): C {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK command inputs of every kind
  type Args = { input: Record<string, any> };
  const stack = client.middlewareStack as { add(mw: unknown, options: { step: 'initialize'; name: string }): void };
  stack.add(
    (next: (a: Args) => Promise<unknown>, context: { commandName?: string }) => async (args: Args) => {
      const c = current();
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      c.requests += 1;
      c.byOperation[op] = (c.byOperation[op] ?? 0) + 1;
      const input = args.input;
      if (op === 'TransactWriteItems') {
        for (const t of input.TransactItems ?? []) c.wcu += 2 * kb(t.Put?.Item ?? t.Update?.Key ?? t.ConditionCheck?.Key ?? t.Delete?.Key);
      } else if (op === 'PutItem') c.wcu += kb(input.Item);
      else if (op === 'UpdateItem' || op === 'DeleteItem') c.wcu += 1;
      else if (op === 'BatchWriteItem')
        for (const rs of Object.values(input.RequestItems ?? {}))
          for (const r of rs as Array<{ PutRequest?: { Item: unknown } }>) c.wcu += kb(r.PutRequest?.Item ?? {});
      return next(args);
    },
    { step: 'initialize', name: 'benchOutboxCounter' },
  );
  return client;
}

const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(b > a ? 3 : 2)}x`);
const pad = (s: string | number, n: number) => String(s).padStart(n);

/** Stream records of items as the relay or the projector receives them (NEW_IMAGE), in the given order. */
function streamRecords(items: ReadonlyArray<Record<string, unknown>>): DynamoDBRecord[] {
  return items.map((item, i) => ({
    eventID: `bench-${i}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: {},
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      SequenceNumber: String(1_000_000 + i),
      StreamViewType: 'NEW_IMAGE',
    },
  }));
}

export async function benchOutbox(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? process.env.LOCALSTACK_ENDPOINT ?? 'http://127.0.0.1:4566';
  const config = { endpoint, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const n = Number(process.env.BENCH_MESSAGES ?? '200');
  const history = Number(process.env.BENCH_HISTORY ?? '10000');
  const suffix = Date.now().toString(36);
  const admin = new DynamoDBClient(config);
  const tables = {
    outbox: `bench-outbox-${suffix}`,
    history: `bench-history-${suffix}`,
    events: `bench-events-${suffix}`,
    models: `bench-models-${suffix}`,
    plain: `bench-plain-${suffix}`,
  };
  const busName = `bench-outbox-${suffix}`;
  const eb = new EventBridgeClient(config);
  let current = counter();
  const ddb = counted(new DynamoDBClient(config), () => current);
  let ebCalls = 0;
  /** Per relay batch: when its first publish call started and its last ended (the publish phase). */
  let windows: Array<{ start: number; end: number }> = [];
  const ebCounted = new EventBridgeClient(config);
  (ebCounted.middlewareStack as { add(mw: unknown, o: { step: 'initialize'; name: string }): void }).add(
    (next: (a: unknown) => Promise<unknown>) => async (args: unknown) => {
      ebCalls += 1;
      const w = windows.at(-1)!;
      w.start = Math.min(w.start, Date.now());
      try {
        return await next(args);
      } finally {
        w.end = Math.max(w.end, Date.now());
      }
    },
    { step: 'initialize', name: 'benchCalls' },
  );
  const create = (name: string, sortKey?: 'S' | 'N') =>
    admin.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          ...(sortKey ? [{ AttributeName: 'sk', AttributeType: sortKey }] : []),
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(sortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
      }),
    );
  await Promise.all([
    create(tables.outbox, 'S'),
    create(tables.history, 'N'),
    create(tables.events, 'N'),
    create(tables.models),
    create(tables.plain),
  ]);
  for (const t of Object.values(tables)) await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: t });
  await eb.send(new CreateEventBusCommand({ Name: busName }));
  const lines: string[] = [];

  try {
    // -------------------------------------------------------------------------------------------- relay
    const outbox = new Outbox({ tableName: tables.outbox, client: ddb });
    const aggregates = Math.max(10, Math.floor(n / 2));
    const events = Array.from({ length: n }, (_, i) => ({
      aggregateId: `agg-${i % aggregates}`,
      type: 'Happened',
      data: { i },
      sequence: Math.floor(i / aggregates) + 1,
    }));
    for (let i = 0; i < events.length; i += 50) await outbox.write([], events.slice(i, i + 50));
    const stored = (
      await Promise.all(
        events.map((e) =>
          admin.send(
            new GetItemCommand({
              TableName: tables.outbox,
              Key: marshall({ pk: `outbox#${e.aggregateId}`, sk: String(e.sequence).padStart(20, '0') }),
              ConsistentRead: true,
            }),
          ),
        ),
      )
    ).map((r) => unmarshall(r.Item!));
    const records = streamRecords(stored);
    const relay = new OutboxRelay({
      tableName: tables.outbox,
      target: { kind: 'eventbridge', eventBusName: busName },
      deadLetterQueueUrl: `${endpoint}/000000000000/bench-unused`,
      dynamoDBClient: ddb,
      sqsClient: new SQSClient(config),
      targetClients: { eventBridge: ebCounted },
      source: 'bench',
      logger: null,
    });
    current = counter();
    ebCalls = 0;
    windows = [];
    let started = Date.now();
    for (let i = 0; i < records.length; i += 100) {
      windows.push({ start: Number.POSITIVE_INFINITY, end: 0 });
      const report = await relay.process({ Records: records.slice(i, i + 100) });
      if (report.batchItemFailures.length > 0 || report.deadLettered.length > 0)
        throw new Error(`relay failed: ${JSON.stringify(report.retryFrom ?? report.deadLettered[0])}`);
    }
    const oursMs = Date.now() - started;
    const oursCalls = ebCalls;
    const relayDdb = current;
    started = Date.now();
    let naiveCalls = 0;
    for (const r of stored) {
      await eb.send(
        new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: 'bench', DetailType: String(r.type), Detail: String(r.data) }] }),
      );
      naiveCalls += 1;
    }
    const naiveMs = Date.now() - started;
    const publishMs = windows.reduce((ms, w) => ms + Math.max(0, w.end - w.start), 0);
    // One by one with the same duties: publish, then mark the record published (TTL).
    started = Date.now();
    for (const r of stored) {
      await eb.send(
        new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: 'bench', DetailType: String(r.type), Detail: String(r.data) }] }),
      );
      await admin.send(
        new UpdateItemCommand({
          TableName: tables.outbox,
          Key: marshall({ pk: r.pk, sk: r.sk }),
          UpdateExpression: 'SET publishedAt = :now, expiresAt = :ttl',
          ExpressionAttributeValues: marshall({ ':now': Date.now(), ':ttl': Math.ceil(Date.now() / 1000) + 604_800 }),
        }),
      );
    }
    const naiveMarkedMs = Date.now() - started;
    lines.push(
      `relay of ${n} outbox records over ${aggregates} aggregates (batches of 100, EventBridge):`,
      `  ${'variant'.padEnd(34)}${pad('PutEvents', 10)}${pad('ms', 8)}${pad('rec/s', 9)}${pad('DDB req', 9)}`,
      `  ${'ours (OutboxRelay)'.padEnd(34)}${pad(oursCalls, 10)}${pad(oursMs, 8)}${pad(Math.round((n * 1000) / oursMs), 9)}${pad(relayDdb.requests, 9)}`,
      `  ${'one PutEvents per record'.padEnd(34)}${pad(naiveCalls, 10)}${pad(naiveMs, 8)}${pad(Math.round((n * 1000) / naiveMs), 9)}${pad(0, 9)}`,
      `  ${'one by one, PutEvents + mark'.padEnd(34)}${pad(naiveCalls, 10)}${pad(naiveMarkedMs, 8)}${pad(Math.round((n * 1000) / naiveMarkedMs), 9)}${pad(n, 9)}`,
      `  calls: ${oursCalls} vs ${naiveCalls} (${ratio(oursCalls, naiveCalls)}; goal ⌈n/10⌉ = ${Math.ceil(n / 10)})`,
      `  throughput: ${ratio(naiveMs, oursMs)} one PutEvents per record, ${ratio(naiveMarkedMs, oursMs)} one by one with the same duties (goal ≥ 5x)`,
      `  ours spent ${publishMs} ms publishing and ${oursMs - publishMs} ms in DynamoDB (${JSON.stringify(relayDdb.byOperation)}: hold markers, published marks; the emulator serialises DynamoDB calls): publishing alone ${ratio(naiveMs, publishMs)} one PutEvents per record`,
      '',
    );

    // -------------------------------------------------------------------------------------------- load
    // The history is written as the store writes it, with BatchWriteItem (moto copies a table for
    // every transaction: 100 appends of 99 events into a growing table would take the bench's whole
    // budget). Snapshots every 100 up to 9,900: the worst case, 100 events after the last snapshot.
    const historyStore = new EventStore({ tableName: tables.history, client: ddb, reducer: accountReducer, snapshotEvery: 100 }, {});
    const setupStarted = Date.now();
    const now = Date.now();
    let state = accountReducer.initial();
    const historyItems: Array<Record<string, unknown>> = [];
    for (let v = 1; v <= history; v++) {
      const event = v === 1 ? { type: 'AccountOpened', data: { owner: 'bench' } } : { type: 'Deposited', data: { amountCents: 1 } };
      const eventId = `e-${v}`;
      historyItems.push({
        pk: 'long',
        sk: v,
        recordType: 'event',
        eventId,
        type: event.type,
        schemaVersion: 1,
        data: JSON.stringify(event.data),
        recordedAt: now,
      });
      state = accountReducer.apply(state, {
        aggregateId: 'long',
        version: v,
        eventId,
        type: event.type,
        schemaVersion: 1,
        data: event.data,
        recordedAt: '',
      });
      if (v % 100 === 0 && v < history) {
        historyItems.push({
          pk: snapshotKey('long', 1),
          sk: v,
          recordType: 'snapshot',
          state: JSON.stringify(state),
          reducerVersion: 1,
          lastEventId: eventId,
          lastRecordedAt: now,
          takenAt: now,
        });
      }
    }
    for (let i = 0; i < historyItems.length; i += 25 * 8) {
      await Promise.all(
        Array.from({ length: 8 }, (_, k) => historyItems.slice(i + k * 25, i + (k + 1) * 25))
          .filter((c) => c.length > 0)
          .map((chunk) =>
            admin.send(
              new BatchWriteItemCommand({
                RequestItems: { [tables.history]: chunk.map((item) => ({ PutRequest: { Item: marshall(item) } })) },
              }),
            ),
          ),
      );
    }
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    current = counter();
    const withSnapshots = await historyStore.load('long');
    const loadRequests = current.requests;
    current = counter();
    const replay = new EventStore({ tableName: tables.history, client: ddb, reducer: { ...accountReducer, version: 999 } }, {});
    const full = await replay.load('long');
    const replayRequests = current.requests;
    if (JSON.stringify(withSnapshots.state) !== JSON.stringify(full.state) || JSON.stringify(full.state) !== JSON.stringify(state)) {
      throw new Error('the snapshot load and the full replay disagree');
    }
    lines.push(
      `load of an aggregate of ${history} events (snapshots every 100, the last at ${withSnapshots.snapshotVersion}; written in ${setupSeconds.toFixed(0)} s):`,
      `  with snapshots: ${withSnapshots.eventsRead} events read, ${loadRequests} requests (1 snapshot Query, then the events after it)`,
      `  full replay:    ${full.eventsRead} events read, ${replayRequests} requests`,
      `  events read: ${ratio(withSnapshots.eventsRead, full.eventsRead)} of a full replay (goal ≤ 100 events, ≤ 0.01x); same state: yes`,
      '',
    );
    const store = new EventStore({ tableName: tables.events, client: ddb, reducer: accountReducer, snapshotEvery: 100 }, {});

    // -------------------------------------------------------------------------------------------- append
    const appender = new EventStore({ tableName: tables.events, client: ddb, reducer: accountReducer, snapshotEvery: 100 }, {});
    current = counter();
    for (let a = 0; a < n; a++)
      await appender.append(`app-${a}`, 0, [{ type: 'AccountOpened', data: { owner: `o${a}` } }], { commandId: `c${a}` });
    const first = current;
    current = counter();
    for (let a = 0; a < n; a++) {
      await appender.append(`app-${a}`, 1, [{ type: 'Deposited', data: { amountCents: a } }], {
        commandId: `d${a}`,
        state: { open: true, owner: `o${a}`, balanceCents: 0, transactions: 1 },
      });
    }
    const next = current;
    current = counter();
    for (let a = 0; a < n; a++)
      await ddb.send(new PutItemCommand({ TableName: tables.plain, Item: marshall({ pk: `p-${a}`, type: 'Deposited', data: '{}' }) }));
    const bare = current;
    lines.push(
      `append, one event per append with a command id (${n} aggregates):`,
      `  ${'variant'.padEnd(44)}${pad('req/event', 10)}${pad('WCU/event', 10)}`,
      `  ${'ours, first event (event + command record)'.padEnd(44)}${pad((first.requests / n).toFixed(2), 10)}${pad((first.wcu / n).toFixed(2), 10)}`,
      `  ${'ours, next events (+ version check)'.padEnd(44)}${pad((next.requests / n).toFixed(2), 10)}${pad((next.wcu / n).toFixed(2), 10)}`,
      `  ${'bare PutItem, no concurrency control'.padEnd(44)}${pad((bare.requests / n).toFixed(2), 10)}${pad((bare.wcu / n).toFixed(2), 10)}`,
      `  goal: 1 request per append (ours ${(next.requests / n).toFixed(2)}); write units are transactional (2 per item per KB)`,
      '',
    );

    // -------------------------------------------------------------------------------------------- projection
    const projectionRows: string[] = [];
    for (const spread of [100, 10]) {
      const perAggregate = 100 / spread;
      const ids = Array.from({ length: spread }, (_, a) => `proj-${spread}-${a}`);
      for (const id of ids) {
        await store.append(
          id,
          0,
          Array.from({ length: perAggregate }, (_, i) =>
            i === 0 ? { type: 'AccountOpened', data: { owner: id } } : { type: 'Deposited', data: { amountCents: i } },
          ),
        );
      }
      const eventItems: Array<Record<string, unknown>> = [];
      for (const id of ids) {
        for (let v = 1; v <= perAggregate; v++) {
          const r = await admin.send(
            new GetItemCommand({ TableName: tables.events, Key: marshall({ pk: id, sk: v }), ConsistentRead: true }),
          );
          eventItems.push(unmarshall(r.Item!));
        }
      }
      // The stream interleaves aggregates: round-robin by version.
      eventItems.sort((a, b) => Number(a.sk) - Number(b.sk));
      const projector = new Projector(accountSummary, { store, readModelTableName: tables.models, client: ddb, logger: null });
      current = counter();
      await projector.process({ Records: streamRecords(eventItems) });
      const ours = current;
      // Naive: for each event, read the read model, fold, write it.
      current = counter();
      for (const item of eventItems) {
        const e = await store.decodeEvent(item);
        const key = marshall({ pk: `naive-${e.aggregateId}` });
        const got = await ddb.send(new GetItemCommand({ TableName: tables.models, Key: key, ConsistentRead: true }));
        const s = got.Item
          ? (JSON.parse(String(unmarshall(got.Item).state)) as ReturnType<typeof accountSummary.initial>)
          : accountSummary.initial();
        const nextState = accountSummary.apply(s, e);
        await ddb.send(
          new PutItemCommand({
            TableName: tables.models,
            Item: marshall({ pk: `naive-${e.aggregateId}`, state: JSON.stringify(nextState), v: e.version }),
          }),
        );
      }
      const naive = current;
      projectionRows.push(
        `  ${`ours, 100 events over ${spread} aggregates`.padEnd(44)}${pad((ours.requests / 100).toFixed(2), 10)}${pad((ours.wcu / 100).toFixed(2), 10)}`,
        `  ${`GetItem + PutItem per event, same batch`.padEnd(44)}${pad((naive.requests / 100).toFixed(2), 10)}${pad((naive.wcu / 100).toFixed(2), 10)}`,
      );
    }
    lines.push(
      'projection (account-summary), one stream batch of 100 events, cold projector:',
      `  ${'variant'.padEnd(44)}${pad('req/event', 10)}${pad('WCU/event', 10)}`,
      ...projectionRows,
      '  goal: at most 1 request and 1 write unit per projected event (ours: one conditional write per aggregate per batch, plus a checkpoint per batch)',
    );
    console.log(lines.join('\n'));
  } finally {
    for (const t of Object.values(tables)) await admin.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
    await eb.send(new DeleteEventBusCommand({ Name: busName })).catch(() => undefined);
  }
}
