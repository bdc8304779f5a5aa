"""Where the emulated MSK clusters and Amazon MQ brokers really are: the local brokers of ``scripts/brokers.sh``.

Every cluster / broker of an engine maps to the same local broker. The addresses come from LocalStack's environment
(``scripts/localstack.sh`` passes the ``CMP_*`` lines of ``scripts/brokers.sh env``); the defaults are that script's
default ports.
"""

import os
from urllib.parse import urlsplit


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def kafka_bootstrap() -> str:
    """PLAINTEXT listener (no authentication)."""
    return _env("CMP_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def kafka_sasl_scram_bootstrap() -> str:
    """SASL_PLAINTEXT listener with SCRAM-SHA-512 and SCRAM-SHA-256."""
    return _env("CMP_KAFKA_SASL_SCRAM_BOOTSTRAP", "127.0.0.1:9096")


def rabbitmq_amqp() -> str:
    return _env("CMP_RABBITMQ_AMQP", "amqp://127.0.0.1:5672")


def activemq_endpoints() -> list[str]:
    """In the order Amazon MQ lists an ActiveMQ broker's endpoints: OpenWire, AMQP, STOMP, MQTT (no WSS here)."""
    return [
        _env("CMP_ACTIVEMQ_OPENWIRE", "tcp://127.0.0.1:61616"),
        _env("CMP_ACTIVEMQ_AMQP", "amqp://127.0.0.1:5673"),
        _env("CMP_ACTIVEMQ_STOMP", "stomp://127.0.0.1:61613"),
        _env("CMP_ACTIVEMQ_MQTT", "mqtt://127.0.0.1:1883"),
    ]


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", int(parts.port)


def rabbitmq_management() -> str:
    """The management HTTP API (users, vhosts); Amazon MQ's RabbitMQ console URL."""
    return _env("CMP_RABBITMQ_MANAGEMENT", "http://127.0.0.1:15672")


def activemq_users_file() -> str:
    """ActiveMQ's ``users.properties`` (next to it ``groups.properties``), re-read by the broker at every login."""
    return _env("CMP_ACTIVEMQ_USERS_FILE", "")


def admin_credentials() -> tuple[str, str]:
    """The user ``scripts/brokers.sh`` creates on every broker."""
    return _env("CMP_BROKERS_USER", "cmp"), _env("CMP_BROKERS_PASSWORD", "cmp-secret")
