/**
 * `npm run bench`: DynamoDB requests and write capacity per message, side by side, in one run:
 *
 *   (a)  this library, transactional mode: idempotency record + effect in one TransactWriteItems
 *   (a+) the same with the local cache (a duplicate reaching the same execution environment)
 *   (b)  Powertools idempotency (makeIdempotent + DynamoDBPersistenceLayer) around a separate effect write
 *   (c)  no idempotency: the effect write alone (the baseline)
 *
 * Paths: happy (new messages), duplicate (the same messages again), and "error after the effect"
 * (the effect was written, then the handler failed, then the message was retried).
 *
 * Requests are counted by an SDK middleware on the client each variant uses (every command the
 * library or Powertools sends). Capacity: what the emulator returns for ReturnConsumedCapacity=TOTAL
 * (moto: constants, see the notes printed), and the capacity AWS documents for items under 1 KB.
 *
 * Run by scripts/bench.mjs (which bundles this file and makes sure LocalStack runs).
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { TransactionalIdempotency } from '../../lambda/runtime/idempotency/transactional';

interface Tally {
  requests: number;
  byOperation: Record<string, number>;
  /** Sum of ConsumedCapacity.CapacityUnits the emulator returned. */
  reportedCapacity: number;
  /** Requests for which the emulator returned no capacity (errors, or operations moto does not report). */
  unreported: number;
  /** Write capacity AWS would charge, items under 1 KB: 1 per standard write (failed conditions too), 2 per transaction item. */
  modelWcu: number;
  /** Read capacity AWS would charge: 1 per strongly consistent read under 4 KB. */
  modelRcu: number;
  ms: number;
}

const newTally = (): Tally => ({ requests: 0, byOperation: {}, reportedCapacity: 0, unreported: 0, modelWcu: 0, modelRcu: 0, ms: 0 });

/** A client whose every request is counted into `current()` and asks for ReturnConsumedCapacity=TOTAL. */
function instrumentedClient(config: DynamoDBClientConfig, current: () => Tally): DynamoDBClient {
  const client = new DynamoDBClient(config);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const tally = current();
      const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      if (!['CreateTable', 'DeleteTable', 'DescribeTable', 'UpdateTimeToLive'].includes(operation)) input.ReturnConsumedCapacity = 'TOTAL';
      tally.requests += 1;
      tally.byOperation[operation] = (tally.byOperation[operation] ?? 0) + 1;
      if (operation === 'TransactWriteItems') tally.modelWcu += 2 * ((input.TransactItems as unknown[]) ?? []).length;
      else if (['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation)) tally.modelWcu += 1;
      else if (operation === 'GetItem') tally.modelRcu += input.ConsistentRead ? 1 : 0.5;
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> })
          .ConsumedCapacity;
        const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
        if (list.length === 0) tally.unreported += 1;
        for (const c of list) tally.reportedCapacity += c.CapacityUnits ?? 0;
        return result;
      } catch (error) {
        tally.unreported += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return client;
}

const context = (): Context =>
  ({ getRemainingTimeInMillis: () => 30_000, functionName: 'bench', awsRequestId: 'bench' }) as unknown as Context;

type Path = 'happy' | 'duplicate' | 'error-after-effect';

interface Variant {
  readonly name: string;
  /** Processes one message; `failAfterEffect` makes the handler fail right after writing the effect. */
  process(messageId: string, failAfterEffect: boolean): Promise<void>;
}

