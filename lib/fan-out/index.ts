export { FanOut } from './fan-out';
export type { FanOutProps } from './fan-out';
export { FanOutLambdaSubscription } from './lambda-subscription';
export type { FanOutLambdaSubscriptionOptions, FanOutLambdaSubscriptionProps } from './lambda-subscription';
export { FanOutSubscription } from './subscription';
export type { FanOutSubscriptionOptions, FanOutSubscriptionProps } from './subscription';
