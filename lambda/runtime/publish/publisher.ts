import { type RuntimeLogger, resolveLogger } from '../internal/logger';
import { PublishInputError } from './errors';
import { booleanOption, enumOption, integerOption, loggerOption, numberOption } from './private/options';
import { backoffDelayMs, describeError, isRetryableCallError } from './private/retry';
import { type FailedEntry, type PublishResult, type PublishedEntry, assertAllPublished } from './result';

/**
 * How entries that share an ordering key are put into calls:
 * - `strict`: at most one entry of a key per call. A key's next entry is sent only once the one
 *   before it is published, so a key's published entries are always a prefix of its input order.
 *   Entries of different keys (and entries without a key) still fill each call.
 * - `batched`: several entries of a key per call, in input order. Faster for a few busy keys, but
 *   AWS handles every entry of a call on its own (a failed entry does not stop the ones after it),
 *   so when an entry fails, later entries of its key in the same call may be published before it
 *   (they are listed in its `overtakenBy`). Across calls order is kept as in `strict`.
 */
export type OrderingMode = 'strict' | 'batched';

/** Options every publisher takes. */
export interface PublisherOptions {
  /**
   * Most calls that carry one entry, the first included. An entry still failing with a retryable
   * error after that many is reported failed (`retryable: true`).
   *
   * @default 5
   */
  readonly maxAttempts?: number;
  /**
   * Backoff before an entry is sent again: a random delay between 0 and
   * `min(maxDelayMs, baseDelayMs * 2^(attempts - 1))` (exponential backoff with full jitter).
   *
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Longest backoff before an entry is sent again.
   *
   * @default 2000
   */
  readonly maxDelayMs?: number;
  /**
   * How entries that share an ordering key are put into calls; see {@link OrderingMode}.
   *
   * @default 'strict'
   */
  readonly ordering?: OrderingMode;
  /**
   * Most calls in flight at once. The entries of one ordering key sent together are always in the
   * same call, so order per key does not depend on this.
   *
   * @default 1
   */
  readonly maxConcurrentCalls?: number;
  /**
   * Throw a `PublishFailedError` (the result attached) when some entries were not published,
   * instead of returning them in `failed`.
   *
   * @default false
   */
  readonly throwOnFailure?: boolean;
  /**
   * Where a `publish` call that left entries unpublished logs one warning (`entries not
   * published`, with the failed ids and reasons); retries are logged at debug level. `null` logs
   * nothing.
   *
   * @default - the shared Powertools Logger
   */
  readonly logger?: RuntimeLogger | null;
}

/** What every entry has: an id, and optionally its ordering key. */
export interface PublishEntryBase {
  /**
   * Your id for the entry, unique within one `publish` call; results name entries by it. It is
   * not sent to AWS (the batch ids are the publisher's own), so any string will do.
   */
  readonly id: string;
  /**
   * Entries with the same ordering key are published in input order and a failed one holds back
   * the ones after it. `null`: no ordering key, even where the service's default would give one.
   *
   * @default - the service's: `messageGroupId` (SNS), `partitionKey` (Kinesis), none (EventBridge)
   */
  readonly orderingKey?: string | null;
}

/** The limits of one service's batch call. */
export interface BatchLimits {
  readonly maxEntriesPerCall: number;
  /** Largest entry: a larger one is reported failed (`EntryTooLarge`) without a call. */
  readonly maxEntrySizeBytes: number;
  /** Largest sum of entry sizes in one call. */
  readonly maxCallSizeBytes: number;
}

/** What {@link BatchPublisher._send} reports for one entry of the call. */
export type EntryOutcome<D> =
  | { readonly ok: true; readonly detail: D }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string; readonly retryable: boolean };

/** An entry as the service call takes it, with its size as the service counts it. */
export interface PreparedEntry<R> {
  readonly request: R;
  readonly sizeBytes: number;
}

interface Slot<R> {
  readonly index: number;
  readonly id: string;
  readonly key?: string;
  readonly prepared?: PreparedEntry<R>;
  readonly refusal?: Omit<FailedEntry, 'id' | 'attempts'>;
  /** Position in its key's queue. */
  pos: number;
  attempts: number;
  readyAt: number;
  done: boolean;
  overtakenBy?: string[];
}

/** The entries of one ordering key in input order; those before `head` are all done. */
interface KeyQueue<R> {
  readonly slots: Array<Slot<R>>;
  head: number;
}

