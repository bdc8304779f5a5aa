import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  IdempotencyConfigurationError,
  IdempotencyInProgressError,
  IdempotencyPayloadMismatchError,
  IdempotencyPersistenceError,
  LockIdempotency,
  MessagingPatternsRuntimeError,
  TransactionalIdempotency,
  isRetryable,
} from '../../../../lambda/runtime/idempotency';
import { processSqsBatch } from '../../../../lambda/runtime/batch';
import { recordId } from '../../../../lambda/runtime/idempotency/key';
import { lambdaContext, sqsEvent, sqsRecord } from '../../../helpers/events';
import { type Answer, ScriptedClient, conditionFailed, fails, ok } from './scripted-client';

const make = (client: ScriptedClient, extra: Record<string, unknown> = {}) =>
  new LockIdempotency({ tableName: 'idem', client: client.client, keyPrefix: 'notifier', ...extra });
const future = () => Math.round(Date.now() / 1000) + 3600;

describe('Class: LockIdempotency', () => {
  describe('Method: makeIdempotent', () => {
    it('locks the key with an INPROGRESS record expiring with the invocation, runs the function, stores its result', async () => {
      // Prepare
      const client = new ScriptedClient([ok(), ok()]);
      const fn = jest.fn(async (r: { messageId: string }) => ({ sent: r.messageId }));
      const once = make(client).makeIdempotent(fn);
      const before = Date.now();
      // Act
      const outcome = await once(sqsRecord({}, { id: 'm-1' }), lambdaContext(20_000));
      // Assess
      const id = recordId('notifier', 'm-1', 'md5');
      expect(outcome).toEqual({ status: 'applied', idempotencyKey: id, result: { sent: 'm-1' } });
      expect(client.names()).toEqual(['PutItemCommand', 'UpdateItemCommand']);
      const lock = unmarshall(client.sent[0].input.Item);
      expect(lock).toMatchObject({ id, status: 'INPROGRESS' });
      expect(lock.in_progress_expiration).toBeGreaterThanOrEqual(before + 20_000);
      expect(lock.in_progress_expiration).toBeLessThan(before + 21_000);
      const done = client.sent[1].input;
      expect(unmarshall(done.Key)).toEqual({ id });
      expect(unmarshall(done.ExpressionAttributeValues)).toMatchObject({ ':status': 'COMPLETED', ':response_data': { sent: 'm-1' } });
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('returns the stored result to a duplicate without running the function', async () => {
      const id = recordId('notifier', 'm-1', 'md5');
      const client = new ScriptedClient([conditionFailed({ id, status: 'COMPLETED', expiration: future(), data: { sent: 'first' } })]);
      const fn = jest.fn(async () => ({ sent: 'second' }));
      const outcome = await make(client).makeIdempotent(fn)(sqsRecord({}, { id: 'm-1' }), lambdaContext());
      expect(outcome).toEqual({ status: 'duplicate', idempotencyKey: id, result: { sent: 'first' } });
      expect(fn).not.toHaveBeenCalled();
      expect(client.sent).toHaveLength(1);
    });

    it('throws IdempotencyInProgressError while another invocation holds the lock', async () => {
      const id = recordId('notifier', 'm-1', 'md5');
      const client = new ScriptedClient([
        conditionFailed({ id, status: 'INPROGRESS', expiration: future(), in_progress_expiration: Date.now() + 5000 }),
      ]);
      const error = await make(client)
        .makeIdempotent(async () => 1)(sqsRecord({}, { id: 'm-1' }), lambdaContext())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyInProgressError);
      expect(error).toMatchObject({
        name: 'IdempotencyInProgressError',
        idempotencyKey: id,
        retryable: true,
        context: { idempotencyKey: id },
      });
      expect(isRetryable(error)).toBe(true);
      expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
      expect((error as Error).cause).toMatchObject({ name: 'IdempotencyAlreadyInProgressError' });
    });

    it('throws IdempotencyPayloadMismatchError for the same key with another payload', async () => {
      const id = recordId('notifier', 'o-1', 'md5');
      const client = new ScriptedClient([conditionFailed({ id, status: 'COMPLETED', expiration: future(), validation: 'stored-hash' })]);
      const once = make(client, { keySelector: 'powertools_json(body).orderId', payloadSelector: 'powertools_json(body)' }).makeIdempotent(
        async () => 1,
      );
      const error = await once(sqsRecord({ orderId: 'o-1', amount: 2 }), lambdaContext()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyPayloadMismatchError);
      expect(error).toMatchObject({ idempotencyKey: id, storedPayloadHash: 'stored-hash', retryable: false });
      expect(isRetryable(error)).toBe(false);
    });

    it("releases the lock when the function fails, and rethrows the function's own error", async () => {
      const client = new ScriptedClient([ok(), ok()]);
      const boom = new TypeError('publish failed');
      const error = await make(client)
        .makeIdempotent(async () => {
          throw boom;
        })(sqsRecord({}, { id: 'm-1' }), lambdaContext())
        .catch((e: unknown) => e);
      expect(error).toBe(boom);
      expect(client.names()).toEqual(['PutItemCommand', 'DeleteItemCommand']);
      expect(unmarshall(client.sent[1].input.Key)).toEqual({ id: recordId('notifier', 'm-1', 'md5') });
    });

    it('wraps DynamoDB failures in IdempotencyPersistenceError', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      const error = await make(new ScriptedClient([fails(throttled)]))
        .makeIdempotent(async () => 1)(sqsRecord({}), lambdaContext())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyPersistenceError);
      expect((error as Error).message).toMatch(/Failed to save in progress record/);
      expect(((error as Error).cause as Error).cause).toBe(throttled);
    });

    it('fails if no Lambda context is known (a lock must expire with its invocation)', async () => {
      const once = make(new ScriptedClient()).makeIdempotent(async () => 1);
      await expect(once(sqsRecord({}))).rejects.toThrow(IdempotencyConfigurationError);
      await expect(once(sqsRecord({}))).rejects.toThrow(/context: lock mode needs the Lambda context/);
    });

    it('accepts a context registered up front', async () => {
      const idem = make(new ScriptedClient([ok(), ok()]));
      idem.registerLambdaContext(lambdaContext());
      await expect(idem.makeIdempotent(async () => 1)(sqsRecord({}))).resolves.toMatchObject({ status: 'applied', result: 1 });
    });

    it('runs two copies of a message in one batch one after the other: the second is acknowledged as a duplicate', async () => {
      // Prepare: the second lock attempt only succeeds in finding the completed record if it starts
      // after the first copy completed.
      const id = recordId('notifier', 'same', 'md5');
      let completed = false;
      const secondPut: Answer = (command) =>
        completed
          ? conditionFailed({ id, status: 'COMPLETED', expiration: future(), data: 'done' })(command)
          : conditionFailed({ id, status: 'INPROGRESS', expiration: future() })(command);
      const client = new ScriptedClient([ok(), () => ((completed = true), {}), secondPut]);
      const once = make(client).makeIdempotent(async () => {
        await new Promise((r) => setTimeout(r, 20));
        return 'done';
      });
      const copies = [1, 2].map(() => ({
        ...sqsRecord({}),
        messageAttributes: { idempotencyKey: { stringValue: 'same', dataType: 'String' } },
      }));
      const statuses: string[] = [];
      // Act: processed in parallel (the standard-queue default).
      const response = await processSqsBatch(sqsEvent(copies), async (r, c) => void statuses.push((await once(r, c!)).status), {
        context: lambdaContext(),
        logger: null,
      });
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(statuses).toEqual(['applied', 'duplicate']);
      expect(client.names()).toEqual(['PutItemCommand', 'UpdateItemCommand', 'PutItemCommand']);
    });

    it('writes the same record id as transactional mode, so one table serves both', async () => {
      // The id Powertools itself puts in the lock record, against the id transactional mode commits.
      const client = new ScriptedClient([ok(), ok()]);
      const record = sqsRecord({ orderId: 'o-5' });
      const options = { tableName: 'idem', client: client.client, keyPrefix: 'shared', keySelector: 'powertools_json(body).orderId' };
      await new LockIdempotency(options).makeIdempotent(async () => 1)(record, lambdaContext());
      const written = unmarshall(client.sent[0].input.Item).id;
      expect(written).toBe(new TransactionalIdempotency(options).idempotencyKeyOf(record));
      expect(written).toBe(recordId('shared', 'o-5', 'md5'));
    });
  });
});
