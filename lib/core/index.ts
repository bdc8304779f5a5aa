export * from './alarms';
export * from './defaults';
export * from './errors';
export * from './grants';
export { handlerBundlePath, handlerCode } from './handler-code';
export * from './kit-function';
export * from './nag';
export * from './queue-builder';
export { PropsValidator } from './validation';
