export * from './sequential-convoy';
