export { KafkaAuthentication, KafkaConsumer } from './kafka-consumer';
export type { KafkaConsumerProps, KafkaServerlessClusterProps } from './kafka-consumer';
