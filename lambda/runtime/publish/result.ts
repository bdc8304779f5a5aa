/** What a publisher returns: every entry is in `published` or in `failed`, never in neither. */
import { PublishFailedError } from './errors';

/** What every published entry carries; each publisher adds the ids its service assigned. */
export interface PublishedEntry {
  /** The entry's id, as given. */
  readonly id: string;
  /** How many calls carried the entry (1 when the first one published it). */
  readonly attempts: number;
  /**
   * `ordering: 'batched'` only: ids of later entries of the same ordering key that AWS accepted in
   * a call in which this entry failed, so they were published before it. Absent when none did.
   */
  readonly overtakenBy?: readonly string[];
}

/** An entry that was not published, and why. */
export interface FailedEntry {
  /** The entry's id, as given. */
  readonly id: string;
  /**
   * AWS's error code for the entry (`InvalidParameter`, `ThrottlingException`,
   * `ProvisionedThroughputExceededException`...), the error name of a failed call, or one of the
   * publisher's own: `EntryTooLarge`, `InvalidEntry` (refused before any call), `HeldBack` (not sent
   * because an earlier entry of its ordering key failed), `NoResult` (the response did not mention
   * the entry).
   */
  readonly errorCode: string;
  readonly errorMessage: string;
  /** How many calls carried the entry; 0 for an entry refused before any call or held back before its first. */
  readonly attempts: number;
  /**
   * Whether publishing it again later may succeed: true for throttling, internal errors and
   * network failures that outlasted `maxAttempts`, and for held-back entries; false for entries
   * AWS refused for good (validation, access, too large).
   */
  readonly retryable: boolean;
  /** Set when the entry was held back: the id of the earlier entry of its ordering key that failed. */
  readonly heldBackBehind?: string;
  /** As {@link PublishedEntry.overtakenBy}. */
  readonly overtakenBy?: readonly string[];
}

/**
 * The outcome of one `publish` call. `published` is in the order AWS accepted the entries (call by
 * call, in entry order within a call); `failed` is in input order.
 */
export interface PublishResult<D = unknown> {
  readonly published: ReadonlyArray<PublishedEntry & D>;
  readonly failed: readonly FailedEntry[];
}

/** Throws {@link PublishFailedError} when `result` has failed entries; returns `result` otherwise. */
export function assertAllPublished<D>(result: PublishResult<D>): PublishResult<D> {
  if (result.failed.length > 0) throw new PublishFailedError(result);
  return result;
}
