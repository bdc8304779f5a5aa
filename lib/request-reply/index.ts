export { RequestReply } from './request-reply';
export type { RequestReplyProps } from './request-reply';
