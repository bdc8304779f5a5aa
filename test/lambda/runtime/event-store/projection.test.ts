import type { DynamoDBRecord } from 'aws-lambda';
import { type AccountSummary, accountSummary } from '../../../../lambda/event-store/example-projector/account';
import {
  EventStoreConfigurationError,
  type NewEvent,
  Projector,
  ReducerError,
  projectStreamBatch,
} from '../../../../lambda/runtime/event-store';
import { inserts } from './fake-dynamodb';
import { EVENTS, READ_MODELS, world } from './fakes';

const deposit = (amountCents: number): NewEvent => ({ type: 'Deposited', data: { amountCents } });
const opened = (owner: string): NewEvent => ({ type: 'AccountOpened', data: { owner } });

/** The read model a fold of the whole history gives (what every projection must equal). */
async function folded(store: ReturnType<typeof world>['store'], aggregateId: string): Promise<AccountSummary> {
  let state = accountSummary.initial();
  for (const e of await store.readEvents(aggregateId)) state = accountSummary.apply(state, e) as AccountSummary;
  return state;
}

const readModel = (db: ReturnType<typeof world>['db'], aggregateId: string) => {
  const item = db.get(READ_MODELS, { pk: aggregateId });
  if (!item) return undefined;
  const state: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (k !== 'pk' && !k.startsWith('_')) state[k] = v;
  return state;
};

const events = (db: ReturnType<typeof world>['db'], from = 0): DynamoDBRecord[] => inserts(db.stream(EVENTS, from), 'event');

