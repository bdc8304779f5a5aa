"""Event source mapping pollers for Amazon MSK, self-managed Apache Kafka, Amazon MQ for RabbitMQ and for ActiveMQ,
plugged into LocalStack's ESM worker through its hooks (``hooks``): they read the real local brokers and invoke the
function with AWS's event shapes; offsets are committed / messages acked only after a successful invoke.

Modules: ``hooks`` (import-light plux entry points), ``common`` (credentials, retries, on-failure destinations, the
base poller that never lets an exception reach LocalStack's worker), ``kafka``, ``rabbitmq``, ``activemq``.
"""
