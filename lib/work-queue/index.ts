export { WorkQueue } from './work-queue';
export type { WorkQueueProps } from './work-queue';
