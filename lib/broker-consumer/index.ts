export { BrokerConsumer, BrokerDeploymentMode, BrokerEngine } from './broker-consumer';
export type { BrokerConsumerProps, BrokerProps } from './broker-consumer';
