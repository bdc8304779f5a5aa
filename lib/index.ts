export * from './core';
export * from './work-queue';
