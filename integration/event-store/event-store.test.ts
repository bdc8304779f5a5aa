/**
 * EventStore and Projection end to end: the real constructs (event table with its stream, payload
 * bucket, read-model table, the example projector running inside LocalStack on the stream with
 * FilterCriteria, the example rebuild function), the run-time `EventStore` from the test process
 * (as command handlers in separate execution environments would use it), and an outbox that
 * distributes the events to a queue.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EventStore as EventStoreConstruct, RouteTarget, TransactionalOutbox } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import {
  type Account,
  type AccountSummary,
  accountReducer,
  accountSummary,
  accountUpcasters,
} from '../../lambda/event-store/example-projector/account';
import { ConcurrencyError, EventStore, type NewEvent, type Reducer } from '../../lambda/runtime/event-store';
import { outboxEnvelope } from '../../lambda/runtime/outbox';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { Ledger } from '../harness/ledger';
import { logMessages } from '../harness/logs';
import { drain, sqsClient } from '../harness/sqs';
import { sleep, waitFor } from '../harness/wait';

const SNAPSHOT_EVERY = 5;
const deposit = (amountCents: number, extra: Partial<NewEvent> = {}): NewEvent => ({ type: 'Deposited', data: { amountCents }, ...extra });
const opened = (owner: string): NewEvent => ({ type: 'AccountOpened', data: { owner } });

describe('EventStore and Projection end to end', () => {
  let stack: DeployedStack;
  let ddb: DynamoDBClient;
  const run = `r${Date.now().toString(36)}`;
  const acc = (name: string) => `${run}-${name}`;
  let store: EventStore<Account>;
  const newStore = (reducer: Reducer<Account> = accountReducer) =>
    new EventStore<Account>(
      {
        tableName: stack.outputs.EventTable,
        bucketName: stack.outputs.PayloadBucket,
        client: new DynamoDBClient(clientConfig()),
        s3Client: new S3Client(clientConfig()),
        reducer,
        upcasters: accountUpcasters,
        snapshotEvery: SNAPSHOT_EVERY,
        outbox: undefined,
      },
      { outboxTableName: stack.outputs.OutboxTable },
    );

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('event-store', (s) => {
      const outbox = new TransactionalOutbox(s, 'Outbox', { removalPolicy: RemovalPolicy.DESTROY, eventSource: 'bank.accounts' });
      const distributed = new sqs.Queue(s, 'Distributed', { enforceSSL: true });
      outbox.eventRouter!.addRoute('Accounts', { eventPattern: { source: ['bank.accounts'] }, targets: [RouteTarget.queue(distributed)] });
      const accounts = new EventStoreConstruct(s, 'Accounts', {
        removalPolicy: RemovalPolicy.DESTROY,
        snapshotEvery: SNAPSHOT_EVERY,
        outbox,
      });
      const projector = new KitFunction(s, 'Projector', {
        handler: 'event-store/example-projector',
        functionProps: { timeout: Duration.seconds(20), environment: { FAULT_INJECTION: 'on' } },
      });
      const summary = accounts.addProjection('Summary', {
        projector,
        projectionName: 'account-summary',
        removalPolicy: RemovalPolicy.DESTROY,
        batchSize: 25,
      });
      const rebuild = new KitFunction(s, 'Rebuild', {
        handler: 'event-store/example-rebuild',
        functionProps: { timeout: Duration.seconds(60) },
      });
      summary.connectReplayer(rebuild);
      new CfnOutput(s, 'EventTable', { value: accounts.tableName });
      new CfnOutput(s, 'PayloadBucket', { value: accounts.payloadBucket!.bucketName });
      new CfnOutput(s, 'AccessLogsBucket', { value: accounts.accessLogsBucket!.bucketName });
      new CfnOutput(s, 'ReadModelTable', { value: summary.readModelTableName });
      new CfnOutput(s, 'OutboxTable', { value: outbox.tableName });
      new CfnOutput(s, 'DistributedUrl', { value: distributed.queueUrl });
      new CfnOutput(s, 'ProjectorFunction', { value: projector.functionName });
      new CfnOutput(s, 'RebuildFunction', { value: rebuild.functionName });
    });
    ddb = new DynamoDBClient(clientConfig());
    store = newStore();
  }, 600_000);

  afterAll(async () => {
    // Versioned buckets are deleted empty.
    const s3 = new S3Client(clientConfig());
    for (const bucket of [stack?.outputs.PayloadBucket, stack?.outputs.AccessLogsBucket].filter(Boolean)) {
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket })).catch(() => undefined);
      const objects = [...(listed?.Versions ?? []), ...(listed?.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
      if (objects.length > 0)
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } })).catch(() => undefined);
    }
    await stack?.destroy();
  }, 300_000);

  const readModel = async (aggregateId: string): Promise<Record<string, unknown> | undefined> => {
    const res = await ddb.send(
      new GetItemCommand({ TableName: stack.outputs.ReadModelTable, Key: marshall({ pk: aggregateId }), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const item = unmarshall(res.Item);
    return Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'pk' && !k.startsWith('_')));
  };
  const versionOf = async (aggregateId: string): Promise<number> => {
    const res = await ddb.send(
      new GetItemCommand({ TableName: stack.outputs.ReadModelTable, Key: marshall({ pk: aggregateId }), ConsistentRead: true }),
    );
    return res.Item ? Number(unmarshall(res.Item)._version) : 0;
  };
  /** The read model a fold of the whole history gives. */
  const fold = async (aggregateId: string): Promise<AccountSummary> => {
    let state = accountSummary.initial();
    for (const e of await store.readEvents(aggregateId)) state = accountSummary.apply(state, e) as AccountSummary;
    return state;
  };
  const projected = (aggregateIds: readonly string[]) =>
    waitFor(
      'the projection to catch up',
      async () => {
        for (const id of aggregateIds) if ((await versionOf(id)) < (await store.currentVersion(id))) return undefined;
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 2000 },
    );

  it('gives 16 concurrent writers on one aggregate gapless versions, no lost event, every conflict a ConcurrencyError', async () => {
    const id = acc('race');
    await store.append(id, 0, [opened('race')]);
    const ledger = new Ledger();
    const conflicts: unknown[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        const writer = newStore(); // its own client: an execution environment of its own
        ledger.sent(`writer-${w}`, 'process');
        for (let attempt = 0; attempt < 50; attempt++) {
          const { state, version } = await writer.load(id);
          try {
            await writer.append(id, version, [deposit(w + 1, { eventId: `${run}-writer-${w}` })], { state, commandId: `cmd-${w}` });
            return;
          } catch (error) {
            conflicts.push(error);
            if (!(error instanceof ConcurrencyError)) throw error;
            await sleep(Math.random() * 50);
          }
        }
      }),
    );
    const events = await store.readEvents(id);
    for (const e of events.slice(1)) ledger.appliedEffect(e.eventId.replace(`${run}-`, ''));
    console.log(`${ledger.report('event-store race')}; ${conflicts.length} conflicts`);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(ledger.totals()).toMatchObject({ sent: 16, appliedOnce: 16, lost: 0, appliedTwice: 0, unexpected: 0 });
    expect(conflicts.length).toBeGreaterThan(0);
    expect(conflicts.filter((c) => !(c instanceof ConcurrencyError))).toEqual([]);
    expect((await store.load(id)).state.balanceCents).toBe((16 * 17) / 2);
  }, 180_000);

  it('projects into read models equal to a fold of the history, after a projector crash (redelivery) and duplicate deliveries', async () => {
    const ids = [0, 1, 2, 3].map((i) => acc(`proj-${i}`));
    for (const [i, id] of ids.entries()) {
      let { state, version } = await store.load(id);
      for (const batch of [
        [opened(`owner-${i}`), deposit(100)],
        [deposit(5), { type: 'Withdrawn', data: { amountCents: 30 } }],
        [deposit(1, i === 1 ? { metadata: { fault: 'crash-after-project' } } : {})],
      ]) {
        await store.append(id, version, batch, { state });
        ({ state, version } = await store.load(id));
      }
    }
    await projected(ids);
    // The injected crash happened: the batch was delivered again, its events skipped as duplicates.
    const crashes = await waitFor(
      'the crash in the logs',
      async () => {
        const lines = (await logMessages([stack.outputs.ProjectorFunction])).filter((l) => l.includes('injected crash after project'));
        return lines.length > 0 ? lines : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 2000 },
    );
    expect(crashes).toHaveLength(1);

    // Duplicates: the projector invoked with a batch it has projected already.
    const items = (await ddb.send(new ScanCommand({ TableName: stack.outputs.EventTable, ConsistentRead: true }))).Items ?? [];
    const records: DynamoDBRecord[] = items
      .map((i) => unmarshall(i))
      .filter((i) => i.recordType === 'event' && ids.includes(String(i.pk)))
      .sort((a, b) => String(a.pk).localeCompare(String(b.pk)) || Number(a.sk) - Number(b.sk))
      .map((i, n) => ({
        eventID: `dup-${n}`,
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        dynamodb: {
          Keys: marshall({ pk: i.pk, sk: i.sk }) as never,
          NewImage: marshall(i) as never,
          SequenceNumber: String(1000 + n),
          StreamViewType: 'NEW_IMAGE',
        },
      }));
    const lambda = new LambdaClient(clientConfig());
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: stack.outputs.ProjectorFunction, Payload: Buffer.from(JSON.stringify({ Records: records })) }),
    );
    expect(JSON.parse(Buffer.from(response.Payload!).toString())).toEqual({ batchItemFailures: [] });

    for (const id of ids) {
      const model = await readModel(id);
      expect(model).toEqual(await fold(id));
      expect((model?.eventIds as string[]).length).toBe(5); // each event folded in once
    }
  }, 200_000);

  it('rebuilds the read models from the event table to the same result', async () => {
    const ids = [0, 1, 2, 3].map((i) => acc(`proj-${i}`));
    const before = await Promise.all(ids.map(readModel));
    for (const id of ids) await ddb.send(new DeleteItemCommand({ TableName: stack.outputs.ReadModelTable, Key: marshall({ pk: id }) }));
    await ddb.send(
      new PutItemCommand({ TableName: stack.outputs.ReadModelTable, Item: marshall({ pk: ids[0], _version: 1, owner: 'corrupted' }) }),
    );

    const lambda = new LambdaClient(clientConfig());
    let payload: { done: boolean; aggregates: number } = { done: false, aggregates: 0 };
    for (let call = 0; !payload.done && call < 10; call++) {
      const res = await lambda.send(
        new InvokeCommand({ FunctionName: stack.outputs.RebuildFunction, Payload: Buffer.from(JSON.stringify({ resume: call > 0 })) }),
      );
      payload = JSON.parse(Buffer.from(res.Payload!).toString()) as typeof payload;
    }
    expect(payload.done).toBe(true);
    expect(await Promise.all(ids.map(readModel))).toEqual(before);
  }, 120_000);

  it('applies the upcasters on every read path: load, loadAt, readEvents, the projector, a rebuild', async () => {
    const id = acc('upcast');
    await store.append(id, 0, [opened('old'), { type: 'Deposited', data: { amount: 1.25 }, schemaVersion: 1 }, deposit(10)]);
    expect((await store.readEvents(id))[1]).toMatchObject({ schemaVersion: 2, data: { amountCents: 125 } });
    expect((await store.load(id)).state.balanceCents).toBe(135);
    expect((await store.loadAt(id, { version: 2 })).state.balanceCents).toBe(125);
    await projected([id]);
    expect(await readModel(id)).toMatchObject({ balanceCents: 135, deposits: 2 });
    await ddb.send(new DeleteItemCommand({ TableName: stack.outputs.ReadModelTable, Key: marshall({ pk: id }) }));
    const lambda = new LambdaClient(clientConfig());
    await lambda.send(
      new InvokeCommand({ FunctionName: stack.outputs.RebuildFunction, Payload: Buffer.from(JSON.stringify({ resume: false })) }),
    );
    expect(await readModel(id)).toMatchObject({ balanceCents: 135, deposits: 2 });
  }, 120_000);

  it('takes snapshots every N events, and they survive a reducer version change (ignored, then taken anew)', async () => {
    const id = acc('snap');
    let { state, version } = await store.load(id);
    for (let i = 0; i < 12; i++) {
      await store.append(id, version, [i === 0 ? opened('snap') : deposit(10)], { state });
      ({ state, version } = await store.load(id));
    }
    expect(await store.load(id)).toMatchObject({ version: 12, snapshotVersion: 10, eventsRead: 2 });

    const v2: Reducer<Account> = {
      version: 2,
      initial: accountReducer.initial,
      apply: (s, e) =>
        e.type === 'Deposited'
          ? { ...s, balanceCents: s.balanceCents + 2 * (e.data as { amountCents: number }).amountCents, transactions: s.transactions + 1 }
          : accountReducer.apply(s, e),
    };
    const store2 = newStore(v2);
    const fresh = await store2.load(id);
    expect(fresh).toMatchObject({ version: 12, eventsRead: 12, state: { balanceCents: 220 } });
    expect(fresh.snapshotVersion).toBeUndefined();
    await store2.append(id, 12, [deposit(1), deposit(1), deposit(1)], { state: fresh.state });
    expect(await store2.load(id)).toMatchObject({ version: 15, snapshotVersion: 15, eventsRead: 0, state: { balanceCents: 226 } });
    expect(await store.load(id)).toMatchObject({ version: 15, snapshotVersion: 10, state: { balanceCents: 113 } });
  }, 120_000);

  it('offloads a payload above the item limit to S3, and every reader gets it back', async () => {
    const id = acc('large');
    const note = 'n'.repeat(400_000);
    await store.append(id, 0, [opened('large'), { type: 'Annotated', data: { note } }]);
    const raw = await ddb.send(
      new GetItemCommand({ TableName: stack.outputs.EventTable, Key: marshall({ pk: id, sk: 2 }), ConsistentRead: true }),
    );
    expect(JSON.parse(String(unmarshall(raw.Item!).data))).toEqual({
      claimCheck: expect.objectContaining({ bucket: stack.outputs.PayloadBucket }),
    });
    expect(((await store.readEvents(id))[1].data as { note: string }).note).toHaveLength(400_000);
    await projected([id]); // the projector reads the payload from S3 too
    expect(await readModel(id)).toMatchObject({ owner: 'large', eventIds: expect.arrayContaining([expect.any(String)]) });
  }, 120_000);

  it('distributes the appended events through the outbox, with the same event ids', async () => {
    const id = acc('dist');
    const result = await store.append(id, 0, [opened('dist'), deposit(7)], { commandId: 'open' });
    const seen = new Map<string, string>();
    await waitFor(
      'the events to be distributed',
      async () => {
        for (const m of await drain(sqsClient(), stack.outputs.DistributedUrl)) {
          const e = outboxEnvelope({ body: m.Body! });
          if (e) seen.set(e.eventId, `${e.aggregateId}#${String(e.sequence)}`);
        }
        return result.eventIds.every((e) => seen.has(e)) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    expect(result.eventIds.map((e) => seen.get(e))).toEqual([`${id}#1`, `${id}#2`]);
    // A duplicate command appends and distributes nothing.
    expect(await store.append(id, 2, [deposit(7)], { commandId: 'open' })).toMatchObject({
      status: 'duplicate',
      eventIds: result.eventIds,
    });
  }, 120_000);
});
