"""The Amazon MQ for RabbitMQ poller (pika): ``Queues`` (one queue) on the ``VIRTUAL_HOST`` of
``SourceAccessConfigurations`` (default ``/``), as the ``BASIC_AUTH`` secret's user.

As AWS documents it (with-mq, services-mq-errors): a batch is up to ``BatchSize`` messages gathered for at most
``MaximumBatchingWindowInSeconds`` (default 0.5 s), sent as ``rmqMessagesByQueue`` keyed ``<queue>::<vhost>``; the
messages are acked after the function succeeded. A failed batch is nacked with requeue: the broker redelivers it
(``redelivered: true``) after the poller's back-off; dead-lettering is the queue's own business (e.g. a quorum queue
with ``x-delivery-limit`` and ``x-dead-letter-exchange``). No partial batch response for Amazon MQ.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from .. import config
from .common import BrokerPoller, access_configs, b64, batching_window, invoke, json_view, secret_credentials

logging.getLogger("pika").setLevel(logging.WARNING)

PROPERTIES = {  # basicProperties field -> pika BasicProperties attribute
    "contentType": "content_type", "contentEncoding": "content_encoding", "deliveryMode": "delivery_mode",
    "priority": "priority", "correlationId": "correlation_id", "replyTo": "reply_to", "expiration": "expiration",
    "messageId": "message_id", "type": "type", "userId": "user_id", "appId": "app_id", "clusterId": "cluster_id",
}


def header_value(value):
    """AMQP table values as AWS shows them: strings as {"bytes": [...]}, numbers and booleans as they are."""
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if isinstance(value, dict):
        return {k: header_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [header_value(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)


def java_date(epoch_seconds: int | None) -> str | None:
    """AMQP timestamps as AWS renders them (Java's default date format, UTC): "Jan 1, 1970, 12:33:41 AM"."""
    if epoch_seconds is None:
        return None
    d = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    return f"{d:%b} {d.day}, {d.year}, {d.hour % 12 or 12}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'}"


def message_shape(method, properties, body: bytes) -> dict:
    basic = {field: getattr(properties, attr) for field, attr in PROPERTIES.items()}
    basic["headers"] = header_value(properties.headers) if properties.headers is not None else None
    basic["timestamp"] = java_date(properties.timestamp)
    basic["bodySize"] = len(body)
    return {"basicProperties": basic, "redelivered": bool(method.redelivered), "data": b64(body)}


class RabbitMqPoller(BrokerPoller):
    def __init__(self, esm_config: dict, arn: str | None, client, processor):
        super().__init__(esm_config, arn, client, processor)
        self.connection = None
        self.channel = None
        self.queue = (esm_config.get("Queues") or [""])[0]
        self.vhost = access_configs(esm_config).get("VIRTUAL_HOST") or "/"

    def event_source(self) -> str:
        return "aws:rmq"

    def connect(self) -> None:
        import pika

        host, port = config.host_port(config.rabbitmq_amqp())
        username, password = secret_credentials(access_configs(self.esm_config)["BASIC_AUTH"])
        # no heartbeats: a BlockingConnection only answers them while called, and an invoke may last 15 minutes
        self.connection = pika.BlockingConnection(
            pika.ConnectionParameters(host, port, self.vhost, pika.PlainCredentials(username, password), heartbeat=0)
        )
        self.channel = self.connection.channel()

    def disconnect(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()  # unacked messages go back to the queue
            except Exception:  # noqa: BLE001
                pass

    def poll_broker(self) -> None:
        if self.connection is None:
            self.connect()
        size = int(self.esm_config.get("BatchSize") or 100)
        deadline = time.monotonic() + batching_window(self.esm_config)
        messages, last_tag = [], None
        while len(messages) < size:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                if not messages:
                    raise self.empty()
                if time.monotonic() >= deadline:
                    break
                self.connection.sleep(0.05)
                continue
            last_tag = method.delivery_tag
            messages.append(message_shape(method, properties, body))
        view = lambda m: {**m, "data": json_view(m["data"])}  # noqa: E731
        live = self.matching(messages, view)
        if live and not invoke(self.processor, self.event(live)).ok:
            self.channel.basic_nack(last_tag, multiple=True, requeue=True)
            raise self.empty()  # the worker backs off before the redelivered batch comes back
        self.channel.basic_ack(last_tag, multiple=True)

    def event(self, messages: list[dict]) -> dict:
        return {
            "eventSource": self.event_source(),
            "eventSourceArn": self.source_arn,
            "rmqMessagesByQueue": {f"{self.queue}::{self.vhost}": messages},
        }