describe('Class: Projector', () => {
  describe('Method: process', () => {
    it('folds a batch into one read model per aggregate: one conditional PutItem per aggregate, the read model a fold of the history', async () => {
      // Prepare
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada'), deposit(100), deposit(50)]);
      await store.append('acc-2', 0, [opened('bob')]);
      await store.append('acc-1', 3, [{ type: 'Withdrawn', data: { amountCents: 30 } }]);
      const p = projector();
      const before = { ...db.calls };

      // Act
      const report = await p.process({ Records: events(db) });

      // Assess
      expect(report).toMatchObject({ batchItemFailures: [], projected: 5, duplicates: 0, writes: 2, reads: 0 });
      expect((db.calls.PutItemCommand ?? 0) - (before.PutItemCommand ?? 0)).toBe(2);
      expect(readModel(db, 'acc-1')).toEqual(await folded(store, 'acc-1'));
      expect(readModel(db, 'acc-1')).toMatchObject({ owner: 'ada', balanceCents: 120, deposits: 2, withdrawals: 1 });
      expect(db.get(READ_MODELS, { pk: 'acc-1' })).toMatchObject({ _version: 4, _projection: 'account-summary', _projectionVersion: 1 });
      expect(db.get(READ_MODELS, { pk: '#checkpoint#live' })).toMatchObject({ eventsProjected: 5, projection: 'account-summary' });
    });

    it('skips redelivered events: a read model stays the fold of the history after duplicates', async () => {
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada'), deposit(100)]);
      const p = projector();
      await p.process({ Records: events(db) });

      // The same batch again (a retry after a crash), from a cold projector, and from the warm one.
      const cold = await projector().process({ Records: events(db) });
      const warm = await p.process({ Records: events(db) });

      // Cold, a batch from version 1 needs no read: the conditional write fails and returns the item.
      expect(cold).toMatchObject({ projected: 0, duplicates: 2, reads: 0, writes: 1 });
      expect(warm).toMatchObject({ projected: 0, duplicates: 2, reads: 0, writes: 0 });
      expect(readModel(db, 'acc-1')).toEqual(await folded(store, 'acc-1'));
      expect(readModel(db, 'acc-1')?.eventIds).toHaveLength(2);
    });

    it('writes without reading when warm; a stale cache costs no read either (the failed condition returns the item)', async () => {
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada')]);
      const a = projector();
      const b = projector();
      await a.process({ Records: events(db) });
      let from = db.stream(EVENTS).length;
      await store.append('acc-1', 1, [deposit(1)]);
      await a.process({ Records: events(db, from) }); // a knows version 2
      from = db.stream(EVENTS).length;
      await store.append('acc-1', 2, [deposit(2)]);
      await b.process({ Records: events(db, from) }); // b is cold: reads once, writes version 3
      from = db.stream(EVENTS).length;
      await store.append('acc-1', 3, [deposit(3)]);
      const reads = db.calls.BatchGetItemCommand ?? 0;

      const report = await a.process({ Records: events(db, from) }); // a's cache says 2: its write fails and returns version 3

      expect(report).toMatchObject({ projected: 1, writes: 2, reads: 0 });
      expect(db.calls.BatchGetItemCommand ?? 0).toBe(reads);
      expect(readModel(db, 'acc-1')).toEqual(await folded(store, 'acc-1'));
    });

    it('fills a gap from the event table (events the stream did not bring, a projection added later)', async () => {
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada'), deposit(1), deposit(2)]);
      const from = db.stream(EVENTS).length;
      await store.append('acc-1', 3, [deposit(3)]);

      const report = await projector().process({ Records: events(db, from) }); // only version 4 arrives

      expect(report).toMatchObject({ projected: 4, gapsFilled: 3 });
      expect(readModel(db, 'acc-1')).toEqual(await folded(store, 'acc-1'));
    });

    it('applies the upcasters: an event stored at an old schema version is projected at the latest', async () => {
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada'), { type: 'Deposited', data: { amount: 2.5 }, schemaVersion: 1 }]);
      await projector().process({ Records: events(db) });
      expect(readModel(db, 'acc-1')?.balanceCents).toBe(250);
    });

    it('answers with the first event of an aggregate whose write failed; the others are written, and the retry completes', async () => {
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada')]);
      await store.append('acc-2', 0, [opened('bob')]);
      await store.append('acc-1', 1, [deposit(5)]);
      const records = events(db);
      db.fault = (name, input) =>
        name === 'PutItemCommand' && JSON.stringify(input.Item).includes('"ada"')
          ? Object.assign(new Error('slow down'), { name: 'ThrottlingException' })
          : undefined;

      const report = await projector().process({ Records: records });

      expect(report.batchItemFailures).toEqual([{ itemIdentifier: records[0].dynamodb!.SequenceNumber }]);
      expect(readModel(db, 'acc-2')).toMatchObject({ owner: 'bob' });
      db.fault = undefined;
      const retry = await projector().process({ Records: records });
      expect(retry).toMatchObject({ batchItemFailures: [], projected: 2, duplicates: 1 });
      expect(readModel(db, 'acc-1')).toEqual(await folded(store, 'acc-1'));
    });

    it('deletes a read model when the projection returns null (a tombstone keeps the version)', async () => {
      const { db, store } = world();
      const closing = {
        ...accountSummary,
        apply: (s: AccountSummary, e: Parameters<typeof accountSummary.apply>[1]) =>
          e.type === 'AccountClosed' ? null : accountSummary.apply(s, e),
      };
      await store.append('acc-1', 0, [opened('ada'), { type: 'AccountClosed', data: {} }]);
      const p = new Projector(closing, { store, readModelTableName: READ_MODELS, client: db.client, logger: null });
      await p.process({ Records: events(db) });
      expect(db.get(READ_MODELS, { pk: 'acc-1' })).toMatchObject({ _deleted: true, _version: 2 });
      expect(await p.read('acc-1')).toMatchObject({ state: null, version: 2 });
    });

    it('fails the aggregate when the projection throws or returns what is not a read model', async () => {
      const { db, store } = world();
      await store.append('acc-1', 0, [opened('ada')]);
      const bad = new Projector(
        { initial: () => ({}), apply: () => ({ _version: 1 }) as never },
        { store, readModelTableName: READ_MODELS, client: db.client, logger: null },
      );
      const report = await bad.process({ Records: events(db) });
      expect(report.batchItemFailures).toHaveLength(1);
      const throwing = new Projector(
        {
          initial: () => ({}),
          apply: () => {
            throw new Error('nope');
          },
        },
        { store, readModelTableName: READ_MODELS, client: db.client, logger: null },
      );
      expect((await throwing.process({ Records: events(db) })).batchItemFailures).toHaveLength(1);
      void ReducerError;
    });

    it('projectStreamBatch projects with a projector of the moment', async () => {
      const { db, store } = world();
      await store.append('acc-1', 0, [opened('ada')]);
      await projectStreamBatch({ Records: events(db) }, accountSummary, {
        store,
        readModelTableName: READ_MODELS,
        client: db.client,
        logger: null,
      });
      expect(readModel(db, 'acc-1')).toMatchObject({ owner: 'ada' });
    });
  });

  describe('Method: rebuild', () => {
    it('gives the same read models as the live projection, from the event table alone, and resumes from its checkpoint', async () => {
      const { db, store, projector } = world();
      for (let a = 0; a < 12; a++) {
        await store.append(`acc-${a}`, 0, [opened(`owner-${a}`), deposit(a), deposit(2 * a)]);
      }
      await projector().process({ Records: events(db) });
      const live = Object.fromEntries(Array.from({ length: 12 }, (_, a) => [`acc-${a}`, readModel(db, `acc-${a}`)]));
      // Wipe the read models, then rebuild in slices (a page at a time, as a Lambda budget would cut it).
      for (let a = 0; a < 12; a++) db.put(READ_MODELS, { pk: `acc-${a}`, _version: 0, owner: 'wrong' });

      const p = projector();
      const reports = [await p.rebuild({ resume: false, pageSize: 10, maxSeconds: 0 })];
      while (!reports.at(-1)!.done) reports.push(await p.rebuild({ pageSize: 10, maxSeconds: 0 }));

      expect(reports.length).toBeGreaterThan(2);
      expect(reports.reduce((n, r) => n + r.aggregates, 0)).toBe(12);
      for (let a = 0; a < 12; a++) expect(readModel(db, `acc-${a}`)).toEqual(live[`acc-${a}`]);
      expect(db.get(READ_MODELS, { pk: '#checkpoint#rebuild' })).toMatchObject({ status: 'done' });
      // The live projector goes on from the rebuilt read models.
      const from = db.stream(EVENTS).length;
      await store.append('acc-3', 3, [deposit(1000)]);
      await projector().process({ Records: events(db, from) });
      expect(readModel(db, 'acc-3')).toEqual(await folded(store, 'acc-3'));
    });

    it('never overwrites a read model the live projector took further', async () => {
      const { db, store, projector } = world();
      await store.append('acc-1', 0, [opened('ada')]);
      db.put(READ_MODELS, { pk: 'acc-1', _version: 9, owner: 'newer' });
      await projector().rebuild({ resume: false });
      expect(readModel(db, 'acc-1')).toMatchObject({ owner: 'newer' });
    });
  });

  describe('Method: constructor', () => {
    it('fails with EventStoreConfigurationError naming the option', () => {
      const { store } = world();
      expect(() => new Projector(accountSummary, { store })).toThrow(EventStoreConfigurationError);
      expect(() => new Projector(accountSummary, { store })).toThrow(/no read-model table/);
      expect(() => new Projector({} as never, { store, readModelTableName: READ_MODELS })).toThrow(/initial\(\) and apply/);
      expect(() => new Projector(accountSummary, { store, readModelTableName: READ_MODELS, concurrency: 0 })).toThrow(
        /concurrency must be/,
      );
    });
  });
});
