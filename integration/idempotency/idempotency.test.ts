/**
 * The idempotency run-time library against real (emulated) DynamoDB: an IdempotencyTable deployed
 * with cdklocal (customer managed key, on-demand, TTL) and an effects table. Both
 * modes, concurrency across independent clients (as separate Lambda environments would be),
 * lock release and expiry, payload validation, effect conditions, and one table shared by
 * transactional mode, lock mode and plain Powertools.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { IdempotencyTable } from '../../lib';
import {
  IdempotencyEffectConditionError,
  IdempotencyInProgressError,
  IdempotencyPayloadMismatchError,
  LockIdempotency,
  TransactionalIdempotency,
  type TransactionalEffect,
} from '../../lambda/runtime/idempotency';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';
import { sleep, waitFor } from '../harness/wait';
import { lambdaContext } from './context';

describe('Idempotency run-time library against DynamoDB in the emulator', () => {
  let stack: DeployedStack;
  let ddb: DynamoDBClient;
  let idemTable: string;
  let effects: string;
  let run = 0;
  /** A fresh key prefix per test: tests never see each other's records. */
  let prefix: string;
  beforeEach(() => {
    prefix = `t${Date.now().toString(36)}${run++}`;
  });

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('idempotency', (s) => {
      // A customer managed key: needs the uuid5 shim of scripts/localstack/py311_compat.py on a
      // Python 3.11 host-mode LocalStack (its KMS CreateKey calls uuid.uuid5 with bytes, a 3.12 feature).
      const table = new IdempotencyTable(s, 'Idempotency', {
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const fx = new dynamodb.Table(s, 'Effects', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      new CfnOutput(s, 'IdempotencyTableName', { value: table.tableName });
      new CfnOutput(s, 'EffectsTableName', { value: fx.tableName });
    });
    ddb = new DynamoDBClient(clientConfig());
    idemTable = stack.outputs.IdempotencyTableName;
    effects = stack.outputs.EffectsTableName;
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  const transactional = (extra: Record<string, unknown> = {}) =>
    new TransactionalIdempotency({ tableName: idemTable, client: new DynamoDBClient(clientConfig()), keyPrefix: prefix, ...extra });
  const lock = (extra: Record<string, unknown> = {}) =>
    new LockIdempotency({ tableName: idemTable, client: new DynamoDBClient(clientConfig()), keyPrefix: prefix, ...extra });
  const increment = (pk: string, by = 1): TransactionalEffect<{ by: number }> => ({
    items: [{ Update: { TableName: effects, Key: { pk }, UpdateExpression: 'ADD n :by', ExpressionAttributeValues: { ':by': by } } }],
    result: { by },
  });
  const counter = async (pk: string): Promise<number | undefined> => {
    const res = await ddb.send(new GetItemCommand({ TableName: effects, Key: marshall({ pk }), ConsistentRead: true }));
    return res.Item ? (unmarshall(res.Item).n as number) : undefined;
  };
  const idemRecord = async (id: string) => {
    const res = await ddb.send(new GetItemCommand({ TableName: idemTable, Key: marshall({ id }), ConsistentRead: true }));
    return res.Item ? unmarshall(res.Item) : undefined;
  };

  it('deploys the IdempotencyTable with its key schema, on-demand billing, customer managed key and TTL', async () => {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: idemTable }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.SSEDescription).toMatchObject({
      Status: 'ENABLED',
      SSEType: 'KMS',
      KMSMasterKeyArn: expect.stringMatching(/^arn:aws:kms:/),
    });
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: idemTable }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiration' });
    // Point-in-time recovery is in the template (unit tests) but not checked here: LocalStack
    // 4.13.1's AWS::DynamoDB::Table provider (services/dynamodb/resource_providers/
    // aws_dynamodb_table.py, create) never calls UpdateContinuousBackups, nor applies
    // DeletionProtectionEnabled, so both read as off in the emulator whatever the template says.
  });

  describe('transactional mode', () => {
    it('commits the record and the effect together; a duplicate writes nothing and gets the stored result', async () => {
      const idem = transactional();
      const first = await idem.applyOnce({ idempotencyKey: 'k1' }, increment(`${prefix}-c1`, 5));
      const second = await idem.applyOnce({ idempotencyKey: 'k1' }, increment(`${prefix}-c1`, 7));
      expect(first).toMatchObject({ status: 'applied', result: { by: 5 } });
      expect(second).toMatchObject({ status: 'duplicate', result: { by: 5 } });
      expect(await counter(`${prefix}-c1`)).toBe(5);
      const rec = await idemRecord(first.idempotencyKey);
      expect(rec).toMatchObject({ id: first.idempotencyKey, status: 'COMPLETED', data: { by: 5 } });
      expect(Number(rec?.expiration) - Date.now() / 1000).toBeGreaterThan(3500);
    });

    it('applies once when 16 independent clients race on the same key', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 16 }, (_, i) => transactional().applyOnce({ idempotencyKey: 'race' }, increment(`${prefix}-race`, i + 1))),
      );
      const applied = outcomes.filter((o) => o.status === 'applied');
      expect(applied).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(15);
      expect(await counter(`${prefix}-race`)).toBe(applied[0].result!.by);
      for (const o of outcomes) expect(o.result).toEqual(applied[0].result); // every duplicate got the winner's result
    });

    it('writes nothing, not even the record, when an effect condition fails; the corrected retry applies', async () => {
      const idem = transactional();
      const guarded: TransactionalEffect = {
        items: [
          ...increment(`${prefix}-g`).items,
          { ConditionCheck: { TableName: effects, Key: { pk: `${prefix}-guard` }, ConditionExpression: 'attribute_exists(pk)' } },
        ],
      };
      const error = await idem.applyOnce({ idempotencyKey: 'g' }, guarded).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyEffectConditionError);
      expect((error as IdempotencyEffectConditionError).itemIndex).toBe(1);
      expect(await counter(`${prefix}-g`)).toBeUndefined();
      expect(await idemRecord(idem.idempotencyKeyOf({ idempotencyKey: 'g' }))).toBeUndefined();
      await ddb.send(new PutItemCommand({ TableName: effects, Item: marshall({ pk: `${prefix}-guard` }) }));
      await expect(idem.applyOnce({ idempotencyKey: 'g' }, guarded)).resolves.toMatchObject({ status: 'applied' });
      expect(await counter(`${prefix}-g`)).toBe(1);
    });

    it('rejects the same key with another payload when payload validation is on', async () => {
      const idem = transactional({ payloadSelector: 'payload' });
      await idem.applyOnce({ idempotencyKey: 'p', payload: { amount: 1 } }, increment(`${prefix}-p`));
      await expect(idem.applyOnce({ idempotencyKey: 'p', payload: { amount: 1 } }, increment(`${prefix}-p`))).resolves.toMatchObject({
        status: 'duplicate',
      });
      await expect(idem.applyOnce({ idempotencyKey: 'p', payload: { amount: 2 } }, increment(`${prefix}-p`))).rejects.toBeInstanceOf(
        IdempotencyPayloadMismatchError,
      );
      expect(await counter(`${prefix}-p`)).toBe(1);
    });

    it('forgets a key after expiresAfterSeconds', async () => {
      const idem = transactional({ expiresAfterSeconds: 1 });
      const first = await idem.applyOnce({ idempotencyKey: 'e' }, increment(`${prefix}-e`));
      const expiration = Number((await idemRecord(first.idempotencyKey))?.expiration);
      await waitFor('the record to expire', async () => (Date.now() / 1000 > expiration ? true : undefined), {
        timeoutMs: 5000,
        intervalMs: 100,
      });
      await expect(idem.applyOnce({ idempotencyKey: 'e' }, increment(`${prefix}-e`))).resolves.toMatchObject({ status: 'applied' });
      expect(await counter(`${prefix}-e`)).toBe(2);
    }, 15_000);
  });

  describe('lock mode', () => {
    it('runs the function once when 8 independent clients race; the others see the lock, later calls the stored result', async () => {
      let runs = 0;
      const effect = async () => {
        runs += 1;
        await sleep(400);
        return { published: runs };
      };
      const settled = await Promise.allSettled(
        Array.from({ length: 8 }, () => lock().makeIdempotent(effect)({ idempotencyKey: 'L' }, lambdaContext(10_000))),
      );
      expect(runs).toBe(1);
      const fulfilled = settled.filter((s) => s.status === 'fulfilled');
      expect(fulfilled).toHaveLength(1);
      for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(IdempotencyInProgressError);
      const later = await lock().makeIdempotent(effect)({ idempotencyKey: 'L' }, lambdaContext());
      expect(later).toMatchObject({ status: 'duplicate', result: { published: 1 } });
      expect(runs).toBe(1);
    });

    it('releases the lock when the function fails, so the retry runs', async () => {
      const idem = lock();
      let attempts = 0;
      const flaky = idem.makeIdempotent(async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('downstream unavailable');
        return 'ok';
      });
      await expect(flaky({ idempotencyKey: 'R' }, lambdaContext())).rejects.toThrow('downstream unavailable');
      expect(await idemRecord(idem.idempotencyKeyOf({ idempotencyKey: 'R' }))).toBeUndefined();
      await expect(flaky({ idempotencyKey: 'R' }, lambdaContext())).resolves.toMatchObject({ status: 'applied', result: 'ok' });
      expect(attempts).toBe(2);
    });

    it('takes over a lock whose holder died (in-progress expiry passed), and not one that is still live', async () => {
      const idem = lock();
      const id = idem.idempotencyKeyOf({ idempotencyKey: 'D' });
      const abandoned = (inProgressExpiresAt: number) =>
        ddb.send(
          new PutItemCommand({
            TableName: idemTable,
            Item: marshall({
              id,
              status: 'INPROGRESS',
              expiration: Math.round(Date.now() / 1000) + 3600,
              in_progress_expiration: inProgressExpiresAt,
            }),
          }),
        );
      await abandoned(Date.now() + 60_000);
      await expect(idem.makeIdempotent(async () => 'mine')({ idempotencyKey: 'D' }, lambdaContext())).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      await abandoned(Date.now() - 1);
      await expect(idem.makeIdempotent(async () => 'mine')({ idempotencyKey: 'D' }, lambdaContext())).resolves.toMatchObject({
        status: 'applied',
        result: 'mine',
      });
    });
  });

  describe('one table, three clients', () => {
    it('plain Powertools idempotency sees a transactional record as completed, and returns its result', async () => {
      await transactional().applyOnce({ idempotencyKey: 'shared' }, increment(`${prefix}-s`, 3));
      const persistenceStore = new DynamoDBPersistenceLayer({ tableName: idemTable, awsSdkV3Client: new DynamoDBClient(clientConfig()) });
      const config = new IdempotencyConfig({ eventKeyJmesPath: 'key', lambdaContext: lambdaContext() });
      const powertools = makeIdempotent(async (_e: { key: string }) => ({ by: 99 }), { persistenceStore, config, keyPrefix: prefix });
      await expect(powertools({ key: 'shared' })).resolves.toEqual({ by: 3 });
    });

    it('transactional mode waits for (fails on) a key locked by lock mode', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const locker = lock();
      const holding = locker.makeIdempotent(async () => held)({ idempotencyKey: 'mixed' }, lambdaContext());
      const id = locker.idempotencyKeyOf({ idempotencyKey: 'mixed' });
      await waitFor('the lock', async () => ((await idemRecord(id))?.status === 'INPROGRESS' ? true : undefined), {
        timeoutMs: 5000,
        intervalMs: 50,
      });
      await expect(transactional().applyOnce({ idempotencyKey: 'mixed' }, increment(`${prefix}-m`))).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      release();
      await holding;
      await expect(transactional().applyOnce({ idempotencyKey: 'mixed' }, increment(`${prefix}-m`))).resolves.toMatchObject({
        status: 'duplicate',
      });
      expect(await counter(`${prefix}-m`)).toBeUndefined();
    });
  });
});
