/**
 * Large payloads, claim-check style: an event's data (or a snapshot's state) larger than the
 * threshold goes to the event store's bucket and the item keeps the claim (bucket, key, size,
 * SHA-256). Reading the claim back checks both. Not public.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { S3ClaimCheck } from '../claim-check/s3';
import { claimFromText } from '../claim-check/reference';
import { EventStoreInputError, EventStorePersistenceError } from './errors';

/** Where large payloads go, and above which size. */
export class PayloadStore {
  private readonly checks = new Map<string, S3ClaimCheck>();

  constructor(
    public readonly bucketName: string | undefined,
    public readonly thresholdBytes: number,
    private readonly client?: Pick<S3Client, 'send'>,
  ) {}

  /** `text` as it is when it fits, else stored under `<prefix>` and replaced by its claim. */
  public async encode(text: string, prefix: 'events/' | 'snapshots/', what: string): Promise<string> {
    if (Buffer.byteLength(text, 'utf8') <= this.thresholdBytes && !claimFromText(text)) return text;
    if (!this.bucketName) {
      throw new EventStoreInputError(
        `${what} is ${Buffer.byteLength(text, 'utf8')} bytes, above the ${this.thresholdBytes}-byte threshold, and the event store has no payload bucket`,
      );
    }
    try {
      return await this.check(prefix).checkIn(text, { contentType: 'application/json' });
    } catch (cause) {
      throw new EventStorePersistenceError('PutObject', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  /** The JSON text `stored` stands for: itself, or the payload its claim points at. */
  public async decode(stored: string, what: string): Promise<string> {
    if (!claimFromText(stored)) return stored;
    if (!this.bucketName)
      throw new EventStoreInputError(`${what} is stored in S3 and the event store has no payload bucket to read it from`);
    try {
      return await this.check('events/').checkOut(stored, { envelope: 'none' });
    } catch (cause) {
      const retryable = (cause as { retryable?: boolean }).retryable ?? true;
      throw new EventStorePersistenceError('GetObject', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        retryable,
      });
    }
  }

  private check(prefix: string): S3ClaimCheck {
    let check = this.checks.get(prefix);
    if (!check) {
      check = new S3ClaimCheck({
        bucketName: this.bucketName,
        thresholdBytes: this.thresholdBytes,
        keyPrefix: prefix,
        client: this.client,
      });
      this.checks.set(prefix, check);
    }
    return check;
  }
}
