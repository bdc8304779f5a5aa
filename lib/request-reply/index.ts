export * from './request-reply';
