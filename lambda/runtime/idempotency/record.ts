/**
 * The idempotency record layout, shared by both modes and identical to Powertools idempotency's
 * (`PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS`), so one table serves transactional mode, lock mode and
 * plain Powertools consumers.
 *
 * | attribute | type | meaning |
 * |---|---|---|
 * | `id` | S | `<keyPrefix>#<hash of the key>` (partition key) |
 * | `expiration` | N | epoch seconds after which the key is forgotten (the table's TTL attribute) |
 * | `status` | S | `COMPLETED`, or `INPROGRESS` while a lock-mode consumer works |
 * | `data` | any | the stored result returned to duplicates |
 * | `in_progress_expiration` | N | epoch milliseconds after which a lock is considered abandoned |
 * | `validation` | S | hash of the validated payload |
 */
import { IDEMPOTENCY_TABLE_ATTRIBUTE } from '../../../lib/core/wire';

export const ATTR = {
  id: IDEMPOTENCY_TABLE_ATTRIBUTE.partitionKey,
  expiration: IDEMPOTENCY_TABLE_ATTRIBUTE.timeToLive,
  status: 'status',
  data: 'data',
  inProgressExpiration: 'in_progress_expiration',
  validation: 'validation',
} as const;

/** Record statuses. */
export const STATUS = {
  INPROGRESS: 'INPROGRESS',
  COMPLETED: 'COMPLETED',
} as const;
