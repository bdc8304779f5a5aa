export * from './priority-queue';
