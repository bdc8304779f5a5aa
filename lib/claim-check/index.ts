export { ClaimCheck } from './claim-check';
export type { ClaimCheckProps } from './claim-check';
