import { type Account, accountReducer, accountUpcasters } from '../../../../lambda/event-store/example-projector/account';
import {
  ConcurrencyError,
  EventStore,
  EventStoreConfigurationError,
  EventStoreInputError,
  type NewEvent,
  ReducerError,
  UpcastError,
} from '../../../../lambda/runtime/event-store';
import { inserts } from './fake-dynamodb';
import { BUCKET, EVENTS, OUTBOX, world } from './fakes';

const deposit = (amountCents: number): NewEvent => ({ type: 'Deposited', data: { amountCents } });
const opened: NewEvent = { type: 'AccountOpened', data: { owner: 'ada' } };

describe('Class: EventStore', () => {
  describe('Method: append', () => {
    it('appends a new aggregate in one TransactWriteItems: versions from 1, each with its id, type, schema version and time', async () => {
      // Prepare
      const { db, store } = world();

      // Act
      const result = await store.append('acc-1', 0, [opened, deposit(500)]);

      // Assess
      expect(db.calls).toEqual({ TransactWriteItemsCommand: 1 });
      expect(result).toMatchObject({ status: 'appended', aggregateId: 'acc-1', fromVersion: 1, toVersion: 2 });
      const items = db.items(EVENTS).filter((i) => i.recordType === 'event');
      expect(items.map((i) => [i.pk, i.sk, i.type, i.schemaVersion, i.eventId])).toEqual([
        ['acc-1', 1, 'AccountOpened', 1, result.eventIds[0]],
        ['acc-1', 2, 'Deposited', 2, result.eventIds[1]], // the latest schema version of Deposited: its upcaster goes from 1
      ]);
      expect(typeof items[0].recordedAt).toBe('number');
    });

    it('appends at the next version only when the aggregate is at expectedVersion, checking that version exists', async () => {
      const { db, store } = world();
      await store.append('acc-1', 0, [opened]);
      await store.append('acc-1', 1, [deposit(1)]);
      expect(db.calls.TransactWriteItemsCommand).toBe(2);

      const stale = await store.append('acc-1', 1, [deposit(2)]).catch((e: unknown) => e);
      const ahead = await store.append('acc-1', 5, [deposit(3)]).catch((e: unknown) => e); // would leave a gap

      expect(stale).toBeInstanceOf(ConcurrencyError);
      expect(stale).toMatchObject({ aggregateId: 'acc-1', expectedVersion: 1, actualVersion: 2, retryable: true });
      expect(ahead).toMatchObject({ name: 'ConcurrencyError', expectedVersion: 5, actualVersion: 2 });
      expect(
        db
          .items(EVENTS)
          .filter((i) => i.recordType === 'event')
          .map((i) => i.sk),
      ).toEqual([1, 2]);
    });

    it('gives 16 concurrent writers on one aggregate gapless versions, every event once, every conflict a ConcurrencyError', async () => {
      const { db, store } = world({ snapshotEvery: 5 });
      await store.append('acc-1', 0, [opened]);
      db.latencyMs = 3; // 16 independent writers: their loads and appends interleave
      const conflicts: unknown[] = [];
      const writers = Array.from({ length: 16 }, async (_, w) => {
        for (;;) {
          const { version, state } = await store.load('acc-1');
          try {
            return await store.append('acc-1', version, [{ type: 'Deposited', data: { amountCents: w + 1 }, eventId: `writer-${w}` }], {
              state,
            });
          } catch (error) {
            conflicts.push(error);
            if (!(error instanceof ConcurrencyError)) throw error;
          }
        }
      });

      const results = await Promise.all(writers);

      expect(conflicts.length).toBeGreaterThan(0);
      expect(conflicts.every((c) => c instanceof ConcurrencyError)).toBe(true);
      const events = await store.readEvents('acc-1');
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
      expect(
        events
          .slice(1)
          .map((e) => e.eventId)
          .sort(),
      ).toEqual(Array.from({ length: 16 }, (_, w) => `writer-${w}`).sort());
      expect(new Set(results.map((r) => r.toVersion)).size).toBe(16);
      expect((await store.load('acc-1')).state.balanceCents).toBe((16 * 17) / 2);
      expect(db.items(EVENTS).filter((i) => i.recordType === 'snapshot').length).toBeGreaterThan(0);
    });

    it('is idempotent by command id: a second append of the command writes nothing and returns the first', async () => {
      const { db, store } = world();
      const first = await store.append('acc-1', 0, [opened], { commandId: 'open-1' });

      const again = await store.append('acc-1', 0, [opened], { commandId: 'open-1' });
      const later = await store.append('acc-1', 1, [opened], { commandId: 'open-1' }); // the aggregate moved on: still a duplicate

      expect(again).toEqual({ status: 'duplicate', aggregateId: 'acc-1', fromVersion: 1, toVersion: 1, eventIds: first.eventIds });
      expect(later).toMatchObject({ status: 'duplicate', eventIds: first.eventIds });
      expect(db.items(EVENTS).filter((i) => i.recordType === 'event')).toHaveLength(1);
      expect(db.get(EVENTS, { pk: 'acc-1#command#open-1', sk: 0 })).toMatchObject({ recordType: 'command', fromVersion: 1, toVersion: 1 });
    });

    it('carries the outbox records in the same transaction (distribution), with the event ids and versions', async () => {
      const { db, store, outbox } = world({ outbox: undefined });
      const distributing = new EventStore({ tableName: EVENTS, client: db.client, reducer: accountReducer, outbox }, {});
      const result = await distributing.append('acc-1', 0, [opened, deposit(7)], { commandId: 'c' });
      expect(db.calls.TransactWriteItemsCommand).toBe(1);
      const records = inserts(db.stream(OUTBOX), 'outbox').map((r) => r.dynamodb!.NewImage!);
      expect(records.map((r) => [r.aggregateId.S, r.sequence.N, r.eventId.S, r.type.S])).toEqual([
        ['acc-1', '1', result.eventIds[0], 'AccountOpened'],
        ['acc-1', '2', result.eventIds[1], 'Deposited'],
      ]);
      expect(JSON.parse(records[1].metadata.M!.schemaVersion.N!)).toBe(1); // as stored (this store has no upcasters)
      // A conflict writes neither the events nor the outbox records.
      await expect(distributing.append('acc-1', 1, [deposit(1)])).rejects.toBeInstanceOf(ConcurrencyError);
      expect(inserts(db.stream(OUTBOX), 'outbox')).toHaveLength(2);
      // publish: a notification without data (event notification), or nothing.
      await distributing.append('acc-1', 2, [deposit(1)], {
        publish: (e) => ({
          aggregateId: e.aggregateId,
          type: `${e.type}Notification`,
          data: { version: e.version },
          sequence: e.version,
          eventId: e.eventId,
        }),
      });
      await distributing.append('acc-1', 3, [deposit(1)], { publish: false });
      expect(inserts(db.stream(OUTBOX), 'outbox').map((r) => r.dynamodb!.NewImage!.type.S)).toEqual([
        'AccountOpened',
        'Deposited',
        'DepositedNotification',
      ]);
      void store;
    });

    it('checks the 100-item limit before sending anything', async () => {
      const { db, store } = world();
      await store.append('acc-1', 0, [opened]);
      const error = await store
        .append(
          'acc-1',
          1,
          Array.from({ length: 99 }, () => deposit(1)),
          { commandId: 'c' },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventStoreInputError);
      expect((error as Error).message).toMatch(
        /101 transaction items \(99 events, 0 outbox records, 1 command record, 1 version check, 0 snapshot\)/,
      );
      expect(db.calls.TransactWriteItemsCommand).toBe(1);
    });

    it('retries a transaction conflict, then surfaces it as a ConcurrencyError', async () => {
      const { db, store } = world();
      db.fault = (name) =>
        name === 'TransactWriteItemsCommand'
          ? Object.assign(new Error('conflict'), {
              name: 'TransactionCanceledException',
              CancellationReasons: [{ Code: 'TransactionConflict' }],
            })
          : undefined;
      await expect(store.append('acc-1', 0, [opened])).rejects.toBeInstanceOf(ConcurrencyError);
      expect(db.calls.TransactWriteItemsCommand).toBe(3); // maxAttempts
    });

    it('offloads data above the threshold to S3 and reads it back (claim check)', async () => {
      const { db, s3, store } = world({ payloadThresholdBytes: 1024 });
      const big = { type: 'Renamed', data: { note: 'n'.repeat(5000) } };
      await store.append('acc-1', 0, [opened, big]);
      const item = db.get(EVENTS, { pk: 'acc-1', sk: 2 });
      expect(JSON.parse(String(item?.data))).toEqual({
        claimCheck: expect.objectContaining({ bucket: BUCKET, key: expect.stringMatching(/^events\//) }),
      });
      expect(s3.objects.size).toBe(1);
      expect((await store.readEvents('acc-1'))[1].data).toEqual(big.data);
    });

    it('refuses a payload above the threshold without a bucket', async () => {
      const { db } = world();
      const store = new EventStore({ tableName: EVENTS, client: db.client, payloadThresholdBytes: 1024 }, {});
      await expect(store.append('a', 0, [{ type: 'Big', data: 'x'.repeat(2000) }])).rejects.toThrow(/no payload bucket/);
    });

    it.each([
      ['#starts-with-hash', /aggregateId must be/],
      ['a#snapshot#r1', /aggregateId must be/],
      ['', /aggregateId must be/],
    ])('refuses the aggregate id %j', async (id, message) => {
      await expect(world().store.append(id, 0, [opened])).rejects.toThrow(message);
    });

    it('refuses unusable events', async () => {
      const { store } = world();
      await expect(store.append('a', 0, [])).rejects.toThrow(/non-empty array/);
      await expect(store.append('a', -1, [opened])).rejects.toThrow(/expectedVersion must be/);
      await expect(store.append('a', 0, [{ type: '', data: 1 }])).rejects.toThrow(/type must be/);
      await expect(store.append('a', 0, [{ type: 'T', data: undefined }])).rejects.toThrow(/data must be a JSON value/);
      await expect(store.append('a', 0, [{ type: 'T', data: 1, schemaVersion: 0 }])).rejects.toThrow(/schemaVersion must be/);
    });
  });

  describe('Method: load and snapshots', () => {
    it('takes a snapshot when an append given the state crosses a multiple of snapshotEvery, in the same transaction', async () => {
      const { db, store } = world({ snapshotEvery: 10 });
      await store.append('acc-1', 0, [opened]);
      for (let v = 1; v < 25; v++) {
        const { state, version } = await store.load('acc-1');
        const r = await store.append('acc-1', version, [deposit(1)], { state });
        if ((v + 1) % 10 === 0) expect(r.snapshotVersion).toBe(v + 1);
      }
      const snapshots = db.items(EVENTS).filter((i) => i.recordType === 'snapshot');
      expect(snapshots.map((s) => [s.pk, s.sk])).toEqual([
        ['acc-1#snapshot#r1', 10],
        ['acc-1#snapshot#r1', 20],
      ]);

      const loaded = await store.load('acc-1');

      expect(loaded).toMatchObject({
        version: 25,
        snapshotVersion: 20,
        eventsRead: 5,
        state: { open: true, owner: 'ada', balanceCents: 24, transactions: 25 },
      });
    });

    it('reads at most snapshotEvery events to load a long history, and the same state as a full replay', async () => {
      const { store } = world({ snapshotEvery: 100 });
      const { db } = world();
      void db;
      let state: Account = accountReducer.initial();
      let version = 0;
      for (let batch = 0; batch < 10; batch++) {
        const events = Array.from({ length: 98 }, (_, i) => deposit(batch * 100 + i));
        const r = await store.append('acc-1', version, events, { state });
        for (const e of await store.readEvents('acc-1', { fromVersion: version + 1, toVersion: r.toVersion }))
          state = accountReducer.apply(state, e);
        version = r.toVersion;
      }
      const withSnapshots = await store.load('acc-1');
      const replay = new EventStore(
        {
          tableName: EVENTS,
          client: (store as unknown as { client: unknown }).client as never,
          reducer: { ...accountReducer, version: 99 },
        },
        {},
      );
      const full = await replay.load('acc-1');
      expect(withSnapshots.eventsRead).toBeLessThan(100);
      expect(full.eventsRead).toBe(980);
      expect(withSnapshots.state).toEqual(full.state);
      expect(withSnapshots.version).toBe(980);
    });

    it('ignores snapshots of another reducer version, and snapshots with the new one', async () => {
      const { db, store } = world({ snapshotEvery: 5 });
      let state = accountReducer.initial();
      let version = 0;
      for (let i = 0; i < 12; i++) {
        const r = await store.append('acc-1', version, [i === 0 ? opened : deposit(10)], { state });
        ({ state, version } = await store.load('acc-1'));
        expect(r.toVersion).toBe(version);
      }
      // A new reducer: deposits count double. Its state must not start from version 1's snapshots.
      const doubled = {
        version: 2,
        initial: accountReducer.initial,
        apply: (s: Account, e: Parameters<typeof accountReducer.apply>[1]) =>
          e.type === 'Deposited'
            ? { ...s, balanceCents: s.balanceCents + 2 * (e.data as { amountCents: number }).amountCents, transactions: s.transactions + 1 }
            : accountReducer.apply(s, e),
      };
      const v2 = new EventStore(
        { tableName: EVENTS, client: db.client, reducer: doubled, upcasters: accountUpcasters, snapshotEvery: 5 },
        {},
      );

      const loaded = await v2.load('acc-1');
      expect(loaded).toMatchObject({ version: 12, eventsRead: 12, state: { balanceCents: 220 } });
      expect(loaded.snapshotVersion).toBeUndefined();

      const r = await v2.append('acc-1', 12, [deposit(1), deposit(1), deposit(1)], { state: loaded.state });
      expect(r.snapshotVersion).toBe(15);
      expect(await v2.load('acc-1')).toMatchObject({ snapshotVersion: 15, eventsRead: 0, state: { balanceCents: 226 } });
      expect(await store.load('acc-1')).toMatchObject({ snapshotVersion: 10, state: { balanceCents: 113 } }); // the old reducer still has its own
      expect(await v2.snapshot('acc-1')).toBe(15);
    });

    it('loadAt a version or a time', async () => {
      const { store } = world({ snapshotEvery: 3 });
      let state = accountReducer.initial();
      await store.append('acc-1', 0, [opened], { state });
      ({ state } = await store.load('acc-1'));
      await store.append('acc-1', 1, [deposit(1), deposit(2), deposit(3)], { state });
      const between = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      ({ state } = await store.load('acc-1'));
      await store.append('acc-1', 4, [deposit(4)], { state });

      expect(await store.loadAt('acc-1', { version: 2 })).toMatchObject({ version: 2, state: { balanceCents: 1 } });
      expect(await store.loadAt('acc-1', { version: 4 })).toMatchObject({ version: 4, snapshotVersion: 4, state: { balanceCents: 6 } });
      expect(await store.loadAt('acc-1', { time: between })).toMatchObject({ version: 4, state: { balanceCents: 6 } });
      expect(await store.loadAt('acc-1', { time: new Date(0) })).toMatchObject({ version: 0, state: { balanceCents: 0 } });
      expect(await store.loadAt('acc-1', { time: new Date() })).toMatchObject({ version: 5, state: { balanceCents: 10 } });
      await expect(store.loadAt('acc-1', {})).rejects.toThrow(/a version or a time/);
    });

    it('execute loads, decides and appends, deciding again after a conflict', async () => {
      const { store } = world();
      await store.append('acc-1', 0, [opened]);
      const decisions: number[] = [];
      let interfered = false;
      const result = await store.execute('acc-1', async (state, version) => {
        decisions.push(version);
        if (!interfered) {
          interfered = true;
          await store.append('acc-1', version, [deposit(5)]); // someone else wins the race
        }
        return state.open ? [deposit(1)] : [];
      });
      expect(decisions).toEqual([1, 2]);
      expect(result).toMatchObject({ status: 'appended', fromVersion: 3 });
      expect(await store.execute('acc-1', () => [])).toEqual({ status: 'unchanged', aggregateId: 'acc-1', version: 3 });
    });

    it('wraps a reducer error with the event', async () => {
      const { db } = world();
      const store = new EventStore(
        {
          tableName: EVENTS,
          client: db.client,
          reducer: {
            version: 1,
            initial: () => 0,
            apply: () => {
              throw new Error('boom');
            },
          },
        },
        {},
      );
      await store.append('a', 0, [{ type: 'T', data: 1 }]).catch(() => undefined);
      await expect(store.load('a')).rejects.toBeInstanceOf(ReducerError);
    });
  });

  describe('Upcasting', () => {
    it('applies the upcasters on load, loadAt and readEvents, chained to the latest schema version', async () => {
      const { db } = world();
      const chained = new EventStore(
        {
          tableName: EVENTS,
          client: db.client,
          reducer: accountReducer,
          upcasters: {
            Deposited: {
              1: (d: { amount: number }) => ({ cents: Math.round(d.amount * 100) }),
              2: (d: { cents: number }) => ({ amountCents: d.cents }),
            },
          },
        },
        {},
      );
      expect(chained.upcasters.latestVersion('Deposited')).toBe(3);
      await chained.append('acc-1', 0, [
        opened,
        { type: 'Deposited', data: { amount: 1.5 }, schemaVersion: 1 },
        { type: 'Deposited', data: { cents: 25 }, schemaVersion: 2 },
        deposit(100),
      ]);

      const events = await chained.readEvents('acc-1');
      expect(events.slice(1).map((e) => [e.schemaVersion, e.data])).toEqual([
        [3, { amountCents: 150 }],
        [3, { amountCents: 25 }],
        [3, { amountCents: 100 }],
      ]);
      expect((await chained.load('acc-1')).state.balanceCents).toBe(275);
      expect((await chained.loadAt('acc-1', { version: 2 })).state.balanceCents).toBe(150);
    });

    it('wraps an upcaster error with the event', async () => {
      const { db } = world();
      const store = new EventStore(
        {
          tableName: EVENTS,
          client: db.client,
          upcasters: {
            T: {
              1: () => {
                throw new Error('bad');
              },
            },
          },
        },
        {},
      );
      await store.append('a', 0, [{ type: 'T', data: 1, schemaVersion: 1 }]);
      await expect(store.readEvents('a')).rejects.toBeInstanceOf(UpcastError);
    });

    it('refuses malformed upcasters', () => {
      expect(() => new EventStore({ tableName: EVENTS, upcasters: { T: { 0: () => 1 } } }, {})).toThrow(EventStoreConfigurationError);
      expect(() => new EventStore({ tableName: EVENTS, upcasters: { T: { 1: 'x' as never } } }, {})).toThrow(/must be a function/);
    });
  });

  describe('Method: constructor', () => {
    it('reads EVENT_STORE_CONFIG', () => {
      const store = EventStore.fromEnvironment(
        {},
        {
          EVENT_STORE_CONFIG: JSON.stringify({
            tableName: 'events',
            snapshotEvery: 7,
            commandRetentionSeconds: 60,
            outboxTableName: 'outbox',
          }),
        },
      );
      expect(store).toMatchObject({ tableName: 'events', snapshotEvery: 7, commandRetentionSeconds: 60 });
      expect(store.outbox?.tableName).toBe('outbox');
    });

    it('fails with EventStoreConfigurationError naming the option', () => {
      expect(() => EventStore.fromEnvironment({}, {})).toThrow(/no event table/);
      expect(() => EventStore.fromEnvironment({}, { EVENT_STORE_CONFIG: 'x' })).toThrow(/EVENT_STORE_CONFIG must be a JSON object/);
      expect(() => new EventStore({ tableName: 'events', snapshotEvery: 0 }, {})).toThrow(/snapshotEvery must be an integer/);
      expect(() => new EventStore({ tableName: 'events', reducer: { version: 0 } as never }, {})).toThrow(/reducer.version/);
      expect(() => new EventStore({ tableName: 'events' }, {}).load('a')).rejects.toThrow(/needs a reducer/);
    });
  });
});
