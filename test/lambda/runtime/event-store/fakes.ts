/* eslint-disable @typescript-eslint/no-explicit-any -- fakes of SDK clients take and return loosely typed commands */
/** Fakes of the event-store tests: an S3 bucket, and the example account domain's stores. */
import { type Account, accountReducer, accountSummary, accountUpcasters } from '../../../../lambda/event-store/example-projector/account';
import { EventStore, type EventStoreOptions, Projector } from '../../../../lambda/runtime/event-store';
import { Outbox } from '../../../../lambda/runtime/outbox';
import { FakeDynamoDB } from './fake-dynamodb';

export const EVENTS = 'events-table';
export const READ_MODELS = 'read-models-table';
export const OUTBOX = 'outbox-table';
export const BUCKET = 'payload-bucket';

/** An S3 bucket in memory: PutObject and GetObject. */
export class FakeS3 {
  public readonly objects = new Map<string, Uint8Array>();
  public get client(): any {
    return {
      send: async (command: { constructor: { name: string }; input: { Bucket: string; Key: string; Body?: Uint8Array } }) => {
        const key = `${command.input.Bucket}/${command.input.Key}`;
        if (command.constructor.name === 'PutObjectCommand') {
          this.objects.set(key, new Uint8Array(command.input.Body!));
          return {};
        }
        const body = this.objects.get(key);
        if (!body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
        return { Body: { transformToByteArray: async () => body } };
      },
    };
  }
}

export function world(options: Partial<EventStoreOptions<Account>> = {}) {
  const db = new FakeDynamoDB({ [EVENTS]: { pk: 'pk', sk: 'sk' }, [READ_MODELS]: { pk: 'pk' }, [OUTBOX]: { pk: 'pk', sk: 'sk' } });
  const s3 = new FakeS3();
  const store = new EventStore<Account>(
    {
      tableName: EVENTS,
      client: db.client,
      bucketName: BUCKET,
      s3Client: s3.client,
      reducer: accountReducer,
      upcasters: accountUpcasters,
      snapshotEvery: 10,
      ...options,
    },
    {},
  );
  const projector = (extra: Record<string, unknown> = {}) =>
    new Projector(accountSummary, { store, readModelTableName: READ_MODELS, client: db.client, logger: null, ...extra });
  const outbox = new Outbox({ tableName: OUTBOX, client: db.client });
  return { db, s3, store, projector, outbox };
}