export async function main(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? process.env.LOCALSTACK_ENDPOINT ?? 'http://127.0.0.1:4566';
  const messages = Number(process.env.BENCH_MESSAGES ?? '200');
  const config = { endpoint, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const admin = new DynamoDBClient(config);
  const suffix = Date.now().toString(36);
  const idemTable = `bench-idempotency-${suffix}`;
  const effectsTable = `bench-effects-${suffix}`;

  let tally = newTally();
  const client = instrumentedClient(config, () => tally);

  await admin.send(
    new CreateTableCommand({
      TableName: idemTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  await admin.send(
    new CreateTableCommand({
      TableName: effectsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: idemTable });
  await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: effectsTable });
  await admin.send(
    new UpdateTimeToLiveCommand({ TableName: idemTable, TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true } }),
  );

  try {
    const effectUpdate = (variant: string, messageId: string) => ({
      TableName: effectsTable,
      Key: { pk: `${variant}#${messageId}` },
      UpdateExpression: 'ADD applications :one',
      ExpressionAttributeValues: { ':one': 1 },
    });
    const failure = () => new Error('injected: failed after the effect');

    const transactional = (name: string, useLocalCache: boolean): Variant => {
      const idem = new TransactionalIdempotency({ tableName: idemTable, client, keyPrefix: name, useLocalCache });
      return {
        name,
        async process(messageId, failAfterEffect) {
          await idem.applyOnce({ idempotencyKey: messageId }, { items: [{ Update: effectUpdate(name, messageId) }], result: { ok: true } });
          if (failAfterEffect) throw failure();
        },
      };
    };
    const powertools = (name: string): Variant => {
      const config = new IdempotencyConfig({ eventKeyJmesPath: 'messageId' });
      config.registerLambdaContext(context());
      const once = makeIdempotent(
        async (event: { messageId: string; failAfterEffect: boolean }) => {
          const u = effectUpdate(name, event.messageId);
          await client.send(
            new UpdateItemCommand({ ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) }),
          );
          if (event.failAfterEffect) throw failure();
          return { ok: true };
        },
        { persistenceStore: new DynamoDBPersistenceLayer({ tableName: idemTable, awsSdkV3Client: client }), config, keyPrefix: name },
      );
      return { name, process: async (messageId, failAfterEffect) => void (await once({ messageId, failAfterEffect })) };
    };
    const plain = (name: string): Variant => ({
      name,
      async process(messageId, failAfterEffect) {
        const u = effectUpdate(name, messageId);
        await client.send(
          new UpdateItemCommand({ ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) }),
        );
        if (failAfterEffect) throw failure();
      },
    });
    const variants = [
      transactional('a-transactional', false),
      transactional('a+-local-cache', true),
      powertools('b-powertools'),
      plain('c-baseline'),
    ];

    const results = new Map<string, Map<Path, Tally>>();
    const applications = async (variant: string, prefix: string): Promise<number[]> => {
      const counts: number[] = [];
      let ExclusiveStartKey: Record<string, never> | undefined;
      do {
        const page = await admin.send(new ScanCommand({ TableName: effectsTable, ConsistentRead: true, ExclusiveStartKey }));
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw);
          if (String(item.pk).startsWith(`${variant}#${prefix}`)) counts.push(Number(item.applications));
        }
        ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (ExclusiveStartKey);
      return counts;
    };
    const applied = new Map<string, Record<Path, string>>();

    for (const v of variants) {
      const byPath = new Map<Path, Tally>();
      const appliedByPath = {} as Record<Path, string>;
      const run = async (ids: string[], failAfterEffect: boolean) => {
        tally = newTally();
        const started = performance.now();
        for (const id of ids) await v.process(id, failAfterEffect).catch(() => undefined);
        tally.ms = performance.now() - started;
        return tally;
      };
      const ids = Array.from({ length: messages }, (_, i) => `m${i}`);
      byPath.set('happy', await run(ids, false));
      appliedByPath.happy = describeApplications(await applications(v.name, 'm'), messages);
      byPath.set('duplicate', await run(ids, false));
      appliedByPath.duplicate = describeApplications(await applications(v.name, 'm'), messages);
      // Error after the effect: the first delivery fails right after writing the effect, the retry succeeds.
      const faultIds = Array.from({ length: messages }, (_, i) => `f${i}`);
      const firstTry = await run(faultIds, true);
      const retry = await run(faultIds, false);
      byPath.set('error-after-effect', sum(firstTry, retry));
      appliedByPath['error-after-effect'] = describeApplications(await applications(v.name, 'f'), messages);
      results.set(v.name, byPath);
      applied.set(v.name, appliedByPath);
    }

    printReport(results, applied, messages, endpoint);
    // Sanity for readers of the figures: the middleware saw what the library sent.
    const a = results.get('a-transactional')!.get('happy')!;
    if (a.requests / messages > 1)
      throw new Error(`transactional mode sent ${a.requests / messages} requests per message on the happy path (goal: at most 1)`);
    const read = await admin.send(
      new GetItemCommand({ TableName: effectsTable, Key: marshall({ pk: 'a-transactional#m0' }), ConsistentRead: true }),
    );
    if (Number(unmarshall(read.Item ?? {}).applications) !== 1) throw new Error('transactional mode did not apply m0 exactly once');
  } finally {
    await admin.send(new DeleteTableCommand({ TableName: idemTable })).catch(() => undefined);
    await admin.send(new DeleteTableCommand({ TableName: effectsTable })).catch(() => undefined);
  }
}

