export * from './claim-check';
export * from './core';
export * from './dead-letter-queue';
export * from './delay-queue';
export * from './priority-queue';
export * from './request-reply';
export * from './sequential-convoy';
export * from './work-queue';
