export * from './claim-check';
