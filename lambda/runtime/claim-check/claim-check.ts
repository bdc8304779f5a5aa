import { createHash, randomUUID } from 'node:crypto';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ENV, LIMIT, SHARED_DEFAULT } from '../../../lib/core/wire';
import { type Fail, checkInteger, checkOneOf, checkOptionalText, numberFromEnvironment } from '../internal/options';
import { type ClaimCheckMessage, type EnvelopeMode, type Unwrapped, unwrapMessage } from './envelope';
import { ClaimCheckConfigurationError, ClaimIntegrityError, UntrustedClaimError } from './errors';
import { type ClaimReference, claimFromText, claimFromValue, encodeClaim } from './reference';
import { eventEntryBytes } from './size';

/** 256 KiB: the SNS and EventBridge limit, so a claim-checked message fits every transport. */
export const DEFAULT_THRESHOLD_BYTES = LIMIT.claimCheckDefaultThresholdBytes;
/** The SQS limit: no message body can be larger. */
export const MAX_THRESHOLD_BYTES = LIMIT.claimCheckMaxThresholdBytes;
export const DEFAULT_KEY_PREFIX = SHARED_DEFAULT.claimCheckKeyPrefix;

/** S3 keys are at most 1024 bytes; a stored payload's key adds `YYYY-MM-DD/<uuid>` (47 characters) to the prefix. */
const MAX_KEY_PREFIX_LENGTH = 1024 - 47;
const ENVELOPE_MODES: readonly EnvelopeMode[] = ['auto', 'none'];

/** Throws {@link ClaimCheckConfigurationError}: the `fail` of the claim check's option checks. */
export const failClaimCheckOption: Fail = (option, message, value) => {
  throw new ClaimCheckConfigurationError(option, message, { value });
};
const fail = failClaimCheckOption;

/** Options shared by every claim check store. */
export interface ClaimCheckOptions {
  /**
   * Payloads larger than this (in UTF-8 bytes, with `reservedBytes`) are stored and replaced by a
   * claim. At most 1 MiB (the SQS limit).
   *
   * @default - `CLAIM_CHECK_THRESHOLD_BYTES`, else 262144 (256 KiB: fits SQS, SNS and EventBridge)
   */
  readonly thresholdBytes?: number;
  /**
   * Prefix of the keys payloads are stored under. The construct's lifecycle rule expires this prefix.
   *
   * @default - `CLAIM_CHECK_KEY_PREFIX`, else 'claims/'
   */
  readonly keyPrefix?: string;
}

/** Options of {@link BaseClaimCheck.checkIn}. */
export interface CheckInOptions {
  /**
   * Bytes the rest of the message takes (message attributes: see `messageAttributesBytes`), counted
   * with the payload against the threshold.
   *
   * @default 0
   */
  readonly reservedBytes?: number;
  /**
   * Content type stored with the payload.
   *
   * @default - 'application/json' for objects, 'text/plain; charset=utf-8' for strings
   */
  readonly contentType?: string;
}

/** Options of {@link BaseClaimCheck.checkOut}. */
export interface CheckOutOptions {
  /**
   * Whether to look for an SNS envelope or an EventBridge event inside an SQS body.
   *
   * @default 'auto'
   */
  readonly envelope?: EnvelopeMode;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function readThreshold(given: number | undefined): number {
  if (given !== undefined) return checkInteger(fail, 'thresholdBytes', given, 1, MAX_THRESHOLD_BYTES);
  const check = (f: Fail, value: number) => checkInteger(f, ENV.claimCheckThresholdBytes, value, 1, MAX_THRESHOLD_BYTES);
  return numberFromEnvironment(fail, ENV.claimCheckThresholdBytes, check) ?? DEFAULT_THRESHOLD_BYTES;
}

function readKeyPrefix(given: string | undefined): string {
  if (given !== undefined) return checkOptionalText(fail, 'keyPrefix', given, MAX_KEY_PREFIX_LENGTH);
  const fromEnv = process.env[ENV.claimCheckKeyPrefix];
  return fromEnv ? checkOptionalText(fail, ENV.claimCheckKeyPrefix, fromEnv, MAX_KEY_PREFIX_LENGTH) : DEFAULT_KEY_PREFIX;
}

/**
 * The claim check, independent of where payloads are stored: producers `checkIn` a payload and send
 * what it returns (the payload itself when small, a claim when large); consumers `checkOut` what
 * they receive and get the payload back, whichever it was. Subclasses implement the storage hooks.
 */
export abstract class BaseClaimCheck {
  /** Payloads above this many bytes are stored. */
  public readonly thresholdBytes: number;
  /** Prefix of the stored payloads' keys. */
  public readonly keyPrefix: string;

  protected constructor(options: ClaimCheckOptions = {}) {
    this.thresholdBytes = readThreshold(options.thresholdBytes);
    this.keyPrefix = readKeyPrefix(options.keyPrefix);
  }