interface Settings {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly ordering: OrderingMode;
  readonly maxConcurrentCalls: number;
  readonly throwOnFailure: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const LOGGED_FAILURES = 50;

/**
 * The engine of the publishers: splits entries into calls within the service's limits, retries
 * only the entries that failed, keeps order per ordering key, and accounts for every entry.
 * Extend it for another batch API (implement `_prepare` and `_send`).
 *
 * What a `publish` call guarantees:
 * - **Nothing is lost silently**: every entry ends in `published` or in `failed` with AWS's error
 *   code (or the call's error), how many calls carried it, and whether a later retry may help.
 * - **Retries**: entries that failed with a retryable error (throttling, internal failure) are sent
 *   again, alone or with others, after a backoff with full jitter, up to `maxAttempts` calls; a
 *   call that failed as a whole (throttled, 5xx, timeout, network) counts as a failure of each of
 *   its entries. Permanent errors (validation, access denied, too large) are reported at once.
 * - **Order per key**: an entry is never sent while an earlier entry of its ordering key is
 *   unpublished and outside the same call; when an entry fails for good, the later entries of its
 *   key are not sent at all (`HeldBack`, `heldBackBehind`). Other keys go on. With
 *   `ordering: 'strict'` (the default) a key's published entries are therefore always a prefix of
 *   its input order. With `'batched'` that holds across calls but not within one (see
 *   {@link OrderingMode}).
 * - It is at-least-once: an entry whose call failed after AWS stored it (a timeout, a lost
 *   response) is sent again, so consumers should be idempotent (SNS FIFO deduplicates by
 *   `messageDeduplicationId`).
 */
export abstract class BatchPublisher<E extends PublishEntryBase, R, D> {
  protected readonly logger: RuntimeLogger | null;
  private readonly settings: Settings;

  protected constructor(
    private readonly service: string,
    private readonly limits: BatchLimits,
    options: PublisherOptions,
  ) {
    const baseDelayMs = numberOption('baseDelayMs', options.baseDelayMs, 100, 0, 60_000);
    this.settings = {
      maxAttempts: integerOption('maxAttempts', options.maxAttempts, 5, 1, 100),
      baseDelayMs,
      maxDelayMs: numberOption('maxDelayMs', options.maxDelayMs, Math.max(2000, baseDelayMs), baseDelayMs, 300_000),
      ordering: enumOption('ordering', options.ordering, 'strict', ['strict', 'batched']),
      maxConcurrentCalls: integerOption('maxConcurrentCalls', options.maxConcurrentCalls, 1, 1, 100),
      throwOnFailure: booleanOption('throwOnFailure', options.throwOnFailure, false),
    };
    this.logger = resolveLogger(loggerOption(options.logger));
  }

