export * from './failure-reason-store';
export * from './redrive';
