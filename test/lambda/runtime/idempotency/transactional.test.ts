import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  IdempotencyConfigurationError,
  IdempotencyEffectConditionError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyPayloadMismatchError,
  IdempotencyPersistenceError,
  TransactionalIdempotency,
  type TransactionalEffect,
} from '../../../../lambda/runtime/idempotency';
import { processSqsBatch } from '../../../../lambda/runtime/batch';
import { recordId } from '../../../../lambda/runtime/idempotency/key';
import { lambdaContext, sqsEvent, sqsRecord } from '../../../helpers/events';
import { ScriptedClient, cancelled, fails, marshalled, ok } from './scripted-client';

const TABLE = 'idem';
const effect = (n = 1): TransactionalEffect<{ n: number }> => ({
  items: [
    { Update: { TableName: 'effects', Key: { pk: 'counter' }, UpdateExpression: 'ADD n :n', ExpressionAttributeValues: { ':n': n } } },
  ],
  result: { n },
});
const make = (client: ScriptedClient, extra: Record<string, unknown> = {}) =>
  new TransactionalIdempotency({ tableName: TABLE, client: client.client, keyPrefix: 'payments', ...extra });
const completed = (id: string, extra: Record<string, unknown> = {}) =>
  marshalled({ id, status: 'COMPLETED', expiration: Math.round(Date.now() / 1000) + 3600, data: { n: 1 }, ...extra });

