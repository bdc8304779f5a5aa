export * from './delay-queue';
