export * from './claim-check';
export * from './core';
export * from './delay-queue';
export * from './priority-queue';
export * from './sequential-convoy';
export * from './work-queue';