describe('Class: TransactionalIdempotency', () => {
  describe('Method: applyOnce', () => {
    it('commits the idempotency record and the effect in one TransactWriteItems request', async () => {
      // Prepare
      const client = new ScriptedClient([ok()]);
      const record = sqsRecord({ a: 1 }, { id: 'm-1' });
      // Act
      const outcome = await make(client).applyOnce(record, effect(5));
      // Assess
      expect(client.names()).toEqual(['TransactWriteItemsCommand']);
      const items = client.sent[0].input.TransactItems;
      expect(items).toHaveLength(2);
      const put = items[0].Put;
      expect(put.TableName).toBe(TABLE);
      const stored = unmarshall(put.Item);
      expect(stored).toEqual({
        id: recordId('payments', 'm-1', 'md5'),
        status: 'COMPLETED',
        expiration: expect.any(Number),
        data: { n: 5 },
      });
      expect(stored.expiration - Date.now() / 1000).toBeGreaterThan(3590);
      expect(put.ConditionExpression).toMatch(/^attribute_not_exists\(#id\) OR #expiry < :now OR \(#status = :inprogress/);
      expect(put.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
      expect(items[1].Update.Key).toEqual({ pk: { S: 'counter' } });
      expect(items[1].Update.ExpressionAttributeValues).toEqual({ ':n': { N: '5' } });
      expect(outcome).toEqual({ status: 'applied', idempotencyKey: recordId('payments', 'm-1', 'md5'), result: { n: 5 } });
    });

    it('commits the record alone when an effect builder returns nothing (plain JavaScript callers)', async () => {
      const client = new ScriptedClient([ok()]);
      const nothing = (() => undefined) as unknown as () => TransactionalEffect<unknown>;
      const outcome = await make(client).applyOnce(sqsRecord({ a: 1 }, { id: 'm-1' }), nothing);
      expect(client.sent[0].input.TransactItems).toHaveLength(1);
      expect(outcome).toEqual({ status: 'applied', idempotencyKey: recordId('payments', 'm-1', 'md5'), result: undefined });
    });

    it('acknowledges a duplicate (the record condition failed) with the stored result, in one request', async () => {
      const id = recordId('payments', 'm-1', 'md5');
      const client = new ScriptedClient([
        cancelled({ Code: 'ConditionalCheckFailed', Item: completed(id, { data: { n: 42 } }) }, { Code: 'None' }),
      ]);
      const outcome = await make(client).applyOnce(sqsRecord({}, { id: 'm-1' }), effect());
      expect(outcome).toEqual({ status: 'duplicate', idempotencyKey: id, result: { n: 42 } });
      expect(client.sent).toHaveLength(1);
    });

    it('reads the record when the cancellation carries no item', async () => {
      const id = recordId('payments', 'm-1', 'md5');
      const client = new ScriptedClient([cancelled({ Code: 'ConditionalCheckFailed' }), () => ({ Item: completed(id) })]);
      const outcome = await make(client).applyOnce(sqsRecord({}, { id: 'm-1' }), effect());
      expect(outcome.status).toBe('duplicate');
      expect(client.names()).toEqual(['TransactWriteItemsCommand', 'GetItemCommand']);
      expect(client.sent[1].input.ConsistentRead).toBe(true);
    });

    it('throws IdempotencyInProgressError when a lock-mode consumer holds the key', async () => {
      const id = recordId('payments', 'm-1', 'md5');
      const lockExpiry = Date.now() + 10_000;
      const client = new ScriptedClient([
        cancelled({
          Code: 'ConditionalCheckFailed',
          Item: marshalled({ id, status: 'INPROGRESS', expiration: 9e9, in_progress_expiration: lockExpiry }),
        }),
      ]);
      const error = await make(client)
        .applyOnce(sqsRecord({}, { id: 'm-1' }), effect())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyInProgressError);
      expect(error).toBeInstanceOf(IdempotencyError);
      expect(error).toMatchObject({ name: 'IdempotencyInProgressError', idempotencyKey: id, inProgressExpiresAt: lockExpiry });
      expect((error as Error).cause).toMatchObject({ name: 'TransactionCanceledException' });
    });

    it('validates the payload of a duplicate: same key, different payload is an IdempotencyPayloadMismatchError', async () => {
      // Prepare: the first message stored its payload hash.
      const first = new ScriptedClient([ok()]);
      await make(first, { payloadSelector: 'body' }).applyOnce(sqsRecord({ amount: 1 }, { id: 'm-1' }), effect());
      const storedHash = unmarshall(first.sent[0].input.TransactItems[0].Put.Item).validation as string;
      expect(storedHash).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const id = recordId('payments', 'm-1', 'md5');
      const answer = cancelled({ Code: 'ConditionalCheckFailed', Item: completed(id, { validation: storedHash }) });
      // Act + Assess: the same payload is a duplicate, another payload is rejected.
      const same = await make(new ScriptedClient([answer]), { payloadSelector: 'body' }).applyOnce(
        sqsRecord({ amount: 1 }, { id: 'm-1' }),
        effect(),
      );
      expect(same.status).toBe('duplicate');
      const error = await make(new ScriptedClient([answer]), { payloadSelector: 'body' })
        .applyOnce(sqsRecord({ amount: 2 }, { id: 'm-1' }), effect())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyPayloadMismatchError);
      expect(error).toMatchObject({ storedPayloadHash: storedHash, idempotencyKey: id });
      expect((error as IdempotencyPayloadMismatchError).payloadHash).not.toBe(storedHash);
    });

    it("reports which effect item's condition failed, with the item, as IdempotencyEffectConditionError", async () => {
      const client = new ScriptedClient([
        cancelled(
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: marshalled({ pk: 'acct', balance: 3 }) },
        ),
      ]);
      const twoItems: TransactionalEffect = {
        items: [
          ...effect().items,
          {
            ConditionCheck: {
              TableName: 'effects',
              Key: { pk: 'acct' },
              ConditionExpression: 'balance >= :a',
              ExpressionAttributeValues: { ':a': 5 },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      };
      const error = await make(client)
        .applyOnce(sqsRecord({}), twoItems)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyEffectConditionError);
      expect(error).toMatchObject({ itemIndex: 1, reasonCode: 'ConditionalCheckFailed', item: { pk: 'acct', balance: 3 } });
      expect(error).toMatchObject({ retryable: false, context: { itemIndex: 1, reasonCode: 'ConditionalCheckFailed' } });
      expect((error as Error).message).toMatch(
        /effect item 1 was rejected \(ConditionalCheckFailed: The conditional request failed\); nothing was written/,
      );
    });

    it('retries a transaction cancelled by a conflict, then succeeds', async () => {
      const client = new ScriptedClient([cancelled({ Code: 'TransactionConflict' }, { Code: 'None' }), ok()]);
      const outcome = await make(client).applyOnce(sqsRecord({}), effect());
      expect(outcome.status).toBe('applied');
      expect(client.names()).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    });

    it('gives up after maxAttempts with IdempotencyPersistenceError listing the reasons', async () => {
      const conflict = cancelled({ Code: 'None' }, { Code: 'TransactionConflict' });
      const client = new ScriptedClient([conflict, conflict]);
      const error = await make(client, { maxAttempts: 2 })
        .applyOnce(sqsRecord({}), effect())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyPersistenceError);
      expect(error).toMatchObject({ operation: 'TransactWriteItems', retryable: true, context: { operation: 'TransactWriteItems' } });
      expect((error as IdempotencyPersistenceError).context.idempotencyKey).toMatch(/#/);
      expect((error as Error).message).toBe(
        'TransactWriteItems failed: transaction cancelled after 2 attempt(s) [None, TransactionConflict]',
      );
      expect(client.sent).toHaveLength(2);
    });

    it('wraps any other DynamoDB error in IdempotencyPersistenceError with the cause', async () => {
      const denied = Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), { name: 'AccessDeniedException' });
      const error = await make(new ScriptedClient([fails(denied)]))
        .applyOnce(sqsRecord({}), effect())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyPersistenceError);
      expect((error as Error).cause).toBe(denied);
      expect((error as Error).message).toMatch(/^TransactWriteItems failed: User is not authorized/);
    });

    it('answers a duplicate from the local cache without any request, and builds no effect for it', async () => {
      const client = new ScriptedClient([ok()]);
      const idem = make(client, { useLocalCache: true });
      const build = jest.fn(() => effect(7));
      await idem.applyOnce(sqsRecord({}, { id: 'm-1' }), build);
      const second = await idem.applyOnce(sqsRecord({}, { id: 'm-1' }), build);
      expect(second).toMatchObject({ status: 'duplicate', result: { n: 7 } });
      expect(client.sent).toHaveLength(1);
      expect(build).toHaveBeenCalledTimes(1);
    });

    it('keeps at most maxLocalCacheSize records in the local cache, evicting the least recently used', async () => {
      const id1 = recordId('payments', 'm-1', 'md5');
      const client = new ScriptedClient([
        ok(),
        ok(),
        cancelled({ Code: 'ConditionalCheckFailed', Item: completed(id1) }, { Code: 'None' }),
      ]);
      const idem = make(client, { useLocalCache: true, maxLocalCacheSize: 1 });
      await idem.applyOnce(sqsRecord({}, { id: 'm-1' }), effect());
      await idem.applyOnce(sqsRecord({}, { id: 'm-2' }), effect()); // evicts m-1
      expect(await idem.applyOnce(sqsRecord({}, { id: 'm-2' }), effect())).toMatchObject({ status: 'duplicate' });
      expect(client.sent).toHaveLength(2); // m-2's duplicate came from the cache
      expect(await idem.applyOnce(sqsRecord({}, { id: 'm-1' }), effect())).toMatchObject({ status: 'duplicate' });
      expect(client.sent).toHaveLength(3); // m-1's had to ask DynamoDB
    });

    it('writes the record alone for an effect with no items (process-once marker)', async () => {
      const client = new ScriptedClient([ok()]);
      await make(client).applyOnce(sqsRecord({}), { items: [] });
      expect(client.sent[0].input.TransactItems).toHaveLength(1);
    });

    it('fails if the effect has more than 99 items', async () => {
      const items = Array.from({ length: 100 }, () => effect().items[0]);
      await expect(make(new ScriptedClient()).applyOnce(sqsRecord({}), { items })).rejects.toThrow(
        /effect.items: must be an array of at most 99 writes.*\(given 100\)/,
      );
    });

    it('fails if an effect item has no operation or two', async () => {
      const idem = make(new ScriptedClient());
      await expect(idem.applyOnce(sqsRecord({}), { items: [{}] })).rejects.toThrow(
        /item 0 must have exactly one of ConditionCheck, Put, Update, Delete \(given none\)/,
      );
      const two = { Put: { TableName: 't', Item: { pk: 'a' } }, Delete: { TableName: 't', Key: { pk: 'a' } } };
      await expect(idem.applyOnce(sqsRecord({}), { items: [two] })).rejects.toThrow(IdempotencyConfigurationError);
    });
  });

  describe('Method: makeIdempotent', () => {
    it('passes the record and the rest of the arguments to the builder', async () => {
      const client = new ScriptedClient([ok()]);
      const seen: unknown[] = [];
      const ctx = lambdaContext();
      const fn = make(client).makeIdempotent((record: { messageId: string }, context: unknown) => {
        seen.push(record.messageId, context);
        return effect();
      });
      const outcome = await fn(sqsRecord({}, { id: 'm-9' }), ctx);
      expect(seen).toEqual(['m-9', ctx]);
      expect(outcome.status).toBe('applied');
    });

    it('in a batch: a duplicate is acknowledged, a failure is reported in batchItemFailures', async () => {
      // Prepare: m-1 new, m-2 a duplicate, m-3's effect rejected.
      const id2 = recordId('payments', 'm-2', 'md5');
      const client = new ScriptedClient([
        ok(),
        cancelled({ Code: 'ConditionalCheckFailed', Item: completed(id2) }, { Code: 'None' }),
        cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }),
      ]);
      const records = ['m-1', 'm-2', 'm-3'].map((id) => sqsRecord({}, { id }));
      const outcomes: string[] = [];
      const handle = make(client).makeIdempotent(() => effect());
      // Act
      const response = await processSqsBatch(sqsEvent(records), async (r) => void outcomes.push((await handle(r)).status), {
        processInParallel: false,
        logger: null,
      });
      // Assess
      expect(outcomes).toEqual(['applied', 'duplicate']);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-3' }]);
    });

    it('in a FIFO batch: a duplicate keeps its group going, a failure skips the rest of its group', async () => {
      const dup = recordId('payments', 'a1', 'md5');
      const client = new ScriptedClient([
        cancelled({ Code: 'ConditionalCheckFailed', Item: completed(dup) }), // a1 duplicate
        cancelled({ Code: 'None' }, { Code: 'ValidationError', Message: 'bad' }), // b1 fails
        ok(), // a2
      ]);
      const records = [
        sqsRecord({}, { id: 'a1', fifo: true, groupId: 'A' }),
        sqsRecord({}, { id: 'b1', fifo: true, groupId: 'B' }),
        sqsRecord({}, { id: 'a2', fifo: true, groupId: 'A' }),
        sqsRecord({}, { id: 'b2', fifo: true, groupId: 'B' }),
      ];
      const handle = make(client).makeIdempotent(() => effect());
      const response = await processSqsBatch(sqsEvent(records), handle, { logger: null });
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'b1' }, { itemIdentifier: 'b2' }]);
      expect(client.sent).toHaveLength(3); // b2 was never attempted
    });
  });

  describe('configuration', () => {
    const saved = process.env.IDEMPOTENCY_TABLE_NAME;
    afterEach(() => {
      if (saved === undefined) delete process.env.IDEMPOTENCY_TABLE_NAME;
      else process.env.IDEMPOTENCY_TABLE_NAME = saved;
    });

    it('reads the table name from IDEMPOTENCY_TABLE_NAME', async () => {
      process.env.IDEMPOTENCY_TABLE_NAME = 'from-env';
      const client = new ScriptedClient([ok()]);
      await new TransactionalIdempotency({ client: client.client }).applyOnce(sqsRecord({}), effect());
      expect(client.sent[0].input.TransactItems[0].Put.TableName).toBe('from-env');
    });

    it('fails if no table name is known', () => {
      delete process.env.IDEMPOTENCY_TABLE_NAME;
      expect(() => new TransactionalIdempotency()).toThrow(
        /tableName: no idempotency table: pass tableName or set the IDEMPOTENCY_TABLE_NAME environment variable/,
      );
    });

    it('fails if expiresAfterSeconds, maxLocalCacheSize, hashFunction, keyPrefix or maxAttempts are invalid, naming the value', () => {
      expect(() => new TransactionalIdempotency({ tableName: 'idem', expiresAfterSeconds: 0 })).toThrow(
        /expiresAfterSeconds: must be a positive whole number of seconds \(given 0\)/,
      );
      expect(() => new TransactionalIdempotency({ tableName: 'idem', maxLocalCacheSize: 1.5 })).toThrow(
        /maxLocalCacheSize: .*\(given 1.5\)/,
      );
      expect(() => new TransactionalIdempotency({ tableName: 'idem', hashFunction: 'nope' })).toThrow(
        /hashFunction: is not a hash function Node.js knows \(given 'nope'\)/,
      );
      expect(() => new TransactionalIdempotency({ tableName: 'idem', keyPrefix: 'a#b' })).toThrow(
        /keyPrefix: must be non-empty and contain no '#' \(given 'a#b'\)/,
      );
      expect(() => new TransactionalIdempotency({ tableName: 'idem', maxAttempts: 0 })).toThrow(
        /maxAttempts: must be a whole number between 1 and 10 \(given 0\)/,
      );
      expect(() => new TransactionalIdempotency({ tableName: 'idem', keySelector: 'a.[' })).toThrow(IdempotencyConfigurationError);
    });

    it.each([
      ['tableName', { tableName: 'my table' }, /tableName: must be a DynamoDB table name .* \(given 'my table'\)/],
      ['tableName', { tableName: 'ab' }, /\(given 'ab'\)/],
      ['client', { tableName: 'idem', client: {} }, /client: must be an AWS SDK v3 client/],
      ['useLocalCache', { tableName: 'idem', useLocalCache: 'yes' }, /useLocalCache: must be true or false \(given 'yes'\)/],
    ])('fails with IdempotencyConfigurationError for a bad %s, naming the value', (option, options, message) => {
      const make = () => new TransactionalIdempotency(options as never);
      expect(make).toThrow(message);
      expect(make).toThrow(expect.objectContaining({ name: 'IdempotencyConfigurationError', option, retryable: false }));
    });

    it('accepts a table ARN, and checks the name read from IDEMPOTENCY_TABLE_NAME', () => {
      expect(
        () =>
          new TransactionalIdempotency({
            tableName: 'arn:aws:dynamodb:us-east-1:111122223333:table/idem',
            client: new ScriptedClient().client,
          }),
      ).not.toThrow();
      process.env.IDEMPOTENCY_TABLE_NAME = 'https://dynamodb/idem';
      expect(() => new TransactionalIdempotency()).toThrow(/IDEMPOTENCY_TABLE_NAME: must be a DynamoDB table name/);
    });

    it('defaults the key prefix to the function name', async () => {
      const saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'my-fn';
      try {
        const idem = new TransactionalIdempotency({ tableName: 'idem', client: new ScriptedClient().client });
        expect(idem.idempotencyKeyOf(sqsRecord({}, { id: 'x' }))).toBe(recordId('my-fn', 'x', 'md5'));
      } finally {
        if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
        else process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
      }
    });
  });
});