  /**
   * Returns what to send for `payload`: its text when it fits under the threshold, else a claim
   * after storing it. Objects are sent as JSON. A small payload that looks like a claim is stored
   * too, so a consumer can never mistake one for the other.
   */
  public async checkIn(payload: unknown, options: CheckInOptions = {}): Promise<string> {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    if (typeof text !== 'string') throw new TypeError('checkIn: the payload must be a string or a JSON-serializable value');
    const reserved = options.reservedBytes === undefined ? 0 : checkInteger(fail, 'reservedBytes', options.reservedBytes, 0);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes + reserved <= this.thresholdBytes && !claimFromText(text)) return text;
    const contentType = options.contentType ?? (typeof payload === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
    return encodeClaim(await this.store(text, contentType));
  }

  /**
   * Returns `entry` ready for `PutEvents`: as it is when it fits under the threshold (counted as
   * EventBridge counts entries), else with its `Detail` stored and replaced by a claim.
   */
  public async checkInEvent(entry: PutEventsRequestEntry): Promise<PutEventsRequestEntry> {
    const detail = entry.Detail ?? '{}';
    if (eventEntryBytes(entry) <= this.thresholdBytes && !claimFromText(detail)) return entry;
    return { ...entry, Detail: encodeClaim(await this.store(detail, 'application/json')) };
  }

  /** The claim `message` carries, or undefined when it carries its payload inline. */
  public claimOf(message: ClaimCheckMessage, options: CheckOutOptions = {}): ClaimReference | undefined {
    return this.resolve(message, options).claim;
  }

  /**
   * The payload `message` carries: loaded from the store (and checked against the claim's size and
   * SHA-256) when it carries a claim, else the inline payload. An EventBridge `detail` inline comes
   * back as its JSON text.
   */
  public async checkOut(message: ClaimCheckMessage, options: CheckOutOptions = {}): Promise<string> {
    const { part, claim } = this.resolve(message, options);
    if (!claim) return 'text' in part ? part.text : JSON.stringify(part.value);
    this.assertTrusted(claim);
    const bytes = await this._getPayload(claim);
    if (claim.bytes !== undefined && bytes.byteLength !== claim.bytes) {
      throw new ClaimIntegrityError(claim.bucket, claim.key, `has ${bytes.byteLength} bytes, the claim says ${claim.bytes}`);
    }
    if (claim.sha256 !== undefined && sha256(bytes) !== claim.sha256) {
      throw new ClaimIntegrityError(claim.bucket, claim.key, 'does not match the SHA-256 in the claim');
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  /** {@link checkOut}, parsed as JSON. */
  public async checkOutJson<T = unknown>(message: ClaimCheckMessage, options: CheckOutOptions = {}): Promise<T> {
    return JSON.parse(await this.checkOut(message, options)) as T;
  }

  /**
   * Deletes the payload a claim points at, once it is processed. Only for a single consumer: with
   * fan-out (SNS, EventBridge) other consumers may still need it, so leave it to the lifecycle rule.
   * Returns whether there was a claim.
   */
  public async release(message: ClaimCheckMessage, options: CheckOutOptions = {}): Promise<boolean> {
    const claim = this.claimOf(message, options);
    if (!claim) return false;
    this.assertTrusted(claim);
    await this._deletePayload(claim);
    return true;
  }

  /** Stores `text` under a new key and returns its claim. */
  protected async store(text: string, contentType: string): Promise<ClaimReference> {
    const body = Buffer.from(text, 'utf8');
    const day = new Date().toISOString().slice(0, 10);
    const claim: ClaimReference = {
      bucket: this.bucketFor(),
      key: `${this.keyPrefix}${day}/${randomUUID()}`,
      bytes: body.byteLength,
      sha256: sha256(body),
      contentType,
    };
    await this._putPayload(claim, body);
    return claim;
  }

  /** The payload part of `message`, and the claim it is (undefined when it is the payload itself). */
  private resolve(message: ClaimCheckMessage, options: CheckOutOptions): { part: Unwrapped; claim: ClaimReference | undefined } {
    if (options.envelope !== undefined) checkOneOf(fail, 'envelope', options.envelope, ENVELOPE_MODES);
    const part = unwrapMessage(message, options.envelope);
    return { part, claim: 'text' in part ? claimFromText(part.text) : claimFromValue(part.value) };
  }

  private assertTrusted(claim: ClaimReference): void {
    if (!this.trusts(claim.bucket)) throw new UntrustedClaimError(claim.bucket);
  }

  /** The bucket (or container) new payloads go to. */
  protected abstract bucketFor(): string;
  /** Whether claims pointing at `bucket` may be read. */
  protected abstract trusts(bucket: string): boolean;
  /** Stores a payload. */
  protected abstract _putPayload(claim: ClaimReference, body: Uint8Array): Promise<void>;
  /** Loads a payload; throws `ClaimNotFoundError` when it is gone. */
  protected abstract _getPayload(claim: ClaimReference): Promise<Uint8Array>;
  /** Deletes a payload (no error when it is already gone). */
  protected abstract _deletePayload(claim: ClaimReference): Promise<void>;
}
