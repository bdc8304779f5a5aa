export * from './alarms';
export * from './defaults';
export * from './errors';
export { handlerBundlePath, handlerCode } from './handler-code';
export * from './kit-function';
export * from './queue-builder';
export { PropsValidator } from './validation';
