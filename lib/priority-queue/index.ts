export { PriorityMode, PriorityQueue } from './priority-queue';
export type { PriorityLevel, PriorityQueueProps } from './priority-queue';
