export { DelayQueue } from './delay-queue';
export type { DelayQueueProps } from './delay-queue';
