export * from './claim-check';
export * from './core';
export * from './sequential-convoy';
export * from './work-queue';