function sum(x: Tally, y: Tally): Tally {
  const byOperation = { ...x.byOperation };
  for (const [k, n] of Object.entries(y.byOperation)) byOperation[k] = (byOperation[k] ?? 0) + n;
  return {
    requests: x.requests + y.requests,
    byOperation,
    reportedCapacity: x.reportedCapacity + y.reportedCapacity,
    unreported: x.unreported + y.unreported,
    modelWcu: x.modelWcu + y.modelWcu,
    modelRcu: x.modelRcu + y.modelRcu,
    ms: x.ms + y.ms,
  };
}

function describeApplications(counts: number[], messages: number): string {
  const once = counts.filter((n) => n === 1).length;
  const twice = counts.filter((n) => n > 1).length;
  return `${once}/${messages} once${twice ? `, ${twice} twice` : ''}`;
}

function printReport(
  results: Map<string, Map<Path, Tally>>,
  applied: Map<string, Record<Path, string>>,
  messages: number,
  endpoint: string,
): void {
  const f = (n: number, d = 2) => n.toFixed(d);
  const base = results.get('c-baseline')!;
  const lines: string[] = [];
  lines.push(`Idempotency bench: ${messages} messages per path, one variant after the other, against ${endpoint} (DynamoDB: moto)`);
  for (const path of ['happy', 'duplicate', 'error-after-effect'] as Path[]) {
    lines.push('');
    lines.push(
      `${path} path${path === 'duplicate' ? ' (the same messages again)' : path === 'error-after-effect' ? ' (effect written, handler fails, message retried; per message, both attempts)' : ' (new messages)'}`,
    );
    lines.push(
      `  ${'variant'.padEnd(17)}${'req/msg'.padStart(9)}${'x (c)'.padStart(7)}${'WCU/msg*'.padStart(10)}${'x (c)'.padStart(7)}${'RCU/msg*'.padStart(10)}${'moto CU/msg'.padStart(20)}${'ms/msg'.padStart(8)}  ${'effect applied'.padEnd(22)}  requests per message by operation`,
    );
    const b = base.get(path)!;
    for (const [name, byPath] of results) {
      const t = byPath.get(path)!;
      const ops =
        Object.entries(t.byOperation)
          .map(([op, n]) => `${op} ${f(n / messages, 1)}`)
          .join(', ') || '-';
      const moto = `${f(t.reportedCapacity / messages)}${t.unreported ? ` (${t.unreported} n/r)` : ''}`;
      lines.push(
        `  ${name.padEnd(17)}${f(t.requests / messages).padStart(9)}${f(b.requests ? t.requests / b.requests : 0).padStart(7)}${f(t.modelWcu / messages).padStart(10)}${f(b.modelWcu ? t.modelWcu / b.modelWcu : 0).padStart(7)}${f(t.modelRcu / messages).padStart(10)}${moto.padStart(20)}${f(t.ms / messages, 1).padStart(8)}  ${applied.get(name)![path].padEnd(22)}  ${ops}`,
      );
    }
  }
  lines.push('');
  lines.push(
    '* WCU/RCU: what AWS documents for items under 1 KB: 1 WCU per PutItem/UpdateItem/DeleteItem (a failed condition is charged too),',
  );
  lines.push(
    '  2 WCU per TransactWriteItems item, 1 RCU per strongly consistent GetItem. A cancelled transaction (the duplicate path of (a)) is',
  );
  lines.push('  counted like a committed one: an upper bound, AWS does not document its charge.');
  lines.push(
    '  moto CU: ConsumedCapacity as the emulator returns it. moto answers constants, not sizes: PutItem and DeleteItem 1.0, GetItem and',
  );
  lines.push(
    '  UpdateItem 0.5, TransactWriteItems an empty list, failed requests nothing ("n/r": requests with no capacity reported). Not AWS figures.',
  );
  lines.push('  ms/msg: sequential latency in the emulator on this machine, not an AWS figure. moto deep-copies every table a transaction');
  lines.push('  touches (to roll back; moto/dynamodb/models/__init__.py transact_write_items), so (a) slows down as the tables grow here.');
  console.log(lines.join('\n'));
}