  /**
   * Publishes `entries` and reports each one: published (with the ids AWS assigned) or failed (with
   * the reason). Throws only when the entries are unusable ({@link PublishInputError}) or, with
   * `throwOnFailure`, when some were not published (`PublishFailedError`).
   */
  public async publish(entries: readonly E[]): Promise<PublishResult<D>> {
    const slots = this.slotsOf(entries);
    const published: Array<PublishedEntry & D> = [];
    const failed = new Map<number, FailedEntry>();
    const queues = new Map<string, KeyQueue<R>>();
    let loose: Array<Slot<R>> = [];
    for (const slot of slots) {
      if (slot.key === undefined) {
        loose.push(slot);
        continue;
      }
      const queue = queues.get(slot.key) ?? { slots: [], head: 0 };
      queues.set(slot.key, queue);
      slot.pos = queue.slots.push(slot) - 1;
    }
    // Moves a key's head past its done entries; forgets the key when none is left.
    const advance = (slot: Slot<R>) => {
      const queue = slot.key === undefined ? undefined : queues.get(slot.key);
      if (!queue) return;
      while (queue.head < queue.slots.length && queue.slots[queue.head].done) queue.head += 1;
      if (queue.head === queue.slots.length) queues.delete(slot.key!);
    };

    const record = (slot: Slot<R>, failure: Omit<FailedEntry, 'id' | 'attempts'>) => {
      slot.done = true;
      const overtakenBy = slot.overtakenBy ? { overtakenBy: slot.overtakenBy } : {};
      failed.set(slot.index, { id: slot.id, attempts: slot.attempts, ...failure, ...overtakenBy });
      advance(slot);
    };
    // The entries of `slot`'s key after it are held back: never sent after it failed.
    const holdBackAfter = (slot: Slot<R>) => {
      const queue = slot.key === undefined ? undefined : queues.get(slot.key);
      for (const later of queue?.slots.slice(slot.pos + 1) ?? []) {
        if (later.done) continue;
        record(later, { errorCode: 'HeldBack', errorMessage: `held back behind ${slot.id}`, retryable: true, heldBackBehind: slot.id });
      }
    };
    const succeed = (slot: Slot<R>, detail: D) => {
      slot.done = true;
      const overtakenBy = slot.overtakenBy ? { overtakenBy: slot.overtakenBy } : {};
      published.push({ ...detail, id: slot.id, attempts: slot.attempts, ...overtakenBy });
      const queue = slot.key === undefined ? undefined : queues.get(slot.key);
      for (let p = queue?.head ?? 0; queue && p < slot.pos; p++) {
        const earlier = queue.slots[p];
        if (!earlier.done) (earlier.overtakenBy ??= []).push(slot.id);
      }
      advance(slot);
    };

    // Entries refused before any call keep their own reason; the later entries of their key are held back.
    const refused = slots.filter((s) => s.refusal);
    for (const slot of refused) record(slot, slot.refusal!);
    for (const slot of refused) holdBackAfter(slot);

    for (;;) {
      loose = loose.filter((s) => !s.done);
      if (loose.length === 0 && queues.size === 0) break;
      const now = Date.now();
      const groups = this.readyGroups(queues, loose, now);
      if (groups.length === 0) {
        let next = Infinity;
        for (const s of loose) next = Math.min(next, s.readyAt);
        for (const q of queues.values()) next = Math.min(next, q.slots[q.head].readyAt);
        await sleep(Math.max(0, next - now));
        continue;
      }
      const chunks = this.pack(groups);
      const outcomes = await this.sendAll(chunks);
      let retrying = 0;
      chunks.forEach((chunk, c) => {
        const results = outcomes[c];
        const jitter = Math.random();
        chunk.forEach((slot, i) => {
          const result = results[i];
          if (result.ok) succeed(slot, result.detail);
        });
        chunk.forEach((slot, i) => {
          const result = results[i];
          if (result.ok || slot.done) return;
          if (result.retryable && slot.attempts < this.settings.maxAttempts) {
            const { baseDelayMs, maxDelayMs } = this.settings;
            slot.readyAt = Date.now() + backoffDelayMs(slot.attempts, baseDelayMs, maxDelayMs, jitter);
            retrying += 1;
            return;
          }
          const { errorCode, errorMessage, retryable } = result;
          record(slot, { errorCode, errorMessage, retryable });
          holdBackAfter(slot);
        });
      });
      if (retrying > 0) this.logger?.debug?.('retrying entries', { service: this.service, entries: retrying });
    }

    const inInputOrder = [...failed.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
    const result: PublishResult<D> = { published, failed: inInputOrder };
    if (result.failed.length > 0) this.logFailures(result);
    return this.settings.throwOnFailure ? assertAllPublished(result) : result;
  }

  /**
   * Turns an entry into what the service call takes, with its size as the service counts it.
   * Throw to refuse the entry: it is reported failed (`InvalidEntry`) without a call.
   */
  protected abstract _prepare(entry: E): PreparedEntry<R>;

  /**
   * Sends one call. Returns one outcome per entry, in the order given; throws when the call failed
   * as a whole (the error decides whether it is retried).
   */
  protected abstract _send(requests: readonly R[]): Promise<ReadonlyArray<EntryOutcome<D>>>;

  /** The ordering key of an entry that sets none: the service's natural one (SNS `messageGroupId`, Kinesis `partitionKey`). */
  protected _defaultOrderingKey(_entry: E): string | undefined {
    return undefined;
  }

  private slotsOf(entries: readonly E[]): Array<Slot<R>> {
    if (!Array.isArray(entries)) throw new PublishInputError(`entries must be an array (given ${typeof entries})`);
    const seen = new Set<string>();
    return entries.map((entry, index): Slot<R> => {
      const id = (entry as Partial<E> | null)?.id;
      if (typeof id !== 'string' || id === '') {
        throw new PublishInputError(`entry ${index} has no id: each entry needs a non-empty string id`, { context: { index } });
      }
      if (seen.has(id))
        throw new PublishInputError(`two entries have the id '${id}': ids must be unique within a publish call`, { context: { id } });
      seen.add(id);
      const key =
        entry.orderingKey === null
          ? undefined
          : typeof entry.orderingKey === 'string'
            ? entry.orderingKey
            : this._defaultOrderingKey(entry);
      const base = { index, id, key, pos: 0, attempts: 0, readyAt: 0, done: false };
      let prepared: PreparedEntry<R>;
      try {
        prepared = this._prepare(entry);
      } catch (error) {
        return { ...base, refusal: { errorCode: 'InvalidEntry', errorMessage: describeError(error).errorMessage, retryable: false } };
      }
      if (prepared.sizeBytes > this.limits.maxEntrySizeBytes) {
        const errorMessage = `entry is ${prepared.sizeBytes} bytes, more than the ${this.limits.maxEntrySizeBytes} bytes ${this.service} accepts`;
        return { ...base, refusal: { errorCode: 'EntryTooLarge', errorMessage, retryable: false } };
      }
      return { ...base, prepared };
    });
  }

  /** The entries to send now, grouped so that the entries of one key sent together stay together, oldest first. */
  private readyGroups(queues: Map<string, KeyQueue<R>>, loose: Array<Slot<R>>, now: number): Array<Array<Slot<R>>> {
    const groups: Array<Array<Slot<R>>> = [];
    for (const { slots, head } of queues.values()) {
      if (slots[head].readyAt > now) continue;
      if (this.settings.ordering === 'strict') {
        groups.push([slots[head]]);
        continue;
      }
      const run: Array<Slot<R>> = [];
      for (let p = head; p < slots.length && run.length < this.limits.maxEntriesPerCall; p++) {
        if (slots[p].done) continue;
        if (slots[p].readyAt > now) break;
        run.push(slots[p]);
      }
      groups.push(run);
    }
    for (const slot of loose) if (slot.readyAt <= now) groups.push([slot]);
    return groups.sort((a, b) => a[0].index - b[0].index);
  }

  /** Packs groups into calls within the limits. A group's tail that does not fit waits for the next round, so a key never spans two calls in flight. */
  private pack(groups: Array<Array<Slot<R>>>): Array<Array<Slot<R>>> {
    const { maxEntriesPerCall, maxCallSizeBytes } = this.limits;
    const chunks: Array<Array<Slot<R>>> = [];
    let current: Array<Slot<R>> = [];
    let bytes = 0;
    for (const group of groups) {
      for (const [g, slot] of group.entries()) {
        const size = slot.prepared!.sizeBytes;
        if (current.length >= maxEntriesPerCall || bytes + size > maxCallSizeBytes) {
          if (g > 0) break;
          chunks.push(current);
          current = [];
          bytes = 0;
        }
        current.push(slot);
        bytes += size;
      }
    }
    if (current.length > 0) chunks.push(current);
    return chunks.filter((c) => c.length > 0);
  }

  private async sendAll(chunks: Array<Array<Slot<R>>>): Promise<Array<ReadonlyArray<EntryOutcome<D>>>> {
    const outcomes: Array<ReadonlyArray<EntryOutcome<D>>> = new Array(chunks.length);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const c = next++;
        outcomes[c] = await this.sendChunk(chunks[c]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.maxConcurrentCalls, chunks.length) }, worker));
    return outcomes;
  }

  private async sendChunk(chunk: Array<Slot<R>>): Promise<ReadonlyArray<EntryOutcome<D>>> {
    for (const slot of chunk) slot.attempts += 1;
    try {
      const outcomes = await this._send(chunk.map((s) => s.prepared!.request));
      return chunk.map(
        (_, i): EntryOutcome<D> =>
          outcomes[i] ?? {
            ok: false,
            errorCode: 'NoResult',
            errorMessage: `the ${this.service} response did not mention the entry`,
            retryable: true,
          },
      );
    } catch (error) {
      const failure = { ok: false as const, ...describeError(error), retryable: isRetryableCallError(error) };
      return chunk.map(() => failure);
    }
  }

  private logFailures(result: PublishResult<D>): void {
    const failures = result.failed.slice(0, LOGGED_FAILURES).map(({ id, errorCode, attempts, heldBackBehind }) => ({
      id,
      errorCode,
      attempts,
      ...(heldBackBehind ? { heldBackBehind } : {}),
    }));
    this.logger?.warn('entries not published', {
      service: this.service,
      publishedCount: result.published.length,
      failedCount: result.failed.length,
      failures,
      ...(result.failed.length > LOGGED_FAILURES ? { failuresNotShown: result.failed.length - LOGGED_FAILURES } : {}),
    });
  }
}
