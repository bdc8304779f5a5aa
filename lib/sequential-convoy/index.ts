export { SequentialConvoy } from './sequential-convoy';
export type { SequentialConvoyProps } from './sequential-convoy';
