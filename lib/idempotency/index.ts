export { IdempotencyTable } from './idempotency-table';
export type { IdempotencyTableProps } from './idempotency-table';
